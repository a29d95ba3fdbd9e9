#include "promql/testing/script.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include "fmt/format.h"
#include "promql/syntax/go_compat.h"
#include "promql/testing/memory_querier.h"

namespace pa::promql::testing {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> SplitFields(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') ++i;
    size_t j = i;
    while (j < s.size() && s[j] != ' ') ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

bool AlmostEqual(double a, double b) {
  if (std::isnan(a) && std::isnan(b)) return true;
  if (a == b) return true;
  const double diff = std::fabs(a - b);
  constexpr double kMinNormal = 2.2250738585072014e-308;
  constexpr double kEpsilon = 1e-12;
  if (a == 0 || b == 0 || diff < kMinNormal) return diff < kEpsilon * kMinNormal;
  return diff / (std::fabs(a) + std::fabs(b)) < kEpsilon;
}

// "name{a="b", c="d"}" or "{...}" at the start of `s`; the rest is left in `rest`.
Result<storage::Labels> ParseSeriesDesc(std::string_view s, std::string_view* rest) {
  storage::Labels labels;
  size_t i = 0;
  while (i < s.size() &&
         (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '_' || s[i] == ':')) {
    ++i;
  }
  if (i > 0) labels.push_back({"__name__", std::string(s.substr(0, i))});
  if (i < s.size() && s[i] == '{') {
    ++i;
    while (true) {
      while (i < s.size() && (s[i] == ' ' || s[i] == ',')) ++i;
      if (i >= s.size()) return InvalidArgumentError("unterminated label set");
      if (s[i] == '}') {
        ++i;
        break;
      }
      size_t j = i;
      while (j < s.size() && s[j] != '=') ++j;
      const std::string name(Trim(s.substr(i, j - i)));
      i = j + 1;
      while (i < s.size() && s[i] == ' ') ++i;
      if (i >= s.size() || (s[i] != '"' && s[i] != '\'')) {
        return InvalidArgumentError("expected a quoted label value");
      }
      const char quote = s[i];
      j = i + 1;
      while (j < s.size() && s[j] != quote) j += s[j] == '\\' ? 2 : 1;
      if (j >= s.size()) return InvalidArgumentError("unterminated label value");
      auto value = UnquotePromString(s.substr(i, j - i + 1));
      if (!value) return InvalidArgumentError("bad label value");
      if (!value->empty()) labels.push_back({name, *value});
      i = j + 1;
    }
  }
  if (i == 0) return InvalidArgumentError(fmt::format("expected a series in '{}'", s));
  std::sort(labels.begin(), labels.end());
  *rest = s.substr(i);
  return labels;
}

Result<double> ParseValue(std::string_view s) {
  if (s == "stale") return storage::StaleNaN();
  auto v = ParseGoFloat(s);
  if (!v) return InvalidArgumentError(fmt::format("bad value '{}'", s));
  return *v;
}

// "1 2+3x4 _ _x2 stale" -> values, nullopt for omitted ones.
Result<std::vector<std::optional<double>>> ParseValues(std::string_view s) {
  std::vector<std::optional<double>> out;
  for (std::string_view f : SplitFields(s)) {
    const size_t x = f.rfind('x');
    if (x == std::string_view::npos) {
      if (f == "_") {
        out.emplace_back();
        continue;
      }
      PA_ASSIGN_OR_RETURN(double v, ParseValue(f));
      out.emplace_back(v);
      continue;
    }
    const int count = std::stoi(std::string(f.substr(x + 1)));
    std::string_view base = f.substr(0, x);
    if (base == "_") {
      for (int k = 0; k < count; ++k) out.emplace_back();
      continue;
    }
    size_t op = std::string_view::npos;
    for (size_t k = 1; k < base.size(); ++k) {
      if ((base[k] == '+' || base[k] == '-') && base[k - 1] != 'e' && base[k - 1] != 'E') {
        op = k;
        break;
      }
    }
    double start = 0;
    double inc = 0;
    if (op == std::string_view::npos) {
      PA_ASSIGN_OR_RETURN(start, ParseValue(base));
    } else {
      PA_ASSIGN_OR_RETURN(start, ParseValue(base.substr(0, op)));
      PA_ASSIGN_OR_RETURN(inc, ParseValue(base.substr(op + 1)));
      if (base[op] == '-') inc = -inc;
    }
    for (int k = 0; k <= count; ++k) {
      out.emplace_back(start);
      start += inc;
    }
  }
  return out;
}

Result<int64_t> ParseTime(std::string_view s) {
  if (auto d = ParsePromDuration(s)) return *d;
  if (auto v = ParseGoFloat(s)) return static_cast<int64_t>(std::llround(*v * 1000));
  return InvalidArgumentError(fmt::format("bad time '{}'", s));
}

std::string Describe(const storage::Labels& l, double v) {
  return fmt::format("{} {}", storage::LabelsToString(l), FormatGoFloat(v));
}

class ScriptRunner {
 public:
  explicit ScriptRunner(const Engine& engine) : engine_(engine) {}

  std::vector<std::string> Run(std::string_view script) {
    std::vector<std::string_view> lines;
    size_t pos = 0;
    while (pos <= script.size()) {
      size_t nl = script.find('\n', pos);
      if (nl == std::string_view::npos) nl = script.size();
      lines.push_back(script.substr(pos, nl - pos));
      pos = nl + 1;
    }
    size_t i = 0;
    while (i < lines.size()) {
      const std::string_view line = Trim(lines[i]);
      const int line_no = static_cast<int>(i + 1);
      ++i;
      if (line.empty() || line.starts_with("#")) continue;
      // The indented block that belongs to this command.
      std::vector<std::string_view> block;
      while (i < lines.size() && !lines[i].empty() && (lines[i][0] == ' ' || lines[i][0] == '\t')) {
        if (!Trim(lines[i]).empty() && !Trim(lines[i]).starts_with("#")) {
          block.push_back(Trim(lines[i]));
        }
        ++i;
      }
      Status s = Command(line, block);
      if (!s.ok()) failures_.push_back(fmt::format("line {}: {}: {}", line_no, line, s.message()));
    }
    return std::move(failures_);
  }

 private:
  Status Command(std::string_view line, const std::vector<std::string_view>& block) {
    if (line == "clear") {
      querier_.Clear();
      return Status::Ok();
    }
    if (line.starts_with("load ")) return Load(line.substr(5), block);
    if (line.starts_with("eval range from ")) return EvalRange(line.substr(16), block);
    if (line.starts_with("check_range from ")) return CheckRange(line.substr(17));
    for (std::string_view prefix :
         {"eval instant at ", "eval_ordered instant at ", "eval_fail instant at "}) {
      if (line.starts_with(prefix)) {
        return EvalInstant(line.substr(prefix.size()), block, prefix.starts_with("eval_fail"),
                           prefix.starts_with("eval_ordered"));
      }
    }
    return InvalidArgumentError("unknown command");
  }

  Status Load(std::string_view step_text, const std::vector<std::string_view>& block) {
    PA_ASSIGN_OR_RETURN(int64_t step, ParseTime(Trim(step_text)));
    for (std::string_view l : block) {
      std::string_view rest;
      PA_ASSIGN_OR_RETURN(storage::Labels labels, ParseSeriesDesc(l, &rest));
      PA_ASSIGN_OR_RETURN(auto values, ParseValues(rest));
      std::vector<storage::Sample> samples;
      for (size_t k = 0; k < values.size(); ++k) {
        if (values[k]) samples.push_back({static_cast<int64_t>(k) * step, *values[k]});
      }
      querier_.Add(labels, samples);
    }
    return Status::Ok();
  }

  static std::pair<std::string_view, std::string_view> SplitFirst(std::string_view s) {
    s = Trim(s);
    const size_t sp = s.find(' ');
    if (sp == std::string_view::npos) return {s, {}};
    return {s.substr(0, sp), Trim(s.substr(sp + 1))};
  }

  Status EvalInstant(std::string_view args, const std::vector<std::string_view>& block,
                     bool should_fail, bool ordered) {
    auto [time_text, query] = SplitFirst(args);
    PA_ASSIGN_OR_RETURN(int64_t t, ParseTime(time_text));
    auto result = engine_.Instant(querier_, query, t, storage::QueryLimits{});
    if (should_fail) {
      if (result.ok()) return InvalidArgumentError("expected an error, got a result");
      return Status::Ok();
    }
    if (!result.ok())
      return InvalidArgumentError("unexpected error: " + result.status().ToString());
    const storage::QueryValue& v = *result;
    if (v.type == storage::ValueType::kScalar) {
      if (block.size() != 1) return InvalidArgumentError("expected one scalar line");
      std::string_view line = block[0];
      if (line.starts_with("{}")) line = Trim(line.substr(2));
      PA_ASSIGN_OR_RETURN(double want, ParseValue(line));
      if (!AlmostEqual(want, v.scalar.v)) {
        return InvalidArgumentError(
            fmt::format("scalar: want {}, got {}", FormatGoFloat(want), FormatGoFloat(v.scalar.v)));
      }
      return Status::Ok();
    }
    struct Expected {
      storage::Labels labels;
      double value;
    };
    std::vector<Expected> want;
    for (std::string_view l : block) {
      std::string_view rest;
      PA_ASSIGN_OR_RETURN(storage::Labels labels, ParseSeriesDesc(l, &rest));
      PA_ASSIGN_OR_RETURN(double value, ParseValue(Trim(rest)));
      want.push_back({labels, value});
    }
    std::string got_text;
    for (const auto& s : v.series) {
      got_text += "\n    " + Describe(s.labels, s.points.empty() ? 0 : s.points.back().v);
    }
    if (want.size() != v.series.size()) {
      return InvalidArgumentError(
          fmt::format("want {} series, got {}:{}", want.size(), v.series.size(), got_text));
    }
    for (size_t k = 0; k < want.size(); ++k) {
      const storage::SeriesPoints* match = nullptr;
      if (ordered) {
        if (v.series[k].labels == want[k].labels) match = &v.series[k];
      } else {
        for (const auto& s : v.series) {
          if (s.labels == want[k].labels) match = &s;
        }
      }
      if (match == nullptr) {
        return InvalidArgumentError(
            fmt::format("missing {}; got:{}", Describe(want[k].labels, want[k].value), got_text));
      }
      if (v.type == storage::ValueType::kVector &&
          (match->points.size() != 1 || match->points[0].t != t)) {
        return InvalidArgumentError("vector element without exactly one point at eval time");
      }
      const double got = match->points.empty() ? 0 : match->points.back().v;
      if (!AlmostEqual(want[k].value, got)) {
        return InvalidArgumentError(fmt::format("{}: want {}, got {}",
                                                storage::LabelsToString(want[k].labels),
                                                FormatGoFloat(want[k].value), FormatGoFloat(got)));
      }
    }
    return Status::Ok();
  }

  // "<start> to <end> step <step> <query>"; expected lines: series and one value per step.
  Status EvalRange(std::string_view args, const std::vector<std::string_view>& block) {
    auto [start_text, r1] = SplitFirst(args);
    auto [to, r2] = SplitFirst(r1);
    auto [end_text, r3] = SplitFirst(r2);
    auto [step_kw, r4] = SplitFirst(r3);
    auto [step_text, query] = SplitFirst(r4);
    if (to != "to" || step_kw != "step") return InvalidArgumentError("bad eval range syntax");
    PA_ASSIGN_OR_RETURN(int64_t start, ParseTime(start_text));
    PA_ASSIGN_OR_RETURN(int64_t end, ParseTime(end_text));
    PA_ASSIGN_OR_RETURN(int64_t step, ParseTime(step_text));
    PA_ASSIGN_OR_RETURN(storage::QueryValue v,
                        engine_.Range(querier_, query, start, end, step, storage::QueryLimits{}));
    if (block.size() != v.series.size()) {
      std::string got;
      for (const auto& s : v.series) got += " " + storage::LabelsToString(s.labels);
      return InvalidArgumentError(
          fmt::format("want {} series, got {}:{}", block.size(), v.series.size(), got));
    }
    for (std::string_view l : block) {
      std::string_view rest;
      PA_ASSIGN_OR_RETURN(storage::Labels labels, ParseSeriesDesc(l, &rest));
      PA_ASSIGN_OR_RETURN(auto values, ParseValues(rest));
      const storage::SeriesPoints* match = nullptr;
      for (const auto& s : v.series) {
        if (s.labels == labels) match = &s;
      }
      if (match == nullptr) {
        return InvalidArgumentError("missing series " + storage::LabelsToString(labels));
      }
      std::vector<storage::Sample> want;
      for (size_t k = 0; k < values.size(); ++k) {
        if (values[k]) want.push_back({start + static_cast<int64_t>(k) * step, *values[k]});
      }
      bool same = want.size() == match->points.size();
      for (size_t k = 0; same && k < want.size(); ++k) {
        same = want[k].t == match->points[k].t && AlmostEqual(want[k].v, match->points[k].v);
      }
      if (!same) {
        std::string got;
        for (const auto& p : match->points) got += fmt::format(" {}@{}", FormatGoFloat(p.v), p.t);
        return InvalidArgumentError(fmt::format("{}: got{}", storage::LabelsToString(labels), got));
      }
    }
    return Status::Ok();
  }

  // "<start> to <end> step <step> <query>": the range query must give at each step what an
  // instant query at that time gives (and fail exactly when the instant queries fail).
  Status CheckRange(std::string_view args) {
    auto [start_text, r1] = SplitFirst(args);
    auto [to, r2] = SplitFirst(r1);
    auto [end_text, r3] = SplitFirst(r2);
    auto [step_kw, r4] = SplitFirst(r3);
    auto [step_text, query] = SplitFirst(r4);
    if (to != "to" || step_kw != "step") return InvalidArgumentError("bad check_range syntax");
    PA_ASSIGN_OR_RETURN(int64_t start, ParseTime(start_text));
    PA_ASSIGN_OR_RETURN(int64_t end, ParseTime(end_text));
    PA_ASSIGN_OR_RETURN(int64_t step, ParseTime(step_text));
    auto range = engine_.Range(querier_, query, start, end, step, storage::QueryLimits{});
    bool any_instant_error = false;
    std::string first_error;
    for (int64_t t = start; t <= end; t += step) {
      auto instant = engine_.Instant(querier_, query, t, storage::QueryLimits{});
      if (!instant.ok()) {
        any_instant_error = true;
        if (first_error.empty()) first_error = instant.status().ToString();
        continue;
      }
      if (!range.ok()) continue;
      std::vector<std::pair<storage::Labels, double>> want;
      if (instant->type == storage::ValueType::kScalar) {
        want.push_back({{}, instant->scalar.v});
      } else {
        for (const auto& s : instant->series) want.push_back({s.labels, s.points[0].v});
      }
      std::sort(want.begin(), want.end(),
                [](const auto& a, const auto& b) { return a.first < b.first; });
      std::vector<std::pair<storage::Labels, double>> got;
      for (const auto& s : range->series) {
        for (const auto& p : s.points) {
          if (p.t == t) got.push_back({s.labels, p.v});
        }
      }
      bool same = got.size() == want.size();
      for (size_t k = 0; same && k < got.size(); ++k) {
        same = got[k].first == want[k].first && AlmostEqual(got[k].second, want[k].second);
      }
      if (!same) {
        std::string text;
        for (const auto& [l, v] : want) text += " want " + Describe(l, v);
        for (const auto& [l, v] : got) text += " got " + Describe(l, v);
        return InvalidArgumentError(fmt::format("at {}:{}", t, text));
      }
    }
    if (!range.ok() && !any_instant_error) {
      return InvalidArgumentError("range query failed alone: " + range.status().ToString());
    }
    if (range.ok() && any_instant_error) {
      return InvalidArgumentError("instant query failed alone: " + first_error);
    }
    return Status::Ok();
  }

  const Engine& engine_;
  MemoryQuerier querier_;
  std::vector<std::string> failures_;
};

}  // namespace

std::vector<std::string> RunScript(std::string_view script, const Engine& engine) {
  return ScriptRunner(engine).Run(script);
}

}  // namespace pa::promql::testing
