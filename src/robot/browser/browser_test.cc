// The browser step against real Chromium and an in-process web server: every action, the
// timings and web vitals, assertions and their screenshots, templating, isolation of runs.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>

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

class BrowserRunnerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!testing::ChromiumMissing().empty()) return;
    server_ = new TestWebServer();
    chromium_ = new Chromium(testing::TestChromiumOptions());
  }
  static void TearDownTestSuite() {
    const pid_t pid = chromium_ != nullptr ? chromium_->stats().pid : 0;
    delete chromium_;
    chromium_ = nullptr;
    delete server_;
    server_ = nullptr;
    EXPECT_TRUE(ProcessGroupMembers(pid).empty()) << "chromium processes left behind";
  }
  void SetUp() override { PA_REQUIRE_CHROMIUM(); }

  BrowserStepOutcome Run(std::vector<synth::BrowserAction> actions,
                         BrowserStepContext context = Context()) {
    BrowserRunner runner(chromium_);
    return runner.Run(Actions(std::move(actions)), context);
  }
  static std::string Url(const std::string& path) { return server_->Url(path); }

  static TestWebServer* server_;
  static Chromium* chromium_;
};

TestWebServer* BrowserRunnerTest::server_ = nullptr;
Chromium* BrowserRunnerTest::chromium_ = nullptr;

#define EXPECT_SUCCESS(out)                                   \
  EXPECT_EQ((out).result.status, synth::StepStatus::kSuccess) \
      << (out).error_type << ": " << (out).result.error_message.value_or("")

TEST_F(BrowserRunnerTest, FormJourneyFillsSelectsClicksAndAsserts) {
  auto out = Run({
      synth::NavigateAction{Url("/form")},
      synth::FillAction{"input[name=q]", "чайник"},
      synth::SelectAction{"select#country", "RU"},
      synth::ClickAction{"button#go"},
      synth::WaitForSelectorAction{"h1", 5000},
      synth::AssertTextAction{"Hello чайник from RU", "h1"},
      synth::AssertUrlAction{"/result"},
      synth::EvaluateAction{"document.title", "title"},
  });
  EXPECT_SUCCESS(out);
  ASSERT_EQ(out.result.assertions.size(), 2u);
  EXPECT_EQ(out.result.assertions[0].type, "text");
  EXPECT_TRUE(out.result.assertions[0].passed);
  EXPECT_EQ(out.result.assertions[1].type, "url");
  EXPECT_TRUE(out.result.assertions[1].passed);
  EXPECT_EQ(out.variables["title"], "Result");
  EXPECT_FALSE(out.result.screenshot.has_value());
  EXPECT_TRUE(out.screenshots.empty());
  // The timings are the result page's (the last navigation).
  const auto& t = out.result.timings;
  ASSERT_TRUE(t.ttfb_ms && t.dom_content_loaded_ms && t.load_ms);
  EXPECT_LE(*t.ttfb_ms, *t.dom_content_loaded_ms);
  EXPECT_LE(*t.dom_content_loaded_ms, *t.load_ms);
  ASSERT_TRUE(out.result.http.has_value());
  EXPECT_EQ(out.result.http->status_code, 200);
  EXPECT_NE(out.result.details["url"].get<std::string>().find("/result?q="), std::string::npos);
  EXPECT_EQ(out.result.details["navigations"], 2);
  EXPECT_GE(out.result.finished_at_ms, out.result.started_at_ms);
}

TEST_F(BrowserRunnerTest, PressEnterSubmitsTheForm) {
  auto out = Run({
      synth::NavigateAction{Url("/form")},
      synth::FillAction{"#q", "kettle"},
      synth::PressAction{"Enter"},
      synth::AssertUrlAction{"q=kettle"},
      synth::AssertTextAction{"Hello kettle from FR", ""},
  });
  EXPECT_SUCCESS(out);
}

TEST_F(BrowserRunnerTest, TextSelectorClicksTheElementWithThatText) {
  auto out = Run({
      synth::NavigateAction{Url("/form")},
      synth::ClickAction{"text=Add to cart"},
      synth::AssertTextAction{"Clicked!", "#msg"},
  });
  EXPECT_SUCCESS(out);
  // The click was an interaction: INP is measured.
  EXPECT_TRUE(out.result.timings.inp_ms.has_value());
}

