// Binary operators: scalar/scalar, vector/scalar and vector/vector with on/ignoring,
// group_left/group_right and the set operators, following Prometheus 2.42's VectorBinop
// (including which side's value a comparison keeps and where many-to-many is an error).
#include <cmath>
#include <unordered_map>
#include <unordered_set>

#include "fmt/format.h"
#include "promql/eval/evaluator.h"

namespace pa::promql {
namespace {

// The arithmetic operators drop the metric name; comparisons and atan2 keep it.
bool DropsMetricName(BinaryOp op) {
  switch (op) {
    case BinaryOp::kAdd:
    case BinaryOp::kSub:
    case BinaryOp::kMul:
    case BinaryOp::kDiv:
    case BinaryOp::kPow:
    case BinaryOp::kMod:
      return true;
    default:
      return false;
  }
}

// The value of `l op r`, and whether a comparison holds (arithmetic always "holds"). A
// comparison's value is its left operand.
std::pair<double, bool> ElemBinop(BinaryOp op, double l, double r) {
  switch (op) {
    case BinaryOp::kAdd:
      return {l + r, true};
    case BinaryOp::kSub:
      return {l - r, true};
    case BinaryOp::kMul:
      return {l * r, true};
    case BinaryOp::kDiv:
      return {l / r, true};
    case BinaryOp::kPow:
      return {std::pow(l, r), true};
    case BinaryOp::kMod:
      return {std::fmod(l, r), true};
    case BinaryOp::kAtan2:
      return {std::atan2(l, r), true};
    case BinaryOp::kEqlc:
      return {l, l == r};
    case BinaryOp::kNeq:
      return {l, l != r};
    case BinaryOp::kGtr:
      return {l, l > r};
    case BinaryOp::kLss:
      return {l, l < r};
    case BinaryOp::kGte:
      return {l, l >= r};
    case BinaryOp::kLte:
      return {l, l <= r};
    default:
      return {0, false};
  }
}

// Prometheus's Labels.String(): {a="1", b="2"}.
std::string FormatLabels(const storage::Labels& labels) {
  std::string out = "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i > 0) out += ", ";
    out += fmt::format("{}=\"{}\"", labels[i].name, labels[i].value);
  }
  return out + "}";
}

bool Contains(const std::vector<std::string>& names, std::string_view name) {
  for (const auto& n : names) {
    if (n == name) return true;
  }
  return false;
}

struct PairHash {
  size_t operator()(const std::pair<LabelsId, LabelsId>& p) const {
    return std::hash<uint64_t>()((static_cast<uint64_t>(p.first) << 32) | p.second);
  }
};

}  // namespace

