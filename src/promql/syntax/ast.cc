#include "promql/syntax/ast.h"

#include "fmt/format.h"
#include "promql/syntax/functions.h"
#include "promql/syntax/go_compat.h"

namespace pa::promql {

bool IsComparison(BinaryOp op) {
  switch (op) {
    case BinaryOp::kEqlc:
    case BinaryOp::kNeq:
    case BinaryOp::kGtr:
    case BinaryOp::kLss:
    case BinaryOp::kGte:
    case BinaryOp::kLte:
      return true;
    default:
      return false;
  }
}

bool IsSetOperator(BinaryOp op) {
  return op == BinaryOp::kAnd || op == BinaryOp::kOr || op == BinaryOp::kUnless;
}

std::string_view BinaryOpName(BinaryOp op) {
  switch (op) {
    case BinaryOp::kAdd:
      return "+";
    case BinaryOp::kSub:
      return "-";
    case BinaryOp::kMul:
      return "*";
    case BinaryOp::kDiv:
      return "/";
    case BinaryOp::kMod:
      return "%";
    case BinaryOp::kPow:
      return "^";
    case BinaryOp::kAtan2:
      return "atan2";
    case BinaryOp::kEqlc:
      return "==";
    case BinaryOp::kNeq:
      return "!=";
    case BinaryOp::kGtr:
      return ">";
    case BinaryOp::kLss:
      return "<";
    case BinaryOp::kGte:
      return ">=";
    case BinaryOp::kLte:
      return "<=";
    case BinaryOp::kAnd:
      return "and";
    case BinaryOp::kOr:
      return "or";
    case BinaryOp::kUnless:
      return "unless";
  }
  return "?";
}

std::string_view AggregateOpName(AggregateOp op) {
  switch (op) {
    case AggregateOp::kSum:
      return "sum";
    case AggregateOp::kAvg:
      return "avg";
    case AggregateOp::kCount:
      return "count";
    case AggregateOp::kMin:
      return "min";
    case AggregateOp::kMax:
      return "max";
    case AggregateOp::kGroup:
      return "group";
    case AggregateOp::kStddev:
      return "stddev";
    case AggregateOp::kStdvar:
      return "stdvar";
    case AggregateOp::kTopk:
      return "topk";
    case AggregateOp::kBottomk:
      return "bottomk";
    case AggregateOp::kCountValues:
      return "count_values";
    case AggregateOp::kQuantile:
      return "quantile";
  }
  return "?";
}

ValueType TypeOf(const Expr& e) {
  switch (e.kind) {
    case NodeKind::kNumber:
      return ValueType::kScalar;
    case NodeKind::kString:
      return ValueType::kString;
    case NodeKind::kVectorSelector:
    case NodeKind::kAggregate:
      return ValueType::kVector;
    case NodeKind::kMatrixSelector:
    case NodeKind::kSubquery:
      return ValueType::kMatrix;
    case NodeKind::kParen:
      return TypeOf(*static_cast<const ParenExpr&>(e).expr);
    case NodeKind::kUnary:
      return TypeOf(*static_cast<const UnaryExpr&>(e).expr);
    case NodeKind::kBinary: {
      const auto& b = static_cast<const BinaryExpr&>(e);
      if (TypeOf(*b.lhs) == ValueType::kScalar && TypeOf(*b.rhs) == ValueType::kScalar) {
        return ValueType::kScalar;
      }
      return ValueType::kVector;
    }
    case NodeKind::kCall:
      return static_cast<const Call&>(e).func->return_type;
  }
  return ValueType::kVector;
}

std::string_view DocumentedType(ValueType t) {
  switch (t) {
    case ValueType::kVector:
      return "instant vector";
    case ValueType::kMatrix:
      return "range vector";
    case ValueType::kScalar:
      return "scalar";
    case ValueType::kString:
      return "string";
  }
  return "unknown";
}

const Expr& Unparen(const Expr& e) {
  const Expr* p = &e;
  while (p->kind == NodeKind::kParen) p = static_cast<const ParenExpr*>(p)->expr.get();
  return *p;
}

namespace {

std::string JoinLabels(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) out += (i > 0 ? ", " : "") + names[i];
  return out;
}

std::string FormatDuration(int64_t ms) {
  if (ms < 0) return "-" + FormatDuration(-ms);
  if (ms % 1000 != 0) return fmt::format("{}ms", ms);
  return fmt::format("{}s", ms / 1000);
}

std::string FormatModifiers(int64_t offset_ms, const AtModifier& at) {
  std::string out;
  if (offset_ms != 0) out += " offset " + FormatDuration(offset_ms);
  switch (at.kind) {
    case AtModifier::Kind::kNone:
      break;
    case AtModifier::Kind::kTimestamp:
      out += fmt::format(" @ {}ms", at.timestamp_ms);
      break;
    case AtModifier::Kind::kStart:
      out += " @ start()";
      break;
    case AtModifier::Kind::kEnd:
      out += " @ end()";
      break;
  }
  return out;
}

std::string FormatSelector(const VectorSelector& vs) {
  std::string out = vs.name + "{";
  bool first = true;
  for (const auto& m : vs.matchers) {
    if (!vs.name.empty() && m.name == storage::kMetricNameLabel &&
        m.op == storage::LabelMatcher::Op::kEqual && m.value == vs.name) {
      continue;
    }
    static constexpr std::string_view kOps[] = {"=", "!=", "=~", "!~"};
    out += fmt::format("{}{}{}\"{}\"", first ? "" : ", ", m.name, kOps[static_cast<int>(m.op)],
                       m.value);
    first = false;
  }
  return out + "}";
}

}  // namespace

