// Function calls: range-vector functions slide a window over each series (here); the others
// work step by step on instant vectors (eval_functions.cc).
#include <algorithm>
#include <cmath>
#include <numbers>
#include <type_traits>
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

// The range-vector argument (a matrix selector or subquery) of a function, if any.
std::optional<size_t> RangeArgument(const Call& c) {
  for (size_t i = 0; i < c.args.size(); ++i) {
    const NodeKind k = Unparen(*c.args[i]).kind;
    if (k == NodeKind::kMatrixSelector || k == NodeKind::kSubquery) return i;
  }
  return std::nullopt;
}

}  // namespace

// Labels absent() reports: those fixed by equality matchers, in matcher order; a name seen
// again, or matched by another operator, is removed (Prometheus's createLabelsForAbsentFunction).
storage::Labels AbsentLabels(const Expr& arg) {
  const Expr& e = Unparen(arg);
  const VectorSelector* vs = nullptr;
  if (e.kind == NodeKind::kVectorSelector) vs = static_cast<const VectorSelector*>(&e);
  if (e.kind == NodeKind::kMatrixSelector)
    vs = static_cast<const MatrixSelector&>(e).selector.get();
  if (vs == nullptr) return {};
  storage::Labels out;
  std::vector<std::string> has;
  for (const auto& m : vs->matchers) {
    if (m.name == storage::kMetricNameLabel) continue;
    std::erase_if(out, [&](const storage::Label& l) { return l.name == m.name; });
    if (m.op == storage::LabelMatcher::Op::kEqual &&
        std::find(has.begin(), has.end(), m.name) == has.end()) {
      if (!m.value.empty()) out.push_back(storage::Label{m.name, m.value});
      has.push_back(m.name);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<Matrix> Evaluator::EvalCall(const Call& c) {
  if (c.func->id == FuncId::kTimestamp) {
    // A selector's points move to the step time, so the sample time is fetched separately.
    const Expr& arg = Unparen(*c.args[0]);
    const bool selector = arg.kind == NodeKind::kVectorSelector;
    Matrix m;
    if (selector) {
      PA_ASSIGN_OR_RETURN(m, EvalVectorSelector(static_cast<const VectorSelector&>(arg), true));
    } else {
      PA_ASSIGN_OR_RETURN(m, Eval(arg));
    }
    const Matrix* inputs[] = {&m};
    auto result = StepLoop(inputs, [&](std::span<const Vector> args, int64_t, Vector* out) {
      for (const Sample& s : args[0]) {
        const double v = selector ? s.v : static_cast<double>(s.t) / 1000;
        out->push_back(Sample{ctx_->pool.DropMetricName(s.labels), v, s.t, 0});
      }
      return Status::Ok();
    });
    Release(m);
    return result;
  }
  if (const std::optional<size_t> i = RangeArgument(c)) return EvalRangeCall(c, *i);
  return EvalInstantCall(c);
}

std::optional<size_t> Evaluator::StreamableRangeArgument(const Call& c) {
  if (c.func->id == FuncId::kTimestamp || c.func->id == FuncId::kAbsentOverTime) {
    return std::nullopt;
  }
  return RangeArgument(c);
}

Result<Matrix> Evaluator::EvalRangeCall(const Call& c, size_t matrix_arg, const SeriesSink* sink) {
  const FuncId id = c.func->id;
  // Scalar arguments have a value at every step.
  std::vector<Matrix> scalars(c.args.size());
  for (size_t i = 0; i < c.args.size(); ++i) {
    if (i == matrix_arg || TypeOf(*c.args[i]) == ValueType::kString) continue;
    PA_ASSIGN_OR_RETURN(scalars[i], Eval(*c.args[i]));
  }
  auto scalar_at = [&](size_t arg, size_t step) {
    const Matrix& m = scalars[arg];
    if (m.empty() || step >= m[0].points.size()) return kNaN;
    return m[0].points[step].v;
  };

  const Expr& marg = Unparen(*c.args[matrix_arg]);
  std::optional<int64_t> at;
  // Prometheus 2.42 evaluates an @-modified range argument of predict_linear (the only range
  // function it treats as "@-unsafe") relative to the evaluation's first step: the window
  // slides with the steps instead of staying at the @ time (over the data selected for the
  // @ time only). Reproduced for fidelity.
  const bool sliding_at = id == FuncId::kPredictLinear;
  int64_t range = 0;
  int64_t offset = 0;
  Matrix result;
  Vector streamed;  // with a sink: the labels of the series sent there
  SlidingQuantile sliding_quantile;
  // One series: its window at every step, and `kernel` (a lambda per function, so that this
  // loop, run for every step of every series, has no dispatch in it) of each window.
  auto slide = [&](LabelsId labels, std::span<const Point> pts, auto&& kernel) -> Status {
    Series out{id == FuncId::kLastOverTime ? labels : ctx_->pool.DropMetricName(labels), {}};
    if (pts.empty()) return Status::Ok();
    // Without @, only steps within range + the samples' span of a sample can have a window.
    const auto steps = static_cast<uint64_t>(NumSteps());
    const uint64_t reach =
        static_cast<uint64_t>(pts.back().t - pts.front().t) + static_cast<uint64_t>(range);
    out.points.reserve(at ? steps : std::min(steps, reach / static_cast<uint64_t>(interval_) + 2));
    // The deadline is checked about every kDeadlineWork samples of windows handled.
    constexpr int64_t kDeadlineWork = 4096;
    int64_t work = 0;
    size_t lo = 0;
    size_t hi = 0;
    size_t step = 0;
    for (int64_t ts = start_; ts <= end_; ts += interval_, ++step) {
      const int64_t maxt = (at ? *at + (sliding_at ? ts - start_ : 0) : ts) - offset;
      const int64_t mint = maxt - range;
      // Steps move forward, so do both ends of the window.
      while (lo < pts.size() && pts[lo].t < mint) ++lo;
      if (hi < lo) hi = lo;
      while (hi < pts.size() && pts[hi].t <= maxt) ++hi;
      work += static_cast<int64_t>(hi - lo) + 1;
      if (work >= kDeadlineWork) {
        work = 0;
        PA_RETURN_IF_ERROR(ctx_->CheckDeadline());
      }
      if (lo == hi) continue;
      const Window w{pts.subspan(lo, hi - lo), ts, mint, maxt, range};
      std::optional<double> v;
      if constexpr (std::is_same_v<decltype(kernel(w, step)), Result<std::optional<double>>>) {
        PA_ASSIGN_OR_RETURN(v, kernel(w, step));
      } else {
        v = kernel(w, step);
      }
      if (v) out.points.push_back(Point{ts, *v});
    }
    if (out.points.empty()) return Status::Ok();
    PA_RETURN_IF_ERROR(ctx_->AddSamples(static_cast<int64_t>(out.points.size())));
    if (sink) {
      (*sink)(out);
      streamed.push_back(Sample{out.labels, 0, 0, 0});
    } else {
      result.push_back(std::move(out));
    }
    return Status::Ok();
  };
  auto process = [&](LabelsId labels, std::span<const Point> pts) -> Status {
    PA_RETURN_IF_ERROR(ctx_->CheckDeadline());
    using Opt = std::optional<double>;
    switch (id) {
      case FuncId::kRate:
        return slide(labels, pts,
                     [](const Window& w, size_t) { return ExtrapolatedRate(w, true, true); });
      case FuncId::kIncrease:
        return slide(labels, pts,
                     [](const Window& w, size_t) { return ExtrapolatedRate(w, true, false); });
      case FuncId::kDelta:
        return slide(labels, pts,
                     [](const Window& w, size_t) { return ExtrapolatedRate(w, false, false); });
      case FuncId::kIrate:
        return slide(labels, pts, [](const Window& w, size_t) { return InstantValue(w, true); });
      case FuncId::kIdelta:
        return slide(labels, pts, [](const Window& w, size_t) { return InstantValue(w, false); });
      case FuncId::kResets:
        return slide(labels, pts, [](const Window& w, size_t) { return Opt(Resets(w)); });
      case FuncId::kChanges:
        return slide(labels, pts, [](const Window& w, size_t) { return Opt(Changes(w)); });
      case FuncId::kDeriv:
        return slide(labels, pts, [](const Window& w, size_t) { return Deriv(w); });
      case FuncId::kPredictLinear:
        return slide(labels, pts, [&](const Window& w, size_t step) {
          return PredictLinear(w, scalar_at(1, step));
        });
      case FuncId::kHoltWinters:
        return slide(labels, pts, [&](const Window& w, size_t step) {
          return HoltWinters(w, scalar_at(1, step), scalar_at(2, step));
        });
      case FuncId::kAvgOverTime:
        return slide(labels, pts, [](const Window& w, size_t) { return Opt(AvgOverTime(w)); });
      case FuncId::kSumOverTime:
        return slide(labels, pts, [](const Window& w, size_t) { return Opt(SumOverTime(w)); });
      case FuncId::kMinOverTime:
        return slide(labels, pts, [](const Window& w, size_t) { return Opt(MinOverTime(w)); });
      case FuncId::kMaxOverTime:
        return slide(labels, pts, [](const Window& w, size_t) { return Opt(MaxOverTime(w)); });
      case FuncId::kCountOverTime:
        return slide(labels, pts, [](const Window& w, size_t) {
          return Opt(static_cast<double>(w.points.size()));
        });
      case FuncId::kLastOverTime:
        return slide(labels, pts, [](const Window& w, size_t) { return Opt(w.points.back().v); });
      case FuncId::kQuantileOverTime:
        sliding_quantile.Reset();
        return slide(labels, pts, [&](const Window& w, size_t step) {
          return Opt(sliding_quantile.Quantile(scalar_at(0, step), w.points));
        });
      case FuncId::kStddevOverTime:
        return slide(labels, pts,
                     [](const Window& w, size_t) { return Opt(std::sqrt(StdvarOverTime(w))); });
      case FuncId::kStdvarOverTime:
        return slide(labels, pts, [](const Window& w, size_t) { return Opt(StdvarOverTime(w)); });
      case FuncId::kPresentOverTime:
      case FuncId::kAbsentOverTime:
        return slide(labels, pts, [](const Window&, size_t) { return Opt(1); });
      default:
        return InternalError(fmt::format("{} is not a range-vector function", c.func->name));
    }
  };

  Status status;
  if (marg.kind == NodeKind::kMatrixSelector) {
    const auto& ms = static_cast<const MatrixSelector&>(marg);
    at = ctx_->ResolveAt(ms.selector->at);
    range = ms.range_ms;
    offset = ms.selector->offset_ms;
    // With @, only [at - offset - range, at - offset] is selected, even when the window slides.
    const int64_t mint = (at ? *at : start_) - offset - range;
    const int64_t maxt = (at ? *at : end_) - offset;
    status = ForEachSelected(
        *ms.selector, mint, maxt, /*drop_stale=*/true,
        [&](LabelsId labels, std::vector<Point>* samples) { return process(labels, *samples); });
  } else {
    const auto& sq = static_cast<const Subquery&>(marg);
    at = ctx_->ResolveAt(sq.at);
    range = sq.range_ms;
    offset = sq.offset_ms;
    if (sliding_at && at && start_ != end_) {
      // Prometheus would slide the subquery's own steps too while its selectors keep the data
      // of the fixed @ time; that mix is not reproduced.
      return UnimplementedError(
          "predict_linear() of a subquery with the @ modifier is not supported in range "
          "queries or inside subqueries");
    }
    auto source = EvalSubquery(sq);
    status = source.status();
    if (source.ok()) {
      for (const Series& s : *source) {
        status = process(s.labels, s.points);
        if (!status.ok()) break;
      }
      Release(*source);
    }
  }
  for (Matrix& m : scalars) Release(m);
  PA_RETURN_IF_ERROR(status);

  if (id == FuncId::kAbsentOverTime) {
    // One series with a 1 at every step where no input series had a sample.
    const int64_t steps = NumSteps();
    std::vector<int64_t> found;
    for (const Series& s : result) {
      if (static_cast<int64_t>(s.points.size()) == steps) {
        Release(result);
        return Matrix{};
      }
      for (const Point& p : s.points) found.push_back(p.t);
    }
    std::sort(found.begin(), found.end());
    Series absent{ctx_->pool.Intern(AbsentLabels(*c.args[0])), {}};
    for (int64_t ts = start_; ts <= end_; ts += interval_) {
      if (!std::binary_search(found.begin(), found.end(), ts)) absent.points.push_back({ts, 1});
    }
    Release(result);
    Matrix m;
    if (!absent.points.empty()) {
      PA_RETURN_IF_ERROR(ctx_->AddSamples(static_cast<int64_t>(absent.points.size())));
      m.push_back(std::move(absent));
    }
    return m;
  }
  PA_RETURN_IF_ERROR(sink ? CheckUniqueLabels(streamed) : CheckUniqueLabels(result));
  return result;
}

}  // namespace pa::promql
