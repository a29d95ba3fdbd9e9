// The PromQL syntax tree, as produced by parser.h and walked by the evaluator. It mirrors
// Prometheus's promql/parser/ast.go: selectors carry their offset and @ modifier, binary
// expressions their vector matching, calls point into the function table (functions.h).
//
// Nodes are immutable after parsing; one tree may be evaluated by several threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "storage/metric_store.h"

namespace pa::promql {

struct Function;

using storage::ValueType;

enum class NodeKind {
  kNumber,
  kString,
  kVectorSelector,
  kMatrixSelector,
  kSubquery,
  kParen,
  kUnary,
  kBinary,
  kAggregate,
  kCall,
};

enum class BinaryOp {
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kPow,
  kAtan2,
  kEqlc,
  kNeq,
  kGtr,
  kLss,
  kGte,
  kLte,
  kAnd,
  kOr,
  kUnless,
};

bool IsComparison(BinaryOp op);
bool IsSetOperator(BinaryOp op);
std::string_view BinaryOpName(BinaryOp op);

enum class AggregateOp {
  kSum,
  kAvg,
  kCount,
  kMin,
  kMax,
  kGroup,
  kStddev,
  kStdvar,
  kTopk,
  kBottomk,
  kCountValues,
  kQuantile,
};

std::string_view AggregateOpName(AggregateOp op);

// The @ modifier: a fixed Unix ms timestamp, or the query's start()/end().
struct AtModifier {
  enum class Kind { kNone, kTimestamp, kStart, kEnd };
  Kind kind = Kind::kNone;
  int64_t timestamp_ms = 0;
  bool set() const { return kind != Kind::kNone; }
};

struct Expr {
  Expr(NodeKind k, int p) : kind(k), pos(p) {}
  virtual ~Expr() = default;
  const NodeKind kind;
  int pos;         // byte offset in the query, for error messages
  int height = 1;  // levels of the tree from here down; the parser bounds it (kMaxExprHeight)
};
using ExprPtr = std::unique_ptr<Expr>;

// Deeper queries are refused: evaluation, checking and destruction recurse over the tree.
inline constexpr int kMaxExprHeight = 500;

struct NumberLiteral : Expr {
  NumberLiteral(int p, double v) : Expr(NodeKind::kNumber, p), value(v) {}
  double value;
};

struct StringLiteral : Expr {
  StringLiteral(int p, std::string v) : Expr(NodeKind::kString, p), value(std::move(v)) {}
  std::string value;
};

struct VectorSelector : Expr {
  explicit VectorSelector(int p) : Expr(NodeKind::kVectorSelector, p) {}
  std::string name;
  // In source order; a name outside the braces comes last as __name__="name".
  storage::MatcherSet matchers;
  int64_t offset_ms = 0;
  AtModifier at;
};

struct MatrixSelector : Expr {
  MatrixSelector(int p, std::unique_ptr<VectorSelector> vs, int64_t range)
      : Expr(NodeKind::kMatrixSelector, p), selector(std::move(vs)), range_ms(range) {}
  std::unique_ptr<VectorSelector> selector;  // holds the offset and @ modifier
  int64_t range_ms;
};

struct Subquery : Expr {
  Subquery(int p, ExprPtr e, int64_t range, int64_t step)
      : Expr(NodeKind::kSubquery, p), expr(std::move(e)), range_ms(range), step_ms(step) {}
  ExprPtr expr;
  int64_t range_ms;
  int64_t step_ms;  // 0: the engine's default subquery step
  int64_t offset_ms = 0;
  AtModifier at;
};

struct ParenExpr : Expr {
  ParenExpr(int p, ExprPtr e) : Expr(NodeKind::kParen, p), expr(std::move(e)) {}
  ExprPtr expr;
};

struct UnaryExpr : Expr {
  UnaryExpr(int p, bool n, ExprPtr e) : Expr(NodeKind::kUnary, p), negate(n), expr(std::move(e)) {}
  bool negate;  // '-' (else '+')
  ExprPtr expr;
};

enum class Cardinality { kOneToOne, kManyToOne, kOneToMany, kManyToMany };

struct VectorMatching {
  Cardinality card = Cardinality::kOneToOne;
  bool on = false;  // on(...) rather than ignoring(...)
  std::vector<std::string> matching_labels;
  std::vector<std::string> include;  // group_left/group_right labels
};

struct BinaryExpr : Expr {
  BinaryExpr(int p, BinaryOp o) : Expr(NodeKind::kBinary, p), op(o) {}
  BinaryOp op;
  ExprPtr lhs;
  ExprPtr rhs;
  bool return_bool = false;
  int op_pos = 0;
  // Set only when both sides are instant vectors.
  std::optional<VectorMatching> matching;
};

struct AggregateExpr : Expr {
  AggregateExpr(int p, AggregateOp o) : Expr(NodeKind::kAggregate, p), op(o) {}
  AggregateOp op;
  ExprPtr expr;
  ExprPtr param;                      // topk/bottomk/quantile: scalar; count_values: string
  std::vector<std::string> grouping;  // sorted
  bool without = false;
};

struct Call : Expr {
  Call(int p, const Function* f) : Expr(NodeKind::kCall, p), func(f) {}
  const Function* func;
  std::vector<ExprPtr> args;
};

// The type an expression evaluates to.
ValueType TypeOf(const Expr& e);
// Prometheus's names for types in messages: "instant vector", "range vector", ...
std::string_view DocumentedType(ValueType t);

// Strips parentheses.
const Expr& Unparen(const Expr& e);

// A fully parenthesised rendering for tests and logs: ((a + b) * c), sum by (job) (x),
// x[5m] offset 1m, f(a, "s").
std::string Format(const Expr& e);

}  // namespace pa::promql
