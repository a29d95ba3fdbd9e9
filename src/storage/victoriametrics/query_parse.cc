// The pure parts of QueryApi: expression classification, error mapping, answer parsing.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include "base/json.h"
#include "promql/syntax/go_compat.h"
#include "storage/victoriametrics/query_api.h"

namespace pa::storage::victoriametrics {
namespace {

// --- A PromQL tokenizer just deep enough to find an expression's top-level operands. ---

enum class Tok { kNumber, kString, kIdent, kLParen, kRParen, kOp, kOther };

struct Token {
  Tok kind;
  std::string_view text;
};

bool IsIdentStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}
bool IsIdentChar(char c) { return IsIdentStart(c) || (c >= '0' && c <= '9'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool EqualsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// Splits `q` into tokens; braces and brackets ({...}, [...]) become one kOther token each.
// False on anything it does not understand (the caller then assumes a vector).
bool Tokenize(std::string_view q, std::vector<Token>* out) {
  size_t i = 0;
  while (i < q.size()) {
    const char c = q[i];
    const size_t start = i;
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      ++i;
      continue;
    }
    if (c == '#') {
      while (i < q.size() && q[i] != '\n') ++i;
      continue;
    }
    if (c == '"' || c == '\'' || c == '`') {
      ++i;
      while (i < q.size() && q[i] != c) {
        if (q[i] == '\\' && c != '`') ++i;
        ++i;
      }
      if (i >= q.size()) return false;
      ++i;
      out->push_back({Tok::kString, q.substr(start, i - start)});
      continue;
    }
    if (IsDigit(c) || (c == '.' && i + 1 < q.size() && IsDigit(q[i + 1]))) {
      const bool hex = q.substr(i, 2) == "0x" || q.substr(i, 2) == "0X";
      while (i < q.size()) {
        const char d = q[i];
        const bool sign = (d == '+' || d == '-') && !hex && (q[i - 1] == 'e' || q[i - 1] == 'E');
        if (!IsIdentChar(d) && d != '.' && !sign) break;
        ++i;
      }
      out->push_back({Tok::kNumber, q.substr(start, i - start)});
      continue;
    }
    if (IsIdentStart(c)) {
      while (i < q.size() && IsIdentChar(q[i])) ++i;
      std::string_view word = q.substr(start, i - start);
      if (EqualsNoCase(word, "inf") || EqualsNoCase(word, "nan")) {
        out->push_back({Tok::kNumber, word});
      } else if (word == "and" || word == "or" || word == "unless" || word == "atan2") {
        out->push_back({Tok::kOp, word});
      } else {
        out->push_back({Tok::kIdent, word});
      }
      continue;
    }
    if (c == '(' || c == ')') {
      out->push_back({c == '(' ? Tok::kLParen : Tok::kRParen, q.substr(i, 1)});
      ++i;
      continue;
    }
    if (c == '{' || c == '[') {
      const char close = c == '{' ? '}' : ']';
      int depth = 0;
      for (; i < q.size(); ++i) {
        if (q[i] == '"' || q[i] == '\'' || q[i] == '`') {
          const char quote = q[i];
          for (++i; i < q.size() && q[i] != quote; ++i) {
            if (q[i] == '\\' && quote != '`') ++i;
          }
          continue;
        }
        if (q[i] == c) ++depth;
        if (q[i] == close && --depth == 0) break;
      }
      if (i >= q.size()) return false;
      ++i;
      out->push_back({Tok::kOther, q.substr(start, i - start)});
      continue;
    }
    static constexpr std::string_view kTwo[] = {"==", "!=", ">=", "<="};
    bool two = false;
    for (auto op : kTwo) {
      if (q.substr(i, 2) == op) two = true;
    }
    if (two) {
      out->push_back({Tok::kOp, q.substr(i, 2)});
      i += 2;
      continue;
    }
    if (std::string_view("+-*/%^<>").find(c) != std::string_view::npos) {
      out->push_back({Tok::kOp, q.substr(i, 1)});
      ++i;
      continue;
    }
    out->push_back({Tok::kOther, q.substr(i, 1)});
    ++i;
  }
  return true;
}

// Index of the ')' matching the '(' at `open`, or npos.
size_t MatchingParen(const std::vector<Token>& t, size_t open, size_t end) {
  int depth = 0;
  for (size_t i = open; i < end; ++i) {
    if (t[i].kind == Tok::kLParen) ++depth;
    if (t[i].kind == Tok::kRParen && --depth == 0) return i;
  }
  return std::string_view::npos;
}

ValueType Classify(const std::vector<Token>& t, size_t begin, size_t end,
                   std::string_view* string_token);

ValueType ClassifyOperand(const std::vector<Token>& t, size_t b, size_t e,
                          std::string_view* string_token) {
  while (b < e && t[b].kind == Tok::kOp && (t[b].text == "+" || t[b].text == "-")) ++b;
  if (b >= e) return ValueType::kVector;
  if (e - b == 1 && t[b].kind == Tok::kNumber) return ValueType::kScalar;
  if (e - b == 1 && t[b].kind == Tok::kString) {
    *string_token = t[b].text;
    return ValueType::kString;
  }
  if (t[b].kind == Tok::kLParen && MatchingParen(t, b, e) == e - 1) {
    return Classify(t, b + 1, e - 1, string_token);
  }
  if (t[b].kind == Tok::kIdent && b + 1 < e && t[b + 1].kind == Tok::kLParen &&
      MatchingParen(t, b + 1, e) == e - 1 &&
      (t[b].text == "scalar" || t[b].text == "time" || t[b].text == "pi")) {
    return ValueType::kScalar;
  }
  return ValueType::kVector;
}

ValueType Classify(const std::vector<Token>& t, size_t begin, size_t end,
                   std::string_view* string_token) {
  std::vector<std::pair<size_t, size_t>> operands;
  size_t operand_start = begin;
  bool expect_operand = true;  // a +/- here is unary
  for (size_t i = begin; i < end; ++i) {
    if (t[i].kind == Tok::kLParen) {
      const size_t close = MatchingParen(t, i, end);
      if (close == std::string_view::npos) return ValueType::kVector;
      i = close;
      expect_operand = false;
      continue;
    }
    if (t[i].kind == Tok::kOp && !expect_operand) {
      operands.emplace_back(operand_start, i);
      size_t j = i + 1;
      // Modifiers between a binary operator and its right operand.
      while (j < end && t[j].kind == Tok::kIdent &&
             (t[j].text == "bool" || t[j].text == "on" || t[j].text == "ignoring" ||
              t[j].text == "group_left" || t[j].text == "group_right")) {
        ++j;
        if (j < end && t[j].kind == Tok::kLParen) {
          const size_t close = MatchingParen(t, j, end);
          if (close == std::string_view::npos) return ValueType::kVector;
          j = close + 1;
        }
      }
      operand_start = j;
      i = j - 1;
      expect_operand = true;
      continue;
    }
    if (t[i].kind != Tok::kOp) expect_operand = false;
  }
  operands.emplace_back(operand_start, end);
  if (operands.size() == 1) {
    return ClassifyOperand(t, operands[0].first, operands[0].second, string_token);
  }
  std::string_view ignored;
  for (const auto& [b, e] : operands) {
    if (ClassifyOperand(t, b, e, &ignored) != ValueType::kScalar) return ValueType::kVector;
  }
  return ValueType::kScalar;
}

// The value of a PromQL (Go) string literal, quotes included in `lit`: what the query answered
// (VictoriaMetrics accepted it, so it is well-formed; the quotes are dropped otherwise).
std::string Unquote(std::string_view lit) {
  return promql::UnquotePromString(lit).value_or(std::string(lit.substr(1, lit.size() - 2)));
}

Result<double> ParseValue(const Json& v) {
  if (!v.is_string()) return InternalError("VictoriaMetrics answered a value that is not a string");
  std::string_view s = v.get_ref<const std::string&>();
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  double d = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
  if (ec != std::errc() || p != s.data() + s.size()) {
    return InternalError("VictoriaMetrics answered a malformed value '" + std::string(s) + "'");
  }
  return d;
}

Result<Sample> ParsePoint(const Json& point) {
  if (!point.is_array() || point.size() != 2 || !point[0].is_number()) {
    return InternalError("VictoriaMetrics answered a malformed [time, value] pair");
  }
  Sample s;
  s.t = std::llround(point[0].get<double>() * 1000.0);
  PA_ASSIGN_OR_RETURN(s.v, ParseValue(point[1]));
  return s;
}

Result<Labels> ParseMetric(const Json& metric) {
  if (!metric.is_object()) return InternalError("VictoriaMetrics answered a malformed metric");
  Labels labels;
  for (const auto& [k, v] : metric.items()) {
    if (!v.is_string()) return InternalError("VictoriaMetrics answered a non-string label value");
    if (!v.get_ref<const std::string&>().empty()) labels.push_back({k, v.get<std::string>()});
  }
  std::sort(labels.begin(), labels.end());
  return labels;
}

bool Contains(std::string_view s, std::string_view part) {
  return s.find(part) != std::string_view::npos;
}

}  // namespace

ValueType ClassifyExpr(std::string_view promql, std::string* string_value) {
  std::vector<Token> tokens;
  if (!Tokenize(promql, &tokens) || tokens.empty()) return ValueType::kVector;
  std::string_view string_token;
  const ValueType type = Classify(tokens, 0, tokens.size(), &string_token);
  if (type == ValueType::kString && string_value) *string_value = Unquote(string_token);
  return type;
}

Status ErrorFromResponse(int http_status, std::string_view body) {
  std::string msg;
  std::string parse_error;
  if (auto j = ParseJson(body, &parse_error);
      j && j->is_object() && j->contains("error") && (*j)["error"].is_string()) {
    msg = (*j)["error"].get<std::string>();
  } else {
    while (!body.empty() && (body.back() == '\n' || body.back() == ' ')) body.remove_suffix(1);
    msg = std::string(body.substr(0, 1000));
  }
  static constexpr std::string_view kLimits[] = {
      "-search.maxUniqueTimeseries",    "-search.maxSamplesPerQuery", "-search.maxSamplesPerSeries",
      "-search.maxPointsPerTimeseries", "-search.maxSeries",          "-search.maxQueryLen",
      "-search.maxMemoryPerQuery",      "-search.maxResponseSeries"};
  for (auto limit : kLimits) {
    if (Contains(msg, limit)) return ResourceExhaustedError("VictoriaMetrics limit: " + msg);
  }
  if (Contains(msg, "-search.maxQueryDuration") || Contains(msg, "timeout") ||
      Contains(msg, "deadline")) {
    return DeadlineExceededError("VictoriaMetrics: " + msg);
  }
  if ((http_status == 400 || http_status == 422) && !Contains(msg, "unsupported path")) {
    return InvalidArgumentError(msg);
  }
  if (http_status == 401 || http_status == 403) {
    return PermissionDeniedError("VictoriaMetrics refused access (HTTP " +
                                 std::to_string(http_status) + "): " + msg);
  }
  return UnavailableError("VictoriaMetrics answered HTTP " + std::to_string(http_status) + ": " +
                          msg);
}

Result<QueryValue> ParseQueryData(const Json& data) {
  if (!data.is_object() || !data.contains("resultType") || !data["resultType"].is_string() ||
      !data.contains("result")) {
    return InternalError("VictoriaMetrics answered without resultType/result");
  }
  const std::string& type = data["resultType"].get_ref<const std::string&>();
  const Json& result = data["result"];
  QueryValue out;
  if (type == "scalar" || type == "string") {
    out.type = type == "scalar" ? ValueType::kScalar : ValueType::kString;
    if (!result.is_array() || result.size() != 2 || !result[0].is_number() ||
        !result[1].is_string()) {
      return InternalError("VictoriaMetrics answered a malformed " + type);
    }
    out.scalar.t = std::llround(result[0].get<double>() * 1000.0);
    if (out.type == ValueType::kScalar) {
      PA_ASSIGN_OR_RETURN(out.scalar.v, ParseValue(result[1]));
    } else {
      out.string_value = result[1].get<std::string>();
    }
    return out;
  }
  if (type != "vector" && type != "matrix") {
    return InternalError("VictoriaMetrics answered an unknown resultType '" + type + "'");
  }
  out.type = type == "vector" ? ValueType::kVector : ValueType::kMatrix;
  if (!result.is_array()) return InternalError("VictoriaMetrics answered a malformed " + type);
  out.series.reserve(result.size());
  for (const auto& item : result) {
    if (!item.is_object() || !item.contains("metric")) {
      return InternalError("VictoriaMetrics answered a malformed " + type);
    }
    SeriesPoints sp;
    PA_ASSIGN_OR_RETURN(sp.labels, ParseMetric(item["metric"]));
    if (out.type == ValueType::kVector) {
      if (!item.contains("value")) return InternalError("VictoriaMetrics answered no value");
      PA_ASSIGN_OR_RETURN(Sample s, ParsePoint(item["value"]));
      sp.points.push_back(s);
    } else {
      if (!item.contains("values") || !item["values"].is_array()) {
        return InternalError("VictoriaMetrics answered no values");
      }
      sp.points.reserve(item["values"].size());
      for (const auto& p : item["values"]) {
        PA_ASSIGN_OR_RETURN(Sample s, ParsePoint(p));
        sp.points.push_back(s);
      }
    }
    out.series.push_back(std::move(sp));
  }
  std::sort(out.series.begin(), out.series.end(),
            [](const SeriesPoints& a, const SeriesPoints& b) { return a.labels < b.labels; });
  return out;
}

std::string MatchersToSelector(const MatcherSet& matchers) {
  std::string out = "{";
  for (size_t i = 0; i < matchers.size(); ++i) {
    const LabelMatcher& m = matchers[i];
    if (i > 0) out += ',';
    out += m.name;
    switch (m.op) {
      case LabelMatcher::Op::kEqual:
        out += "=";
        break;
      case LabelMatcher::Op::kNotEqual:
        out += "!=";
        break;
      case LabelMatcher::Op::kRegexMatch:
        out += "=~";
        break;
      case LabelMatcher::Op::kRegexNoMatch:
        out += "!~";
        break;
    }
    // A JSON string literal is a valid PromQL (Go) one: the same escapes, \u00XX for the rest
    // of the control characters. (Label values are valid UTF-8, see NormalizeLabels.)
    AppendJsonString(out, m.value);
  }
  out += '}';
  return out;
}

std::string FormatSeconds(int64_t ms) {
  const bool negative = ms < 0;
  // Avoids overflow at INT64_MIN by working in unsigned.
  const uint64_t abs =
      negative ? uint64_t{0} - static_cast<uint64_t>(ms) : static_cast<uint64_t>(ms);
  std::string frac = std::to_string(abs % 1000);
  frac.insert(0, 3 - frac.size(), '0');
  return (negative ? "-" : "") + std::to_string(abs / 1000) + "." + frac;
}

}  // namespace pa::storage::victoriametrics
