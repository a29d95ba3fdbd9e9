// QueryApi: MetricStore's read methods over VictoriaMetrics' Prometheus query API, and the
// pieces that turn its answers into storage types (JSON → QueryValue, HTTP errors → Status).
//
//   QueryApi api(&http, endpoints.api, {.nocache = true});
//   PA_ASSIGN_OR_RETURN(QueryValue v, api.QueryRange("rate(x[5m])", start, end, step, limits));
//
// What VictoriaMetrics answers differently from Prometheus and how it is bridged:
//  - a scalar expression comes back as a one-element vector without labels, a string literal as
//    an empty vector: ClassifyExpr recognises these expressions and the answer is converted
//    (a string literal is answered without asking VictoriaMetrics);
//  - /api/v1/series, /labels and /label/<n>/values answer per whole day: Series and the label
//    methods run count_over_time over exactly [mint, maxt] instead;
//  - query_range accepts end < start and step <= 0: checked here, with Prometheus's messages.
// Thread-safety: QueryApi methods may be called concurrently (HttpClient is thread-safe).
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "base/http_client.h"
#include "base/json.h"
#include "storage/metric_store.h"

namespace pa::storage::victoriametrics {

struct QueryApiOptions {
  bool nocache = true;                                // send nocache=1 (see vm_store.h)
  std::chrono::milliseconds metadata_timeout{30000};  // Series / label requests
};

class QueryApi {
 public:
  // `api`: the URL prefix ending in /api/v1 (see Endpoints).
  QueryApi(HttpClient* http, std::string api, QueryApiOptions options);

  Result<QueryValue> Query(std::string_view promql, int64_t time, const QueryLimits& limits);
  Result<QueryValue> QueryRange(std::string_view promql, int64_t start, int64_t end, int64_t step,
                                const QueryLimits& limits);
  Result<std::vector<Labels>> Series(const std::vector<MatcherSet>& match, int64_t mint,
                                     int64_t maxt, int64_t limit);
  Result<std::vector<std::string>> LabelNames(const std::vector<MatcherSet>& match, int64_t mint,
                                              int64_t maxt);
  Result<std::vector<std::string>> LabelValues(const std::string& name,
                                               const std::vector<MatcherSet>& match, int64_t mint,
                                               int64_t maxt);

 private:
  // POSTs the form `params` to <api><path>; the "data" member of a success answer.
  Result<Json> Call(std::string_view path,
                    const std::vector<std::pair<std::string, std::string>>& params,
                    std::chrono::milliseconds timeout);
  // Instant query over `selector`'s samples in [mint, maxt], wrapped by `wrap` ("%s" marks
  // where count_over_time(selector[...]) goes).
  Result<QueryValue> RangeScan(const MatcherSet& matchers, int64_t mint, int64_t maxt,
                               std::string_view wrap);

  HttpClient* http_;
  std::string api_;
  QueryApiOptions opt_;
};

// --- Pieces, exposed for tests ---

// The static type of a PromQL expression as far as VictoriaMetrics' answer needs fixing:
// kScalar for number literals, scalar(), time(), pi() and arithmetic among them; kString for a
// string literal (its unquoted value in *string_value); kVector for everything else.
ValueType ClassifyExpr(std::string_view promql, std::string* string_value = nullptr);

// The Status for a non-2xx answer: limits → kResourceExhausted, timeouts → kDeadlineExceeded,
// 400/422 → kInvalidArgument, 401/403 → kPermissionDenied, anything else → kUnavailable.
// The message carries VictoriaMetrics' own error text.
Status ErrorFromResponse(int http_status, std::string_view body);

// The "data" member of a query answer → QueryValue (series sorted by labels). kInternal when
// the JSON is not what the Prometheus API promises.
Result<QueryValue> ParseQueryData(const Json& data);

// {a="1",b=~"x.*"} with PromQL string escaping.
std::string MatchersToSelector(const MatcherSet& matchers);

// Unix ms as the API's seconds: 1795833392123 → "1795833392.123".
std::string FormatSeconds(int64_t ms);

}  // namespace pa::storage::victoriametrics
