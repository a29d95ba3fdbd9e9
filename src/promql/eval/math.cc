#include "promql/eval/math.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cmath>
#include <limits>

#include "fmt/format.h"

namespace pa::promql {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// Least squares fit; slope per second and the value at intercept_time.
void LinearRegression(std::span<const Point> pts, int64_t intercept_time, double* slope,
                      double* intercept) {
  double n = 0;
  double sum_x = 0, c_x = 0, sum_y = 0, c_y = 0, sum_xy = 0, c_xy = 0, sum_x2 = 0, c_x2 = 0;
  const double init_y = pts[0].v;
  bool const_y = true;
  for (size_t i = 0; i < pts.size(); ++i) {
    const double v = pts[i].v;
    if (const_y && i > 0 && v != init_y) const_y = false;
    n += 1.0;
    const double x = static_cast<double>(pts[i].t - intercept_time) / 1e3;
    KahanAdd(x, &sum_x, &c_x);
    KahanAdd(v, &sum_y, &c_y);
    KahanAdd(x * v, &sum_xy, &c_xy);
    KahanAdd(x * x, &sum_x2, &c_x2);
  }
  if (const_y) {
    if (std::isinf(init_y)) {
      *slope = kNaN;
      *intercept = kNaN;
    } else {
      *slope = 0;
      *intercept = init_y;
    }
    return;
  }
  sum_x += c_x;
  sum_y += c_y;
  sum_xy += c_xy;
  sum_x2 += c_x2;
  const double cov_xy = sum_xy - sum_x * sum_y / n;
  const double var_x = sum_x2 - sum_x * sum_x / n;
  *slope = cov_xy / var_x;
  *intercept = sum_y / n - *slope * sum_x / n;
}

bool LessNaNFirst(double a, double b) { return (std::isnan(a) && !std::isnan(b)) || a < b; }

// The φ-quantile (0 <= q <= 1) of sorted, non-empty values.
double QuantileOfSorted(double q, std::span<const double> values) {
  const double n = static_cast<double>(values.size());
  const double rank = q * (n - 1);
  const double lower = std::max(0.0, std::floor(rank));
  const double upper = std::min(n - 1, lower + 1);
  const double weight = rank - std::floor(rank);
  return values[static_cast<size_t>(lower)] * (1 - weight) +
         values[static_cast<size_t>(upper)] * weight;
}

}  // namespace

std::optional<double> InstantValue(const Window& w, bool is_rate) {
  const auto& p = w.points;
  if (p.size() < 2) return std::nullopt;
  const Point& last = p[p.size() - 1];
  const Point& prev = p[p.size() - 2];
  double result = is_rate && last.v < prev.v ? last.v : last.v - prev.v;
  const int64_t interval = last.t - prev.t;
  if (interval == 0) return std::nullopt;
  if (is_rate) result /= static_cast<double>(interval) / 1000;
  return result;
}

double Resets(const Window& w) {
  int resets = 0;
  for (size_t i = 1; i < w.points.size(); ++i) {
    if (w.points[i].v < w.points[i - 1].v) ++resets;
  }
  return resets;
}

double Changes(const Window& w) {
  int changes = 0;
  for (size_t i = 1; i < w.points.size(); ++i) {
    const double cur = w.points[i].v;
    const double prev = w.points[i - 1].v;
    if (cur != prev && !(std::isnan(cur) && std::isnan(prev))) ++changes;
  }
  return changes;
}

std::optional<double> Deriv(const Window& w) {
  if (w.points.size() < 2) return std::nullopt;
  double slope = 0;
  double intercept = 0;
  LinearRegression(w.points, w.points[0].t, &slope, &intercept);
  return slope;
}

std::optional<double> PredictLinear(const Window& w, double duration_s) {
  if (w.points.size() < 2) return std::nullopt;
  double slope = 0;
  double intercept = 0;
  LinearRegression(w.points, w.ts, &slope, &intercept);
  return slope * duration_s + intercept;
}

