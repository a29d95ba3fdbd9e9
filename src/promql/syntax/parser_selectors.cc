// Selectors and the modifiers that follow a primary expression: [range], [range:step],
// offset, @.
#include <cmath>

#include "base/go_regex.h"
#include "fmt/format.h"
#include "promql/syntax/go_compat.h"
#include "promql/syntax/parser_impl.h"

namespace pa::promql {

Result<double> Parser::Number(const Token& t) const {
  if (auto v = ParseNumberLiteral(t.text)) return *v;
  bool out_of_range = false;
  ParseGoFloat(t.text, &out_of_range);
  return Error(t.pos, fmt::format("error parsing number: strconv.ParseFloat: parsing \"{}\": {}",
                                  t.text, out_of_range ? "value out of range" : "invalid syntax"));
}

Result<int64_t> Parser::ParseDurationToken() {
  const Token& t = Peek();
  if (t.type != TokenType::kDuration) return Unexpected("", "duration");
  Consume();
  auto d = ParsePromDuration(t.text);
  if (!d) return Error(t.pos, fmt::format("not a valid duration string: \"{}\"", t.text));
  if (*d == 0) return Error(t.pos, "duration must be greater than 0");
  return *d;
}

Result<ExprPtr> Parser::ParseVectorSelector(int pos, const std::string& name) {
  auto vs = std::make_unique<VectorSelector>(pos);
  vs->name = name;
  if (Peek().type == TokenType::kLeftBrace) {
    Consume();
    while (Peek().type != TokenType::kRightBrace) {
      PA_RETURN_IF_ERROR(ParseLabelMatcher(vs.get()));
      if (Peek().type == TokenType::kComma) {
        Consume();
      } else if (Peek().type != TokenType::kRightBrace) {
        return Unexpected("label matching", "\",\" or \"}\"");
      }
    }
    Consume();
  }
  if (!name.empty()) {
    vs->matchers.push_back(storage::LabelMatcher{storage::LabelMatcher::Op::kEqual,
                                                 std::string(storage::kMetricNameLabel), name});
  }
  return ExprPtr(std::move(vs));
}

Status Parser::ParseLabelMatcher(VectorSelector* vs) {
  const Token& name = Peek();
  if (name.type != TokenType::kIdentifier) {
    return Unexpected("label matching", "identifier or \"}\"");
  }
  Consume();
  storage::LabelMatcher m;
  m.name = name.text;
  switch (Peek().type) {
    case TokenType::kAssign:
      m.op = storage::LabelMatcher::Op::kEqual;
      break;
    case TokenType::kNeq:
      m.op = storage::LabelMatcher::Op::kNotEqual;
      break;
    case TokenType::kEqlRegex:
      m.op = storage::LabelMatcher::Op::kRegexMatch;
      break;
    case TokenType::kNeqRegex:
      m.op = storage::LabelMatcher::Op::kRegexNoMatch;
      break;
    default:
      return Unexpected("label matching", "label matching operator");
  }
  Consume();
  const Token& value = Peek();
  if (value.type != TokenType::kString) return Unexpected("label matching", "string");
  Consume();
  auto unquoted = UnquotePromString(value.text);
  if (!unquoted) return Error(value.pos, "invalid syntax");
  m.value = std::move(*unquoted);
  if (m.op == storage::LabelMatcher::Op::kRegexMatch ||
      m.op == storage::LabelMatcher::Op::kRegexNoMatch) {
    auto re = GoRegex::Compile(m.value);
    if (!re.ok()) {
      if (re.status().code() == StatusCode::kUnimplemented) return re.status();
      return Error(name.pos, re.status().message());
    }
  }
  vs->matchers.push_back(std::move(m));
  return Status::Ok();
}

Result<ExprPtr> Parser::ParsePostfix(ExprPtr e) {
  while (true) {
    const Token& t = Peek();
    if (t.type == TokenType::kLeftBracket) {
      PA_ASSIGN_OR_RETURN(e, ParseRangeOrSubquery(std::move(e)));
    } else if (t.type == TokenType::kOffset) {
      PA_RETURN_IF_ERROR(ParseOffset(e.get()));
    } else if (t.type == TokenType::kAt) {
      PA_RETURN_IF_ERROR(ParseAt(e.get()));
    } else {
      return e;
    }
  }
}

Result<ExprPtr> Parser::ParseRangeOrSubquery(ExprPtr e) {
  const Token& open = Consume();
  if (Peek().type != TokenType::kDuration) return Unexpected("subquery selector", "duration");
  PA_ASSIGN_OR_RETURN(const int64_t range, ParseDurationToken());
  if (Peek().type == TokenType::kRightBracket) {
    Consume();
    if (e->kind != NodeKind::kVectorSelector) {
      return Error(open.pos, "ranges only allowed for vector selectors");
    }
    auto* vs = static_cast<VectorSelector*>(e.get());
    if (vs->offset_ms != 0) return Error(open.pos, "no offset modifiers allowed before range");
    if (vs->at.set()) return Error(open.pos, "no @ modifiers allowed before range");
    const int pos = e->pos;
    std::unique_ptr<VectorSelector> owned(static_cast<VectorSelector*>(e.release()));
    return ExprPtr(std::make_unique<MatrixSelector>(pos, std::move(owned), range));
  }
  if (Peek().type != TokenType::kColon) return Unexpected("subquery or range", "\":\" or \"]\"");
  Consume();
  int64_t step = 0;
  if (Peek().type == TokenType::kDuration) {
    PA_ASSIGN_OR_RETURN(step, ParseDurationToken());
  }
  if (Peek().type != TokenType::kRightBracket) {
    return Unexpected("subquery selector", step == 0 ? "duration or \"]\"" : "\"]\"");
  }
  Consume();
  const int pos = e->pos;
  auto sq = std::make_unique<Subquery>(pos, std::move(e), range, step);
  PA_RETURN_IF_ERROR(SetHeight(sq.get(), {sq->expr.get()}));
  return ExprPtr(std::move(sq));
}

Status Parser::ParseOffset(Expr* e) {
  Consume();
  bool negative = false;
  if (Peek().type == TokenType::kSub) {
    Consume();
    negative = true;
  }
  if (Peek().type != TokenType::kDuration) return Unexpected("offset", "duration");
  PA_ASSIGN_OR_RETURN(int64_t d, ParseDurationToken());
  if (negative) d = -d;
  int64_t* target = nullptr;
  switch (e->kind) {
    case NodeKind::kVectorSelector:
      target = &static_cast<VectorSelector*>(e)->offset_ms;
      break;
    case NodeKind::kMatrixSelector:
      target = &static_cast<MatrixSelector*>(e)->selector->offset_ms;
      break;
    case NodeKind::kSubquery:
      target = &static_cast<Subquery*>(e)->offset_ms;
      break;
    default:
      return Error(e->pos,
                   "offset modifier must be preceded by an instant vector selector or range "
                   "vector selector or a subquery");
  }
  if (*target != 0) return Error(e->pos, "offset may not be set multiple times");
  *target = d;
  return Status::Ok();
}

Status Parser::ParseAt(Expr* e) {
  Consume();
  AtModifier at;
  const Token& t = Peek();
  if (t.type == TokenType::kStart || t.type == TokenType::kEnd) {
    Consume();
    PA_RETURN_IF_ERROR(Expect(TokenType::kLeftParen, "@", "\"(\""));
    PA_RETURN_IF_ERROR(Expect(TokenType::kRightParen, "@", "\")\""));
    at.kind = t.type == TokenType::kStart ? AtModifier::Kind::kStart : AtModifier::Kind::kEnd;
  } else {
    bool negative = false;
    if (t.type == TokenType::kAdd || t.type == TokenType::kSub) {
      negative = t.type == TokenType::kSub;
      Consume();
    }
    const Token& num = Peek();
    if (num.type != TokenType::kNumber) return Unexpected("@", "timestamp");
    Consume();
    PA_ASSIGN_OR_RETURN(double v, Number(num));
    const double ts = negative ? -v : v;
    // Prometheus's bound is the int64 range of the seconds value; ours keeps the millisecond
    // arithmetic of evaluation from overflowing (±2^62 ms, 146 million years).
    if (std::isnan(ts) || std::isinf(ts) || ts >= 9.223372036854775807e18 ||
        ts <= -9.223372036854775808e18 || std::fabs(ts) * 1000 > 4.611686018427387904e18) {
      const std::string shown = std::isnan(ts)   ? "NaN"
                                : std::isinf(ts) ? (ts > 0 ? "+Inf" : "-Inf")
                                                 : fmt::format("{:f}", ts);
      return Error(e->pos, fmt::format("timestamp out of bounds for @ modifier: {}", shown));
    }
    at.kind = AtModifier::Kind::kTimestamp;
    at.timestamp_ms = GoFloatToInt64(std::round(ts * 1000));
  }
  AtModifier* target = nullptr;
  switch (e->kind) {
    case NodeKind::kVectorSelector:
      target = &static_cast<VectorSelector*>(e)->at;
      break;
    case NodeKind::kMatrixSelector:
      target = &static_cast<MatrixSelector*>(e)->selector->at;
      break;
    case NodeKind::kSubquery:
      target = &static_cast<Subquery*>(e)->at;
      break;
    default:
      return Error(e->pos,
                   "@ modifier must be preceded by an instant vector selector or range vector "
                   "selector or a subquery");
  }
  if (target->set()) return Error(e->pos, "@ <timestamp> may not be set multiple times");
  *target = at;
  return Status::Ok();
}

}  // namespace pa::promql