Result<Matrix> Evaluator::EvalBinary(const BinaryExpr& b) {
  LabelPool& pool = ctx_->pool;
  const BinaryOp op = b.op;
  const bool lhs_scalar = TypeOf(*b.lhs) == ValueType::kScalar;
  const bool rhs_scalar = TypeOf(*b.rhs) == ValueType::kScalar;
  PA_ASSIGN_OR_RETURN(Matrix lhs, Eval(*b.lhs));
  PA_ASSIGN_OR_RETURN(Matrix rhs, Eval(*b.rhs));
  const Matrix* inputs[] = {&lhs, &rhs};
  Result<Matrix> result = Matrix{};

  if (lhs_scalar && rhs_scalar) {
    result = StepLoop(inputs, [&](std::span<const Vector> args, int64_t ts, Vector* out) {
      auto [v, holds] = ElemBinop(op, args[0][0].v, args[1][0].v);
      if (IsComparison(op)) v = holds ? 1 : 0;
      out->push_back(Sample{LabelPool::kEmpty, v, ts, 0});
      return Status::Ok();
    });
  } else if (lhs_scalar || rhs_scalar) {
    const bool swap = lhs_scalar;  // the vector is always handled as the "left" side
    result = StepLoop(inputs, [&](std::span<const Vector> args, int64_t ts, Vector* out) {
      const Vector& vec = args[swap ? 1 : 0];
      const double scalar = args[swap ? 0 : 1][0].v;
      for (const Sample& s : vec) {
        double lv = s.v;
        double rv = scalar;
        if (swap) std::swap(lv, rv);
        auto [v, keep] = ElemBinop(op, lv, rv);
        // A comparison keeps the vector's value even when the vector is on the right.
        if (IsComparison(op) && swap) v = rv;
        if (b.return_bool) {
          v = keep ? 1 : 0;
          keep = true;
        }
        if (!keep) continue;
        const LabelsId labels =
            DropsMetricName(op) || b.return_bool ? pool.DropMetricName(s.labels) : s.labels;
        out->push_back(Sample{labels, v, ts, 0});
      }
      return Status::Ok();
    });
  } else {
    const VectorMatching& vm = *b.matching;
    // Matching signature of each series: the labels the sides are matched on.
    auto signature = [&](LabelsId id) {
      storage::Labels sig;
      for (const auto& l : pool.Get(id)) {
        const bool listed = Contains(vm.matching_labels, l.name);
        if (vm.on ? listed : (!listed && l.name != storage::kMetricNameLabel)) sig.push_back(l);
      }
      return pool.Intern(sig);
    };
    std::vector<LabelsId> lsig(lhs.size());
    std::vector<LabelsId> rsig(rhs.size());
    for (size_t i = 0; i < lhs.size(); ++i) lsig[i] = signature(lhs[i].labels);
    for (size_t i = 0; i < rhs.size(); ++i) rsig[i] = signature(rhs[i].labels);

    if (IsSetOperator(op)) {
      result = StepLoop(inputs, [&](std::span<const Vector> args, int64_t, Vector* out) {
        const Vector& l = args[0];
        const Vector& r = args[1];
        std::unordered_set<LabelsId> sigs;
        switch (op) {
          case BinaryOp::kAnd:
            if (l.empty() || r.empty()) return Status::Ok();
            for (const Sample& s : r) sigs.insert(rsig[s.series]);
            for (const Sample& s : l) {
              if (sigs.contains(lsig[s.series])) out->push_back(s);
            }
            break;
          case BinaryOp::kOr:
            *out = l;
            if (l.empty() || r.empty()) {
              out->insert(out->end(), r.begin(), r.end());
              return Status::Ok();
            }
            for (const Sample& s : l) sigs.insert(lsig[s.series]);
            for (const Sample& s : r) {
              if (!sigs.contains(rsig[s.series])) out->push_back(s);
            }
            break;
          default:  // unless
            if (l.empty() || r.empty()) {
              *out = l;
              return Status::Ok();
            }
            for (const Sample& s : r) sigs.insert(rsig[s.series]);
            for (const Sample& s : l) {
              if (!sigs.contains(lsig[s.series])) out->push_back(s);
            }
            break;
        }
        return Status::Ok();
      });
    } else {
      std::unordered_map<std::pair<LabelsId, LabelsId>, LabelsId, PairHash> metric_cache;
      // The labels of a result element: the "many" side's, reduced by on/ignoring for
      // one-to-one matching, plus group_x labels copied from the "one" side.
      auto result_metric = [&](LabelsId l, LabelsId r) {
        auto [it, inserted] = metric_cache.try_emplace({l, r}, 0);
        if (!inserted) return it->second;
        storage::Labels out;
        for (const auto& x : pool.Get(l)) {
          if (DropsMetricName(op) && x.name == storage::kMetricNameLabel) continue;
          if (vm.card == Cardinality::kOneToOne) {
            const bool listed = Contains(vm.matching_labels, x.name);
            if (vm.on ? !listed : listed) continue;
          }
          if (Contains(vm.include, x.name)) continue;
          out.push_back(x);
        }
        const storage::Labels& one = pool.Get(r);
        for (const auto& name : vm.include) {
          const std::string_view v = storage::LabelValue(one, name);
          if (!v.empty()) out.push_back(storage::Label{name, std::string(v)});
        }
        std::sort(out.begin(), out.end());
        it->second = pool.Intern(out);
        return it->second;
      };
      result = StepLoop(inputs, [&](std::span<const Vector> args, int64_t ts, Vector* out) {
        const Vector* many = &args[0];
        const Vector* one = &args[1];
        const std::vector<LabelsId>* many_sig = &lsig;
        const std::vector<LabelsId>* one_sig = &rsig;
        if (many->empty() || one->empty()) return Status::Ok();
        const bool swapped = vm.card == Cardinality::kOneToMany;
        if (swapped) {
          std::swap(many, one);
          std::swap(many_sig, one_sig);
        }
        std::unordered_map<LabelsId, const Sample*> one_by_sig;
        for (const Sample& s : *one) {
          auto [it, inserted] = one_by_sig.try_emplace((*one_sig)[s.series], &s);
          if (!inserted) {
            storage::Labels matched;
            for (const auto& l : pool.Get(s.labels)) {
              const bool listed = Contains(vm.matching_labels, l.name);
              if (vm.on ? listed : (!listed && l.name != storage::kMetricNameLabel)) {
                matched.push_back(l);
              }
            }
            return InvalidArgumentError(fmt::format(
                "found duplicate series for the match group {} on the {} hand-side of the "
                "operation: [{}, {}];many-to-many matching not allowed: matching labels must "
                "be unique on one side",
                FormatLabels(matched), swapped ? "left" : "right", FormatLabels(pool.Get(s.labels)),
                FormatLabels(pool.Get(it->second->labels))));
          }
        }
        std::unordered_map<LabelsId, std::unordered_set<LabelsId>> matched;
        for (const Sample& s : *many) {
          const LabelsId sig = (*many_sig)[s.series];
          auto found = one_by_sig.find(sig);
          if (found == one_by_sig.end()) continue;
          const Sample& o = *found->second;
          double vl = s.v;
          double vr = o.v;
          if (swapped) std::swap(vl, vr);
          auto [v, keep] = ElemBinop(op, vl, vr);
          if (b.return_bool) {
            v = keep ? 1 : 0;
          } else if (!keep) {
            continue;
          }
          LabelsId metric = result_metric(s.labels, o.labels);
          if (b.return_bool) metric = pool.DropMetricName(metric);
          auto [m, first] = matched.try_emplace(sig);
          if (vm.card == Cardinality::kOneToOne) {
            if (!first) {
              return InvalidArgumentError(
                  "multiple matches for labels: many-to-one matching must be explicit "
                  "(group_left/group_right)");
            }
          } else if (!m->second.insert(metric).second) {
            return InvalidArgumentError(
                "multiple matches for labels: grouping labels must ensure unique matches");
          }
          out->push_back(Sample{metric, v, ts, 0});
        }
        return Status::Ok();
      });
    }
  }
  Release(lhs);
  Release(rhs);
  return result;
}

}  // namespace pa::promql
