#include "promql/syntax/parser.h"

#include <algorithm>
#include <cmath>

#include "base/go_regex.h"
#include "fmt/format.h"
#include "promql/syntax/functions.h"
#include "promql/syntax/go_compat.h"
#include "promql/syntax/lexer.h"
#include "promql/syntax/parse_error.h"
#include "promql/syntax/parser_impl.h"

namespace pa::promql {
namespace {

struct BinaryOpToken {
  TokenType token;
  int precedence;  // higher binds tighter; ^ is the only right-associative operator
  BinaryOp op;
};
constexpr BinaryOpToken kBinaryOps[] = {
    {TokenType::kLor, 1, BinaryOp::kOr},         {TokenType::kLand, 2, BinaryOp::kAnd},
    {TokenType::kLunless, 2, BinaryOp::kUnless}, {TokenType::kEqlc, 3, BinaryOp::kEqlc},
    {TokenType::kNeq, 3, BinaryOp::kNeq},        {TokenType::kLss, 3, BinaryOp::kLss},
    {TokenType::kLte, 3, BinaryOp::kLte},        {TokenType::kGtr, 3, BinaryOp::kGtr},
    {TokenType::kGte, 3, BinaryOp::kGte},        {TokenType::kAdd, 4, BinaryOp::kAdd},
    {TokenType::kSub, 4, BinaryOp::kSub},        {TokenType::kMul, 5, BinaryOp::kMul},
    {TokenType::kDiv, 5, BinaryOp::kDiv},        {TokenType::kMod, 5, BinaryOp::kMod},
    {TokenType::kAtan2, 5, BinaryOp::kAtan2},    {TokenType::kPow, 6, BinaryOp::kPow},
};
constexpr int kPowPrecedence = 6;

// The binary operator a token stands for; nullptr if none.
const BinaryOpToken* FindBinaryOp(TokenType t) {
  for (const auto& b : kBinaryOps) {
    if (b.token == t) return &b;
  }
  return nullptr;
}

AggregateOp ToAggregateOp(TokenType t) {
  static constexpr std::pair<TokenType, AggregateOp> kOps[] = {
      {TokenType::kSum, AggregateOp::kSum},
      {TokenType::kAvg, AggregateOp::kAvg},
      {TokenType::kCount, AggregateOp::kCount},
      {TokenType::kMin, AggregateOp::kMin},
      {TokenType::kMax, AggregateOp::kMax},
      {TokenType::kGroup, AggregateOp::kGroup},
      {TokenType::kStddev, AggregateOp::kStddev},
      {TokenType::kStdvar, AggregateOp::kStdvar},
      {TokenType::kTopk, AggregateOp::kTopk},
      {TokenType::kBottomk, AggregateOp::kBottomk},
      {TokenType::kCountValues, AggregateOp::kCountValues},
  };
  for (const auto& [token, op] : kOps) {
    if (token == t) return op;
  }
  return AggregateOp::kQuantile;
}

bool OneOf(TokenType t, std::initializer_list<TokenType> set) {
  return std::find(set.begin(), set.end(), t) != set.end();
}

// Tokens that may name a metric (Prometheus's metric_identifier rule).
bool IsMetricIdentifier(TokenType t) {
  return IsAggregator(t) ||
         OneOf(t, {TokenType::kIdentifier, TokenType::kMetricIdentifier, TokenType::kBy,
                   TokenType::kWithout, TokenType::kLand, TokenType::kLor, TokenType::kLunless,
                   TokenType::kOffset, TokenType::kStart, TokenType::kEnd});
}

// Tokens that may name a label in grouping clauses (Prometheus's maybe_label rule).
bool IsMaybeLabel(TokenType t) {
  return IsMetricIdentifier(t) ||
         OneOf(t, {TokenType::kBool, TokenType::kGroupLeft, TokenType::kGroupRight,
                   TokenType::kIgnoring, TokenType::kOn, TokenType::kAtan2});
}

}  // namespace

Result<ExprPtr> Parser::Run() {
  if (Peek().type == TokenType::kEof) return Error(0, "no expression found in input");
  PA_ASSIGN_OR_RETURN(ExprPtr e, ParseBinary(1));
  if (Peek().type != TokenType::kEof) return Unexpected("", "");
  return e;
}

Status Parser::Expect(TokenType type, std::string_view context, std::string_view expected) {
  if (Peek().type != type) return Unexpected(context, expected);
  Consume();
  return Status::Ok();
}

Status Parser::SetHeight(Expr* e, std::initializer_list<const Expr*> children) {
  int h = 0;
  for (const Expr* c : children) {
    if (c != nullptr) h = std::max(h, c->height);
  }
  e->height = h + 1;
  if (e->height > kMaxExprHeight) {
    return Error(e->pos,
                 fmt::format("query is nested too deeply (more than {} levels)", kMaxExprHeight));
  }
  return Status::Ok();
}

Result<ExprPtr> Parser::ParseBinary(int min_prec) {
  struct DepthGuard {
    int* depth;
    ~DepthGuard() { --*depth; }
  } guard{&depth_};
  if (++depth_ > kMaxExprHeight) {
    return Error(Peek().pos,
                 fmt::format("query is nested too deeply (more than {} levels)", kMaxExprHeight));
  }
  PA_ASSIGN_OR_RETURN(ExprPtr lhs, ParseUnary());
  while (true) {
    const Token& op = Peek();
    const BinaryOpToken* info = FindBinaryOp(op.type);
    if (info == nullptr || info->precedence < min_prec) break;
    const int prec = info->precedence;
    Consume();
    auto bin = std::make_unique<BinaryExpr>(lhs->pos, info->op);
    bin->op_pos = op.pos;
    PA_RETURN_IF_ERROR(ParseBinaryModifiers(bin.get()));
    const int next_min = op.type == TokenType::kPow ? prec : prec + 1;
    PA_ASSIGN_OR_RETURN(bin->rhs, ParseBinary(next_min));
    bin->lhs = std::move(lhs);
    PA_RETURN_IF_ERROR(SetHeight(bin.get(), {bin->lhs.get(), bin->rhs.get()}));
    lhs = std::move(bin);
  }
  return lhs;
}

Status Parser::ParseBinaryModifiers(BinaryExpr* bin) {
  VectorMatching vm;
  if (Peek().type == TokenType::kBool) {
    Consume();
    bin->return_bool = true;
  }
  const TokenType t = Peek().type;
  if (t == TokenType::kOn || t == TokenType::kIgnoring) {
    Consume();
    vm.on = t == TokenType::kOn;
    PA_ASSIGN_OR_RETURN(vm.matching_labels, ParseGroupingLabels());
    const TokenType g = Peek().type;
    if (g == TokenType::kGroupLeft || g == TokenType::kGroupRight) {
      Consume();
      vm.card = g == TokenType::kGroupLeft ? Cardinality::kManyToOne : Cardinality::kOneToMany;
      if (Peek().type == TokenType::kLeftParen) {
        PA_ASSIGN_OR_RETURN(vm.include, ParseGroupingLabels());
      }
    }
  }
  bin->matching = std::move(vm);
  return Status::Ok();
}

Result<std::vector<std::string>> Parser::ParseGroupingLabels() {
  std::vector<std::string> labels;
  if (Peek().type != TokenType::kLeftParen) return Unexpected("grouping opts", "\"(\"");
  Consume();
  while (true) {
    const Token& t = Peek();
    if (t.type == TokenType::kRightParen) {
      Consume();
      break;
    }
    if (!IsMaybeLabel(t.type) || !IsValidLabelName(t.text)) {
      return Unexpected("grouping opts", "label");
    }
    labels.push_back(t.text);
    Consume();
    if (Peek().type == TokenType::kComma) {
      Consume();
      continue;
    }
    if (Peek().type != TokenType::kRightParen) {
      return Unexpected("grouping opts", "\",\" or \")\"");
    }
  }
  return labels;
}

Result<ExprPtr> Parser::ParseUnary() {
  const Token& t = Peek();
  if (t.type == TokenType::kAdd || t.type == TokenType::kSub) {
    const bool negate = t.type == TokenType::kSub;
    const int pos = t.pos;
    Consume();
    PA_ASSIGN_OR_RETURN(ExprPtr operand, ParseBinary(kPowPrecedence));
    if (operand->kind == NodeKind::kNumber) {
      auto* n = static_cast<NumberLiteral*>(operand.get());
      if (negate) n->value = -n->value;
      n->pos = pos;
      return operand;
    }
    auto unary = std::make_unique<UnaryExpr>(pos, negate, std::move(operand));
    PA_RETURN_IF_ERROR(SetHeight(unary.get(), {unary->expr.get()}));
    return ExprPtr(std::move(unary));
  }
  PA_ASSIGN_OR_RETURN(ExprPtr primary, ParsePrimary());
  return ParsePostfix(std::move(primary));
}

Result<ExprPtr> Parser::ParsePrimary() {
  const Token& t = Peek();
  switch (t.type) {
    case TokenType::kNumber: {
      Consume();
      PA_ASSIGN_OR_RETURN(double v, Number(t));
      return ExprPtr(std::make_unique<NumberLiteral>(t.pos, v));
    }
    case TokenType::kString: {
      Consume();
      auto s = UnquotePromString(t.text);
      if (!s) return Error(t.pos, "invalid syntax");
      return ExprPtr(std::make_unique<StringLiteral>(t.pos, std::move(*s)));
    }
    case TokenType::kLeftParen: {
      Consume();
      PA_ASSIGN_OR_RETURN(ExprPtr inner, ParseBinary(1));
      if (Peek().type != TokenType::kRightParen) return Unexpected("paren expression", "\")\"");
      Consume();
      auto paren = std::make_unique<ParenExpr>(t.pos, std::move(inner));
      PA_RETURN_IF_ERROR(SetHeight(paren.get(), {paren->expr.get()}));
      return ExprPtr(std::move(paren));
    }
    case TokenType::kLeftBrace:
      return ParseVectorSelector(t.pos, "");
    case TokenType::kIdentifier:
      if (Peek(1).type == TokenType::kLeftParen) return ParseCall();
      break;
    default:
      break;
  }
  if (IsAggregator(t.type)) {
    const TokenType next = Peek(1).type;
    if (next == TokenType::kLeftParen || next == TokenType::kBy || next == TokenType::kWithout) {
      return ParseAggregate();
    }
  }
  if (IsMetricIdentifier(t.type)) {
    Consume();
    return ParseVectorSelector(t.pos, t.text);
  }
  return Unexpected("", "");
}

Result<std::vector<ExprPtr>> Parser::ParseCallBody(std::string_view context) {
  std::vector<ExprPtr> args;
  if (Peek().type != TokenType::kLeftParen) return Unexpected(context, "\"(\"");
  Consume();
  if (Peek().type == TokenType::kRightParen) {
    Consume();
    return args;
  }
  while (true) {
    PA_ASSIGN_OR_RETURN(ExprPtr arg, ParseBinary(1));
    args.push_back(std::move(arg));
    if (Peek().type == TokenType::kComma) {
      const Token& comma = Consume();
      if (Peek().type == TokenType::kRightParen) {
        return Error(comma.pos, "trailing commas not allowed in function call args");
      }
      continue;
    }
    if (Peek().type == TokenType::kRightParen) {
      Consume();
      return args;
    }
    return Unexpected(context, "\",\" or \")\"");
  }
}

Result<ExprPtr> Parser::ParseCall() {
  const Token& name = Consume();
  const Function* f = FindFunction(name.text);
  if (f == nullptr) {
    return Error(name.pos, fmt::format("unknown function with name \"{}\"", name.text));
  }
  auto call = std::make_unique<Call>(name.pos, f);
  PA_ASSIGN_OR_RETURN(call->args, ParseCallBody("function call"));
  const Expr* tallest = nullptr;
  for (const ExprPtr& arg : call->args) {
    if (tallest == nullptr || arg->height > tallest->height) tallest = arg.get();
  }
  PA_RETURN_IF_ERROR(SetHeight(call.get(), {tallest}));
  return ExprPtr(std::move(call));
}

Status Parser::ParseAggregateModifier(AggregateExpr* agg) {
  agg->without = Peek().type == TokenType::kWithout;
  Consume();
  PA_ASSIGN_OR_RETURN(agg->grouping, ParseGroupingLabels());
  std::sort(agg->grouping.begin(), agg->grouping.end());
  agg->grouping.erase(std::unique(agg->grouping.begin(), agg->grouping.end()), agg->grouping.end());
  return Status::Ok();
}

Result<ExprPtr> Parser::ParseAggregate() {
  const Token& op = Consume();
  auto agg = std::make_unique<AggregateExpr>(op.pos, ToAggregateOp(op.type));
  bool have_modifier = false;
  if (Peek().type == TokenType::kBy || Peek().type == TokenType::kWithout) {
    PA_RETURN_IF_ERROR(ParseAggregateModifier(agg.get()));
    have_modifier = true;
  }
  PA_ASSIGN_OR_RETURN(std::vector<ExprPtr> args, ParseCallBody("aggregation"));
  if (!have_modifier && (Peek().type == TokenType::kBy || Peek().type == TokenType::kWithout)) {
    PA_RETURN_IF_ERROR(ParseAggregateModifier(agg.get()));
  }
  if (args.empty()) return Error(op.pos, "no arguments for aggregate expression provided");
  const AggregateOp a = agg->op;
  const bool with_param = a == AggregateOp::kTopk || a == AggregateOp::kBottomk ||
                          a == AggregateOp::kCountValues || a == AggregateOp::kQuantile;
  const size_t desired = with_param ? 2 : 1;
  if (args.size() != desired) {
    return Error(op.pos, fmt::format("wrong number of arguments for aggregate expression "
                                     "provided, expected {}, got {}",
                                     desired, args.size()));
  }
  if (with_param) agg->param = std::move(args[0]);
  agg->expr = std::move(args[desired - 1]);
  PA_RETURN_IF_ERROR(SetHeight(agg.get(), {agg->expr.get(), agg->param.get()}));
  return ExprPtr(std::move(agg));
}

Status ParseError(std::string_view query, int pos, std::string_view message) {
  int line = 1;
  int last_break = -1;
  if (pos < 0 || pos > static_cast<int>(query.size())) {
    return InvalidArgumentError(fmt::format("invalid position: parse error: {}", message));
  }
  for (int i = 0; i < pos; ++i) {
    if (query[i] == '\n') {
      ++line;
      last_break = i;
    }
  }
  return InvalidArgumentError(
      fmt::format("{}:{}: parse error: {}", line, pos - last_break, message));
}

Result<ExprPtr> ParseExpr(std::string_view query) {
  PA_ASSIGN_OR_RETURN(ExprPtr e, Parser(query).Run());
  PA_RETURN_IF_ERROR(CheckTypes(*e, query));
  return e;
}

}  // namespace pa::promql
