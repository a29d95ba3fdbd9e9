#include "metrics/prom_api.h"

#include <charconv>
#include <cmath>

#include "base/json.h"
#include "base/time_format.h"
#include "base/url.h"

namespace pa::metrics {
namespace {

// Form/query decoding: '+' is a space, then percent-escapes.
Result<std::string> FormDecode(std::string_view s) {
  std::string plus(s);
  for (char& c : plus) {
    if (c == '+') c = ' ';
  }
  return PercentDecode(plus);
}

Status ParseForm(std::string_view text, std::multimap<std::string, std::string, std::less<>>& out) {
  while (!text.empty()) {
    const size_t amp = text.find('&');
    std::string_view pair = text.substr(0, amp);
    text = amp == std::string_view::npos ? std::string_view() : text.substr(amp + 1);
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    PA_ASSIGN_OR_RETURN(std::string key, FormDecode(pair.substr(0, eq)));
    std::string value;
    if (eq != std::string_view::npos) {
      PA_ASSIGN_OR_RETURN(value, FormDecode(pair.substr(eq + 1)));
    }
    out.emplace(std::move(key), std::move(value));
  }
  return Status::Ok();
}

// One unit of a Prometheus duration ("1h30m": h, m).
Result<int64_t> ParsePromDuration(std::string_view s) {
  static constexpr std::pair<std::string_view, int64_t> kUnits[] = {
      {"ms", 1},       {"s", 1000},      {"m", 60000},      {"h", 3600000},
      {"d", 86400000}, {"w", 604800000}, {"y", 31536000000}};
  if (s.empty()) return InvalidArgumentError("empty duration");
  int64_t total = 0;
  size_t pos = 0;
  while (pos < s.size()) {
    int64_t n = 0;
    auto [ptr, ec] = std::from_chars(s.data() + pos, s.data() + s.size(), n);
    if (ec != std::errc() || ptr == s.data() + pos) {
      return InvalidArgumentError("'" + std::string(s) + "' is not a duration");
    }
    pos = static_cast<size_t>(ptr - s.data());
    bool matched = false;
    for (const auto& [unit, ms] : kUnits) {
      if (s.substr(pos, unit.size()) == unit && !(unit == "m" && s.substr(pos, 2) == "ms")) {
        total += n * ms;
        pos += unit.size();
        matched = true;
        break;
      }
    }
    if (!matched) return InvalidArgumentError("'" + std::string(s) + "' is not a duration");
  }
  return total;
}

void AppendLabelsObject(std::string& out, const storage::Labels& labels) {
  out += '{';
  bool first = true;
  for (const auto& l : labels) {
    if (!first) out += ',';
    first = false;
    AppendJsonString(out, l.name);
    out += ':';
    AppendJsonString(out, l.value);
  }
  out += '}';
}

void AppendPoint(std::string& out, const storage::Sample& s) {
  out += '[';
  AppendPromTime(out, s.t);
  out += ",\"";
  AppendPromValue(out, s.v);
  out += "\"]";
}

class SelectorParser {
 public:
  explicit SelectorParser(std::string_view s) : s_(s) {}