TEST_F(BrowserRunnerTest, FollowsRedirectsAndWaitsForSlowPages) {
  auto out = Run({
      synth::NavigateAction{Url("/redirect")},
      synth::AssertUrlAction{"/form"},
      synth::NavigateAction{Url("/delayed")},
      synth::AssertTextAction{"Delayed page", "h1"},
  });
  EXPECT_SUCCESS(out);
  ASSERT_TRUE(out.result.timings.ttfb_ms.has_value());
  EXPECT_GE(*out.result.timings.ttfb_ms, 300);  // the server answers after 300 ms
}

TEST_F(BrowserRunnerTest, WaitsForTextAndSelectorsThatAppearLater) {
  auto out = Run({
      synth::NavigateAction{Url("/changing")},
      synth::WaitForTextAction{"Ready now", 10000},
      synth::WaitForSelectorAction{".done", std::nullopt},
      synth::AssertTextAction{"Ready now", "#status"},
  });
  EXPECT_SUCCESS(out);
}

TEST_F(BrowserRunnerTest, WaitForTextTimesOutWithAScreenshot) {
  auto out = Run({
      synth::NavigateAction{Url("/changing")},
      synth::WaitForTextAction{"Never shown", 500},
  });
  EXPECT_EQ(out.result.status, synth::StepStatus::kError);
  EXPECT_EQ(out.error_type, "timeout");
  EXPECT_NE(out.result.error_message->find("Never shown"), std::string::npos);
  ASSERT_EQ(out.screenshots.size(), 1u);
  EXPECT_TRUE(IsPng(out.screenshots[0].png));
  EXPECT_EQ(out.result.screenshot, "step-0.png");
}

TEST_F(BrowserRunnerTest, FailedAssertionCarriesAPngScreenshot) {
  auto out = Run({
      synth::NavigateAction{Url("/form")}, synth::AssertTextAction{"Спасибо", "h1"},
      synth::ClickAction{"button#go"},  // not reached
  });
  EXPECT_EQ(out.result.status, synth::StepStatus::kError);
  EXPECT_EQ(out.error_type, "assertion");
  EXPECT_EQ(*out.result.error_message, "action 1 (assert_text): text 'Спасибо' not found in h1");
  ASSERT_EQ(out.result.assertions.size(), 1u);
  EXPECT_FALSE(out.result.assertions[0].passed);
  ASSERT_EQ(out.screenshots.size(), 1u);
  EXPECT_TRUE(IsPng(out.screenshots[0].png));
  EXPECT_EQ(out.result.screenshot, out.screenshots[0].filename);
  EXPECT_EQ(out.result.details["navigations"], 1);  // the click did not run
}

TEST_F(BrowserRunnerTest, MissingElementFailsAfterTheActionTimeout) {
  BrowserRunner runner(chromium_, {.action_timeout = 500ms});
  auto out = runner.Run(
      Actions({synth::NavigateAction{Url("/form")}, synth::ClickAction{"#does-not-exist"}}),
      Context());
  EXPECT_EQ(out.error_type, "timeout");
  EXPECT_NE(out.result.error_message->find("#does-not-exist"), std::string::npos);
  EXPECT_EQ(out.screenshots.size(), 1u);
}

TEST_F(BrowserRunnerTest, ScreenshotActionsAreNamedAndReturned) {
  auto out = Run({
      synth::NavigateAction{Url("/form")},
      synth::ScreenshotAction{"after pay"},
      synth::ScreenshotAction{""},
  });
  EXPECT_SUCCESS(out);
  ASSERT_EQ(out.screenshots.size(), 2u);
  EXPECT_EQ(out.screenshots[0].filename, "step-0-after-pay.png");
  EXPECT_EQ(out.screenshots[1].filename, "step-0-shot-2.png");
  EXPECT_TRUE(IsPng(out.screenshots[0].png));
  EXPECT_EQ(out.result.screenshot, "step-0-shot-2.png");
  EXPECT_EQ(out.result.details["screenshots"], "step-0-after-pay.png,step-0-shot-2.png");
}

