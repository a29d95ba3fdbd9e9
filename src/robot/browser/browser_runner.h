// BrowserRunner: runs one `browser` step of a transaction definition (the spec's navigate,
// click, fill, press, select, wait_for_selector, wait_for_text, assert_text, assert_url,
// screenshot, sleep and evaluate actions) in real Chromium and reports it as a ResultStep.
//
//   Chromium chromium(chromium_options);                     // one per robot, reused
//   BrowserRunner runner(&chromium);
//   BrowserStepOutcome out = runner.Run(step.kind_as_browser, {
//       .step_index = 2, .step_name = step.name, .timeout = 30s,
//       .expand = [&](std::string_view s) { return run_context.Expand(s); }});
//   result.steps.push_back(out.result);                     // screenshot names a file below
//   for (auto& shot : out.screenshots) upload.AddArtifact(shot.filename, "image/png", shot.png);
//   if (!out.error_type.empty()) result.error = {2, out.error_type, *out.result.error_message};
//   run_context.Set(out.variables);                         // evaluate's `var`s
//
// Each run gets a fresh browser context (no cookies, cache or storage from earlier runs) that is
// disposed afterwards. Every action and the whole step are bounded by `timeout`: a page that
// never finishes loading, or spins in an endless script, ends the step with error type
// `timeout` shortly after it (the clean-up after a timeout is bounded too: a browser that does
// not close the page in time is killed and restarted for the next run).
//
// Semantics fixed here (the spec leaves them open):
//   - click, fill, select wait up to `action_timeout` (bounded by the step) for a visible
//     element. After click, press, select and evaluate the runner gives a navigation the action
//     may have started (a form submission begins a moment later) `navigation_grace` to begin,
//     and waits for a started one to finish loading; assert_text/assert_url first wait for a
//     navigation under way. (So each such action costs at least the grace, 150 ms by default.)
//   - wait_for_selector waits for a visible element, wait_for_text for the text in the page's
//     visible text (both polled; default timeout: the rest of the step).
//   - assert_text: `text` is a substring of the element's (or the page's) visible text,
//     case-sensitive; assert_url: the current URL contains `contains`. Both record a
//     StepAssertion ("text" / "url") and a failure ends the step with type `assertion`.
//   - evaluate: the script's value becomes `var` as a string (JSON for non-strings, "" for
//     null/undefined); `{{var}}` can be used by the step's later actions too.
//   - Timings are those of the document shown at the end of the step (the last navigation):
//     ttfb_ms, dom_content_loaded_ms, load_ms from the Navigation Timing API, lcp_ms, cls and
//     inp_ms (only after an interaction) from PerformanceObservers injected into every document.
//   - A failed step always tries to carry a screenshot (`step-<index>.png`); screenshot actions
//     produce `step-<index>-<name>.png`. `result.screenshot` names the failure screenshot, or
//     else the last screenshot action's; `details.screenshots` lists all when there are several.
//
// Error types: `timeout` (step or action time ran out), `network` (the navigation failed:
// DNS, refused, TLS, aborted), `assertion`, `script` (template, JavaScript exception, bad
// selector or key), `other` (the browser could not start, crashed or lost its connection).
//
// Thread-safety: Run() may be called from several threads; runs on one runner are serialised
// (one browser, one run at a time). Use several runners with their own Chromium for parallelism.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "robot/browser/chromium.h"
#include "synth/definition.h"
#include "synth/result_model.h"

namespace pa::robot::browser {

// Replaces the `{{name}}` templates in `text` (the caller's RunContext); an error (unknown name)
// fails the step with type `script`.
using TemplateExpander = std::function<Result<std::string>(std::string_view text)>;

struct BrowserRunnerOptions {
  std::chrono::milliseconds action_timeout{10000};  // click/fill/select waiting for the element
  std::chrono::milliseconds navigation_grace{150};  // after an input, for a navigation to begin
  std::chrono::milliseconds poll_interval{100};     // wait_for_* and element waits
  std::chrono::milliseconds open_timeout{15000};    // browser start + new context, before actions
  std::chrono::milliseconds cleanup_timeout{5000};  // screenshot, vitals, closing the context
  Clock* clock = Clock::System();                   // wall-clock timestamps of the result
};

struct BrowserStepContext {
  int64_t step_index = 0;
  std::string step_name;
  std::chrono::milliseconds timeout{60000};  // the step's: timeout_s, or what is left of the run
  TemplateExpander expand;                   // may be empty: strings are used as written
};

struct Screenshot {
  std::string filename;  // "step-2.png", referenced by ResultStep::screenshot / details
  std::string png;       // the bytes
};

struct BrowserStepOutcome {
  synth::ResultStep result;  // index, name, times, status, error_message, timings, assertions
  std::string error_type;    // "" on success, else timeout|network|assertion|script|other
  std::vector<Screenshot> screenshots;
  std::map<std::string, std::string> variables;  // set by evaluate actions with `var`
};

class BrowserRunner {
 public:
  // `chromium` must outlive the runner.
  explicit BrowserRunner(Chromium* chromium, BrowserRunnerOptions options = {});

  // Runs the step's actions in order until one fails. Never throws; every failure is in the
  // outcome. Returns within about `timeout` + 2 × cleanup_timeout even when the page or the
  // browser hangs (plus a browser start when one is needed, bounded by its start_timeout).
  BrowserStepOutcome Run(const synth::BrowserStep& step, const BrowserStepContext& context);

 private:
  Chromium* const chromium_;
  const BrowserRunnerOptions options_;
  std::mutex run_mu_;
};

}  // namespace pa::robot::browser