Result<std::optional<double>> HoltWinters(const Window& w, double sf, double tf) {
  if (sf <= 0 || sf >= 1) {
    return InvalidArgumentError(
        fmt::format("invalid smoothing factor. Expected: 0 < sf < 1, got: {:f}", sf));
  }
  if (tf <= 0 || tf >= 1) {
    return InvalidArgumentError(
        fmt::format("invalid trend factor. Expected: 0 < tf < 1, got: {:f}", tf));
  }
  const auto& p = w.points;
  if (p.size() < 2) return std::optional<double>();
  double s0 = 0;
  double s1 = p[0].v;
  double b = p[1].v - p[0].v;
  for (size_t i = 1; i < p.size(); ++i) {
    const double x = sf * p[i].v;
    // calcTrendValue(i-1, ...): the raw trend at the first step, smoothed afterwards.
    if (i - 1 != 0) b = tf * (s1 - s0) + (1 - tf) * b;
    const double y = (1 - sf) * (s1 + b);
    s0 = s1;
    s1 = x + y;
  }
  return std::optional<double>(s1);
}

double AvgOverTime(const Window& w) {
  double mean = 0;
  double count = 0;
  double c = 0;
  for (const Point& p : w.points) {
    count++;
    if (std::isinf(mean)) {
      if (std::isinf(p.v) && (mean > 0) == (p.v > 0)) continue;
      if (!std::isinf(p.v) && !std::isnan(p.v)) continue;
    }
    KahanAdd(p.v / count - mean / count, &mean, &c);
  }
  if (std::isinf(mean)) return mean;
  return mean + c;
}

double SumOverTime(const Window& w) {
  double sum = 0;
  double c = 0;
  for (const Point& p : w.points) KahanAdd(p.v, &sum, &c);
  if (std::isinf(sum)) return sum;
  return sum + c;
}

double MinOverTime(const Window& w) {
  double min = w.points[0].v;
  for (const Point& p : w.points) {
    if (p.v < min || std::isnan(min)) min = p.v;
  }
  return min;
}

double MaxOverTime(const Window& w) {
  double max = w.points[0].v;
  for (const Point& p : w.points) {
    if (p.v > max || std::isnan(max)) max = p.v;
  }
  return max;
}

double StdvarOverTime(const Window& w) {
  double count = 0;
  double mean = 0, c_mean = 0;
  double aux = 0, c_aux = 0;
  for (const Point& p : w.points) {
    count++;
    const double delta = p.v - (mean + c_mean);
    KahanAdd(delta / count, &mean, &c_mean);
    KahanAdd(delta * (p.v - (mean + c_mean)), &aux, &c_aux);
  }
  return (aux + c_aux) / count;
}

double Quantile(double q, std::vector<double>* values) {
  if (values->empty() || std::isnan(q)) return kNaN;
  if (q < 0) return -kInf;
  if (q > 1) return kInf;
  std::sort(values->begin(), values->end(), LessNaNFirst);
  return QuantileOfSorted(q, *values);
}

void SlidingQuantile::Reset() {
  begin_ = end_ = nullptr;
  sorted_.clear();
  nans_ = negative_zeros_ = positive_zeros_ = 0;
}

void SlidingQuantile::Count(double v, int delta) {
  if (std::isnan(v)) {
    nans_ += delta;
  } else if (v == 0) {
    (std::signbit(v) ? negative_zeros_ : positive_zeros_) += delta;
  }
}

void SlidingQuantile::Rebuild(std::span<const Point> window) {
  sorted_.clear();
  nans_ = negative_zeros_ = positive_zeros_ = 0;
  for (const Point& p : window) {
    sorted_.push_back(p.v);
    Count(p.v, 1);
  }
  std::sort(sorted_.begin(), sorted_.end(), LessNaNFirst);
}

void SlidingQuantile::Insert(double v) {
  sorted_.insert(std::upper_bound(sorted_.begin(), sorted_.end(), v, LessNaNFirst), v);
  Count(v, 1);
}

