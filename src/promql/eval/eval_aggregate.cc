// Aggregation operators, step by step, with Prometheus 2.42's arithmetic: incremental mean for
// avg, Welford for stddev/stdvar, plain summation for sum, and Go's container/heap for
// topk/bottomk so that ties keep the same members.
#include <algorithm>
#include <cassert>
#include <cmath>
#include <unordered_map>

#include "fmt/format.h"
#include "promql/eval/evaluator.h"
#include "promql/eval/math.h"
#include "promql/syntax/go_compat.h"

namespace pa::promql {
namespace {

// Go's container/heap over a slice with a Less function.
template <typename Less>
class GoHeap {
 public:
  explicit GoHeap(Less less) : less_(less) {}
  std::vector<Sample> items;

  void Push(const Sample& s) {
    items.push_back(s);
    Up(items.size() - 1);
  }
  void Pop() {
    const size_t n = items.size() - 1;
    std::swap(items[0], items[n]);
    Down(0, n);
    items.pop_back();
  }

 private:
  bool LessAt(size_t i, size_t j) const { return less_(items[i].v, items[j].v); }
  void Up(size_t j) {
    while (j > 0) {
      const size_t i = (j - 1) / 2;
      if (!LessAt(j, i)) break;
      std::swap(items[i], items[j]);
      j = i;
    }
  }
  void Down(size_t i, size_t n) {
    while (true) {
      const size_t j1 = 2 * i + 1;
      if (j1 >= n) break;
      size_t j = j1;
      if (j1 + 1 < n && LessAt(j1 + 1, j1)) j = j1 + 1;
      if (!LessAt(j, i)) break;
      std::swap(items[i], items[j]);
      i = j;
    }
  }
  Less less_;
};

// vectorByValueHeap / vectorByReverseValueHeap: NaN counts as smallest (resp. largest).
bool TopkLess(double a, double b) { return std::isnan(a) || a < b; }
bool BottomkLess(double a, double b) { return std::isnan(a) || a > b; }

struct Group {
  LabelsId labels;
  double value;
  double mean;
  int64_t count;
  std::vector<Sample> heap;  // topk, bottomk, quantile
};

// The operators whose groups hold one value per step, aggregated by SeriesAggregator.
bool IsSeriesWise(AggregateOp op) {
  switch (op) {
    case AggregateOp::kSum:
    case AggregateOp::kAvg:
    case AggregateOp::kCount:
    case AggregateOp::kMin:
    case AggregateOp::kMax:
    case AggregateOp::kGroup:
    case AggregateOp::kStddev:
    case AggregateOp::kStdvar:
      return true;
    default:
      return false;
  }
}

// sum, avg, count, min, max, group, stddev and stdvar taken series by series rather than step by
// step: no per-step vectors, hash maps or group lists, and the input need not be held at once
// (see EvalAggregate). Each (group, step) cell still receives its inputs in the order the
// step-by-step evaluation hands them over — input series order — and runs the same arithmetic,
// so results are the same to the bit; Finish orders the groups as that evaluation creates them.
class SeriesAggregator {
 public:
  SeriesAggregator(AggregateOp op, int64_t start, int64_t interval, int64_t steps)
      : op_(op), start_(start), interval_(interval), steps_(static_cast<size_t>(steps)) {}

  // The next input series (at step times, ascending), belonging to the group labelled `group`.
  void Add(LabelsId group, std::span<const Point> points) {
    const size_t series = series_++;
    if (points.empty()) return;
    points_ += static_cast<int64_t>(points.size());
    auto [it, inserted] = index_.try_emplace(group, groups_.size());
    if (inserted) groups_.push_back(GroupCells{group, SIZE_MAX, 0, std::vector<Cell>(steps_)});
    GroupCells& g = groups_[it->second];
    size_t step = 0;
    int64_t ts = start_;
    auto next_step = [&](const Point& p) {
      while (ts < p.t) {
        ts += interval_;
        ++step;
      }
      assert(ts == p.t && step < steps_);
      return step;
    };
    if (next_step(points.front()) < g.first_step) {
      // The step-by-step evaluation meets this group first at that step, through this series.
      g.first_step = step;
      g.first_series = series;
    }
    Cell* cells = g.cells.data();
    for (const Point& p : points) {
      Cell& c = cells[next_step(p)];
      if (c.count == 0) {
        c = Cell{p.v, p.v, 1};
        if (op_ == AggregateOp::kStddev || op_ == AggregateOp::kStdvar) c.value = 0;
        if (op_ == AggregateOp::kGroup) c.value = 1;
        continue;
      }
      Update(c, p.v);
    }
  }

