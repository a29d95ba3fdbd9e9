// The PromQL evaluator. Like Prometheus's, it evaluates every node over all steps of the
// query at once: a node yields a Matrix whose series have one point per step at which they
// have a value (instant vectors and scalars), or raw samples (range vectors, top level of an
// instant query only). Subqueries run a nested Evaluator on their own step grid.
//
// Each selector is fetched from the Querier once per evaluation, with exactly the time range
// its steps need, and each series is decoded once; range windows then slide over the decoded
// samples. QueryContext counts selected series and samples held against QueryLimits.
// Not thread-safe: one Evaluator (and QueryContext) per query.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "base/status.h"
#include "promql/engine.h"
#include "promql/eval/value.h"
#include "promql/syntax/ast.h"
#include "storage/metric_store.h"

namespace pa::promql {

struct QueryContext {
  QueryContext(storage::Querier& q, const storage::QueryLimits& l, const EngineOptions& o,
               int64_t start, int64_t end);

  storage::Querier& querier;
  const storage::QueryLimits limits;
  const int64_t lookback_ms;
  const int64_t default_subquery_step_ms;
  const int64_t query_start_ms;  // for @ start()
  const int64_t query_end_ms;    // for @ end()
  LabelPool pool;

  // kResourceExhausted naming the limit when the query would hold more than max_samples.
  Status AddSamples(int64_t n);
  void ReleaseSamples(int64_t n) { samples_ -= n; }
  // kResourceExhausted naming max_series.
  Status AddSeries(int64_t n);
  // kDeadlineExceeded once the timeout has passed; reads the clock every few calls only.
  Status CheckDeadline();
  std::optional<int64_t> ResolveAt(const AtModifier& at) const;

 private:
  int64_t samples_ = 0;
  int64_t series_ = 0;
  uint32_t deadline_calls_ = 0;
  std::chrono::steady_clock::time_point deadline_;
};

class Evaluator {
 public:
  // Steps start, start+interval, ... <= end (an instant query: start == end, interval 1).
  Evaluator(QueryContext* ctx, int64_t start, int64_t end, int64_t interval);

  // Any expression but a string. The caller owns the result's sample count (see Release).
  Result<Matrix> Eval(const Expr& e);
  // Returns the samples of a result to the context's budget.
  void Release(const Matrix& m);

 private:
  using StepFn = std::function<Status(std::span<const Vector> args, int64_t ts, Vector* out)>;

  // Prometheus's rangeEval: hands `fn` the samples each input has at each step and collects
  // its output into series. Inputs may be nullptr (string arguments). Fails on duplicate
  // label sets in an output vector.
  Result<Matrix> StepLoop(std::span<const Matrix* const> inputs, const StepFn& fn);
  Status CheckUniqueLabels(const Vector& v);
  Status CheckUniqueLabels(const Matrix& m);
  int64_t NumSteps() const { return (end_ - start_) / interval_ + 1; }

  // Streams the series of `vs` with their samples in [mint, maxt] (stale markers dropped if
  // asked) to `fn`, one at a time: only one series' raw samples are held at once. The samples
  // count against max_samples while `fn` runs; `fn` may take them (and must then count them).
  using SeriesFn = std::function<Status(LabelsId labels, std::vector<Point>* samples)>;
  Status ForEachSelected(const VectorSelector& vs, int64_t mint, int64_t maxt, bool drop_stale,
                         const SeriesFn& fn);
  // `value_is_timestamp`: the value of each point is the sample's timestamp in seconds (for
  // timestamp(), which needs it after the point itself moved to the step time).
  Result<Matrix> EvalVectorSelector(const VectorSelector& vs, bool value_is_timestamp);
  Result<Matrix> EvalMatrixSelector(const MatrixSelector& ms);
  Result<Matrix> EvalSubquery(const Subquery& sq);
  Result<Matrix> EvalUnary(const UnaryExpr& u);
  Result<Matrix> EvalNumber(double v);

  // Receives the series of a node one at a time instead of a Matrix (see EvalRangeCall).
  using SeriesSink = std::function<void(const Series&)>;

  // eval_call.cc
  Result<Matrix> EvalCall(const Call& c);
  // With `sink`, each result series goes there as soon as it is computed and the returned
  // Matrix is empty; the series' samples stay counted in the context until the caller releases
  // them. Not for absent_over_time().
  Result<Matrix> EvalRangeCall(const Call& c, size_t matrix_arg, const SeriesSink* sink = nullptr);
  // The argument of `c` that makes EvalCall evaluate it with EvalRangeCall and a sink may be
  // used; nullopt otherwise.
  static std::optional<size_t> StreamableRangeArgument(const Call& c);
  // eval_functions.cc
  Result<Matrix> EvalInstantCall(const Call& c);
  // eval_aggregate.cc
  Result<Matrix> EvalAggregate(const AggregateExpr& a);
  // sum, avg, count, min, max, group, stddev, stdvar.
  Result<Matrix> EvalSeriesWiseAggregate(const AggregateExpr& a);
  // eval_binary.cc
  Result<Matrix> EvalBinary(const BinaryExpr& b);

  QueryContext* ctx_;
  const int64_t start_;
  const int64_t end_;
  const int64_t interval_;
  std::vector<uint32_t> seen_;  // label id -> stamp, for duplicate detection
  uint32_t stamp_ = 0;
};

// The labels absent() and absent_over_time() give their result: those fixed by equality matchers
// of a selector argument (Prometheus's createLabelsForAbsentFunction).
storage::Labels AbsentLabels(const Expr& arg);

}  // namespace pa::promql
