// The PromQL engine: parses and evaluates Prometheus queries over any storage::Querier, with
// Prometheus 2.42's semantics — the embedded metric store answers /prometheus/api/v1/query* with
// it, and the differential suite holds it to the real Prometheus's answers.
//
//   promql::Engine engine;
//   PA_ASSIGN_OR_RETURN(storage::QueryValue v,
//                       engine.Range(querier, "sum by (job) (rate(http_requests_total[5m]))",
//                                    start_ms, end_ms, 60000, limits));
//
// Covered: instant and range selectors with =, !=, =~, !~, offset (also negative) and the @
// modifier (including @ start() and @ end()); rate, irate, increase, delta, idelta, resets,
// changes, deriv, predict_linear, holt_winters; avg|min|max|sum|count|last|quantile|stddev|
// stdvar|present|absent_over_time; histogram_quantile (classic buckets; histogram_count, _sum and
// _fraction return nothing, as for float samples in Prometheus); abs, ceil, floor, round, exp,
// ln, log2, log10, sqrt, sgn, the trigonometric functions, deg, rad, pi, clamp, clamp_min,
// clamp_max, absent, time, timestamp, vector, scalar, label_replace, label_join, sort, sort_desc,
// and the calendar functions; aggregations sum, avg, min, max, count, group, stddev, stdvar,
// quantile, topk, bottomk, count_values with by/without; binary arithmetic (+ - * / % ^ atan2),
// comparison (with bool) and set operators (and, or, unless) with on/ignoring/group_left/
// group_right; number (decimal, hex, octal, Inf, NaN) and string literals; subqueries; comments.
// Results agree with Prometheus 2.42 to the last bit where the arithmetic is the same (it
// reproduces its summation orders and Go's corner cases); which of several equal values topk/
// bottomk keep, and float summation order, follow the Querier's series order (label order).
// Regular expressions are Go's (RE2). Refused with kUnimplemented, naming the construct — never
// a wrong answer: predict_linear() of an @-modified subquery in a range query or subquery.
//
// Results: vectors and matrices come sorted by labels, except an instant query whose outermost
// function is sort() or sort_desc(), which keeps that order. An instant query of a range-vector
// expression (`x[5m]`, a subquery) returns kMatrix with the raw points.
//
// Limits: max_series counts the series all selectors of the query select; max_samples counts
// the samples held at once (decoded samples of the series being read plus evaluated points).
//
// Errors: kInvalidArgument for a syntax or type error ("1:15: parse error: unexpected ...") and
// for evaluation errors Prometheus also reports (duplicate label sets, many-to-many matching),
// kUnimplemented, kResourceExhausted when QueryLimits are exceeded (the message names the limit),
// kDeadlineExceeded on timeout; storage errors pass through.
// Thread-safety: an Engine is immutable after construction; Instant/Range may run concurrently.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

#include "base/status.h"
#include "storage/metric_store.h"

namespace pa::promql {

struct EngineOptions {
  // How far back an instant vector selector looks for a sample (0 or less: 5 m).
  std::chrono::milliseconds lookback_delta{5 * 60 * 1000};
  // Default subquery resolution when a subquery gives none (Prometheus: the global evaluation
  // interval, 1 m by default). 0 or less: 1 m.
  std::chrono::milliseconds default_subquery_step{60 * 1000};
};

class Engine {
 public:
  explicit Engine(EngineOptions options = {});

  // Evaluates at one instant `time` (Unix ms). Result type: scalar, vector, string, or matrix
  // for a range-vector expression.
  Result<storage::QueryValue> Instant(storage::Querier& querier, std::string_view query,
                                      int64_t time, const storage::QueryLimits& limits) const;

  // Evaluates at start, start+step, ... <= end. Result type: matrix (a scalar expression gives
  // one series without labels, as Prometheus does). kInvalidArgument when the expression is not
  // a scalar or instant vector, or step <= 0, or end < start, or a time is beyond ±2^62 ms.
  Result<storage::QueryValue> Range(storage::Querier& querier, std::string_view query,
                                    int64_t start, int64_t end, int64_t step,
                                    const storage::QueryLimits& limits) const;

  // Parses only: OK when the query is valid PromQL this engine can evaluate.
  Status Check(std::string_view query) const;

 private:
  EngineOptions options_;
};

}  // namespace pa::promql
