// Parser table: how queries parse (precedence, modifiers, literals) and which are rejected.
#include "promql/syntax/parser.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "promql/syntax/lexer.h"

namespace pa::promql {
namespace {

struct ParseCase {
  const char* query;
  const char* formatted;
};

class ParseValidTest : public ::testing::TestWithParam<ParseCase> {};

TEST_P(ParseValidTest, Formats) {
  auto e = ParseExpr(GetParam().query);
  ASSERT_TRUE(e.ok()) << GetParam().query << ": " << e.status().ToString();
  EXPECT_EQ(Format(**e), GetParam().formatted) << GetParam().query;
}

INSTANTIATE_TEST_SUITE_P(
    Table, ParseValidTest,
    ::testing::Values(
        // Precedence and associativity.
        ParseCase{"1 + 2 * 3", "(1 + (2 * 3))"}, ParseCase{"1 * 2 + 3", "((1 * 2) + 3)"},
        ParseCase{"4 ^ 3 ^ 2", "(4 ^ (3 ^ 2))"}, ParseCase{"10 - 2 - 3", "((10 - 2) - 3)"},
        ParseCase{"-3 ^ 2", "(-(3 ^ 2))"}, ParseCase{"-a * b", "((-a{}) * b{})"},
        ParseCase{"-a ^ b", "(-(a{} ^ b{}))"}, ParseCase{"a ^ -b * c", "((a{} ^ (-b{})) * c{})"},
        ParseCase{"4 / - 5 ^ 2", "(4 / (-(5 ^ 2)))"},
        ParseCase{"a or b and c unless d", "(a{} or ((b{} and c{}) unless d{}))"},
        ParseCase{"a > b + c", "(a{} > (b{} + c{}))"},
        ParseCase{"a == bool b or c", "((a{} == bool b{}) or c{})"},
        ParseCase{"a atan2 b * c", "((a{} atan2 b{}) * c{})"},
        ParseCase{"a % b / c", "((a{} % b{}) / c{})"},
        // Unary minus on literals folds into the number.
        ParseCase{"-1", "-1"}, ParseCase{"- - 1", "1"}, ParseCase{"+1", "1"},
        ParseCase{"-(1)", "(-(1))"},
        // Number literals.
        ParseCase{"0x1F", "31"}, ParseCase{"010", "8"}, ParseCase{"089", "89"},
        ParseCase{"1e3", "1000"}, ParseCase{".5", "0.5"}, ParseCase{"5.", "5"},
        ParseCase{"Inf", "+Inf"}, ParseCase{"-inf", "-Inf"}, ParseCase{"nAn", "NaN"},
        // Strings.
        ParseCase{"\"a\\tb\"", "\"a\tb\""}, ParseCase{"'it\\'s'", "\"it's\""},
        ParseCase{"`raw\\n`", "\"raw\\n\""}, ParseCase{"\"\\u00e9\\x41\\101\"", "\"éAA\""},
        // Selectors and modifiers.
        ParseCase{"foo", "foo{}"}, ParseCase{"foo{a=\"b\",}", "foo{a=\"b\"}"},
        ParseCase{"{__name__=~\"a|b\", x!=\"\"}", "{__name__=~\"a|b\", x!=\"\"}"},
        ParseCase{"foo:bar{on=\"x\"}", "foo:bar{on=\"x\"}"}, ParseCase{"sum", "sum{}"},
        ParseCase{"by{a=\"1\"}", "by{a=\"1\"}"}, ParseCase{"foo offset 5m", "foo{} offset 300s"},
        ParseCase{"foo offset -1h30m", "foo{} offset -5400s"},
        ParseCase{"foo[1h30m] offset 1m", "foo{}[5400s] offset 60s"},
        ParseCase{"foo @ 100", "foo{} @ 100000ms"}, ParseCase{"foo @ -1.5", "foo{} @ -1500ms"},
        ParseCase{"foo @ start() offset 1m", "foo{} offset 60s @ start()"},
        ParseCase{"foo offset 1m @ end()", "foo{} offset 60s @ end()"},
        ParseCase{"foo[5m] @ 1", "foo{}[300s] @ 1000ms"},
        ParseCase{"a + b offset 5m", "(a{} + b{} offset 300s)"},
        ParseCase{"foo[5m:]", "foo{}[300s:]"},
        ParseCase{"foo[5m:1m] offset 2m", "foo{}[300s:60s] offset 120s"},
        ParseCase{"irate(foo[2m])[20m:30s]", "irate(foo{}[120s])[1200s:30s]"},
        ParseCase{"foo[500ms]", "foo{}[500ms]"}, ParseCase{"foo[1y]", "foo{}[31536000s]"},
        // Aggregations.
        ParseCase{"sum by (job) (x)", "sum by (job) (x{})"},
        ParseCase{"sum(x) by (job, instance)", "sum by (instance, job) (x{})"},
        ParseCase{"SUM WITHOUT (a,) (x)", "sum without (a) (x{})"},
        ParseCase{"sum by () (x)", "sum (x{})"},
        ParseCase{"sum without () (x)", "sum without () (x{})"},
        ParseCase{"topk(3, x)", "topk (3, x{})"},
        ParseCase{"count_values(\"v\", x)", "count_values (\"v\", x{})"},
        ParseCase{"sum by (on, by, bool, sum) (x)", "sum by (bool, by, on, sum) (x{})"},
        // Vector matching.
        ParseCase{"a + on(x) b", "(a{} + on(x) b{})"},
        ParseCase{"a + ignoring(x, y) group_left(z) b", "(a{} + ignoring(x, y) group_left(z) b{})"},
        ParseCase{"a > bool on() group_right b", "(a{} > bool on() group_right() b{})"},
        ParseCase{"a and on(x) b", "(a{} and on(x) b{})"},
        // Functions.
        ParseCase{"time()", "time()"}, ParseCase{"round(x)", "round(x{})"},
        ParseCase{"round(x, 0.5)", "round(x{}, 0.5)"},
        ParseCase{"label_join(x, \"d\", \",\", \"a\", \"b\", \"c\")",
                  "label_join(x{}, \"d\", \",\", \"a\", \"b\", \"c\")"},
        ParseCase{"year()", "year()"}, ParseCase{"rate((foo[5m]))", "rate((foo{}[300s]))"},
        ParseCase{"# just a comment\nfoo # and another", "foo{}"}));

struct ErrorCase {
  const char* query;
  const char* message;  // expected substring
};

class ParseErrorTest : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(ParseErrorTest, IsInvalidArgument) {
  auto e = ParseExpr(GetParam().query);
  ASSERT_FALSE(e.ok()) << GetParam().query << " parsed as " << Format(**e);
  EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(e.status().message(), ::testing::HasSubstr(GetParam().message));
}

INSTANTIATE_TEST_SUITE_P(
    Table, ParseErrorTest,
    ::testing::Values(
        ErrorCase{"", "1:1: parse error: no expression found in input"},
        ErrorCase{"1 +", "1:4: parse error: unexpected end of input"},
        ErrorCase{"foo\n  + ", "2:5: parse error: unexpected end of input"},
        ErrorCase{"3 > 1", "comparisons between scalars must use BOOL modifier"},
        ErrorCase{"4 * bool 5", "bool modifier can only be used on comparison operators"},
        ErrorCase{"1 and 2", "set operator \"and\" not allowed in binary scalar expression"},
        ErrorCase{"a and on(x) group_left b", "no grouping allowed for \"and\" operation"},
        ErrorCase{"a + on(x) group_left(x) b", "must not occur in ON and GROUP clause at once"},
        ErrorCase{"2 * ignoring(y) b", "vector matching only allowed between instant vectors"},
        ErrorCase{"a[5m] + 1", "binary expression must contain only scalar and instant vector"},
        ErrorCase{"{}", "vector selector must contain at least one non-empty matcher"},
        ErrorCase{"{a=~\".*\", b=\"\"}", "at least one non-empty matcher"},
        ErrorCase{"foo{__name__=\"bar\"}", "metric name must not be set twice"},
        ErrorCase{"foo{a=~\"(\"}", "error parsing regexp"},
        ErrorCase{"foo{a=~\"(?=x)\"}", "error parsing regexp"},
        ErrorCase{"foo[0s]", "duration must be greater than 0"},
        ErrorCase{"foo[7]", "missing unit character in duration"},
        ErrorCase{"foo[5m5h]", "not a valid duration string"},
        ErrorCase{"foo offset 1m offset 1m", "offset may not be set multiple times"},
        ErrorCase{"foo @ 1 @ 2", "@ <timestamp> may not be set multiple times"},
        ErrorCase{"foo @ 1m", "unexpected duration"},
        ErrorCase{"foo @ Inf", "timestamp out of bounds for @ modifier: +Inf"},
        ErrorCase{"foo offset 1m [5m]", "no offset modifiers allowed before range"},
        ErrorCase{"(foo)[5m]", "ranges only allowed for vector selectors"},
        ErrorCase{"sum(foo) offset 1m", "offset modifier must be preceded by"},
        ErrorCase{"foo[5m][5m:]", "subquery is only allowed on instant vector, got matrix"},
        ErrorCase{"1[5m:]", "subquery is only allowed on instant vector, got scalar"},
        ErrorCase{"irate(bar)", "expected type range vector in call to function \"irate\""},
        ErrorCase{"irate(bar[5m], 2)", "expected 1 argument(s) in call to \"irate\", got 2"},
        ErrorCase{"round()", "expected at least 1 argument(s)"},
        ErrorCase{"round(b, 3, 4)", "expected at most 2 argument(s)"},
        ErrorCase{"label_join(a)", "expected at least 3 argument(s)"},
        ErrorCase{"nope(a)", "unknown function with name \"nope\""},
        ErrorCase{"sum(a, b)", "wrong number of arguments for aggregate expression"},
        ErrorCase{"topk(a)", "wrong number of arguments for aggregate expression"},
        ErrorCase{"sum()", "no arguments for aggregate expression provided"},
        ErrorCase{"topk(\"x\", a)", "expected type scalar in aggregation parameter"},
        ErrorCase{"count_values(1, a)", "expected type string in aggregation parameter"},
        ErrorCase{"sum(a[5m])", "expected type instant vector in aggregation expression"},
        ErrorCase{"sum by (a:b) (x)", "unexpected metric identifier \"a:b\" in grouping opts"},
        ErrorCase{"sum(x,)", "trailing commas not allowed in function call args"},
        ErrorCase{"-\"a\"", "unary expression only allowed on expressions of type scalar"},
        ErrorCase{"bar{x=7}", "unexpected character inside braces: '7'"},
        ErrorCase{"\"\\k\"", "unknown escape sequence U+006B 'k'"},
        ErrorCase{"'abc", "unterminated quoted string"},
        ErrorCase{"7)", "1:3: parse error: unexpected right parenthesis ')'"},
        ErrorCase{"(7", "unclosed left parenthesis"}, ErrorCase{"2e999", "value out of range"},
        ErrorCase{"2.5d", "unexpected duration"}, ErrorCase{"a b", "unexpected identifier \"b\""},
        ErrorCase{"!", "unexpected character"}, ErrorCase{"foo[10m:2m:1m]", "unexpected colon"}));

TEST(ParserTest, RefusesTreesDeeperThanTheLimit) {
  auto nested = [](int n) { return std::string(n, '(') + "1" + std::string(n, ')'); };
  EXPECT_TRUE(ParseExpr(nested(kMaxExprHeight - 2)).ok());
  auto deep = ParseExpr(nested(100000));  // would overflow the stack without the limit
  ASSERT_FALSE(deep.ok());
  EXPECT_THAT(deep.status().message(), ::testing::HasSubstr("nested too deeply"));
  std::string chain = "x";
  for (int i = 0; i < kMaxExprHeight + 5; ++i) chain += " + x";
  auto long_chain = ParseExpr(chain);
  ASSERT_FALSE(long_chain.ok());
  EXPECT_THAT(long_chain.status().message(), ::testing::HasSubstr("nested too deeply"));
  std::string calls = "x";
  for (int i = 0; i < kMaxExprHeight + 5; ++i) calls = "abs(" + calls + ")";
  EXPECT_FALSE(ParseExpr(calls).ok());
}

TEST(LexerTest, KeywordsAreCaseInsensitiveButLabelsInBracesAreNot) {
  auto tokens = Lex("SUM by (x) ({on=\"1\"})");
  ASSERT_GE(tokens.size(), 6u);
  EXPECT_EQ(tokens[0].type, TokenType::kSum);
  EXPECT_EQ(tokens[1].type, TokenType::kBy);
  std::vector<TokenType> in_braces;
  bool open = false;
  for (const auto& t : tokens) {
    if (t.type == TokenType::kLeftBrace) open = true;
    if (open && t.type == TokenType::kIdentifier) in_braces.push_back(t.type);
  }
  EXPECT_EQ(in_braces.size(), 1u);  // "on" is a label name there
  EXPECT_EQ(tokens.back().type, TokenType::kEof);
}

TEST(LexerTest, ErrorEndsTheTokens) {
  auto tokens = Lex("foo{a=~\"x\"} =~ bar");
  EXPECT_EQ(tokens.back().type, TokenType::kError);
  EXPECT_THAT(tokens.back().text, ::testing::HasSubstr("unexpected character after '='"));
}

}  // namespace
}  // namespace pa::promql
