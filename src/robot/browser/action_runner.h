// ActionRunner: executes the actions of one browser step against a BrowserPage, one at a time,
// and keeps what they produce (assertions, screenshots, variables). The semantics of each
// action are documented in browser_runner.h; this is the internal half of BrowserRunner.
//
// Thread-safety: one thread per instance.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "robot/browser/browser_page.h"
#include "robot/browser/browser_runner.h"
#include "synth/definition.h"
#include "synth/result_model.h"

namespace pa::robot::browser {

struct ActionFailure {
  std::string type;  // timeout | network | assertion | script | other
  std::string message;
};

class ActionRunner {
 public:
  // `page`, `options` and `expand` must outlive the runner; `deadline` ends the step.
  ActionRunner(BrowserPage& page, const BrowserRunnerOptions& options, SteadyTime deadline,
               const TemplateExpander& expand, int64_t step_index);

  // Runs the action numbered `index` in the step; nullopt on success.
  std::optional<ActionFailure> Execute(size_t index, const synth::BrowserAction& action);

  std::vector<synth::StepAssertion>& assertions() { return assertions_; }
  std::vector<Screenshot>& screenshots() { return screenshots_; }
  std::map<std::string, std::string>& variables() { return variables_; }

 private:
  using Failure = std::optional<ActionFailure>;

  Failure Navigate(const synth::NavigateAction& a);
  Failure Click(const synth::ClickAction& a);
  Failure Fill(const synth::FillAction& a);
  Failure Press(const synth::PressAction& a);
  Failure Select(const synth::SelectAction& a);
  Failure WaitForSelector(const synth::WaitForSelectorAction& a);
  Failure WaitForText(const synth::WaitForTextAction& a);
  Failure AssertText(const synth::AssertTextAction& a);
  Failure AssertUrl(const synth::AssertUrlAction& a);
  Failure TakeScreenshot(const synth::ScreenshotAction& a);
  Failure Sleep(const synth::SleepAction& a);
  Failure Evaluate(const synth::EvaluateAction& a);

  // `{{var}}`s set earlier in this step, then the caller's templates. Fails with type script.
  Failure Expand(const std::string& text, std::string* out);

  // Polls `script` (a page_scripts helper) until it reports {"state": "visible"} or `wait`
  // (bounded by the step) runs out; `what` describes the element for messages.
  Failure WaitForElement(const std::string& script, std::chrono::milliseconds wait,
                         const std::string& what, Json* result);

  // Waits for a navigation that is under way, began since `mark`, or begins within `grace`.
  Failure Settle(int64_t mark, std::chrono::milliseconds grace);

  // The wait an action with an optional timeout_ms gets: that, or the rest of the step.
  std::chrono::milliseconds WaitBudget(std::optional<int> timeout_ms) const;

  ActionFailure FromStatus(const Status& status) const;

  BrowserPage& page_;
  const BrowserRunnerOptions& options_;
  const SteadyTime deadline_;
  const TemplateExpander& expand_;
  const int64_t step_index_;
  std::vector<synth::StepAssertion> assertions_;
  std::vector<Screenshot> screenshots_;
  std::map<std::string, std::string> variables_;
};

// "step-2-after-pay.png": the name reduced to [A-Za-z0-9._-] (others become '-'), at most 64
// characters; "step-2-shot-<n>.png" when it is empty.
std::string ScreenshotFilename(int64_t step_index, const std::string& name, size_t n);

}  // namespace pa::robot::browser
