// The browser when things go wrong: pages that never load or never stop computing, a browser
// killed mid-run, recycling, a missing executable, and no processes left behind.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <thread>

#include "robot/browser/browser_runner.h"
#include "robot/browser/browser_test_util.h"
#include "robot/browser/chromium.h"
#include "robot/browser/test_web_server.h"

namespace pa::robot::browser {
namespace {

using namespace std::chrono_literals;
using testing::Actions;
using testing::Context;
using testing::IsPng;
using testing::TestWebServer;

using Steady = std::chrono::steady_clock;

// Generous: the clean-up after a timeout may take a few seconds on a loaded machine.
constexpr auto kTimeoutMargin = 15s;

class BrowserFailureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    PA_REQUIRE_CHROMIUM();
    server_ = std::make_unique<TestWebServer>();
  }

  // A run of the form page that must succeed (the browser is usable).
  static void ExpectWorkingRun(BrowserRunner& runner, TestWebServer& server) {
    auto out = runner.Run(Actions({synth::NavigateAction{server.Url("/form")},
                                   synth::AssertTextAction{"Order", "h1"}}),
                          Context());
    EXPECT_EQ(out.result.status, synth::StepStatus::kSuccess)
        << out.error_type << ": " << out.result.error_message.value_or("");
  }

  // Nothing of this browser may survive it: not its group, not a helper naming its directory.
  static void ExpectGone(pid_t pid, const std::string& dir) {
    EXPECT_TRUE(ProcessGroupMembers(pid).empty()) << "processes left in group " << pid;
    if (!dir.empty()) {
      EXPECT_TRUE(ProcessesMentioning(dir).empty()) << "helpers of " << dir;
    }
  }

  std::unique_ptr<TestWebServer> server_;
};

TEST_F(BrowserFailureTest, PageThatNeverFinishesLoadingTimesOutAndTheNextRunWorks) {
  Chromium chromium(testing::TestChromiumOptions());
  BrowserRunner runner(&chromium);
  const auto start = Steady::now();
  auto out = runner.Run(Actions({synth::NavigateAction{server_->Url("/hang")}}), Context(3s));
  const auto took = Steady::now() - start;
  EXPECT_EQ(out.error_type, "timeout");
  EXPECT_NE(out.result.error_message->find("/hang"), std::string::npos);
  EXPECT_LT(took, 3s + kTimeoutMargin);
  ASSERT_EQ(out.screenshots.size(), 1u);  // the half-loaded page
  EXPECT_TRUE(IsPng(out.screenshots[0].png));
  ExpectWorkingRun(runner, *server_);
}

TEST_F(BrowserFailureTest, EndlessScriptTimesOutAndTheNextRunWorks) {
  Chromium chromium(testing::TestChromiumOptions());
  BrowserRunner runner(&chromium);
  const auto start = Steady::now();
  auto out = runner.Run(Actions({synth::NavigateAction{server_->Url("/loop")}}), Context(3s));
  EXPECT_EQ(out.error_type, "timeout");
  EXPECT_LT(Steady::now() - start, 3s + kTimeoutMargin);
  // The script is interrupted, so the page can still be photographed.
  ASSERT_EQ(out.screenshots.size(), 1u) << *out.result.error_message;
  EXPECT_TRUE(IsPng(out.screenshots[0].png));
  ExpectWorkingRun(runner, *server_);

  // An endless evaluate is stopped by its own time limit as well.
  auto eval = runner.Run(Actions({synth::NavigateAction{server_->Url("/form")},
                                  synth::EvaluateAction{"for (;;) {}", ""}}),
                         Context(3s));
  EXPECT_EQ(eval.error_type, "timeout");
  ExpectWorkingRun(runner, *server_);
}

