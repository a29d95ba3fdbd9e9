// The type-checking pass of the parser (Prometheus's checkAST).
#include "base/go_regex.h"
#include "fmt/format.h"
#include "promql/syntax/functions.h"
#include "promql/syntax/parse_error.h"

namespace pa::promql {
namespace {

class Checker {
 public:
  explicit Checker(std::string_view query) : query_(query) {}

  Result<ValueType> Check(Expr& e) {
    switch (e.kind) {
      case NodeKind::kNumber:
      case NodeKind::kString:
        return TypeOf(e);
      case NodeKind::kVectorSelector:
        PA_RETURN_IF_ERROR(CheckSelector(static_cast<VectorSelector&>(e)));
        return ValueType::kVector;
      case NodeKind::kMatrixSelector:
        PA_RETURN_IF_ERROR(CheckSelector(*static_cast<MatrixSelector&>(e).selector));
        return ValueType::kMatrix;
      case NodeKind::kSubquery: {
        auto& s = static_cast<Subquery&>(e);
        PA_ASSIGN_OR_RETURN(ValueType t, Check(*s.expr));
        if (t != ValueType::kVector) {
          return Fail(e, fmt::format("subquery is only allowed on instant vector, got {} instead",
                                     storage::ValueTypeName(t)));
        }
        return ValueType::kMatrix;
      }
      case NodeKind::kParen:
        return Check(*static_cast<ParenExpr&>(e).expr);
      case NodeKind::kUnary: {
        PA_ASSIGN_OR_RETURN(ValueType t, Check(*static_cast<UnaryExpr&>(e).expr));
        if (t != ValueType::kScalar && t != ValueType::kVector) {
          return Fail(e, fmt::format("unary expression only allowed on expressions of type "
                                     "scalar or instant vector, got \"{}\"",
                                     DocumentedType(t)));
        }
        return t;
      }
      case NodeKind::kBinary:
        return CheckBinary(static_cast<BinaryExpr&>(e));
      case NodeKind::kAggregate:
        return CheckAggregate(static_cast<AggregateExpr&>(e));
      case NodeKind::kCall:
        return CheckCall(static_cast<Call&>(e));
    }
    return ValueType::kVector;
  }

 private:
  Status Fail(const Expr& e, std::string_view message) const {
    return ParseError(query_, e.pos, message);
  }
  Status FailAt(int pos, std::string_view message) const {
    return ParseError(query_, pos, message);
  }

  Status ExpectType(Expr& e, ValueType want, std::string_view context) {
    PA_ASSIGN_OR_RETURN(ValueType got, Check(e));
    if (got != want) {
      return Fail(e, fmt::format("expected type {} in {}, got {}", DocumentedType(want), context,
                                 DocumentedType(got)));
    }
    return Status::Ok();
  }

  Status CheckSelector(const VectorSelector& vs) {
    if (!vs.name.empty()) {
      for (size_t i = 0; i + 1 < vs.matchers.size(); ++i) {
        if (vs.matchers[i].name == storage::kMetricNameLabel) {
          return Fail(vs, fmt::format("metric name must not be set twice: \"{}\" or \"{}\"",
                                      vs.name, vs.matchers[i].value));
        }
      }
    }
    for (const auto& m : vs.matchers) {
      bool matches_empty = false;
      switch (m.op) {
        case storage::LabelMatcher::Op::kEqual:
          matches_empty = m.value.empty();
          break;
        case storage::LabelMatcher::Op::kNotEqual:
          matches_empty = !m.value.empty();
          break;
        case storage::LabelMatcher::Op::kRegexMatch:
        case storage::LabelMatcher::Op::kRegexNoMatch: {
          PA_ASSIGN_OR_RETURN(GoRegex re, GoRegex::Compile(m.value));
          matches_empty = re.FullMatch("") == (m.op == storage::LabelMatcher::Op::kRegexMatch);
          break;
        }
      }
      if (!matches_empty) return Status::Ok();
    }
    return Fail(vs, "vector selector must contain at least one non-empty matcher");
  }

