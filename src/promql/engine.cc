#include "promql/engine.h"

#include <algorithm>
#include <limits>

#include "fmt/format.h"
#include "promql/eval/evaluator.h"
#include "promql/syntax/functions.h"
#include "promql/syntax/parser.h"

namespace pa::promql {
namespace {

// sort() and sort_desc() order an instant query's result; everything else is returned in label
// order (Prometheus leaves that order undefined).
bool KeepsOrder(const Expr& e) {
  const Expr& u = Unparen(e);
  if (u.kind != NodeKind::kCall) return false;
  const FuncId id = static_cast<const Call&>(u).func->id;
  return id == FuncId::kSort || id == FuncId::kSortDesc;
}

void SortByLabels(std::vector<storage::SeriesPoints>* series) {
  std::sort(series->begin(), series->end(),
            [](const storage::SeriesPoints& a, const storage::SeriesPoints& b) {
              return a.labels < b.labels;
            });
}

// Timestamps beyond ±2^62 ms (146 million years) would let step arithmetic overflow.
constexpr int64_t kMaxAbsTime = int64_t{1} << 62;

Status CheckTime(int64_t t, std::string_view what) {
  if (t > kMaxAbsTime || t < -kMaxAbsTime) {
    return InvalidArgumentError(fmt::format("{} {} ms is out of range", what, t));
  }
  return Status::Ok();
}

}  // namespace

Engine::Engine(EngineOptions options) : options_(options) {
  // As Prometheus: a zero lookback means the default; a subquery step must be positive.
  if (options_.lookback_delta.count() <= 0) options_.lookback_delta = std::chrono::minutes(5);
  if (options_.default_subquery_step.count() <= 0) {
    options_.default_subquery_step = std::chrono::minutes(1);
  }
}

Result<storage::QueryValue> Engine::Instant(storage::Querier& querier, std::string_view query,
                                            int64_t time,
                                            const storage::QueryLimits& limits) const {
  PA_RETURN_IF_ERROR(CheckTime(time, "evaluation time"));
  PA_ASSIGN_OR_RETURN(ExprPtr expr, ParseExpr(query));
  storage::QueryValue out;
  const ValueType type = TypeOf(*expr);
  out.type = type;
  if (type == ValueType::kString) {
    out.string_value = static_cast<const StringLiteral&>(Unparen(*expr)).value;
    out.scalar.t = time;
    return out;
  }
  QueryContext ctx(querier, limits, options_, time, time);
  Evaluator ev(&ctx, time, time, 1);
  PA_ASSIGN_OR_RETURN(Matrix m, ev.Eval(*expr));
  switch (type) {
    case ValueType::kScalar:
      out.scalar = storage::Sample{time, m.empty() || m[0].points.empty()
                                             ? std::numeric_limits<double>::quiet_NaN()
                                             : m[0].points[0].v};
      return out;
    case ValueType::kVector:
      out.series.reserve(m.size());
      for (const Series& s : m) {
        if (s.points.empty()) continue;
        out.series.push_back(
            storage::SeriesPoints{ctx.pool.Get(s.labels), {storage::Sample{time, s.points[0].v}}});
      }
      if (!KeepsOrder(*expr)) SortByLabels(&out.series);
      return out;
    default:
      out.series.reserve(m.size());
      for (Series& s : m) {
        if (s.points.empty()) continue;
        out.series.push_back(storage::SeriesPoints{ctx.pool.Get(s.labels), std::move(s.points)});
      }
      SortByLabels(&out.series);
      return out;
  }
}

Result<storage::QueryValue> Engine::Range(storage::Querier& querier, std::string_view query,
                                          int64_t start, int64_t end, int64_t step,
                                          const storage::QueryLimits& limits) const {
  if (step <= 0) {
    return InvalidArgumentError(
        "zero or negative query resolution step widths are not accepted. Try a positive "
        "integer");
  }
  if (end < start) return InvalidArgumentError("end timestamp must not be before start time");
  PA_RETURN_IF_ERROR(CheckTime(start, "start time"));
  PA_RETURN_IF_ERROR(CheckTime(end, "end time"));
  PA_RETURN_IF_ERROR(CheckTime(step, "step"));
  PA_ASSIGN_OR_RETURN(ExprPtr expr, ParseExpr(query));
  const ValueType type = TypeOf(*expr);
  if (type != ValueType::kScalar && type != ValueType::kVector) {
    return InvalidArgumentError(fmt::format(
        "invalid expression type \"{}\" for range query, must be Scalar or instant Vector",
        DocumentedType(type)));
  }
  QueryContext ctx(querier, limits, options_, start, end);
  Evaluator ev(&ctx, start, end, step);
  PA_ASSIGN_OR_RETURN(Matrix m, ev.Eval(*expr));
  storage::QueryValue out;
  out.type = ValueType::kMatrix;
  out.series.reserve(m.size());
  for (Series& s : m) {
    if (s.points.empty()) continue;
    out.series.push_back(storage::SeriesPoints{ctx.pool.Get(s.labels), std::move(s.points)});
  }
  SortByLabels(&out.series);
  return out;
}

Status Engine::Check(std::string_view query) const { return ParseExpr(query).status(); }

}  // namespace pa::promql
