// Internal to the parser: the recursive-descent parser over the lexer's tokens, split across
// parser.cc (expressions, operators, calls, aggregations) and parser_selectors.cc (selectors,
// ranges, subqueries, offset and @).
#pragma once

#include <algorithm>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "fmt/format.h"
#include "promql/syntax/ast.h"
#include "promql/syntax/lexer.h"
#include "promql/syntax/parse_error.h"

namespace pa::promql {

class Parser {
 public:
  explicit Parser(std::string_view query) : query_(query), tokens_(Lex(query)) {}

  // The whole query as one expression (not yet type-checked).
  Result<ExprPtr> Run();

 private:
  const Token& Peek(size_t ahead = 0) const {
    const size_t i = std::min(idx_ + ahead, tokens_.size() - 1);
    return tokens_[i];
  }
  const Token& Consume() {
    const Token& t = tokens_[idx_];
    if (idx_ + 1 < tokens_.size()) ++idx_;
    return t;
  }
  Status Error(int pos, std::string_view message) const { return ParseError(query_, pos, message); }
  // "unexpected <token> [in <context>][, expected <what>]" at the current token; a lexer error
  // is reported as itself.
  Status Unexpected(std::string_view context, std::string_view expected) const {
    const Token& t = Peek();
    if (t.type == TokenType::kError) return Error(t.pos, t.text);
    // The lexer stops right after some tokens (an unbalanced ')'); its error explains more.
    if (Peek(1).type == TokenType::kError) return Error(Peek(1).pos, Peek(1).text);
    std::string msg = "unexpected " + DescribeToken(t);
    if (!context.empty()) msg += fmt::format(" in {}", context);
    if (!expected.empty()) msg += fmt::format(", expected {}", expected);
    return Error(t.pos, msg);
  }
  Status Expect(TokenType type, std::string_view context, std::string_view expected);
  // Sets e's height from its children's; fails when the tree gets too deep.
  Status SetHeight(Expr* e, std::initializer_list<const Expr*> children);
  Result<double> Number(const Token& t) const;
  Result<int64_t> ParseDurationToken();
  Result<ExprPtr> ParseBinary(int min_prec);
  Status ParseBinaryModifiers(BinaryExpr* bin);
  Result<std::vector<std::string>> ParseGroupingLabels();
  Result<ExprPtr> ParseUnary();
  Result<ExprPtr> ParsePrimary();
  Result<ExprPtr> ParseVectorSelector(int pos, const std::string& name);
  Status ParseLabelMatcher(VectorSelector* vs);
  Result<std::vector<ExprPtr>> ParseCallBody(std::string_view context);
  Result<ExprPtr> ParseCall();
  Status ParseAggregateModifier(AggregateExpr* agg);
  Result<ExprPtr> ParseAggregate();
  // [range], [range:step], offset and @ after a primary expression.
  Result<ExprPtr> ParsePostfix(ExprPtr e);
  Result<ExprPtr> ParseRangeOrSubquery(ExprPtr e);
  Status ParseOffset(Expr* e);
  Status ParseAt(Expr* e);

  std::string_view query_;
  std::vector<Token> tokens_;
  size_t idx_ = 0;
  int depth_ = 0;  // recursion depth of ParseBinary
};

}  // namespace pa::promql