TEST_F(BrowserFailureTest, BrowserKilledMidRunFailsThatRunAndIsRestartedForTheNext) {
  Chromium chromium(testing::TestChromiumOptions());
  BrowserRunner runner(&chromium);
  ExpectWorkingRun(runner, *server_);
  const ChromiumStats before = chromium.stats();
  const std::string dir = chromium.directory();
  ASSERT_GT(before.pid, 0);
  EXPECT_EQ(before.restarts, 0);

  std::thread killer([&] {
    // Kill while the browser waits for /slow: the run is in the middle of a navigation.
    if (server_->WaitForRequest("/slow", 1, 30s)) kill(before.pid, SIGKILL);
  });
  auto out = runner.Run(Actions({synth::NavigateAction{server_->Url("/slow")}}), Context(60s));
  killer.join();
  EXPECT_EQ(out.result.status, synth::StepStatus::kError);
  EXPECT_EQ(out.error_type, "other");
  EXPECT_NE(out.result.error_message->find("browser"), std::string::npos)
      << *out.result.error_message;
  EXPECT_LT(out.result.duration_ms, 20000);  // not the 20 s the page would take

  ExpectWorkingRun(runner, *server_);
  const ChromiumStats after = chromium.stats();
  EXPECT_EQ(after.restarts, before.restarts + 1);
  EXPECT_EQ(after.crashes, before.crashes + 1);
  EXPECT_NE(after.pid, before.pid);
  ExpectGone(before.pid, dir);

  const std::string dir2 = chromium.directory();
  chromium.Stop();
  ExpectGone(after.pid, dir2);
}

TEST_F(BrowserFailureTest, BrowserIsRecycledAfterMaxRuns) {
  ChromiumOptions options = testing::TestChromiumOptions();
  options.max_runs = 2;
  Chromium chromium(options);
  BrowserRunner runner(&chromium);
  ExpectWorkingRun(runner, *server_);
  const pid_t first = chromium.stats().pid;
  EXPECT_GT(chromium.MemoryBytes(), 0);
  ExpectWorkingRun(runner, *server_);
  ExpectWorkingRun(runner, *server_);  // on a new browser
  const ChromiumStats stats = chromium.stats();
  EXPECT_EQ(stats.starts, 2);
  EXPECT_EQ(stats.restarts, 1);
  EXPECT_EQ(stats.crashes, 0);
  EXPECT_NE(stats.pid, first);
  EXPECT_TRUE(ProcessGroupMembers(first).empty());
}

TEST_F(BrowserFailureTest, BrowserIsRecycledWhenItUsesTooMuchMemory) {
  ChromiumOptions options = testing::TestChromiumOptions();
  options.max_memory_bytes = 1;  // any browser is over it
  Chromium chromium(options);
  BrowserRunner runner(&chromium);
  ExpectWorkingRun(runner, *server_);
  ExpectWorkingRun(runner, *server_);
  EXPECT_EQ(chromium.stats().restarts, 1);
  EXPECT_EQ(chromium.stats().crashes, 0);
}

TEST_F(BrowserFailureTest, StopLeavesNoProcessesAndTheNextRunStartsAfresh) {
  Chromium chromium(testing::TestChromiumOptions());
  BrowserRunner runner(&chromium);
  ExpectWorkingRun(runner, *server_);
  const pid_t pid = chromium.stats().pid;
  const std::string dir = chromium.directory();
  EXPECT_FALSE(ProcessGroupMembers(pid).empty());
  chromium.Stop();
  ExpectGone(pid, dir);
  EXPECT_FALSE(std::filesystem::exists(dir));
  ExpectWorkingRun(runner, *server_);
  EXPECT_EQ(chromium.stats().restarts, 0);  // a stop is not a crash
  EXPECT_EQ(chromium.stats().starts, 2);
}

TEST(BrowserMissingTest, MissingExecutableFailsTheStepWithAClearMessage) {
  ChromiumOptions options;
  options.executable = "/nonexistent/chromium";
  Chromium chromium(options);
  BrowserRunner runner(&chromium);
  auto out = runner.Run(Actions({synth::NavigateAction{"http://127.0.0.1:1/"}}), Context());
  EXPECT_EQ(out.error_type, "other");
  EXPECT_NE(out.result.error_message->find("/nonexistent/chromium not found"), std::string::npos);
  EXPECT_TRUE(out.screenshots.empty());
}

TEST(ChromiumTest, CommandLineIsHeadlessWithATemporaryProfile) {
  Chromium headless{ChromiumOptions{}};
  auto args = headless.CommandLine("/tmp/x");
  auto has = [&](const std::string& a) {
    return std::find(args.begin(), args.end(), a) != args.end();
  };
  EXPECT_TRUE(has("--headless=new"));
  EXPECT_TRUE(has("--user-data-dir=/tmp/x"));
  EXPECT_TRUE(has("--remote-debugging-port=0"));
  EXPECT_EQ(has("--no-sandbox"), geteuid() == 0);
  Chromium visible{ChromiumOptions{.visible = true}};
  args = visible.CommandLine("/tmp/x");
  EXPECT_FALSE(has("--headless=new"));
}

}  // namespace
}  // namespace pa::robot::browser