  // Samples passed to Add.
  int64_t points() const { return points_; }

  Matrix Finish() {
    std::vector<const GroupCells*> order;
    order.reserve(groups_.size());
    for (const GroupCells& g : groups_) order.push_back(&g);
    std::sort(order.begin(), order.end(), [](const GroupCells* a, const GroupCells* b) {
      return a->first_step != b->first_step ? a->first_step < b->first_step
                                            : a->first_series < b->first_series;
    });
    Matrix out;
    out.reserve(order.size());
    for (const GroupCells* g : order) {
      Series series{g->labels, {}};
      for (size_t step = 0; step < steps_; ++step) {
        const Cell& c = g->cells[step];
        if (c.count == 0) continue;
        series.points.push_back(Point{start_ + static_cast<int64_t>(step) * interval_, Result(c)});
      }
      out.push_back(std::move(series));
    }
    return out;
  }

 private:
  struct Cell {
    double value;
    double mean;
    int64_t count;  // 0: no input yet
  };
  struct GroupCells {
    LabelsId labels;
    size_t first_step;        // the first step with an input, and
    size_t first_series;      // the first series with an input at that step
    std::vector<Cell> cells;  // per step
  };

  // As the step-by-step evaluation folds a further input into its group.
  void Update(Cell& c, double v) const {
    switch (op_) {
      case AggregateOp::kSum:
        c.value += v;
        break;
      case AggregateOp::kAvg:
        c.count++;
        if (std::isinf(c.mean)) {
          if (std::isinf(v) && (c.mean > 0) == (v > 0)) break;
          if (!std::isinf(v) && !std::isnan(v)) break;
        }
        c.mean += v / static_cast<double>(c.count) - c.mean / static_cast<double>(c.count);
        break;
      case AggregateOp::kMax:
        if (c.value < v || std::isnan(c.value)) c.value = v;
        break;
      case AggregateOp::kMin:
        if (c.value > v || std::isnan(c.value)) c.value = v;
        break;
      case AggregateOp::kCount:
        c.count++;
        break;
      case AggregateOp::kStddev:
      case AggregateOp::kStdvar: {
        c.count++;
        const double delta = v - c.mean;
        c.mean += delta / static_cast<double>(c.count);
        c.value += delta * (v - c.mean);
        break;
      }
      default:  // kGroup
        break;
    }
  }

  double Result(const Cell& c) const {
    switch (op_) {
      case AggregateOp::kAvg:
        return c.mean;
      case AggregateOp::kCount:
        return static_cast<double>(c.count);
      case AggregateOp::kStdvar:
        return c.value / static_cast<double>(c.count);
      case AggregateOp::kStddev:
        return std::sqrt(c.value / static_cast<double>(c.count));
      default:
        return c.value;
    }
  }

