#include "promql/syntax/functions.h"

#include <unordered_map>

namespace pa::promql {
namespace {

using VT = storage::ValueType;
constexpr VT kS = VT::kScalar;
constexpr VT kV = VT::kVector;
constexpr VT kM = VT::kMatrix;
constexpr VT kStr = VT::kString;

const std::vector<Function>& AllFunctions() {
  static const auto* const kAll = new std::vector<Function>{
      {"abs", FuncId::kAbs, {kV}, 0, kV},
      {"absent", FuncId::kAbsent, {kV}, 0, kV},
      {"absent_over_time", FuncId::kAbsentOverTime, {kM}, 0, kV},
      {"acos", FuncId::kAcos, {kV}, 0, kV},
      {"acosh", FuncId::kAcosh, {kV}, 0, kV},
      {"asin", FuncId::kAsin, {kV}, 0, kV},
      {"asinh", FuncId::kAsinh, {kV}, 0, kV},
      {"atan", FuncId::kAtan, {kV}, 0, kV},
      {"atanh", FuncId::kAtanh, {kV}, 0, kV},
      {"avg_over_time", FuncId::kAvgOverTime, {kM}, 0, kV},
      {"ceil", FuncId::kCeil, {kV}, 0, kV},
      {"changes", FuncId::kChanges, {kM}, 0, kV},
      {"clamp", FuncId::kClamp, {kV, kS, kS}, 0, kV},
      {"clamp_max", FuncId::kClampMax, {kV, kS}, 0, kV},
      {"clamp_min", FuncId::kClampMin, {kV, kS}, 0, kV},
      {"cos", FuncId::kCos, {kV}, 0, kV},
      {"cosh", FuncId::kCosh, {kV}, 0, kV},
      {"count_over_time", FuncId::kCountOverTime, {kM}, 0, kV},
      {"days_in_month", FuncId::kDaysInMonth, {kV}, 1, kV},
      {"day_of_month", FuncId::kDayOfMonth, {kV}, 1, kV},
      {"day_of_week", FuncId::kDayOfWeek, {kV}, 1, kV},
      {"day_of_year", FuncId::kDayOfYear, {kV}, 1, kV},
      {"deg", FuncId::kDeg, {kV}, 0, kV},
      {"delta", FuncId::kDelta, {kM}, 0, kV},
      {"deriv", FuncId::kDeriv, {kM}, 0, kV},
      {"exp", FuncId::kExp, {kV}, 0, kV},
      {"floor", FuncId::kFloor, {kV}, 0, kV},
      {"histogram_count", FuncId::kHistogramCount, {kV}, 0, kV},
      {"histogram_fraction", FuncId::kHistogramFraction, {kS, kS, kV}, 0, kV},
      {"histogram_quantile", FuncId::kHistogramQuantile, {kS, kV}, 0, kV},
      {"histogram_sum", FuncId::kHistogramSum, {kV}, 0, kV},
      {"holt_winters", FuncId::kHoltWinters, {kM, kS, kS}, 0, kV},
      {"hour", FuncId::kHour, {kV}, 1, kV},
      {"idelta", FuncId::kIdelta, {kM}, 0, kV},
      {"increase", FuncId::kIncrease, {kM}, 0, kV},
      {"irate", FuncId::kIrate, {kM}, 0, kV},
      {"label_replace", FuncId::kLabelReplace, {kV, kStr, kStr, kStr, kStr}, 0, kV},
      {"label_join", FuncId::kLabelJoin, {kV, kStr, kStr, kStr}, -1, kV},
      {"last_over_time", FuncId::kLastOverTime, {kM}, 0, kV},
      {"ln", FuncId::kLn, {kV}, 0, kV},
      {"log10", FuncId::kLog10, {kV}, 0, kV},
      {"log2", FuncId::kLog2, {kV}, 0, kV},
      {"max_over_time", FuncId::kMaxOverTime, {kM}, 0, kV},
      {"min_over_time", FuncId::kMinOverTime, {kM}, 0, kV},
      {"minute", FuncId::kMinute, {kV}, 1, kV},
      {"month", FuncId::kMonth, {kV}, 1, kV},
      {"pi", FuncId::kPi, {}, 0, kS},
      {"predict_linear", FuncId::kPredictLinear, {kM, kS}, 0, kV},
      {"present_over_time", FuncId::kPresentOverTime, {kM}, 0, kV},
      {"quantile_over_time", FuncId::kQuantileOverTime, {kS, kM}, 0, kV},
      {"rad", FuncId::kRad, {kV}, 0, kV},
      {"rate", FuncId::kRate, {kM}, 0, kV},
      {"resets", FuncId::kResets, {kM}, 0, kV},
      {"round", FuncId::kRound, {kV, kS}, 1, kV},
      {"scalar", FuncId::kScalar, {kV}, 0, kS},
      {"sgn", FuncId::kSgn, {kV}, 0, kV},
      {"sin", FuncId::kSin, {kV}, 0, kV},
      {"sinh", FuncId::kSinh, {kV}, 0, kV},
      {"sort", FuncId::kSort, {kV}, 0, kV},
      {"sort_desc", FuncId::kSortDesc, {kV}, 0, kV},
      {"sqrt", FuncId::kSqrt, {kV}, 0, kV},
      {"stddev_over_time", FuncId::kStddevOverTime, {kM}, 0, kV},
      {"stdvar_over_time", FuncId::kStdvarOverTime, {kM}, 0, kV},
      {"sum_over_time", FuncId::kSumOverTime, {kM}, 0, kV},
      {"tan", FuncId::kTan, {kV}, 0, kV},
      {"tanh", FuncId::kTanh, {kV}, 0, kV},
      {"time", FuncId::kTime, {}, 0, kS},
      {"timestamp", FuncId::kTimestamp, {kV}, 0, kV},
      {"vector", FuncId::kVector, {kS}, 0, kV},
      {"year", FuncId::kYear, {kV}, 1, kV},
  };
  return *kAll;
}

}  // namespace

const Function* FindFunction(std::string_view name) {
  static const auto* const kIndex = [] {
    auto* index = new std::unordered_map<std::string_view, const Function*>();
    for (const Function& f : AllFunctions()) (*index)[f.name] = &f;
    return index;
  }();
  auto it = kIndex->find(name);
  return it == kIndex->end() ? nullptr : it->second;
}

}  // namespace pa::promql