std::string Format(const Expr& e) {
  switch (e.kind) {
    case NodeKind::kNumber:
      return FormatGoFloat(static_cast<const NumberLiteral&>(e).value);
    case NodeKind::kString:
      return fmt::format("\"{}\"", static_cast<const StringLiteral&>(e).value);
    case NodeKind::kVectorSelector: {
      const auto& vs = static_cast<const VectorSelector&>(e);
      return FormatSelector(vs) + FormatModifiers(vs.offset_ms, vs.at);
    }
    case NodeKind::kMatrixSelector: {
      const auto& ms = static_cast<const MatrixSelector&>(e);
      return fmt::format("{}[{}]{}", FormatSelector(*ms.selector), FormatDuration(ms.range_ms),
                         FormatModifiers(ms.selector->offset_ms, ms.selector->at));
    }
    case NodeKind::kSubquery: {
      const auto& sq = static_cast<const Subquery&>(e);
      return fmt::format("{}[{}:{}]{}", Format(*sq.expr), FormatDuration(sq.range_ms),
                         sq.step_ms > 0 ? FormatDuration(sq.step_ms) : "",
                         FormatModifiers(sq.offset_ms, sq.at));
    }
    case NodeKind::kParen:
      return "(" + Format(*static_cast<const ParenExpr&>(e).expr) + ")";
    case NodeKind::kUnary: {
      const auto& u = static_cast<const UnaryExpr&>(e);
      return fmt::format("({}{})", u.negate ? "-" : "+", Format(*u.expr));
    }
    case NodeKind::kBinary: {
      const auto& b = static_cast<const BinaryExpr&>(e);
      std::string mods = b.return_bool ? " bool" : "";
      if (b.matching && (b.matching->on || !b.matching->matching_labels.empty())) {
        mods += fmt::format(" {}({})", b.matching->on ? "on" : "ignoring",
                            JoinLabels(b.matching->matching_labels));
      }
      if (b.matching && b.matching->card == Cardinality::kManyToOne) {
        mods += fmt::format(" group_left({})", JoinLabels(b.matching->include));
      }
      if (b.matching && b.matching->card == Cardinality::kOneToMany) {
        mods += fmt::format(" group_right({})", JoinLabels(b.matching->include));
      }
      return fmt::format("({} {}{} {})", Format(*b.lhs), BinaryOpName(b.op), mods, Format(*b.rhs));
    }
    case NodeKind::kAggregate: {
      const auto& a = static_cast<const AggregateExpr&>(e);
      std::string out(AggregateOpName(a.op));
      if (a.without || !a.grouping.empty()) {
        out += fmt::format(" {} ({})", a.without ? "without" : "by", JoinLabels(a.grouping));
      }
      out += " (";
      if (a.param) out += Format(*a.param) + ", ";
      return out + Format(*a.expr) + ")";
    }
    case NodeKind::kCall: {
      const auto& c = static_cast<const Call&>(e);
      std::string out = std::string(c.func->name) + "(";
      for (size_t i = 0; i < c.args.size(); ++i) out += (i > 0 ? ", " : "") + Format(*c.args[i]);
      return out + ")";
    }
  }
  return "?";
}

}  // namespace pa::promql