void SlidingQuantile::Erase(double v) {
  // Among the values ordered equal to v (±0, or NaNs with any payload) remove one with v's
  // bits, so that sorted_ keeps exactly the window's values.
  const uint64_t bits = std::bit_cast<uint64_t>(v);
  auto it = std::lower_bound(sorted_.begin(), sorted_.end(), v, LessNaNFirst);
  while (it != sorted_.end() && std::bit_cast<uint64_t>(*it) != bits) ++it;
  assert(it != sorted_.end());  // v is in the window
  sorted_.erase(it);
  Count(v, -1);
}

double SlidingQuantile::Quantile(double q, std::span<const Point> window) {
  if (window.empty() || std::isnan(q)) return kNaN;
  if (q < 0) return -kInf;
  if (q > 1) return kInf;
  const Point* b = window.data();
  const Point* e = b + window.size();
  const bool overlaps = begin_ != nullptr && b >= begin_ && e >= end_ && b < end_;
  // Updating costs a binary search and a shift of part of sorted_ per sample, sorting about
  // log2(n) comparisons per sample: update while few samples change.
  if (!overlaps || 4 * ((b - begin_) + (e - end_)) > e - b) {
    Rebuild(window);
  } else {
    for (const Point* p = begin_; p < b; ++p) Erase(p->v);
    for (const Point* p = end_; p < e; ++p) Insert(p->v);
  }
  begin_ = b;
  end_ = e;
  if (nans_ > 0 || (negative_zeros_ > 0 && positive_zeros_ > 0)) {
    // Equal values with different bits: the order of their bits is std::sort's choice.
    scratch_.clear();
    for (const Point& p : window) scratch_.push_back(p.v);
    return pa::promql::Quantile(q, &scratch_);
  }
  return QuantileOfSorted(q, sorted_);
}

double BucketQuantile(double q, std::vector<Bucket>* buckets_in) {
  std::vector<Bucket>& buckets = *buckets_in;
  if (std::isnan(q)) return kNaN;
  if (q < 0) return -kInf;
  if (q > 1) return kInf;
  std::sort(buckets.begin(), buckets.end(),
            [](const Bucket& a, const Bucket& b) { return a.upper_bound < b.upper_bound; });
  if (!std::isinf(buckets.back().upper_bound) || buckets.back().upper_bound < 0) return kNaN;
  // Merge buckets with the same upper bound.
  size_t out = 0;
  for (size_t i = 1; i < buckets.size(); ++i) {
    if (buckets[i].upper_bound == buckets[out].upper_bound) {
      buckets[out].count += buckets[i].count;
    } else {
      buckets[++out] = buckets[i];
    }
  }
  buckets.resize(out + 1);
  // Envelope: counts may not decrease (partial scrapes, rate() over buckets).
  double max = buckets[0].count;
  for (size_t i = 1; i < buckets.size(); ++i) {
    if (buckets[i].count > max) {
      max = buckets[i].count;
    } else if (buckets[i].count < max) {
      buckets[i].count = max;
    }
  }
  if (buckets.size() < 2) return kNaN;
  const double observations = buckets.back().count;
  if (observations == 0) return kNaN;
  double rank = q * observations;
  // sort.Search over all but the +Inf bucket.
  size_t b = 0;
  {
    size_t lo = 0;
    size_t hi = buckets.size() - 1;
    while (lo < hi) {
      const size_t mid = lo + (hi - lo) / 2;
      if (!(buckets[mid].count >= rank)) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    b = lo;
  }
  if (b == buckets.size() - 1) return buckets[buckets.size() - 2].upper_bound;
  if (b == 0 && buckets[0].upper_bound <= 0) return buckets[0].upper_bound;
  double bucket_start = 0;
  const double bucket_end = buckets[b].upper_bound;
  double count = buckets[b].count;
  if (b > 0) {
    bucket_start = buckets[b - 1].upper_bound;
    count -= buckets[b - 1].count;
    rank -= buckets[b - 1].count;
  }
  return bucket_start + (bucket_end - bucket_start) * (rank / count);
}

}  // namespace pa::promql
