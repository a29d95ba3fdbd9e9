// MetricStore: PrimoART's time-series store. Every metric — synthetic results, RUM and
// span-derived metrics, OTLP metrics, baselines and forecasts — is appended here, and every chart
// and alert rule reads it back through PromQL.
//
// Two backends: the embedded engine (storage/embedded_tsdb, the default, in <data dir>/metrics)
// and VictoriaMetrics (storage/victoriametrics). The data model is Prometheus's: a series is a
// set of labels (including `__name__`), its samples are (Unix ms, float64) pairs.
//
//   PA_ASSIGN_OR_RETURN(AppendResult r, store.Append({{labels, {{t, 1.0}}}}));
//   PA_ASSIGN_OR_RETURN(QueryValue v, store.QueryRange("sum by (job) (rate(x[5m]))", from, to,
//                                                       60000, limits));
//
// Writes: Append is all-or-nothing per call for well-formed input and durable when it returns OK
// (an acknowledged sample survives `kill -9`). Samples may arrive in any order; any timestamp
// inside the retention period is accepted, samples older than retention or more than
// `max_future` ahead of the clock are skipped and counted in AppendResult (not an error).
// Malformed labels (see ValidateLabels) fail the whole call with kInvalidArgument.
// Reads: Query/QueryRange evaluate PromQL with Prometheus's semantics (lookback delta 5 m,
// staleness markers); a syntax error is kInvalidArgument with the position, an unsupported
// construct is kUnimplemented naming it, a limit hit is kResourceExhausted naming the limit,
// a timeout kDeadlineExceeded; a backend that cannot be reached is kUnavailable.
// Thread-safety: every method may be called concurrently.
#pragma once

#include <bit>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace pa::storage {

struct Label {
  std::string name;
  std::string value;
  friend auto operator<=>(const Label&, const Label&) = default;
};

// Sorted by name, names unique, values non-empty (an empty value means "no such label", as in
// Prometheus). The metric name is the label `__name__`.
using Labels = std::vector<Label>;

inline constexpr std::string_view kMetricNameLabel = "__name__";

// The value of label `name`, or "" when absent.
std::string_view LabelValue(const Labels& labels, std::string_view name);
// Sorts by name and drops empty values; fails (kInvalidArgument, naming the label) on a bad or
// duplicate name, or on a value that is not valid UTF-8. Names: [a-zA-Z_][a-zA-Z0-9_]*, and the
// metric name [a-zA-Z_:][a-zA-Z0-9_:]*; names starting with "__" are reserved except __name__.
Status NormalizeLabels(Labels& labels);
// Prometheus's text form: name{a="1",b="2"}.
std::string LabelsToString(const Labels& labels);

struct Sample {
  int64_t t = 0;  // Unix ms
  double v = 0;
};

// Prometheus's staleness marker: a NaN with this exact bit pattern ends a series at its
// timestamp; any other NaN is an ordinary value.
inline constexpr uint64_t kStaleNaNBits = 0x7ff0000000000002ULL;
inline double StaleNaN() { return std::bit_cast<double>(kStaleNaNBits); }
inline bool IsStaleNaN(double v) { return std::bit_cast<uint64_t>(v) == kStaleNaNBits; }

struct SeriesSamples {
  Labels labels;
  std::vector<Sample> samples;
};

struct AppendResult {
  int64_t accepted = 0;
  int64_t too_old = 0;     // older than retention
  int64_t too_new = 0;     // beyond now + max_future
  int64_t duplicates = 0;  // same series and timestamp as a stored sample, same value
};

struct LabelMatcher {
  enum class Op { kEqual, kNotEqual, kRegexMatch, kRegexNoMatch };
  Op op = Op::kEqual;
  std::string name;
  std::string value;  // regexes are fully anchored, Go (RE2) syntax as in Prometheus
};

// One `match[]` selector; several sets are OR-ed (Prometheus /api/v1/series semantics).
using MatcherSet = std::vector<LabelMatcher>;

// A lazily read set of series, in label order. Used by the PromQL engine.
class SeriesSet {
 public:
  virtual ~SeriesSet() = default;
  // Moves to the next series; false at the end or on error (then status() says which).
  virtual bool Next() = 0;
  virtual const Labels& labels() const = 0;
  // Appends the current series' samples inside the Select range, sorted by time, one per
  // timestamp, staleness markers included. At most once per series.
  virtual Status ReadSamples(std::vector<Sample>* out) = 0;
  virtual Status status() const = 0;
};

// Read access for the PromQL engine.
class Querier {
 public:
  virtual ~Querier() = default;
  // Series matching every matcher with at least one sample in [mint, maxt] (inclusive).
  virtual Result<std::unique_ptr<SeriesSet>> Select(const MatcherSet& matchers, int64_t mint,
                                                    int64_t maxt) = 0;
};

// Query results, in Prometheus's value model.
enum class ValueType { kScalar, kVector, kMatrix, kString };
std::string_view ValueTypeName(ValueType t);  // "scalar", "vector", "matrix", "string"

struct SeriesPoints {
  Labels labels;
  std::vector<Sample> points;  // vector: exactly one point, at the evaluation time
};

struct QueryValue {
  ValueType type = ValueType::kVector;
  Sample scalar;                     // kScalar
  std::string string_value;          // kString (with scalar.t as its time)
  std::vector<SeriesPoints> series;  // kVector / kMatrix, sorted by labels
};

struct QueryLimits {
  int64_t max_series = 100000;     // series a query may select
  int64_t max_samples = 50000000;  // samples a query may hold in memory at once
  std::chrono::milliseconds timeout{120000};
};

class MetricStore {
 public:
  virtual ~MetricStore() = default;

  // "embedded" or "victoriametrics".
  virtual std::string_view backend() const = 0;
  // Where the data is, without secrets.
  virtual std::string description() const = 0;

  virtual Result<AppendResult> Append(const std::vector<SeriesSamples>& batch) = 0;

  // /api/v1/series, /api/v1/labels, /api/v1/label/<name>/values: series (or label names, or
  // values of `name`) with samples in [mint, maxt] matching any of `match` (all series when
  // empty), sorted, at most `limit` entries (0 = no limit).
  virtual Result<std::vector<Labels>> Series(const std::vector<MatcherSet>& match, int64_t mint,
                                             int64_t maxt, int64_t limit) = 0;
  virtual Result<std::vector<std::string>> LabelNames(const std::vector<MatcherSet>& match,
                                                      int64_t mint, int64_t maxt) = 0;
  virtual Result<std::vector<std::string>> LabelValues(const std::string& name,
                                                       const std::vector<MatcherSet>& match,
                                                       int64_t mint, int64_t maxt) = 0;

  // PromQL at one instant / over [start, end] every `step` ms.
  virtual Result<QueryValue> Query(std::string_view promql, int64_t time,
                                   const QueryLimits& limits) = 0;
  virtual Result<QueryValue> QueryRange(std::string_view promql, int64_t start, int64_t end,
                                        int64_t step, const QueryLimits& limits) = 0;

  // Waits until every sample acknowledged so far is visible to queries (the VictoriaMetrics
  // backend ships asynchronously from its durable spool). kDeadlineExceeded after `timeout`.
  virtual Status Sync(std::chrono::milliseconds timeout) = 0;

  // OK when the backend answers now.
  virtual Status Ping() = 0;
};

}  // namespace pa::storage
