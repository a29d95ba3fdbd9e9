// The pieces of Prometheus's HTTP API that the query routes share: parameters (query string or
// form body, as Grafana sends them), times and durations in Prometheus's forms, series selectors
// for match[], and the JSON shapes of results and errors — so that Grafana and other Prometheus
// clients can use PrimoART as a Prometheus data source.
//
// Success: {"status":"success","data":...}; errors:
// {"status":"error","errorType":"bad_data"|"execution"|"timeout"|"unavailable"|"internal",
//  "error":"..."} with 400 / 422 / 503 / 503 / 500.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "gateway/http.h"
#include "storage/metric_store.h"

namespace pa::metrics {

// Parameters from the query string and, for POST, an application/x-www-form-urlencoded body.
class ApiParams {
 public:
  static Result<ApiParams> From(const gateway::Request& request);
  std::optional<std::string> Get(std::string_view name) const;
  std::vector<std::string> All(std::string_view name) const;

 private:
  std::multimap<std::string, std::string, std::less<>> values_;
};

// A time: Unix seconds with an optional fraction ("1700000000.5"), or RFC 3339. Returns ms.
Result<int64_t> ParseApiTime(std::string_view text);
// A duration: seconds with an optional fraction ("15", "0.5"), or a Prometheus duration ("5m",
// "1h30m"). Returns ms.
Result<int64_t> ParseApiDuration(std::string_view text);
// A series selector as in match[]: `name{a="b", c=~"d.*"}`, `{__name__="x"}`; needs at least one
// matcher that does not match the empty string, as Prometheus requires.
Result<storage::MatcherSet> ParseSeriesSelector(std::string_view text);

// Prometheus's number forms: shortest fixed notation ("0.001", "1e+21" never), NaN, +Inf, -Inf.
void AppendPromValue(std::string& out, double v);
// Unix seconds with millisecond fraction, as a JSON number: 1700000000.123.
void AppendPromTime(std::string& out, int64_t ms);

// {"status":"success","data":{"resultType":...,"result":...}}
std::string RenderQueryValue(const storage::QueryValue& value);
// {"status":"success","data":[...]} for /series.
std::string RenderSeries(const std::vector<storage::Labels>& series);
// {"status":"success","data":[...]} for /labels and /label/<n>/values.
std::string RenderStrings(const std::vector<std::string>& values);

// The Prometheus error body with its HTTP status.
gateway::Response PromError(int http_status, std::string_view error_type, std::string_view message);
// A Status as a Prometheus error: InvalidArgument/Unimplemented → 400 bad_data,
// ResourceExhausted → 422 execution, DeadlineExceeded → 503 timeout, Unavailable → 503,
// anything else → 500 internal.
gateway::Response PromErrorFromStatus(const Status& status);
gateway::Response PromSuccess(std::string body);

}  // namespace pa::metrics