  const AggregateOp op_;
  const int64_t start_;
  const int64_t interval_;
  const size_t steps_;
  size_t series_ = 0;
  int64_t points_ = 0;
  std::vector<GroupCells> groups_;
  std::unordered_map<LabelsId, size_t> index_;  // group labels -> groups_
};

}  // namespace

Result<Matrix> Evaluator::EvalAggregate(const AggregateExpr& a) {
  LabelPool& pool = ctx_->pool;
  const AggregateOp op = a.op;
  Matrix param;
  const Matrix* param_input = nullptr;
  std::string value_label;
  if (op == AggregateOp::kCountValues) {
    value_label = static_cast<const StringLiteral&>(Unparen(*a.param)).value;
  } else if (a.param) {
    PA_ASSIGN_OR_RETURN(param, Eval(*a.param));
    param_input = &param;
  }
  if (IsSeriesWise(op)) return EvalSeriesWiseAggregate(a);
  PA_ASSIGN_OR_RETURN(Matrix input, Eval(*a.expr));

  std::vector<std::string> grouping = a.grouping;
  if (op == AggregateOp::kCountValues && !a.without) {
    grouping.push_back(value_label);
    std::sort(grouping.begin(), grouping.end());
  }
  auto in_grouping = [&grouping](const std::string& name) {
    return std::binary_search(grouping.begin(), grouping.end(), name);
  };
  // The output labels of the group a label set belongs to.
  std::unordered_map<LabelsId, LabelsId> group_cache;
  auto group_of = [&](LabelsId id) {
    auto [it, inserted] = group_cache.try_emplace(id, LabelPool::kEmpty);
    if (inserted) {
      storage::Labels out;
      for (const auto& l : pool.Get(id)) {
        const bool listed = in_grouping(l.name);
        if (a.without ? (!listed && l.name != storage::kMetricNameLabel) : listed) {
          out.push_back(l);
        }
      }
      it->second = pool.Intern(out);
    }
    return it->second;
  };
  // count_values: the input labels plus the value label.
  std::unordered_map<LabelsId, std::unordered_map<double, LabelsId>> with_value_cache;
  auto with_value = [&](LabelsId id, double v) {
    auto& per_value = with_value_cache[id];
    auto it = per_value.find(v);
    if (it != per_value.end() && !std::isnan(v)) return it->second;
    storage::Labels l = pool.Get(id);
    std::erase_if(l, [&](const storage::Label& x) { return x.name == value_label; });
    l.push_back(storage::Label{value_label, FormatGoFloat(v)});
    std::sort(l.begin(), l.end());
    const LabelsId out = pool.Intern(l);
    if (!std::isnan(v)) per_value[v] = out;
    return out;
  };

  auto fn = [&](std::span<const Vector> args, int64_t ts, Vector* out) -> Status {
    const Vector& vec = args[1];
    int64_t k = 0;
    double q = 0;
    if (op == AggregateOp::kTopk || op == AggregateOp::kBottomk) {
      const double f = args[0][0].v;
      if (!(f <= 9223372036854774784.0 && f >= -9223372036854775808.0)) {
        return InvalidArgumentError(
            fmt::format("Scalar value {} overflows int64", FormatGoFloat(f)));
      }
      k = static_cast<int64_t>(f);
      if (k < 1) return Status::Ok();
    }
    if (op == AggregateOp::kQuantile) q = args[0][0].v;
    if (op == AggregateOp::kCountValues && !IsValidLabelName(value_label)) {
      return InvalidArgumentError(fmt::format("invalid label name \"{}\"", value_label));
    }
    std::vector<Group> groups;
    std::unordered_map<LabelsId, size_t> index;
    for (const Sample& s : vec) {
      const LabelsId key = op == AggregateOp::kCountValues ? group_of(with_value(s.labels, s.v))
                                                           : group_of(s.labels);
      auto [it, inserted] = index.try_emplace(key, groups.size());
      if (inserted) {
        Group g{key, s.v, s.v, 1, {}};
        switch (op) {
          case AggregateOp::kStddev:
          case AggregateOp::kStdvar:
            g.value = 0;
            break;
          case AggregateOp::kTopk:
          case AggregateOp::kBottomk:
          case AggregateOp::kQuantile:
            g.heap.push_back(s);
            break;
          case AggregateOp::kGroup:
            g.value = 1;
            break;
          default:
            break;
        }
        groups.push_back(std::move(g));
        continue;
      }
      Group& g = groups[it->second];
      switch (op) {
        case AggregateOp::kSum:
          g.value += s.v;
          break;
        case AggregateOp::kAvg:
          g.count++;
          if (std::isinf(g.mean)) {
            if (std::isinf(s.v) && (g.mean > 0) == (s.v > 0)) break;
            if (!std::isinf(s.v) && !std::isnan(s.v)) break;
          }
          g.mean += s.v / static_cast<double>(g.count) - g.mean / static_cast<double>(g.count);
          break;
        case AggregateOp::kGroup:
          break;
        case AggregateOp::kMax:
          if (g.value < s.v || std::isnan(g.value)) g.value = s.v;
          break;
        case AggregateOp::kMin:
          if (g.value > s.v || std::isnan(g.value)) g.value = s.v;
          break;
        case AggregateOp::kCount:
        case AggregateOp::kCountValues:
          g.count++;
          break;
        case AggregateOp::kStddev:
        case AggregateOp::kStdvar: {
          g.count++;
          const double delta = s.v - g.mean;
          g.mean += delta / static_cast<double>(g.count);
          g.value += delta * (s.v - g.mean);
          break;
        }
        case AggregateOp::kTopk:
        case AggregateOp::kBottomk: {
          const bool top = op == AggregateOp::kTopk;
          const double head = g.heap[0].v;
          const bool better = top ? head < s.v : head > s.v;
          if (static_cast<int64_t>(g.heap.size()) < k || better || std::isnan(head)) {
            auto update = [&](auto less) {
              GoHeap<decltype(less)> h(less);
              h.items = std::move(g.heap);
              if (static_cast<int64_t>(h.items.size()) == k) {
                if (k == 1) {
                  h.items[0] = s;
                  g.heap = std::move(h.items);
                  return;
                }
                h.Pop();
              }
              h.Push(s);
              g.heap = std::move(h.items);
            };
            if (top) {
              update(TopkLess);
            } else {
              update(BottomkLess);
            }
          }
          break;
        }
        case AggregateOp::kQuantile:
          g.heap.push_back(s);
          break;
      }
    }
    for (Group& g : groups) {
      double v = g.value;
      switch (op) {
        case AggregateOp::kAvg:
          v = g.mean;
          break;
        case AggregateOp::kCount:
        case AggregateOp::kCountValues:
          v = static_cast<double>(g.count);
          break;
        case AggregateOp::kStdvar:
          v = g.value / static_cast<double>(g.count);
          break;
        case AggregateOp::kStddev:
          v = std::sqrt(g.value / static_cast<double>(g.count));
          break;
        case AggregateOp::kTopk:
        case AggregateOp::kBottomk: {
          const bool top = op == AggregateOp::kTopk;
          std::stable_sort(g.heap.begin(), g.heap.end(), [top](const Sample& x, const Sample& y) {
            return top ? TopkLess(y.v, x.v) && !TopkLess(x.v, y.v)
                       : BottomkLess(y.v, x.v) && !BottomkLess(x.v, y.v);
          });
          for (const Sample& s : g.heap) out->push_back(Sample{s.labels, s.v, ts, 0});
          continue;
        }
        case AggregateOp::kQuantile: {
          std::vector<double> values;
          values.reserve(g.heap.size());
          for (const Sample& s : g.heap) values.push_back(s.v);
          v = Quantile(q, &values);
          break;
        }
        default:
          break;
      }
      out->push_back(Sample{g.labels, v, ts, 0});
    }
    return Status::Ok();
  };
  const Matrix* inputs[] = {param_input, &input};
  auto result = StepLoop(inputs, fn);
  Release(param);
  Release(input);
  return result;
}

Result<Matrix> Evaluator::EvalSeriesWiseAggregate(const AggregateExpr& a) {
  LabelPool& pool = ctx_->pool;
  std::unordered_map<LabelsId, LabelsId> group_cache;
  auto group_of = [&](LabelsId id) {
    auto [it, inserted] = group_cache.try_emplace(id, LabelPool::kEmpty);
    if (inserted) {
      storage::Labels out;
      for (const auto& l : pool.Get(id)) {
        const bool listed = std::binary_search(a.grouping.begin(), a.grouping.end(), l.name);
        if (a.without ? (!listed && l.name != storage::kMetricNameLabel) : listed) {
          out.push_back(l);
        }
      }
      it->second = pool.Intern(out);
    }
    return it->second;
  };
  SeriesAggregator aggregator(a.op, start_, interval_, NumSteps());
  const SeriesSink sink = [&](const Series& s) { aggregator.Add(group_of(s.labels), s.points); };
  // A range function's series are aggregated as they are computed, one at a time, instead of
  // being collected first. Their samples are still counted against max_samples as if held
  // (and released below), so the limit trips exactly where it would otherwise.
  const Expr& e = Unparen(*a.expr);
  const std::optional<size_t> range_arg = e.kind == NodeKind::kCall
                                              ? StreamableRangeArgument(static_cast<const Call&>(e))
                                              : std::nullopt;
  if (range_arg) {
    PA_RETURN_IF_ERROR(ctx_->CheckDeadline());
    PA_RETURN_IF_ERROR(EvalRangeCall(static_cast<const Call&>(e), *range_arg, &sink).status());
  } else {
    PA_ASSIGN_OR_RETURN(Matrix input, Eval(*a.expr));
    for (const Series& s : input) sink(s);
  }
  Matrix result = aggregator.Finish();
  int64_t n = 0;
  for (const Series& s : result) n += static_cast<int64_t>(s.points.size());
  const Status added = ctx_->AddSamples(n);
  ctx_->ReleaseSamples(aggregator.points());
  PA_RETURN_IF_ERROR(added);
  return result;
}

}  // namespace pa::promql
