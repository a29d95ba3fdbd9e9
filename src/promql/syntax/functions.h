// The PromQL function table: names, argument and return types (as in Prometheus 2.42's
// promql/parser/functions.go) and which evaluator family implements each function.
#pragma once

#include <string_view>
#include <vector>

#include "storage/metric_store.h"

namespace pa::promql {

enum class FuncId {
  // Range-vector functions: one value per series and step from the samples in the window.
  kRate,
  kIncrease,
  kDelta,
  kIrate,
  kIdelta,
  kResets,
  kChanges,
  kDeriv,
  kPredictLinear,
  kHoltWinters,
  kAvgOverTime,
  kMinOverTime,
  kMaxOverTime,
  kSumOverTime,
  kCountOverTime,
  kLastOverTime,
  kQuantileOverTime,
  kStddevOverTime,
  kStdvarOverTime,
  kPresentOverTime,
  kAbsentOverTime,
  // Element-wise math on instant vectors.
  kAbs,
  kCeil,
  kFloor,
  kExp,
  kSqrt,
  kLn,
  kLog2,
  kLog10,
  kSin,
  kCos,
  kTan,
  kAsin,
  kAcos,
  kAtan,
  kSinh,
  kCosh,
  kTanh,
  kAsinh,
  kAcosh,
  kAtanh,
  kDeg,
  kRad,
  kSgn,
  kRound,
  kClamp,
  kClampMin,
  kClampMax,
  // Calendar functions (of the sample values, or of the evaluation time without argument).
  kDaysInMonth,
  kDayOfMonth,
  kDayOfWeek,
  kDayOfYear,
  kHour,
  kMinute,
  kMonth,
  kYear,
  // Everything else.
  kAbsent,
  kTime,
  kTimestamp,
  kVector,
  kScalar,
  kPi,
  kSort,
  kSortDesc,
  kLabelReplace,
  kLabelJoin,
  kHistogramQuantile,
  kHistogramCount,
  kHistogramSum,
  kHistogramFraction,
};

struct Function {
  std::string_view name;
  FuncId id;
  std::vector<storage::ValueType> arg_types;
  // 0: exactly arg_types; n > 0: up to n trailing arguments may be left out; -1: the last
  // argument type repeats without limit.
  int variadic;
  storage::ValueType return_type;
};

// nullptr when PromQL has no such function.
const Function* FindFunction(std::string_view name);

}  // namespace pa::promql