  Result<storage::MatcherSet> Parse() {
    storage::MatcherSet out;
    Skip();
    std::string_view name = Ident(true);
    if (!name.empty()) {
      out.push_back({storage::LabelMatcher::Op::kEqual, "__name__", std::string(name)});
    }
    Skip();
    if (pos_ < s_.size() && s_[pos_] == '{') {
      ++pos_;
      for (;;) {
        Skip();
        if (pos_ < s_.size() && s_[pos_] == '}') {
          ++pos_;
          break;
        }
        std::string_view label = Ident(false);
        if (label.empty()) return Error("expected a label name");
        Skip();
        storage::LabelMatcher m;
        m.name = std::string(label);
        if (Take("=~")) {
          m.op = storage::LabelMatcher::Op::kRegexMatch;
        } else if (Take("!~")) {
          m.op = storage::LabelMatcher::Op::kRegexNoMatch;
        } else if (Take("!=")) {
          m.op = storage::LabelMatcher::Op::kNotEqual;
        } else if (Take("=")) {
          m.op = storage::LabelMatcher::Op::kEqual;
        } else {
          return Error("expected =, !=, =~ or !~ after '" + m.name + "'");
        }
        Skip();
        PA_ASSIGN_OR_RETURN(m.value, String());
        out.push_back(std::move(m));
        Skip();
        if (Take(",")) continue;
        if (pos_ < s_.size() && s_[pos_] == '}') continue;
        return Error("expected ',' or '}'");
      }
    }
    Skip();
    if (pos_ != s_.size()) return Error("unexpected text");
    if (out.empty()) return Error("a selector needs a metric name or a matcher");
    bool selective = false;
    for (const auto& m : out) {
      const bool matches_empty =
          (m.op == storage::LabelMatcher::Op::kEqual && m.value.empty()) ||
          (m.op == storage::LabelMatcher::Op::kNotEqual && !m.value.empty()) ||
          (m.op == storage::LabelMatcher::Op::kRegexMatch &&
           (m.value.empty() || m.value == ".*")) ||
          (m.op == storage::LabelMatcher::Op::kRegexNoMatch && m.value == ".+");
      selective = selective || !matches_empty;
    }
    if (!selective) {
      return InvalidArgumentError("match[] selector '" + std::string(s_) +
                                  "' must contain at least one non-empty matcher");
    }
    return out;
  }

 private:
  Status Error(const std::string& what) const {
    return InvalidArgumentError("match[] selector '" + std::string(s_) + "': " + what +
                                " at position " + std::to_string(pos_ + 1));
  }
  void Skip() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n')) ++pos_;
  }
  bool Take(std::string_view token) {
    if (s_.substr(pos_, token.size()) != token) return false;
    pos_ += token.size();
    return true;
  }
  std::string_view Ident(bool metric) {
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
  // "..." and '...' with Go escapes (\\ \" \' \n \t \r), or `raw`.
  Result<std::string> String() {
    if (pos_ >= s_.size()) return Error("expected a quoted value");
    const char quote = s_[pos_];
    if (quote != '"' && quote != '\'' && quote != '`') return Error("expected a quoted value");
    ++pos_;
    std::string out;
    while (pos_ < s_.size()) {
      const char c = s_[pos_++];
      if (c == quote) return out;
      if (c != '\\' || quote == '`') {
        out += c;
        continue;
      }
      if (pos_ >= s_.size()) break;
      const char e = s_[pos_++];
      switch (e) {
        case 'n':
          out += '\n';
          break;
        case 't':
          out += '\t';
          break;
        case 'r':
          out += '\r';
          break;
        case '\\':
        case '"':
        case '\'':
          out += e;
          break;
        default:
          return Error(std::string("unknown escape \\") + e);
      }
    }
    return Error("unterminated string");
  }

  std::string_view s_;
  size_t pos_ = 0;
};

}  // namespace

Result<ApiParams> ApiParams::From(const gateway::Request& req) {
  ApiParams p;
  PA_RETURN_IF_ERROR(ParseForm(req.query_string, p.values_));
  if (req.method == gateway::Method::kPost && !req.body.empty()) {
    auto type = req.Header("Content-Type").value_or("");
    if (type.substr(0, type.find(';')) != "application/x-www-form-urlencoded") {
      return InvalidArgumentError("POST parameters must be application/x-www-form-urlencoded");
    }
    PA_RETURN_IF_ERROR(ParseForm(req.body, p.values_));
  }
  return p;
}

std::optional<std::string> ApiParams::Get(std::string_view name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> ApiParams::All(std::string_view name) const {
  std::vector<std::string> out;
  auto [begin, end] = values_.equal_range(name);
  for (auto it = begin; it != end; ++it) out.push_back(it->second);
  return out;
}

Result<int64_t> ParseApiTime(std::string_view text) {
  double secs = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), secs);
  if (ec == std::errc() && ptr == text.data() + text.size() && std::isfinite(secs)) {
    return static_cast<int64_t>(std::llround(secs * 1000.0));
  }
  auto rfc = ParseRfc3339Ms(text);
  if (rfc.ok()) return rfc;
  return InvalidArgumentError("cannot parse \"" + std::string(text) +
                              "\" to a valid timestamp (Unix seconds or RFC 3339)");
}

