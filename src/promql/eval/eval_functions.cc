// Functions of instant vectors and scalars, evaluated step by step (Prometheus's rangeEval).
#include <algorithm>
#include <cmath>
#include <numbers>
#include <unordered_map>

#include "base/go_regex.h"
#include "fmt/format.h"
#include "promql/eval/evaluator.h"
#include "promql/eval/math.h"
#include "promql/syntax/functions.h"
#include "promql/syntax/go_compat.h"

namespace pa::promql {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

const std::string& StringArg(const Expr& e) {
  return static_cast<const StringLiteral&>(Unparen(e)).value;
}

// Sets (or, for an empty value, removes) a label.
storage::Labels WithLabel(storage::Labels labels, const std::string& name,
                          const std::string& value) {
  std::erase_if(labels, [&](const storage::Label& l) { return l.name == name; });
  if (!value.empty()) {
    labels.push_back(storage::Label{name, value});
    std::sort(labels.begin(), labels.end());
  }
  return labels;
}

struct CivilTime {
  int64_t year;
  int month;  // 1..12
  int day;    // 1..31
  int day_of_year;
  int day_of_week;  // 0 = Sunday
  int hour;
  int minute;
  int days_in_month;
};

bool IsLeap(int64_t y) { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

// The calendar arithmetic of Go's time package up to Go 1.22, with which Prometheus 2.42 is built
// (BSD-style licence; see docs/THIRD_PARTY.md): the fields come from "absolute" seconds counted in
// uint64 from the year -292277022399, so times beyond its range wrap exactly as in Go (NaN and ±Inf
// arrive as math.MinInt64 seconds and give the year 292277026596, as in Prometheus).
constexpr uint64_t kSecondsPerDay = 86400;
constexpr int64_t kAbsoluteZeroYear = -292277022399;
// Go's unixToInternal + internalToAbsolute.
constexpr uint64_t kUnixToAbsolute = 62135596800ULL + 9223371966579724800ULL;
constexpr uint64_t kDaysPer400Years = 365 * 400 + 97;
constexpr uint64_t kDaysPer100Years = 365 * 100 + 24;
constexpr uint64_t kDaysPer4Years = 365 * 4 + 1;
constexpr int kDaysBefore[] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365};

// Go's absDate: year, month, day and (1-based) day of the year of absolute seconds.
void AbsDate(uint64_t abs, CivilTime* c) {
  uint64_t d = abs / kSecondsPerDay;
  uint64_t n = d / kDaysPer400Years;
  uint64_t y = 400 * n;
  d -= kDaysPer400Years * n;
  n = d / kDaysPer100Years;
  n -= n >> 2;
  y += 100 * n;
  d -= kDaysPer100Years * n;
  n = d / kDaysPer4Years;
  y += 4 * n;
  d -= kDaysPer4Years * n;
  n = d / 365;
  n -= n >> 2;
  y += n;
  d -= 365 * n;
  c->year = static_cast<int64_t>(y + static_cast<uint64_t>(kAbsoluteZeroYear));
  c->day_of_year = static_cast<int>(d) + 1;
  int day = static_cast<int>(d);
  if (IsLeap(c->year)) {
    if (day == 31 + 29 - 1) {
      c->month = 2;
      c->day = 29;
      return;
    }
    if (day > 31 + 29 - 1) --day;
  }
  int month = day / 31;
  int begin;
  if (day >= kDaysBefore[month + 1]) {
    begin = kDaysBefore[++month];
  } else {
    begin = kDaysBefore[month];
  }
  c->month = month + 1;
  c->day = day - begin + 1;
}

// Go's daysSinceEpoch: days from the absolute zero year to January 1 of `year`.
uint64_t DaysSinceEpoch(int64_t year) {
  uint64_t y = static_cast<uint64_t>(year) - static_cast<uint64_t>(kAbsoluteZeroYear);
  uint64_t n = y / 400;
  y -= 400 * n;
  uint64_t d = kDaysPer400Years * n;
  n = y / 100;
  y -= 100 * n;
  d += kDaysPer100Years * n;
  n = y / 4;
  y -= 4 * n;
  d += kDaysPer4Years * n;
  return d + 365 * y;
}

// UTC calendar fields of a Unix time in seconds, as time.Unix(unix_s, 0).UTC() gives them.
CivilTime ToCivil(int64_t unix_s) {
  const uint64_t abs = static_cast<uint64_t>(unix_s) + kUnixToAbsolute;
  CivilTime c{};
  AbsDate(abs, &c);
  c.hour = static_cast<int>(abs % kSecondsPerDay / 3600);
  c.minute = static_cast<int>(abs % 3600 / 60);
  // January 1 of the absolute zero year was a Monday.
  c.day_of_week = static_cast<int>((abs + kSecondsPerDay) % (7 * kSecondsPerDay) / kSecondsPerDay);
  // Prometheus: 32 - time.Date(year, month, 32, 0, 0, 0, 0, time.UTC).Day().
  const uint64_t day32 = DaysSinceEpoch(c.year) + kDaysBefore[c.month - 1] +
                         (IsLeap(c.year) && c.month >= 3 ? 1 : 0) + 31;
  CivilTime next{};
  AbsDate(day32 * kSecondsPerDay, &next);
  c.days_in_month = 32 - next.day;
  return c;
}

double CalendarField(FuncId id, int64_t unix_s) {
  const CivilTime c = ToCivil(unix_s);
  switch (id) {
    case FuncId::kDaysInMonth:
      return c.days_in_month;
    case FuncId::kDayOfMonth:
      return c.day;
    case FuncId::kDayOfWeek:
      return c.day_of_week;
    case FuncId::kDayOfYear:
      return c.day_of_year;
    case FuncId::kHour:
      return c.hour;
    case FuncId::kMinute:
      return c.minute;
    case FuncId::kMonth:
      return c.month;
    default:
      return static_cast<double>(c.year);
  }
}

// Element-wise functions of one value; nullopt if `id` is not one.
std::optional<double> SimpleFunc(FuncId id, double v) {
  switch (id) {
    case FuncId::kAbs:
      return std::fabs(v);
    case FuncId::kCeil:
      return std::ceil(v);
    case FuncId::kFloor:
      return std::floor(v);
    case FuncId::kExp:
      return GoExp(v);
    case FuncId::kSqrt:
      return std::sqrt(v);
    case FuncId::kLn:
      return GoLog(v);
    case FuncId::kLog2:
      return GoLog2(v);
    case FuncId::kLog10:
      return GoLog10(v);
    case FuncId::kSin:
      return std::sin(v);
    case FuncId::kCos:
      return std::cos(v);
    case FuncId::kTan:
      return std::tan(v);
    case FuncId::kAsin:
      return std::asin(v);
    case FuncId::kAcos:
      return std::acos(v);
    case FuncId::kAtan:
      return std::atan(v);
    case FuncId::kSinh:
      return std::sinh(v);
    case FuncId::kCosh:
      return std::cosh(v);
    case FuncId::kTanh:
      return std::tanh(v);
    case FuncId::kAsinh:
      return std::asinh(v);
    case FuncId::kAcosh:
      return std::acosh(v);
    case FuncId::kAtanh:
      return std::atanh(v);
    case FuncId::kDeg:
      return v * 180 / std::numbers::pi;
    case FuncId::kRad:
      return v * std::numbers::pi / 180;
    case FuncId::kSgn:
      return v < 0 ? -1.0 : (v > 0 ? 1.0 : v);
    default:
      return std::nullopt;
  }
}

}  // namespace

