#include "metrics/exposition.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <map>

namespace pa::metrics {
namespace {

class LineParser {
 public:
  LineParser(std::string_view line, size_t number) : s_(line), number_(number) {}

  Status Error(const std::string& what) const {
    return InvalidArgumentError("line " + std::to_string(number_) + ": " + what);
  }

  void SkipSpaces() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t')) ++pos_;
  }

  bool AtEnd() {
    SkipSpaces();
    return pos_ >= s_.size();
  }

  // [a-zA-Z_:][a-zA-Z0-9_:]* (metric) or [a-zA-Z_][a-zA-Z0-9_]* (label).
  std::string_view Name(bool metric) {
    const size_t start = pos_;
    while (pos_ < s_.size()) {
      const char c = s_[pos_];
      const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                      (metric && c == ':') || (pos_ > start && c >= '0' && c <= '9');
      if (!ok) break;
      ++pos_;
    }
    return s_.substr(start, pos_ - start);
  }

  Status Labels(storage::Labels& out) {
    ++pos_;  // '{'
    for (;;) {
      SkipSpaces();
      if (pos_ < s_.size() && s_[pos_] == '}') {
        ++pos_;
        return Status::Ok();
      }
      std::string_view name = Name(false);
      if (name.empty()) return Error("expected a label name at column " + std::to_string(pos_ + 1));
      SkipSpaces();
      if (pos_ >= s_.size() || s_[pos_] != '=') {
        return Error("expected '=' after label name '" + std::string(name) + "'");
      }
      ++pos_;
      SkipSpaces();
      if (pos_ >= s_.size() || s_[pos_] != '"') {
        return Error("expected '\"' to open the value of label '" + std::string(name) + "'");
      }
      ++pos_;
      std::string value;
      bool closed = false;
      while (pos_ < s_.size()) {
        const char c = s_[pos_++];
        if (c == '"') {
          closed = true;
          break;
        }
        if (c != '\\') {
          value += c;
          continue;
        }
        if (pos_ >= s_.size()) break;
        const char e = s_[pos_++];
        if (e == 'n') {
          value += '\n';
        } else if (e == '\\' || e == '"') {
          value += e;
        } else {
          return Error("invalid escape '\\" + std::string(1, e) + "' in label '" +
                       std::string(name) + "'");
        }
      }
      if (!closed) return Error("unterminated value of label '" + std::string(name) + "'");
      out.push_back({std::string(name), std::move(value)});
      SkipSpaces();
      if (pos_ < s_.size() && s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < s_.size() && s_[pos_] == '}') continue;
      return Error("expected ',' or '}' after the value of label '" + std::string(name) + "'");
    }
  }

  std::string_view Token() {
    SkipSpaces();
    const size_t start = pos_;
    while (pos_ < s_.size() && s_[pos_] != ' ' && s_[pos_] != '\t') ++pos_;
    return s_.substr(start, pos_ - start);
  }

  char Peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }

 private:
  std::string_view s_;
  size_t number_;
  size_t pos_ = 0;
};

std::optional<double> ParseValue(std::string_view t) {
  if (t == "NaN") return std::numeric_limits<double>::quiet_NaN();
  if (t == "+Inf" || t == "Inf") return std::numeric_limits<double>::infinity();
  if (t == "-Inf") return -std::numeric_limits<double>::infinity();
  double v = 0;
  const char* begin = t.data();
  if (!t.empty() && t[0] == '+') ++begin;
  auto [ptr, ec] = std::from_chars(begin, t.data() + t.size(), v);
  if (ec != std::errc() || ptr != t.data() + t.size() || begin == t.data() + t.size()) {
    return std::nullopt;
  }
  return v;
}

std::string LabelKey(const storage::Labels& labels) {
  std::string key;
  for (const auto& l : labels) {
    key += l.name;
    key += '\x01';
    key += l.value;
    key += '\x02';
  }
  return key;
}

}  // namespace

Result<ParsedExposition> ParseExposition(std::string_view text, int64_t default_time) {
  ParsedExposition out;
  std::map<std::string, size_t> index;  // label key → position in out.series
  size_t number = 0;
  while (!text.empty()) {
    ++number;
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    LineParser p(line, number);
    if (p.AtEnd() || p.Peek() == '#') continue;

    std::string_view name = p.Name(true);
    if (name.empty()) return p.Error("expected a metric name");
    storage::Labels labels{{std::string(storage::kMetricNameLabel), std::string(name)}};
    if (p.Peek() == '{') PA_RETURN_IF_ERROR(p.Labels(labels));
    std::string_view value_text = p.Token();
    if (value_text.empty()) return p.Error("metric '" + std::string(name) + "' has no value");
    auto value = ParseValue(value_text);
    if (!value) return p.Error("'" + std::string(value_text) + "' is not a number");
    int64_t t = default_time;
    std::string_view ts = p.Token();
    if (!ts.empty()) {
      auto [ptr, ec] = std::from_chars(ts.data(), ts.data() + ts.size(), t);
      if (ec != std::errc() || ptr != ts.data() + ts.size()) {
        return p.Error("'" + std::string(ts) + "' is not a timestamp in milliseconds");
      }
    }
    if (!p.AtEnd()) return p.Error("unexpected text after the timestamp");
    if (Status st = storage::NormalizeLabels(labels); !st.ok()) return p.Error(st.message());

    auto [it, inserted] = index.emplace(LabelKey(labels), out.series.size());
    if (inserted) out.series.push_back({std::move(labels), {}});
    out.series[it->second].samples.push_back({t, *value});
    ++out.samples;
  }
  return out;
}

}  // namespace pa::metrics
