#include "storage/victoriametrics/query_api.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "base/url.h"

namespace pa::storage::victoriametrics {
namespace {

// VictoriaMetrics 1.79 answers nothing for a query whose window reaches back to within about
// 5 minutes of the Unix epoch; Series and the label methods start their scan no earlier.
constexpr int64_t kEarliestScanMs = 600 * 1000;
// Prometheus refuses range queries with more points per series than this.
constexpr int64_t kMaxPointsPerSeries = 11000;
// VictoriaMetrics gets the query's own timeout; the HTTP request waits this much longer so that
// VictoriaMetrics' answer, not ours, reports it.
constexpr std::chrono::milliseconds kTimeoutSlack{5000};

Status CheckLimits(const QueryValue& v, const QueryLimits& limits) {
  if (limits.max_series > 0 && static_cast<int64_t>(v.series.size()) > limits.max_series) {
    return ResourceExhaustedError("query returned " + std::to_string(v.series.size()) +
                                  " series, more than max_series (" +
                                  std::to_string(limits.max_series) + ")");
  }
  int64_t points = 0;
  for (const auto& s : v.series) points += static_cast<int64_t>(s.points.size());
  if (limits.max_samples > 0 && points > limits.max_samples) {
    return ResourceExhaustedError("query returned " + std::to_string(points) +
                                  " points, more than max_samples (" +
                                  std::to_string(limits.max_samples) + ")");
  }
  return Status::Ok();
}

// VictoriaMetrics 1.79 reads `timeout` as seconds ("1ms" is silently ignored).
std::string TimeoutParam(std::chrono::milliseconds t) { return FormatSeconds(t.count()); }

// Names go into a query unquoted: only label-name characters may pass.
Status CheckLabelName(std::string_view name) {
  bool ok = !name.empty();
  for (size_t i = 0; i < name.size() && ok; ++i) {
    const char c = name[i];
    ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         (i > 0 && c >= '0' && c <= '9');
  }
  return ok ? Status::Ok()
            : InvalidArgumentError("label name '" + std::string(name) +
                                   "' must match [a-zA-Z_][a-zA-Z0-9_]*");
}

}  // namespace

QueryApi::QueryApi(HttpClient* http, std::string api, QueryApiOptions options)
    : http_(http), api_(std::move(api)), opt_(options) {}

Result<Json> QueryApi::Call(std::string_view path,
                            const std::vector<std::pair<std::string, std::string>>& params,
                            std::chrono::milliseconds timeout) {
  HttpRequest req;
  req.method = "POST";
  req.url = api_ + std::string(path);
  req.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  for (const auto& [k, v] : params) {
    if (!req.body.empty()) req.body += '&';
    req.body += PercentEncode(k);
    req.body += '=';
    req.body += PercentEncode(v);
  }
  req.timeout = timeout;
  Result<HttpResponse> resp = http_->Do(req);
  if (!resp.ok()) {
    const StatusCode code = resp.status().code() == StatusCode::kDeadlineExceeded
                                ? StatusCode::kDeadlineExceeded
                                : StatusCode::kUnavailable;
    return Status(code, "VictoriaMetrics at " + req.url + ": " + resp.status().message());
  }
  if (resp->status < 200 || resp->status >= 300) {
    return ErrorFromResponse(resp->status, resp->body);
  }
  std::string error;
  std::optional<Json> doc = ParseJson(resp->body, &error);
  if (!doc || !doc->is_object() || !doc->contains("data")) {
    return InternalError("VictoriaMetrics at " + req.url + " answered malformed JSON: " + error);
  }
  return std::move((*doc)["data"]);
}

Result<QueryValue> QueryApi::Query(std::string_view promql, int64_t time,
                                   const QueryLimits& limits) {
  std::string literal;
  const ValueType type = ClassifyExpr(promql, &literal);
  if (type == ValueType::kString) {
    QueryValue v;
    v.type = ValueType::kString;
    v.string_value = std::move(literal);
    v.scalar.t = time;
    return v;
  }
  std::vector<std::pair<std::string, std::string>> params = {
      {"query", std::string(promql)},
      {"time", FormatSeconds(time)},
      {"timeout", TimeoutParam(limits.timeout)}};
  if (opt_.nocache) params.emplace_back("nocache", "1");
  PA_ASSIGN_OR_RETURN(Json data, Call("/query", params, limits.timeout + kTimeoutSlack));
  PA_ASSIGN_OR_RETURN(QueryValue v, ParseQueryData(data));
  if (type == ValueType::kScalar && v.type == ValueType::kVector && v.series.size() <= 1) {
    QueryValue s;
    s.type = ValueType::kScalar;
    s.scalar.t = time;
    // VictoriaMetrics drops NaN results, so an empty answer is a NaN scalar.
    s.scalar.v = v.series.empty() || v.series[0].points.empty()
                     ? std::numeric_limits<double>::quiet_NaN()
                     : v.series[0].points[0].v;
    return s;
  }
  PA_RETURN_IF_ERROR(CheckLimits(v, limits));
  return v;
}

Result<QueryValue> QueryApi::QueryRange(std::string_view promql, int64_t start, int64_t end,
                                        int64_t step, const QueryLimits& limits) {
  if (step <= 0) {
    return InvalidArgumentError(
        "zero or negative query resolution step widths are not accepted. Try a positive integer");
  }
  if (end < start) return InvalidArgumentError("end timestamp must not be before start time");
  if ((end - start) / step >= kMaxPointsPerSeries) {
    return InvalidArgumentError(
        "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query "
        "resolution (?step=XX)");
  }
  const ValueType type = ClassifyExpr(promql);
  if (type == ValueType::kString) {
    return InvalidArgumentError(
        "invalid expression type \"string\" for range query, must be Scalar or instant Vector");
  }
  std::vector<std::pair<std::string, std::string>> params = {
      {"query", std::string(promql)},
      {"start", FormatSeconds(start)},
      {"end", FormatSeconds(end)},
      {"step", std::to_string(step) + "ms"},
      {"timeout", TimeoutParam(limits.timeout)}};
  if (opt_.nocache) params.emplace_back("nocache", "1");
  PA_ASSIGN_OR_RETURN(Json data, Call("/query_range", params, limits.timeout + kTimeoutSlack));
  PA_ASSIGN_OR_RETURN(QueryValue v, ParseQueryData(data));
  PA_RETURN_IF_ERROR(CheckLimits(v, limits));
  return v;
}

Result<QueryValue> QueryApi::RangeScan(const MatcherSet& matchers, int64_t mint, int64_t maxt,
                                       std::string_view wrap) {
  for (const auto& m : matchers) PA_RETURN_IF_ERROR(CheckLabelName(m.name));
  mint = std::max(mint, kEarliestScanMs);
  // The window (maxt - w, maxt] is left-open: w = maxt - mint + 1 makes it [mint, maxt].
  const std::string scan = "count_over_time(" + MatchersToSelector(matchers) + "[" +
                           std::to_string(maxt - mint + 1) + "ms])";
  std::string query(wrap);
  query.replace(query.find("%s"), 2, scan);
  std::vector<std::pair<std::string, std::string>> params = {
      {"query", query},
      {"time", FormatSeconds(maxt)},
      {"timeout", TimeoutParam(opt_.metadata_timeout)}};
  if (opt_.nocache) params.emplace_back("nocache", "1");
  PA_ASSIGN_OR_RETURN(Json data, Call("/query", params, opt_.metadata_timeout + kTimeoutSlack));
  return ParseQueryData(data);
}

Result<std::vector<Labels>> QueryApi::Series(const std::vector<MatcherSet>& match, int64_t mint,
                                             int64_t maxt, int64_t limit) {
  std::vector<Labels> out;
  if (maxt < std::max(mint, kEarliestScanMs)) return out;
  const std::vector<MatcherSet> all = {
      {LabelMatcher{LabelMatcher::Op::kRegexMatch, std::string(kMetricNameLabel), ".*"}}};
  std::set<Labels> seen;
  for (const MatcherSet& m : match.empty() ? all : match) {
    PA_ASSIGN_OR_RETURN(QueryValue v, RangeScan(m, mint, maxt, "%s keep_metric_names"));
    for (auto& s : v.series) seen.insert(std::move(s.labels));
  }
  out.assign(std::make_move_iterator(seen.begin()), std::make_move_iterator(seen.end()));
  if (limit > 0 && static_cast<int64_t>(out.size()) > limit) out.resize(limit);
  return out;
}

Result<std::vector<std::string>> QueryApi::LabelNames(const std::vector<MatcherSet>& match,
                                                      int64_t mint, int64_t maxt) {
  PA_ASSIGN_OR_RETURN(std::vector<Labels> series, Series(match, mint, maxt, 0));
  std::set<std::string> names;
  for (const auto& labels : series) {
    for (const auto& l : labels) names.insert(l.name);
  }
  return std::vector<std::string>(names.begin(), names.end());
}

Result<std::vector<std::string>> QueryApi::LabelValues(const std::string& name,
                                                       const std::vector<MatcherSet>& match,
                                                       int64_t mint, int64_t maxt) {
  PA_RETURN_IF_ERROR(CheckLabelName(name));
  std::vector<std::string> out;
  if (maxt < std::max(mint, kEarliestScanMs)) return out;
  std::vector<MatcherSet> sets = match;
  if (sets.empty()) sets.emplace_back();
  std::set<std::string> values;
  // Only series that have the label; one answer per value.
  const std::string wrap = "count by (" + name + ") (%s keep_metric_names)";
  for (MatcherSet& m : sets) {
    m.push_back({LabelMatcher::Op::kNotEqual, name, ""});
    PA_ASSIGN_OR_RETURN(QueryValue v, RangeScan(m, mint, maxt, wrap));
    for (const auto& s : v.series) {
      std::string_view value = LabelValue(s.labels, name);
      if (!value.empty()) values.emplace(value);
    }
  }
  out.assign(values.begin(), values.end());
  return out;
}

}  // namespace pa::storage::victoriametrics
