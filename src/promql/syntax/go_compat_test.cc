// Go and Prometheus library behaviour reproduced in go_compat and go_regex.
#include "promql/syntax/go_compat.h"

#include <cmath>
#include <limits>

#include "base/go_regex.h"
#include "gtest/gtest.h"

namespace pa::promql {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

TEST(GoCompatTest, FormatFloatLikeStrconvF) {
  EXPECT_EQ(FormatGoFloat(0), "0");
  EXPECT_EQ(FormatGoFloat(-0.0), "-0");
  EXPECT_EQ(FormatGoFloat(1), "1");
  EXPECT_EQ(FormatGoFloat(0.1), "0.1");
  EXPECT_EQ(FormatGoFloat(1.5e-7), "0.00000015");
  EXPECT_EQ(FormatGoFloat(1e21), "1000000000000000000000");
  EXPECT_EQ(FormatGoFloat(9.988e+20), "998800000000000000000");
  EXPECT_EQ(FormatGoFloat(-123.456), "-123.456");
  EXPECT_EQ(FormatGoFloat(1.0 / 3), "0.3333333333333333");
  EXPECT_EQ(FormatGoFloat(kInf), "+Inf");
  EXPECT_EQ(FormatGoFloat(-kInf), "-Inf");
  EXPECT_EQ(FormatGoFloat(std::nan("")), "NaN");
}

TEST(GoCompatTest, ParseFloatLikeStrconv) {
  EXPECT_EQ(ParseGoFloat("1.5"), 1.5);
  EXPECT_EQ(ParseGoFloat("+Inf"), kInf);
  EXPECT_EQ(ParseGoFloat("-infinity"), -kInf);
  EXPECT_TRUE(std::isnan(*ParseGoFloat("NaN")));
  EXPECT_EQ(ParseGoFloat("0x1p-2"), 0.25);
  EXPECT_EQ(ParseGoFloat("1e-400"), 0);  // underflow is not an error
  EXPECT_EQ(ParseGoFloat(".5"), 0.5);
  bool out_of_range = false;
  EXPECT_FALSE(ParseGoFloat("1e400", &out_of_range).has_value());
  EXPECT_TRUE(out_of_range);
  for (const char* bad : {"", "+nan", "0x10", "1_0", " 1", "1e", "abc", "inff"}) {
    EXPECT_FALSE(ParseGoFloat(bad).has_value()) << bad;
  }
}

TEST(GoCompatTest, NumberLiteralsUseParseIntBaseZeroFirst) {
  EXPECT_EQ(ParseNumberLiteral("0x1f"), 31);
  EXPECT_EQ(ParseNumberLiteral("0755"), 493);
  EXPECT_EQ(ParseNumberLiteral("0789"), 789);  // not octal: parsed as a float
  EXPECT_EQ(ParseNumberLiteral("99999999999999999999"), 1e20);
  EXPECT_FALSE(ParseNumberLiteral("0x").has_value());
}

TEST(GoCompatTest, DurationsLikeModelParseDuration) {
  EXPECT_EQ(ParsePromDuration("1h30m"), 5400000);
  EXPECT_EQ(ParsePromDuration("2y3w1d5h4m3s250ms"),
            ((((730LL + 21 + 1) * 24 + 5) * 60 + 4) * 60 + 3) * 1000 + 250);
  EXPECT_EQ(ParsePromDuration("500ms"), 500);
  EXPECT_EQ(ParsePromDuration("0"), 0);
  for (const char* bad : {"", "30m1h", "1h1h", "1.5h", "5", "1hs", "-1m", "99999999999y"}) {
    EXPECT_FALSE(ParsePromDuration(bad).has_value()) << bad;
  }
}

TEST(GoCompatTest, UnquoteLikeStrutil) {
  EXPECT_EQ(UnquotePromString("\"a\\n\\\"b\""), "a\n\"b");
  EXPECT_EQ(UnquotePromString("'it\\'s'"), "it's");
  EXPECT_EQ(UnquotePromString("`a\\nb`"), "a\\nb");
  EXPECT_EQ(UnquotePromString("\"\\u00e9\""), "é");
  EXPECT_EQ(UnquotePromString("\"\\377\""), "\xff");
  EXPECT_FALSE(UnquotePromString("\"\\'\"").has_value());
  EXPECT_FALSE(UnquotePromString("\"a").has_value());
}

TEST(GoCompatTest, MathCornerCases) {
  EXPECT_TRUE(std::isnan(GoMax(1, std::nan(""))));
  EXPECT_EQ(GoMax(kInf, std::nan("")), kInf);
  EXPECT_FALSE(std::signbit(GoMax(-0.0, 0.0)));
  EXPECT_TRUE(std::signbit(GoMin(0.0, -0.0)));
  EXPECT_EQ(GoLog2(1024), 10);
  EXPECT_EQ(GoLog2(0.125), -3);
  EXPECT_EQ(GoFloatToInt64(std::nan("")), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(GoFloatToInt64(-2.7), -2);
}

TEST(GoRegexTest, FullMatchIsAnchored) {
  auto re = GoRegex::Compile("a|b.");
  ASSERT_TRUE(re.ok());
  EXPECT_TRUE(re->FullMatch("a"));
  EXPECT_TRUE(re->FullMatch("bc"));
  EXPECT_FALSE(re->FullMatch("ab"));
  EXPECT_FALSE(re->FullMatch("b\n"));  // '.' does not match a newline without (?s)
  EXPECT_TRUE(GoRegex::Compile("(?s)b.")->FullMatch("b\n"));
  EXPECT_TRUE(GoRegex::Compile("(?i)ABC")->FullMatch("abc"));
  EXPECT_TRUE(GoRegex::Compile("a(?i)bc")->FullMatch("aBC"));
  EXPECT_TRUE(GoRegex::Compile("")->FullMatch(""));
  EXPECT_TRUE(GoRegex::Compile("x{2}")->FullMatch("xx"));
  EXPECT_TRUE(GoRegex::Compile("[[:alpha:]_]+\\z")->FullMatch("ab_c"));
  EXPECT_TRUE(GoRegex::Compile("\\Qa.b\\E")->FullMatch("a.b"));
  EXPECT_FALSE(GoRegex::Compile("\\Qa.b\\E")->FullMatch("axb"));
  EXPECT_TRUE(GoRegex::Compile("\\pL+")->FullMatch("Äbc"));
}

TEST(GoRegexTest, MatchesUtf8CharactersNotBytes) {
  EXPECT_TRUE(GoRegex::Compile("K.che")->FullMatch("Küche"));
  EXPECT_TRUE(GoRegex::Compile("..")->FullMatch("Bü"));
  EXPECT_TRUE(GoRegex::Compile("[^ü]b")->FullMatch("€b"));
  EXPECT_TRUE(GoRegex::Compile("ü+")->FullMatch("üü"));
  EXPECT_TRUE(GoRegex::Compile("(?i)ÜBER")->FullMatch("über"));
  EXPECT_EQ(GoRegex::Compile("(.).*")->Replace("Übung", "$1"), "Ü");
}

TEST(GoRegexTest, LongInputsAreSafe) {
  // std::regex recurses per character and overflows the stack long before this.
  const std::string value(1000000, 'a');
  EXPECT_TRUE(GoRegex::Compile(".*")->FullMatch(value));
  EXPECT_EQ(GoRegex::Compile("(a*)")->Replace(value, "$1")->size(), value.size());
}

TEST(GoRegexTest, RefusesWhatGoRefuses) {
  for (const char* bad : {"(?=a)", "(a)\\1", "(", "a{1001}", "[z-a]", "*"}) {
    auto re = GoRegex::Compile(bad);
    EXPECT_EQ(re.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(re.status().message().find("error parsing regexp"), std::string::npos) << bad;
  }
}

TEST(GoRegexTest, ReplaceExpandsLikeGo) {
  auto re = GoRegex::Compile("(?P<first>[a-z]+)-(\\d+)");
  ASSERT_TRUE(re.ok());
  EXPECT_EQ(re->Replace("ab-12", "$2:$1"), "12:ab");
  EXPECT_EQ(re->Replace("ab-12", "${first}x"), "abx");
  EXPECT_EQ(re->Replace("ab-12", "$firstx"), "");  // the name "firstx" does not exist
  EXPECT_EQ(re->Replace("ab-12", "$1x"), "");      // "1x" is a name, not group 1
  EXPECT_EQ(re->Replace("ab-12", "$$1 $"), "$1 $");
  EXPECT_EQ(re->Replace("ab-12", "${1"), "${1");
  EXPECT_EQ(re->Replace("ab-12", "$0"), "ab-12");
  EXPECT_EQ(re->Replace("ab-12", "$9"), "");
  EXPECT_FALSE(re->Replace("ab-", "$1").has_value());
}

}  // namespace
}  // namespace pa::promql
