// PromQL lexer: turns a query into tokens the way Prometheus 2.42's lexer does (promql/parser/
// lex.go) — keywords are case-insensitive, Inf/NaN are numbers, label names inside braces are
// never keywords, durations are lexed inside `[...]` and wherever a digit run ends in a unit.
//
//   std::vector<Token> tokens = Lex("rate(x[5m])");  // last token is kEof or kError
//
// A lexical error ends the list with one kError token whose text is the message.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace pa::promql {

enum class TokenType {
  kEof,
  kError,
  kIdentifier,
  kMetricIdentifier,  // an identifier containing ':'
  kNumber,
  kString,
  kDuration,
  kLeftParen,
  kRightParen,
  kLeftBrace,
  kRightBrace,
  kLeftBracket,
  kRightBracket,
  kComma,
  kAssign,  // '=' inside braces
  kColon,
  kAt,
  // Operators.
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kPow,
  kEqlc,  // ==
  kNeq,
  kLss,
  kLte,
  kGtr,
  kGte,
  kEqlRegex,
  kNeqRegex,
  kLand,
  kLor,
  kLunless,
  kAtan2,
  // Aggregators.
  kAvg,
  kBottomk,
  kCount,
  kCountValues,
  kGroup,
  kMax,
  kMin,
  kQuantile,
  kStddev,
  kStdvar,
  kSum,
  kTopk,
  // Keywords.
  kBool,
  kBy,
  kGroupLeft,
  kGroupRight,
  kIgnoring,
  kOffset,
  kOn,
  kWithout,
  // @ modifier preprocessors.
  kStart,
  kEnd,
};

struct Token {
  TokenType type = TokenType::kEof;
  int pos = 0;       // byte offset of the token in the query
  std::string text;  // source text; for kError the message
};

// Keywords, aggregators and the special numbers inf/nan by their lower-case spelling (tokens.cc).
const std::unordered_map<std::string, TokenType>& Keywords();

bool IsAggregator(TokenType t);
bool IsKeyword(TokenType t);  // by, without, on, ... (not aggregators, not operators)
bool IsOperator(TokenType t);

// How Prometheus names a token in "unexpected ..." messages: `<op:+>`, `identifier "foo"`,
// `"("`, `end of input`.
std::string DescribeToken(const Token& t);

// Comments are dropped. The result always ends with kEof or kError.
std::vector<Token> Lex(std::string_view input);

}  // namespace pa::promql
