// The numeric kernels of PromQL functions, reproducing Prometheus 2.42's arithmetic order
// (Kahan-Neumaier sums, incremental means, extrapolation rules) so results agree to the last
// bits wherever the operations are the same.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "base/status.h"
#include "promql/eval/value.h"

namespace pa::promql {

// One series' samples inside a range window [range_start, range_end] (stale markers removed).
struct Window {
  std::span<const Point> points;
  int64_t ts;           // evaluation time of the step
  int64_t range_start;  // ts - offset - range (or @ time - offset - range)
  int64_t range_end;    // ts - offset
  int64_t range_ms;
};

// rate/increase/delta: Prometheus's extrapolatedRate. nullopt with fewer than two samples.
// Inline (below): it runs for every step of every series, and the sliding loop of
// eval_call.cc overlaps the division chains of successive windows only when it sees them.
inline std::optional<double> ExtrapolatedRate(const Window& w, bool is_counter, bool is_rate);
// irate/idelta from the last two samples.
std::optional<double> InstantValue(const Window& w, bool is_rate);
double Resets(const Window& w);
double Changes(const Window& w);
std::optional<double> Deriv(const Window& w);
std::optional<double> PredictLinear(const Window& w, double duration_s);
// kInvalidArgument for smoothing/trend factors outside (0, 1).
Result<std::optional<double>> HoltWinters(const Window& w, double sf, double tf);
double AvgOverTime(const Window& w);
double SumOverTime(const Window& w);
double MinOverTime(const Window& w);
double MaxOverTime(const Window& w);
double StdvarOverTime(const Window& w);

// Neumaier-compensated addition, as Prometheus's kahanSumInc.
inline void KahanAdd(double inc, double* sum, double* c);

// φ-quantile of values (sorted in place; NaN for no values, ±Inf outside [0, 1]).
double Quantile(double q, std::vector<double>* values);

// quantile_over_time over the windows of one series as they slide forward: the window's values
// are kept sorted and updated by the samples that left and entered it, instead of sorting every
// window. Results are Quantile()'s bit for bit: where the sorted order is not unique in its bits
// (NaNs, or both +0 and -0 in the window) it falls back to sorting the window as Quantile() does.
// Not thread-safe.
class SlidingQuantile {
 public:
  // Forgets the previous window; call before the first window of each series.
  void Reset();
  // Quantile(q, values of `window`). `window` lies in the same array as the previous one (since
  // Reset) and neither of its ends is before the previous one's.
  double Quantile(double q, std::span<const Point> window);

 private:
  void Rebuild(std::span<const Point> window);
  void Insert(double v);
  void Erase(double v);
  void Count(double v, int delta);

  std::vector<double> sorted_;  // the values of [begin_, end_), by LessNaNFirst
  const Point* begin_ = nullptr;
  const Point* end_ = nullptr;
  int64_t nans_ = 0, negative_zeros_ = 0, positive_zeros_ = 0;  // in sorted_
  std::vector<double> scratch_;
};

struct Bucket {
  double upper_bound;
  double count;
};
// histogram_quantile of classic buckets (sorted in place): Prometheus's bucketQuantile.
double BucketQuantile(double q, std::vector<Bucket>* buckets);

// Go's time.Duration.Seconds() for a duration of `ms` milliseconds.
inline double DurationSeconds(int64_t ms) {
  const int64_t sec = ms / 1000;
  const int64_t nsec = (ms % 1000) * 1000000;
  return static_cast<double>(sec) + static_cast<double>(nsec) / 1e9;
}

inline std::optional<double> ExtrapolatedRate(const Window& w, bool is_counter, bool is_rate) {
  const auto& p = w.points;
  const size_t n = p.size();
  if (n < 2) return std::nullopt;
  double result = p[n - 1].v - p[0].v;
  if (is_counter) {
    double prev = p[0].v;
    for (size_t i = 1; i < n; ++i) {
      if (p[i].v < prev) result += prev;
      prev = p[i].v;
    }
  }
  double to_start = static_cast<double>(p[0].t - w.range_start) / 1000;
  const double to_end = static_cast<double>(w.range_end - p[n - 1].t) / 1000;
  const double sampled = static_cast<double>(p[n - 1].t - p[0].t) / 1000;
  const double avg_between = sampled / static_cast<double>(n - 1);
  if (is_counter && result > 0 && p[0].v >= 0) {
    // Counters cannot go below zero: do not extrapolate past the zero point.
    const double to_zero = sampled * (p[0].v / result);
    if (to_zero < to_start) to_start = to_zero;
  }
  const double threshold = avg_between * 1.1;
  double extrapolate_to = sampled;
  extrapolate_to += to_start < threshold ? to_start : avg_between / 2;
  extrapolate_to += to_end < threshold ? to_end : avg_between / 2;
  double factor = extrapolate_to / sampled;
  if (is_rate) factor /= DurationSeconds(w.range_ms);
  return result * factor;
}

inline void KahanAdd(double inc, double* sum, double* c) {
  const double t = *sum + inc;
  if ((*sum < 0 ? -*sum : *sum) >= (inc < 0 ? -inc : inc)) {
    *c += (*sum - t) + inc;
  } else {
    *c += (inc - t) + *sum;
  }
  *sum = t;
}

}  // namespace pa::promql