Result<Matrix> Evaluator::EvalInstantCall(const Call& c) {
  const FuncId id = c.func->id;
  std::vector<Matrix> mats(c.args.size());
  std::vector<const Matrix*> inputs(c.args.size(), nullptr);
  for (size_t i = 0; i < c.args.size(); ++i) {
    if (TypeOf(*c.args[i]) == ValueType::kString) continue;
    PA_ASSIGN_OR_RETURN(mats[i], Eval(*c.args[i]));
    inputs[i] = &mats[i];
  }
  LabelPool& pool = ctx_->pool;
  std::unordered_map<LabelsId, LabelsId> relabel;  // label_replace / label_join cache
  std::optional<GoRegex> regex;
  LabelsId absent_labels = LabelPool::kEmpty;
  if (id == FuncId::kAbsent) absent_labels = pool.Intern(AbsentLabels(*c.args[0]));
  // histogram_quantile: per input label set, the bucket's group and upper bound.
  struct BucketOf {
    bool valid;
    LabelsId group;  // labels without `le` (name kept, as Prometheus groups)
    double upper_bound;
  };
  std::unordered_map<LabelsId, BucketOf> bucket_of;

  auto fn = [&](std::span<const Vector> args, int64_t ts, Vector* out) -> Status {
    if (SimpleFunc(id, 0).has_value()) {
      for (const Sample& x : args[0]) {
        out->push_back(Sample{pool.DropMetricName(x.labels), *SimpleFunc(id, x.v), ts, 0});
      }
      return Status::Ok();
    }
    switch (id) {
      case FuncId::kRound: {
        const double to_nearest = args.size() >= 2 ? args[1][0].v : 1;
        const double inverse = 1.0 / to_nearest;
        for (const Sample& x : args[0]) {
          out->push_back(Sample{pool.DropMetricName(x.labels),
                                std::floor(x.v * inverse + 0.5) / inverse, ts, 0});
        }
        return Status::Ok();
      }
      case FuncId::kClamp: {
        const double min = args[1][0].v;
        const double max = args[2][0].v;
        if (max < min) return Status::Ok();
        for (const Sample& x : args[0]) {
          out->push_back(Sample{pool.DropMetricName(x.labels), GoMax(min, GoMin(max, x.v)), ts, 0});
        }
        return Status::Ok();
      }
      case FuncId::kClampMax:
      case FuncId::kClampMin: {
        const double bound = args[1][0].v;
        for (const Sample& x : args[0]) {
          const double v = id == FuncId::kClampMax ? GoMin(bound, x.v) : GoMax(bound, x.v);
          out->push_back(Sample{pool.DropMetricName(x.labels), v, ts, 0});
        }
        return Status::Ok();
      }
      case FuncId::kDaysInMonth:
      case FuncId::kDayOfMonth:
      case FuncId::kDayOfWeek:
      case FuncId::kDayOfYear:
      case FuncId::kHour:
      case FuncId::kMinute:
      case FuncId::kMonth:
      case FuncId::kYear:
        if (args.empty()) {
          out->push_back(Sample{LabelPool::kEmpty, CalendarField(id, ts / 1000), ts, 0});
          return Status::Ok();
        }
        for (const Sample& x : args[0]) {
          out->push_back(
              Sample{pool.DropMetricName(x.labels), CalendarField(id, GoFloatToInt64(x.v)), ts, 0});
        }
        return Status::Ok();
      case FuncId::kAbsent:
        if (args[0].empty()) out->push_back(Sample{absent_labels, 1, ts, 0});
        return Status::Ok();
      case FuncId::kTime:
        out->push_back(Sample{LabelPool::kEmpty, static_cast<double>(ts) / 1000, ts, 0});
        return Status::Ok();
      case FuncId::kPi:
        out->push_back(Sample{LabelPool::kEmpty, std::numbers::pi, ts, 0});
        return Status::Ok();
      case FuncId::kVector:
        out->push_back(Sample{LabelPool::kEmpty, args[0][0].v, ts, 0});
        return Status::Ok();
      case FuncId::kScalar:
        out->push_back(Sample{LabelPool::kEmpty, args[0].size() == 1 ? args[0][0].v : kNaN, ts, 0});
        return Status::Ok();
      case FuncId::kSort:
      case FuncId::kSortDesc: {
        *out = args[0];
        const bool desc = id == FuncId::kSortDesc;
        std::stable_sort(out->begin(), out->end(), [desc](const Sample& a, const Sample& b) {
          if (std::isnan(a.v)) return false;  // NaN sorts last either way
          if (std::isnan(b.v)) return true;
          return desc ? a.v > b.v : a.v < b.v;
        });
        return Status::Ok();
      }
      case FuncId::kLabelReplace: {
        const std::string& dst = StringArg(*c.args[1]);
        const std::string& repl = StringArg(*c.args[2]);
        const std::string& src = StringArg(*c.args[3]);
        if (!regex) {
          const std::string& re = StringArg(*c.args[4]);
          auto compiled = GoRegex::Compile(re);
          if (!compiled.ok()) {
            if (compiled.status().code() == StatusCode::kUnimplemented) return compiled.status();
            return InvalidArgumentError(
                fmt::format("invalid regular expression in label_replace(): {}", re));
          }
          if (!IsValidLabelName(dst)) {
            return InvalidArgumentError(
                fmt::format("invalid destination label name in label_replace(): {}", dst));
          }
          regex = std::move(*compiled);
        }
        for (const Sample& x : args[0]) {
          auto [it, inserted] = relabel.try_emplace(x.labels, x.labels);
          if (inserted) {
            const storage::Labels& in = pool.Get(x.labels);
            const std::string src_value(storage::LabelValue(in, src));
            if (auto res = regex->Replace(src_value, repl)) {
              it->second = pool.Intern(WithLabel(in, dst, *res));
            }
          }
          out->push_back(Sample{it->second, x.v, ts, 0});
        }
        return Status::Ok();
      }
      case FuncId::kLabelJoin: {
        const std::string& dst = StringArg(*c.args[1]);
        const std::string& sep = StringArg(*c.args[2]);
        for (size_t i = 3; i < c.args.size(); ++i) {
          if (!IsValidLabelName(StringArg(*c.args[i]))) {
            return InvalidArgumentError(fmt::format("invalid source label name in label_join(): {}",
                                                    StringArg(*c.args[i])));
          }
        }
        if (!IsValidLabelName(dst)) {
          return InvalidArgumentError(
              fmt::format("invalid destination label name in label_join(): {}", dst));
        }
        for (const Sample& x : args[0]) {
          auto [it, inserted] = relabel.try_emplace(x.labels, x.labels);
          if (inserted) {
            const storage::Labels& in = pool.Get(x.labels);
            std::string joined;
            for (size_t i = 3; i < c.args.size(); ++i) {
              if (i > 3) joined += sep;
              joined += storage::LabelValue(in, StringArg(*c.args[i]));
            }
            it->second = pool.Intern(WithLabel(in, dst, joined));
          }
          out->push_back(Sample{it->second, x.v, ts, 0});
        }
        return Status::Ok();
      }
      case FuncId::kHistogramQuantile: {
        const double q = args[0][0].v;
        std::vector<std::pair<LabelsId, std::vector<Bucket>>> groups;
        std::unordered_map<LabelsId, size_t> group_index;
        for (const Sample& x : args[1]) {
          auto [it, inserted] = bucket_of.try_emplace(x.labels, BucketOf{false, 0, 0});
          if (inserted) {
            const storage::Labels& in = pool.Get(x.labels);
            // Go's ParseFloat of a missing label ("") fails too: such series are skipped.
            if (auto ub = ParseGoFloat(storage::LabelValue(in, "le"))) {
              storage::Labels without_le = in;
              std::erase_if(without_le, [](const storage::Label& l) { return l.name == "le"; });
              it->second = BucketOf{true, pool.Intern(without_le), *ub};
            }
          }
          const BucketOf& b = it->second;
          if (!b.valid) continue;
          auto [gi, new_group] = group_index.try_emplace(b.group, groups.size());
          if (new_group) groups.emplace_back(b.group, std::vector<Bucket>{});
          groups[gi->second].second.push_back(Bucket{b.upper_bound, x.v});
        }
        for (auto& [group, buckets] : groups) {
          out->push_back(Sample{pool.DropMetricName(group), BucketQuantile(q, &buckets), ts, 0});
        }
        return Status::Ok();
      }
      case FuncId::kHistogramCount:
      case FuncId::kHistogramSum:
      case FuncId::kHistogramFraction:
        // Only native histogram samples have these; the store holds floats only.
        return Status::Ok();
      default:
        return InternalError(fmt::format("{} is not an instant-vector function", c.func->name));
    }
  };
  auto result = StepLoop(inputs, fn);
  for (const Matrix& m : mats) Release(m);
  return result;
}

}  // namespace pa::promql
