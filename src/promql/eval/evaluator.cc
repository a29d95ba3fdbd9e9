#include "promql/eval/evaluator.h"

#include <algorithm>

#include "fmt/format.h"

namespace pa::promql {

QueryContext::QueryContext(storage::Querier& q, const storage::QueryLimits& l,
                           const EngineOptions& o, int64_t start, int64_t end)
    : querier(q),
      limits(l),
      lookback_ms(o.lookback_delta.count()),
      default_subquery_step_ms(o.default_subquery_step.count()),
      query_start_ms(start),
      query_end_ms(end),
      deadline_(std::chrono::steady_clock::now() + l.timeout) {}

Status QueryContext::AddSamples(int64_t n) {
  samples_ += n;
  if (samples_ > limits.max_samples) {
    return ResourceExhaustedError(fmt::format(
        "query processing would load too many samples into memory (limit max_samples={})",
        limits.max_samples));
  }
  return Status::Ok();
}

Status QueryContext::AddSeries(int64_t n) {
  series_ += n;
  if (series_ > limits.max_series) {
    return ResourceExhaustedError(fmt::format(
        "query selects more series than allowed (limit max_series={})", limits.max_series));
  }
  return Status::Ok();
}

Status QueryContext::CheckDeadline() {
  // The first call reads the clock, so an exhausted budget fails before any work.
  if (deadline_calls_++ % 64 != 0) return Status::Ok();
  if (std::chrono::steady_clock::now() >= deadline_) {
    return DeadlineExceededError(fmt::format(
        "query timed out in expression evaluation (timeout {} ms)", limits.timeout.count()));
  }
  return Status::Ok();
}

std::optional<int64_t> QueryContext::ResolveAt(const AtModifier& at) const {
  switch (at.kind) {
    case AtModifier::Kind::kNone:
      return std::nullopt;
    case AtModifier::Kind::kTimestamp:
      return at.timestamp_ms;
    case AtModifier::Kind::kStart:
      return query_start_ms;
    case AtModifier::Kind::kEnd:
      return query_end_ms;
  }
  return std::nullopt;
}

Evaluator::Evaluator(QueryContext* ctx, int64_t start, int64_t end, int64_t interval)
    : ctx_(ctx), start_(start), end_(end), interval_(interval) {}

void Evaluator::Release(const Matrix& m) {
  int64_t n = 0;
  for (const auto& s : m) n += static_cast<int64_t>(s.points.size());
  ctx_->ReleaseSamples(n);
}

Result<Matrix> Evaluator::Eval(const Expr& e) {
  PA_RETURN_IF_ERROR(ctx_->CheckDeadline());
  switch (e.kind) {
    case NodeKind::kNumber:
      return EvalNumber(static_cast<const NumberLiteral&>(e).value);
    case NodeKind::kString:
      return InternalError("string literals are not evaluated as vectors");
    case NodeKind::kVectorSelector:
      return EvalVectorSelector(static_cast<const VectorSelector&>(e), false);
    case NodeKind::kMatrixSelector:
      return EvalMatrixSelector(static_cast<const MatrixSelector&>(e));
    case NodeKind::kSubquery:
      return EvalSubquery(static_cast<const Subquery&>(e));
    case NodeKind::kParen:
      return Eval(*static_cast<const ParenExpr&>(e).expr);
    case NodeKind::kUnary:
      return EvalUnary(static_cast<const UnaryExpr&>(e));
    case NodeKind::kBinary:
      return EvalBinary(static_cast<const BinaryExpr&>(e));
    case NodeKind::kAggregate:
      return EvalAggregate(static_cast<const AggregateExpr&>(e));
    case NodeKind::kCall:
      return EvalCall(static_cast<const Call&>(e));
  }
  return InternalError("unknown expression node");
}

Status Evaluator::CheckUniqueLabels(const Vector& v) {
  if (v.size() < 2) return Status::Ok();
  if (++stamp_ == 0) {
    std::fill(seen_.begin(), seen_.end(), 0);
    stamp_ = 1;
  }
  if (seen_.size() < ctx_->pool.size()) seen_.resize(ctx_->pool.size(), 0);
  for (const Sample& s : v) {
    if (seen_[s.labels] == stamp_) {
      return InvalidArgumentError("vector cannot contain metrics with the same labelset");
    }
    seen_[s.labels] = stamp_;
  }
  return Status::Ok();
}

Status Evaluator::CheckUniqueLabels(const Matrix& m) {
  Vector v;
  v.reserve(m.size());
  for (const Series& s : m) v.push_back(Sample{s.labels, 0, 0, 0});
  return CheckUniqueLabels(v);
}

Result<Matrix> Evaluator::StepLoop(std::span<const Matrix* const> inputs, const StepFn& fn) {
  const size_t n = inputs.size();
  std::vector<std::vector<size_t>> cursors(n);
  std::vector<Vector> args(n);
  for (size_t i = 0; i < n; ++i) {
    if (inputs[i] != nullptr) {
      cursors[i].assign(inputs[i]->size(), 0);
      args[i].reserve(inputs[i]->size());
    }
  }
  Matrix result;
  std::vector<int32_t> slot;  // label id -> index in result
  Vector out;
  const bool instant = start_ == end_;
  for (int64_t ts = start_; ts <= end_; ts += interval_) {
    PA_RETURN_IF_ERROR(ctx_->CheckDeadline());
    for (size_t i = 0; i < n; ++i) {
      args[i].clear();
      if (inputs[i] == nullptr) continue;
      const Matrix& m = *inputs[i];
      for (size_t si = 0; si < m.size(); ++si) {
        size_t& c = cursors[i][si];
        const auto& pts = m[si].points;
        if (c < pts.size() && pts[c].t == ts) {
          args[i].push_back(Sample{m[si].labels, pts[c].v, ts, static_cast<uint32_t>(si)});
          ++c;
        }
      }
    }
    out.clear();
    PA_RETURN_IF_ERROR(fn(args, ts, &out));
    PA_RETURN_IF_ERROR(CheckUniqueLabels(out));
    PA_RETURN_IF_ERROR(ctx_->AddSamples(static_cast<int64_t>(out.size())));
    if (instant) {
      result.reserve(out.size());
      for (const Sample& s : out) result.push_back(Series{s.labels, {Point{ts, s.v}}});
      return result;
    }
    for (const Sample& s : out) {
      if (slot.size() <= s.labels) slot.resize(ctx_->pool.size(), -1);
      int32_t& idx = slot[s.labels];
      if (idx < 0) {
        idx = static_cast<int32_t>(result.size());
        result.push_back(Series{s.labels, {}});
        result.back().points.reserve(static_cast<size_t>(std::min<int64_t>(NumSteps(), 1024)));
      }
      result[static_cast<size_t>(idx)].points.push_back(Point{ts, s.v});
    }
  }
  return result;
}

Status Evaluator::ForEachSelected(const VectorSelector& vs, int64_t mint, int64_t maxt,
                                  bool drop_stale, const SeriesFn& fn) {
  PA_ASSIGN_OR_RETURN(std::unique_ptr<storage::SeriesSet> set,
                      ctx_->querier.Select(vs.matchers, mint, maxt));
  std::vector<Point> samples;
  while (set->Next()) {
    PA_RETURN_IF_ERROR(ctx_->AddSeries(1));
    PA_RETURN_IF_ERROR(ctx_->CheckDeadline());
    const LabelsId labels = ctx_->pool.Intern(set->labels());
    samples.clear();
    PA_RETURN_IF_ERROR(set->ReadSamples(&samples));
    std::erase_if(samples, [&](const Point& p) {
      return p.t < mint || p.t > maxt || (drop_stale && storage::IsStaleNaN(p.v));
    });
    const auto held = static_cast<int64_t>(samples.size());
    PA_RETURN_IF_ERROR(ctx_->AddSamples(held));
    const Status s = fn(labels, &samples);
    ctx_->ReleaseSamples(held);
    PA_RETURN_IF_ERROR(s);
  }
  return set->status();
}

Result<Matrix> Evaluator::EvalVectorSelector(const VectorSelector& vs, bool value_is_timestamp) {
  const std::optional<int64_t> at = ctx_->ResolveAt(vs.at);
  const int64_t lookback = ctx_->lookback_ms;
  const int64_t mint = (at ? *at : start_) - vs.offset_ms - lookback;
  const int64_t maxt = (at ? *at : end_) - vs.offset_ms;
  Matrix out;
  PA_RETURN_IF_ERROR(ForEachSelected(
      vs, mint, maxt, /*drop_stale=*/false, [&](LabelsId labels, std::vector<Point>* samples) {
        Series series{labels, {}};
        const std::vector<Point>& smp = *samples;
        size_t j = 0;  // samples before j are at or before the reference time
        for (int64_t ts = start_; ts <= end_; ts += interval_) {
          const int64_t ref = (at ? *at : ts) - vs.offset_ms;
          while (j < smp.size() && smp[j].t <= ref) ++j;
          if (j == 0) continue;
          const Point& p = smp[j - 1];
          if (p.t < ref - lookback || storage::IsStaleNaN(p.v)) continue;
          series.points.push_back(
              Point{ts, value_is_timestamp ? static_cast<double>(p.t) / 1000 : p.v});
        }
        if (series.points.empty()) return Status::Ok();
        PA_RETURN_IF_ERROR(ctx_->AddSamples(static_cast<int64_t>(series.points.size())));
        out.push_back(std::move(series));
        return Status::Ok();
      }));
  return out;
}

Result<Matrix> Evaluator::EvalMatrixSelector(const MatrixSelector& ms) {
  const VectorSelector& vs = *ms.selector;
  const std::optional<int64_t> at = ctx_->ResolveAt(vs.at);
  const int64_t maxt = (at ? *at : start_) - vs.offset_ms;
  const int64_t mint = maxt - ms.range_ms;
  Matrix out;
  PA_RETURN_IF_ERROR(ForEachSelected(
      vs, mint, maxt, /*drop_stale=*/true, [&](LabelsId labels, std::vector<Point>* samples) {
        if (samples->empty()) return Status::Ok();
        PA_RETURN_IF_ERROR(ctx_->AddSamples(static_cast<int64_t>(samples->size())));
        out.push_back(Series{labels, std::move(*samples)});
        samples->clear();
        return Status::Ok();
      }));
  return out;
}

Result<Matrix> Evaluator::EvalSubquery(const Subquery& sq) {
  const std::optional<int64_t> at = ctx_->ResolveAt(sq.at);
  const int64_t step = sq.step_ms > 0 ? sq.step_ms : ctx_->default_subquery_step_ms;
  const int64_t from = (at ? *at : start_) - sq.offset_ms - sq.range_ms;
  // The first multiple of the step (counted from the Unix epoch) at or after `from`.
  int64_t inner_start = step * (from / step);
  if (inner_start < from) inner_start += step;
  const int64_t inner_end = (at ? *at : end_) - sq.offset_ms;
  Evaluator inner(ctx_, inner_start, inner_end, step);
  return inner.Eval(*sq.expr);
}

Result<Matrix> Evaluator::EvalUnary(const UnaryExpr& u) {
  PA_ASSIGN_OR_RETURN(Matrix m, Eval(*u.expr));
  if (!u.negate) return m;
  for (Series& s : m) {
    s.labels = ctx_->pool.DropMetricName(s.labels);
    for (Point& p : s.points) p.v = -p.v;
  }
  PA_RETURN_IF_ERROR(CheckUniqueLabels(m));
  return m;
}

Result<Matrix> Evaluator::EvalNumber(double v) {
  return StepLoop({}, [v](std::span<const Vector>, int64_t ts, Vector* out) {
    out->push_back(Sample{LabelPool::kEmpty, v, ts, 0});
    return Status::Ok();
  });
}

}  // namespace pa::promql
