// Token classification and names: keywords, operator/aggregator/keyword classes, and how
// Prometheus describes a token in parse errors.
#include <unordered_map>

#include "fmt/format.h"
#include "promql/syntax/lexer.h"

namespace pa::promql {

const std::unordered_map<std::string, TokenType>& Keywords() {
  static const auto* const kMap = new std::unordered_map<std::string, TokenType>{
      {"and", TokenType::kLand},
      {"or", TokenType::kLor},
      {"unless", TokenType::kLunless},
      {"atan2", TokenType::kAtan2},
      {"sum", TokenType::kSum},
      {"avg", TokenType::kAvg},
      {"count", TokenType::kCount},
      {"min", TokenType::kMin},
      {"max", TokenType::kMax},
      {"group", TokenType::kGroup},
      {"stddev", TokenType::kStddev},
      {"stdvar", TokenType::kStdvar},
      {"topk", TokenType::kTopk},
      {"bottomk", TokenType::kBottomk},
      {"count_values", TokenType::kCountValues},
      {"quantile", TokenType::kQuantile},
      {"offset", TokenType::kOffset},
      {"by", TokenType::kBy},
      {"without", TokenType::kWithout},
      {"on", TokenType::kOn},
      {"ignoring", TokenType::kIgnoring},
      {"group_left", TokenType::kGroupLeft},
      {"group_right", TokenType::kGroupRight},
      {"bool", TokenType::kBool},
      {"start", TokenType::kStart},
      {"end", TokenType::kEnd},
      // Special numbers.
      {"inf", TokenType::kNumber},
      {"nan", TokenType::kNumber},
  };
  return *kMap;
}

bool IsAggregator(TokenType t) { return t >= TokenType::kAvg && t <= TokenType::kTopk; }
bool IsKeyword(TokenType t) { return t >= TokenType::kBool && t <= TokenType::kEnd; }
bool IsOperator(TokenType t) {
  return (t >= TokenType::kAdd && t <= TokenType::kAtan2) || t == TokenType::kAt;
}

std::string DescribeToken(const Token& t) {
  switch (t.type) {
    case TokenType::kEof:
      return "end of input";
    case TokenType::kError:
      return t.text;
    case TokenType::kIdentifier:
      return fmt::format("identifier \"{}\"", t.text);
    case TokenType::kMetricIdentifier:
      return fmt::format("metric identifier \"{}\"", t.text);
    case TokenType::kNumber:
      return fmt::format("number \"{}\"", t.text);
    case TokenType::kString:
      return fmt::format("string {}", t.text);
    case TokenType::kDuration:
      return fmt::format("duration \"{}\"", t.text);
    default:
      break;
  }
  if (IsOperator(t.type)) return fmt::format("<op:{}>", t.text);
  if (IsAggregator(t.type)) return fmt::format("<aggr:{}>", t.text);
  if (IsKeyword(t.type)) return fmt::format("<{}>", t.text);
  return fmt::format("\"{}\"", t.text);
}

}  // namespace pa::promql
