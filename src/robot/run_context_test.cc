// Tests of RunContext (templating, masking) and of the result-text and error helpers.
#include "robot/run_context.h"

#include <gtest/gtest.h>

#include <chrono>
#include <regex>

#include "base/json.h"
#include "base/time_format.h"
#include "robot/step_recorder.h"

namespace pa::robot {
namespace {

TEST(RunContextTest, ExtractedValuesWinOverSecretsOverVariables) {
  RunContext ctx({{"name", "var"}, {"only_var", "v"}}, {{"name", "secret"}, {"only_secret", "s"}});
  bool used_secret = true;
  EXPECT_EQ(*ctx.Substitute("{{only_var}}", &used_secret), "v");
  EXPECT_FALSE(used_secret);
  EXPECT_EQ(*ctx.Substitute("{{name}}", &used_secret), "secret");
  EXPECT_TRUE(used_secret);
  ctx.SetExtracted("name", "extracted");
  EXPECT_EQ(*ctx.Substitute("a-{{name}}-{{only_secret}}-{{only_var}}", &used_secret),
            "a-extracted-s-v");
  EXPECT_TRUE(used_secret);
  EXPECT_EQ(*ctx.Substitute("{{name}}", &used_secret), "extracted");
  EXPECT_FALSE(used_secret);
}

TEST(RunContextTest, UnknownNameIsAnErrorNamingIt) {
  RunContext ctx({{"a", "1"}}, {});
  Result<std::string> r = ctx.Substitute("{{a}}/{{missing_one}}");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "unknown template variable 'missing_one'");
}

TEST(RunContextTest, TextThatIsNotATemplateStaysLiteral) {
  RunContext ctx({{"a", "1"}}, {});
  EXPECT_EQ(*ctx.Substitute("{{ a }} {{1}} {{a} {a}} {{{a}}} }}{{"),
            "{{ a }} {{1}} {{a} {a}} {1} }}{{");
  EXPECT_EQ(*ctx.Substitute(""), "");
  EXPECT_EQ(*ctx.Substitute("no templates"), "no templates");
}

TEST(RunContextTest, SubstitutionIsOnePass) {
  RunContext ctx({}, {{"password", "hunter2"}});
  ctx.SetExtracted("echo", "{{password}}");
  bool used_secret = true;
  EXPECT_EQ(*ctx.Substitute("{{echo}}", &used_secret), "{{password}}");
  EXPECT_FALSE(used_secret);
}

TEST(RunContextTest, Builtins) {
  FakeClock clock;
  RunContext ctx({}, {}, &clock);
  EXPECT_EQ(*ctx.Substitute("{{timestamp}}"), std::to_string(clock.NowMs()));
  EXPECT_EQ(*ctx.Substitute("{{iso_time}}"), FormatRfc3339Ms(clock.NowMs()));
  const std::string a = *ctx.Substitute("{{uuid}}"), b = *ctx.Substitute("{{uuid}}");
  const std::regex uuid("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  EXPECT_TRUE(std::regex_match(a, uuid)) << a;
  EXPECT_NE(a, b);
  for (int i = 0; i < 50; ++i) {
    const std::string n = *ctx.Substitute("{{random_int}}");
    EXPECT_TRUE(std::regex_match(n, std::regex("[0-9]{1,10}"))) << n;
    EXPECT_LE(std::stoll(n), 2147483647);
  }
  // A definition cannot define built-in names, but an extraction could shadow one.
  ctx.SetExtracted("uuid", "fixed");
  EXPECT_EQ(*ctx.Substitute("{{uuid}}"), "fixed");
}

TEST(RunContextTest, MaskReplacesEverySecretRawAndPercentEncodedLongestFirst) {
  RunContext ctx({{"v", "abc"}},
                 {{"short", "abc"}, {"long", "abcdef"}, {"spaced", "p@ss word"}, {"empty", ""}});
  EXPECT_EQ(ctx.Mask("abcdef abc xabcx"), "*** *** x***x");
  EXPECT_EQ(ctx.Mask("u=p%40ss%20word&v=p@ss word"), "u=***&v=***");
  EXPECT_EQ(ctx.Mask("nothing here"), "nothing here");
  EXPECT_TRUE(ctx.ContainsSecret("zzabcdefzz"));
  EXPECT_FALSE(ctx.ContainsSecret("ab cd"));
  RunContext none({}, {});
  EXPECT_EQ(none.Mask("abc"), "abc");
}

TEST(ResultTextTest, MakesValidUtf8AndCutsAtTheLimit) {
  EXPECT_EQ(ResultText("plain", 100), "plain");
  EXPECT_EQ(ResultText("bad\xff", 100), "bad\xEF\xBF\xBD");
  EXPECT_TRUE(IsValidUtf8(ResultText("\xc3\x28 \xe2\x82", 100)));
  const std::string cut = ResultText(std::string(10, 'a') + "\xd0\x96\xd0\x96\xd0\x96", 15);
  EXPECT_LE(cut.size(), 15u);
  EXPECT_TRUE(IsValidUtf8(cut));
  EXPECT_TRUE(cut.ends_with("...")) << cut;
}

TEST(StepRecorderTest, MasksAndBoundsEveryTextAndKeepsTheFirstFailure) {
  RunContext ctx({}, {{"k", "topsecret"}});
  synth::Step step;
  step.name = "step";
  StepRecorder rec(step, 7, {});
  rec.result().http = synth::StepHttp{.method = "GET", .url = "http://h/?k=topsecret"};
  rec.result().details = Json::object({{"note", "topsecret"}, {"n", 3}});
  rec.Assert("a", true, "saw topsecret");
  rec.Fail(StepErrorType::kNetwork, std::string(5000, 'x') + "topsecret");
  rec.Fail(StepErrorType::kTimeout, "later");
  const StepRun run = rec.Finish(ctx);
  EXPECT_EQ(run.error_type, StepErrorType::kNetwork);
  EXPECT_EQ(run.result.status, synth::StepStatus::kError);
  EXPECT_EQ(run.result.index, 7);
  EXPECT_LE(run.result.error_message->size(), 4096u);
  EXPECT_EQ(run.result.http->url, "http://h/?k=***");
  EXPECT_EQ(run.result.assertions[0].message, "saw ***");
  EXPECT_EQ(run.result.details["note"], "***");
  EXPECT_EQ(run.result.details["n"], 3);
  EXPECT_EQ(ToResultError(run).type, "network");
  EXPECT_EQ(ToResultError(run).step_index, 7);
}

TEST(StepErrorTypeTest, WireNames) {
  EXPECT_EQ(StepErrorTypeName(StepErrorType::kAssertion), "assertion");
  EXPECT_EQ(StepErrorTypeName(StepErrorType::kTimeout), "timeout");
  EXPECT_EQ(StepErrorTypeName(StepErrorType::kHttp), "http");
  EXPECT_EQ(StepErrorTypeName(StepErrorType::kNetwork), "network");
  EXPECT_EQ(StepErrorTypeName(StepErrorType::kScript), "script");
  EXPECT_EQ(StepErrorTypeName(StepErrorType::kOther), "other");
}

TEST(StepDeadlineTest, TheEarlierOfTheRunsAndTheStepsOwn) {
  synth::Step step;
  const auto now = std::chrono::steady_clock::now();
  step.timeout_s = 5;
  EXPECT_LE(StepDeadline(step, {.deadline = now + std::chrono::seconds(1)}),
            now + std::chrono::seconds(1));
  const auto own = StepDeadline(step, {.deadline = now + std::chrono::seconds(100)});
  EXPECT_LT(own, now + std::chrono::seconds(6));
  EXPECT_GT(own, now + std::chrono::seconds(4));
  step.timeout_s.reset();
  EXPECT_EQ(StepDeadline(step, {.deadline = now + std::chrono::seconds(100)}),
            now + std::chrono::seconds(100));
  EXPECT_LT(StepDeadline(step, {}), now + std::chrono::seconds(synth::kDefaultTimeoutS + 1));
}

}  // namespace
}  // namespace pa::robot
