#include "robot/browser/browser_runner.h"

#include <algorithm>
#include <memory>
#include <thread>

#include "base/logging.h"
#include "robot/browser/action_runner.h"
#include "robot/browser/browser_page.h"
#include "robot/browser/page_scripts.h"

namespace pa::robot::browser {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr size_t kMaxErrorMessage = 4096;
constexpr auto kVitalsTimeout = milliseconds(2000);
constexpr auto kScreenshotRetry = milliseconds(2000);

std::optional<double> Positive(const Json& object, std::string_view key) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_number()) return std::nullopt;
  double v = it->get<double>();
  return v > 0 ? std::optional<double>(v) : std::nullopt;
}

std::optional<double> NonNegative(const Json& object, std::string_view key) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_number()) return std::nullopt;
  double v = it->get<double>();
  return v >= 0 ? std::optional<double>(v) : std::nullopt;
}

// Fills timings, http and details from CollectVitals()'s answer.
void ApplyVitals(const Json& v, synth::ResultStep& step) {
  if (!v.is_object()) return;
  synth::StepTimings& t = step.timings;
  if (const Json& nav = v.contains("nav") ? v["nav"] : Json(); nav.is_object()) {
    t.ttfb_ms = Positive(nav, "ttfb");
    t.dom_content_loaded_ms = Positive(nav, "dcl");
    t.load_ms = Positive(nav, "load");
    if (auto status = Positive(nav, "status"); status && *status >= 100 && *status <= 599) {
      step.http = synth::StepHttp{.status_code = static_cast<int>(*status)};
      if (auto url = v.find("url");
          url != v.end() && url->is_string() && url->get_ref<const std::string&>().size() <= 2048) {
        step.http->url = url->get<std::string>();
      }
      if (auto body = NonNegative(nav, "body"))
        step.http->response_bytes = static_cast<int64_t>(*body);
    }
  }
  t.lcp_ms = Positive(v, "lcp");
  t.cls = NonNegative(v, "cls");
  if (Positive(v, "interactions")) t.inp_ms = NonNegative(v, "inp");
  if (auto url = v.find("url"); url != v.end() && url->is_string()) {
    step.details["url"] = url->get<std::string>().substr(0, 1024);
  }
}

}  // namespace

BrowserRunner::BrowserRunner(Chromium* chromium, BrowserRunnerOptions options)
    : chromium_(chromium), options_(options) {}

BrowserStepOutcome BrowserRunner::Run(const synth::BrowserStep& step,
                                      const BrowserStepContext& context) {
  std::lock_guard run_lock(run_mu_);
  BrowserStepOutcome out;
  synth::ResultStep& result = out.result;
  result.index = context.step_index;
  result.name = context.step_name;
  result.started_at_ms = options_.clock->NowMs();
  result.details = Json::object();
  const SteadyTime started = Clock::now();
  const SteadyTime deadline = started + context.timeout;

  std::optional<ActionFailure> failure;
  std::unique_ptr<BrowserPage> page;
  std::shared_ptr<CdpClient> cdp;
  if (auto conn = chromium_->Connection(); !conn.ok()) {
    failure = ActionFailure{"other", "browser unavailable: " + conn.status().message()};
  } else {
    cdp = std::move(*conn);
    auto opened = BrowserPage::Open(cdp, scripts::VitalsObserver(),
                                    std::min(deadline, Clock::now() + options_.open_timeout));
    if (!opened.ok()) {
      failure = ActionFailure{
          opened.status().code() == StatusCode::kDeadlineExceeded && Clock::now() >= deadline
              ? "timeout"
              : "other",
          opened.status().message()};
      if (cdp->connected()) chromium_->MarkUnhealthy("it could not open a page in time");
    } else {
      page = std::move(*opened);
    }
  }

  if (page) {
    ActionRunner actions(*page, options_, deadline, context.expand, context.step_index);
    for (size_t i = 0; i < step.actions.size() && !failure; ++i) {
      failure = actions.Execute(i, step.actions[i]);
    }
    if (failure && failure->type == "timeout") page->TerminateScripts();  // an endless loop
    const SteadyTime cleanup_deadline = Clock::now() + options_.cleanup_timeout;
    if (failure && cdp->connected()) {
      auto png = page->Screenshot(cleanup_deadline);
      // After a failed navigation the error page is still being attached for a moment.
      const SteadyTime retry_until = std::min(cleanup_deadline, Clock::now() + kScreenshotRetry);
      while (!png.ok() && png.status().code() == StatusCode::kInternal &&
             Clock::now() + milliseconds(100) < retry_until) {
        std::this_thread::sleep_for(milliseconds(100));
        png = page->Screenshot(cleanup_deadline);
      }
      if (png.ok()) {
        Screenshot shot{"step-" + std::to_string(context.step_index) + ".png", std::move(*png)};
        result.screenshot = shot.filename;
        out.screenshots.push_back(std::move(shot));
      } else {
        log::Get("robot")->warn("no screenshot of failed step {}: {}", context.step_index,
                                png.status().ToString());
      }
    }
    if (cdp->connected()) {
      auto vitals = page->Evaluate(scripts::CollectVitals(),
                                   std::min(cleanup_deadline, Clock::now() + kVitalsTimeout));
      if (vitals.ok()) ApplyVitals(*vitals, result);
    }
    result.details["navigations"] = page->navigations();
    result.assertions = std::move(actions.assertions());
    for (Screenshot& s : actions.screenshots()) out.screenshots.push_back(std::move(s));
    out.variables = std::move(actions.variables());

    Status closed = page->Close(Clock::now() + options_.cleanup_timeout);
    page.reset();
    if (!closed.ok() && cdp->connected()) {
      chromium_->MarkUnhealthy("it did not close a page in time: " + closed.message());
    }
  }
  cdp.reset();
  chromium_->RunFinished();

  if (!result.screenshot && !out.screenshots.empty()) {
    result.screenshot = out.screenshots.back().filename;
  }
  if (out.screenshots.size() > 1) {
    std::string names;
    for (const Screenshot& s : out.screenshots) names += (names.empty() ? "" : ",") + s.filename;
    result.details["screenshots"] = names.substr(0, 1024);
  }
  if (failure) {
    result.status = synth::StepStatus::kError;
    result.error_message = failure->message.substr(0, kMaxErrorMessage);
    out.error_type = failure->type;
  }
  result.finished_at_ms = std::max(options_.clock->NowMs(), result.started_at_ms);
  result.duration_ms = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
  return out;
}

}  // namespace pa::robot::browser