TEST_F(BrowserRunnerTest, ReportsLargestContentfulPaint) {
  auto out = Run({synth::NavigateAction{Url("/lcp")}, synth::SleepAction{200}});
  EXPECT_SUCCESS(out);
  ASSERT_TRUE(out.result.timings.lcp_ms.has_value());
  EXPECT_GT(*out.result.timings.lcp_ms, 0);
  EXPECT_FALSE(out.result.timings.inp_ms.has_value());  // no interaction
}

TEST_F(BrowserRunnerTest, ReportsCumulativeLayoutShift) {
  auto out = Run(
      {synth::NavigateAction{Url("/shift")}, synth::WaitForSelectorAction{"#shift-done", 10000}});
  EXPECT_SUCCESS(out);
  ASSERT_TRUE(out.result.timings.cls.has_value());
  EXPECT_GT(*out.result.timings.cls, 0);

  auto still = Run({synth::NavigateAction{Url("/form")}});
  ASSERT_TRUE(still.result.timings.cls.has_value());
  EXPECT_EQ(*still.result.timings.cls, 0);
}

TEST_F(BrowserRunnerTest, ExpandsTemplatesAndStepVariables) {
  auto expand = [&](std::string_view text) -> Result<std::string> {
    std::string s(text);
    for (size_t p; (p = s.find("{{base}}")) != std::string::npos;) s.replace(p, 8, Url(""));
    if (s.find("{{") != std::string::npos) return InvalidArgumentError("unknown template in " + s);
    return s;
  };
  auto out = Run(
      {
          synth::NavigateAction{"{{base}}/form"},
          synth::EvaluateAction{"document.querySelector('h1').textContent", "heading"},
          synth::AssertTextAction{"{{heading}}", "h1"},
      },
      Context(30s, expand));
  EXPECT_SUCCESS(out);
  EXPECT_EQ(out.variables["heading"], "Order");

  auto unknown = Run({synth::NavigateAction{"{{nope}}/form"}}, Context(30s, expand));
  EXPECT_EQ(unknown.error_type, "script");
  EXPECT_NE(unknown.result.error_message->find("unknown template"), std::string::npos);
}

TEST_F(BrowserRunnerTest, ScriptErrorsAndBadSelectorsAreScriptFailures) {
  auto thrown = Run({synth::NavigateAction{Url("/form")},
                     synth::EvaluateAction{"(() => { throw new Error('boom'); })()", ""}});
  EXPECT_EQ(thrown.error_type, "script");
  EXPECT_NE(thrown.result.error_message->find("boom"), std::string::npos);

  auto bad = Run({synth::NavigateAction{Url("/form")}, synth::ClickAction{"button[["}});
  EXPECT_EQ(bad.error_type, "script");
  EXPECT_NE(bad.result.error_message->find("invalid selector"), std::string::npos);

  auto key = Run({synth::NavigateAction{Url("/form")}, synth::PressAction{"Hyper+Q"}});
  EXPECT_EQ(key.error_type, "script");
}

TEST_F(BrowserRunnerTest, RefusedConnectionIsANetworkFailure) {
  // A port nobody listens on: bound, then closed.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{.sin_family = AF_INET, .sin_port = 0, .sin_addr = {htonl(INADDR_LOOPBACK)}};
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  const std::string url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/";
  auto out = Run({synth::NavigateAction{url}});
  EXPECT_EQ(out.error_type, "network");
  EXPECT_NE(out.result.error_message->find("ERR_CONNECTION_REFUSED"), std::string::npos)
      << *out.result.error_message;
  ASSERT_EQ(out.screenshots.size(), 1u);  // Chromium's error page
  EXPECT_TRUE(IsPng(out.screenshots[0].png));
}

TEST_F(BrowserRunnerTest, EachRunStartsWithAFreshContext) {
  auto first = Run({
      synth::NavigateAction{Url("/form")},
      synth::EvaluateAction{"document.cookie = 'session=abc; max-age=3600'; "
                            "localStorage.setItem('k', 'v'); document.cookie",
                            "cookie"},
  });
  EXPECT_SUCCESS(first);
  EXPECT_EQ(first.variables["cookie"], "session=abc");

  auto second = Run({
      synth::NavigateAction{Url("/form")},
      synth::EvaluateAction{"document.cookie + '|' + localStorage.length", "state"},
  });
  EXPECT_SUCCESS(second);
  EXPECT_EQ(second.variables["state"], "|0");
}

}  // namespace
}  // namespace pa::robot::browser