  Result<ValueType> CheckBinary(BinaryExpr& b) {
    PA_ASSIGN_OR_RETURN(ValueType lt, Check(*b.lhs));
    PA_ASSIGN_OR_RETURN(ValueType rt, Check(*b.rhs));
    const std::string_view op = BinaryOpName(b.op);
    if (b.return_bool && !IsComparison(b.op)) {
      return FailAt(b.op_pos, "bool modifier can only be used on comparison operators");
    }
    if (IsComparison(b.op) && !b.return_bool && lt == ValueType::kScalar &&
        rt == ValueType::kScalar) {
      return FailAt(b.op_pos, "comparisons between scalars must use BOOL modifier");
    }
    VectorMatching& vm = *b.matching;
    if (IsSetOperator(b.op) && vm.card == Cardinality::kOneToOne) {
      vm.card = Cardinality::kManyToMany;
    }
    if (vm.on) {
      for (const auto& l1 : vm.matching_labels) {
        for (const auto& l2 : vm.include) {
          if (l1 == l2) {
            return FailAt(
                b.op_pos,
                fmt::format("label \"{}\" must not occur in ON and GROUP clause at once", l1));
          }
        }
      }
    }
    if (lt != ValueType::kScalar && lt != ValueType::kVector) {
      return Fail(*b.lhs, "binary expression must contain only scalar and instant vector types");
    }
    if (rt != ValueType::kScalar && rt != ValueType::kVector) {
      return Fail(*b.rhs, "binary expression must contain only scalar and instant vector types");
    }
    if (lt != ValueType::kVector || rt != ValueType::kVector) {
      if (!vm.matching_labels.empty()) {
        return Fail(b, "vector matching only allowed between instant vectors");
      }
      b.matching.reset();
    } else if (IsSetOperator(b.op)) {
      if (vm.card == Cardinality::kOneToMany || vm.card == Cardinality::kManyToOne) {
        return Fail(b, fmt::format("no grouping allowed for \"{}\" operation", op));
      }
    }
    if ((lt == ValueType::kScalar || rt == ValueType::kScalar) && IsSetOperator(b.op)) {
      return Fail(b,
                  fmt::format("set operator \"{}\" not allowed in binary scalar expression", op));
    }
    return lt == ValueType::kScalar && rt == ValueType::kScalar ? ValueType::kScalar
                                                                : ValueType::kVector;
  }

  Result<ValueType> CheckAggregate(AggregateExpr& a) {
    PA_RETURN_IF_ERROR(ExpectType(*a.expr, ValueType::kVector, "aggregation expression"));
    if (a.op == AggregateOp::kTopk || a.op == AggregateOp::kBottomk ||
        a.op == AggregateOp::kQuantile) {
      PA_RETURN_IF_ERROR(ExpectType(*a.param, ValueType::kScalar, "aggregation parameter"));
    }
    if (a.op == AggregateOp::kCountValues) {
      PA_RETURN_IF_ERROR(ExpectType(*a.param, ValueType::kString, "aggregation parameter"));
    }
    return ValueType::kVector;
  }

  Result<ValueType> CheckCall(Call& c) {
    const Function& f = *c.func;
    const size_t nargs = f.arg_types.size();
    const size_t got = c.args.size();
    if (f.variadic == 0) {
      if (nargs != got) {
        return Fail(c, fmt::format("expected {} argument(s) in call to \"{}\", got {}", nargs,
                                   f.name, got));
      }
    } else {
      const size_t min = nargs - 1;
      if (min > got) {
        return Fail(c, fmt::format("expected at least {} argument(s) in call to \"{}\", got {}",
                                   min, f.name, got));
      }
      if (f.variadic > 0 && min + static_cast<size_t>(f.variadic) < got) {
        return Fail(c, fmt::format("expected at most {} argument(s) in call to \"{}\", got {}",
                                   min + f.variadic, f.name, got));
      }
    }
    const std::string context = fmt::format("call to function \"{}\"", f.name);
    for (size_t i = 0; i < got; ++i) {
      size_t t = i;
      if (t >= nargs) {
        if (f.variadic == 0) break;
        t = nargs - 1;
      }
      PA_RETURN_IF_ERROR(ExpectType(*c.args[i], f.arg_types[t], context));
    }
    return f.return_type;
  }

  std::string_view query_;
};

}  // namespace

Status CheckTypes(Expr& e, std::string_view query) {
  Checker c(query);
  return c.Check(e).status();
}

}  // namespace pa::promql