Result<int64_t> ParseApiDuration(std::string_view text) {
  double secs = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), secs);
  if (ec == std::errc() && ptr == text.data() + text.size() && std::isfinite(secs)) {
    return static_cast<int64_t>(std::llround(secs * 1000.0));
  }
  auto d = ParsePromDuration(text);
  if (d.ok()) return d;
  return InvalidArgumentError("cannot parse \"" + std::string(text) + "\" to a valid duration");
}

Result<storage::MatcherSet> ParseSeriesSelector(std::string_view text) {
  return SelectorParser(text).Parse();
}

void AppendPromValue(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
  } else if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
  } else {
    char buf[400];
    auto [ptr, ec] = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed);
    out.append(buf, ptr);
  }
}

void AppendPromTime(std::string& out, int64_t ms) {
  const bool negative = ms < 0;
  const uint64_t abs = negative ? static_cast<uint64_t>(-(ms + 1)) + 1 : static_cast<uint64_t>(ms);
  if (negative) out += '-';
  out += std::to_string(abs / 1000);
  const unsigned frac = static_cast<unsigned>(abs % 1000);
  if (frac != 0) {
    char buf[5];
    std::snprintf(buf, sizeof(buf), ".%03u", frac);
    std::string_view f(buf);
    while (f.back() == '0') f.remove_suffix(1);
    out += f;
  }
}

std::string RenderQueryValue(const storage::QueryValue& v) {
  std::string out = "{\"status\":\"success\",\"data\":{\"resultType\":\"";
  out += storage::ValueTypeName(v.type);
  out += "\",\"result\":";
  switch (v.type) {
    case storage::ValueType::kScalar:
      AppendPoint(out, v.scalar);
      break;
    case storage::ValueType::kString:
      out += '[';
      AppendPromTime(out, v.scalar.t);
      out += ',';
      AppendJsonString(out, v.string_value);
      out += ']';
      break;
    case storage::ValueType::kVector:
    case storage::ValueType::kMatrix: {
      const bool vector = v.type == storage::ValueType::kVector;
      out += '[';
      for (size_t i = 0; i < v.series.size(); ++i) {
        const auto& s = v.series[i];
        if (i) out += ',';
        out += "{\"metric\":";
        AppendLabelsObject(out, s.labels);
        if (vector) {
          out += ",\"value\":";
          AppendPoint(out, s.points.empty() ? storage::Sample{} : s.points.front());
        } else {
          out += ",\"values\":[";
          for (size_t j = 0; j < s.points.size(); ++j) {
            if (j) out += ',';
            AppendPoint(out, s.points[j]);
          }
          out += ']';
        }
        out += '}';
      }
      out += ']';
      break;
    }
  }
  out += "}}";
  return out;
}

std::string RenderSeries(const std::vector<storage::Labels>& series) {
  std::string out = "{\"status\":\"success\",\"data\":[";
  for (size_t i = 0; i < series.size(); ++i) {
    if (i) out += ',';
    AppendLabelsObject(out, series[i]);
  }
  out += "]}";
  return out;
}

std::string RenderStrings(const std::vector<std::string>& values) {
  std::string out = "{\"status\":\"success\",\"data\":[";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out += ',';
    AppendJsonString(out, values[i]);
  }
  out += "]}";
  return out;
}

gateway::Response PromError(int http_status, std::string_view error_type,
                            std::string_view message) {
  std::string body = "{\"status\":\"error\",\"errorType\":";
  AppendJsonString(body, error_type);
  body += ",\"error\":";
  AppendJsonString(body, message);
  body += '}';
  gateway::Response r;
  r.status = http_status;
  r.body = std::move(body);
  return r;
}

gateway::Response PromErrorFromStatus(const Status& st) {
  switch (st.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kUnimplemented:
      return PromError(400, "bad_data", st.message());
    case StatusCode::kResourceExhausted:
      return PromError(422, "execution", st.message());
    case StatusCode::kDeadlineExceeded:
      return PromError(503, "timeout", st.message());
    case StatusCode::kUnavailable:
      return PromError(503, "unavailable", st.message());
    default:
      return PromError(500, "internal", st.message());
  }
}

gateway::Response PromSuccess(std::string body) {
  gateway::Response r;
  r.status = 200;
  r.body = std::move(body);
  return r;
}

}  // namespace pa::metrics
