// The script runner itself: it must notice wrong expectations, or the testdata prove nothing.
#include "promql/testing/script.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pa::promql::testing {
namespace {

TEST(ScriptRunnerTest, PassesMatchingExpectations) {
  Engine engine;
  const char* script = R"(
load 1m
  up{job="a"} 1 2 _ 4
  up{job="b"} 0+1x3
eval instant at 3m up
  up{job="a"} 4
  up{job="b"} 3
eval instant at 2m sum(up)
  {} 4
eval instant at 1m scalar(up{job="a"})
  2
eval_fail instant at 0 sum(
eval range from 0 to 3m step 1m up{job="a"}
  up{job="a"} 1 2 2 4
)";
  EXPECT_THAT(RunScript(script, engine), ::testing::IsEmpty());
}

TEST(ScriptRunnerTest, ReportsEveryKindOfMismatch) {
  Engine engine;
  const char* script = R"(
load 1m
  up{job="a"} 1 2
eval instant at 1m up
  up{job="a"} 3
eval instant at 1m up
  up{job="b"} 2
eval instant at 1m up
eval_fail instant at 1m up
eval instant at 1m sum(
eval range from 0 to 1m step 1m up
  up{job="a"} 1 3
bogus command
)";
  auto failures = RunScript(script, engine);
  ASSERT_EQ(failures.size(), 7u);
  EXPECT_THAT(failures[0], ::testing::HasSubstr("want 3, got 2"));
  EXPECT_THAT(failures[1], ::testing::HasSubstr("missing"));
  EXPECT_THAT(failures[2], ::testing::HasSubstr("want 0 series, got 1"));
  EXPECT_THAT(failures[3], ::testing::HasSubstr("expected an error"));
  EXPECT_THAT(failures[4], ::testing::HasSubstr("unexpected error"));
  EXPECT_THAT(failures[5], ::testing::HasSubstr("got 1@0 2@60000"));
  EXPECT_THAT(failures[6], ::testing::HasSubstr("unknown command"));
}

}  // namespace
}  // namespace pa::promql::testing
