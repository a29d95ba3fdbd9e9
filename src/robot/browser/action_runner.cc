#include "robot/browser/action_runner.h"

#include <algorithm>
#include <thread>
#include <type_traits>

#include "robot/browser/keyboard.h"
#include "robot/browser/page_scripts.h"

namespace pa::robot::browser {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

milliseconds Remaining(SteadyTime deadline) {
  return std::max(milliseconds(0),
                  std::chrono::duration_cast<milliseconds>(deadline - Clock::now()));
}

std::string Quote(std::string_view s) { return "'" + std::string(s) + "'"; }

// `{{name}}` → value for the names in `vars`; other templates are left for the caller.
std::string ReplaceLocal(const std::string& text, const std::map<std::string, std::string>& vars) {
  if (vars.empty() || text.find("{{") == std::string::npos) return text;
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t open = text.find("{{", pos);
    size_t close = open == std::string::npos ? open : text.find("}}", open + 2);
    if (close == std::string::npos) break;
    auto it = vars.find(text.substr(open + 2, close - open - 2));
    out.append(text, pos, open - pos);
    if (it != vars.end()) {
      out += it->second;
    } else {
      out.append(text, open, close + 2 - open);
    }
    pos = close + 2;
  }
  out.append(text, std::min(pos, text.size()));
  return out;
}

std::string State(const Json& r) {
  auto it = r.find("state");
  return it != r.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::string ScreenshotFilename(int64_t step_index, const std::string& name, size_t n) {
  std::string clean;
  for (char c : name) {
    if (clean.size() >= 64) break;
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    clean.push_back(ok ? c : '-');
  }
  if (clean.empty()) clean = "shot-" + std::to_string(n);
  return "step-" + std::to_string(step_index) + "-" + clean + ".png";
}

ActionRunner::ActionRunner(BrowserPage& page, const BrowserRunnerOptions& options,
                           SteadyTime deadline, const TemplateExpander& expand, int64_t step_index)
    : page_(page),
      options_(options),
      deadline_(deadline),
      expand_(expand),
      step_index_(step_index) {}

std::optional<ActionFailure> ActionRunner::Execute(size_t index,
                                                   const synth::BrowserAction& action) {
  Failure failure = std::visit(
      [&](const auto& a) -> Failure {
        using T = std::decay_t<decltype(a)>;
        if constexpr (std::is_same_v<T, synth::NavigateAction>) return Navigate(a);
        if constexpr (std::is_same_v<T, synth::ClickAction>) return Click(a);
        if constexpr (std::is_same_v<T, synth::FillAction>) return Fill(a);
        if constexpr (std::is_same_v<T, synth::PressAction>) return Press(a);
        if constexpr (std::is_same_v<T, synth::SelectAction>) return Select(a);
        if constexpr (std::is_same_v<T, synth::WaitForSelectorAction>) return WaitForSelector(a);
        if constexpr (std::is_same_v<T, synth::WaitForTextAction>) return WaitForText(a);
        if constexpr (std::is_same_v<T, synth::AssertTextAction>) return AssertText(a);
        if constexpr (std::is_same_v<T, synth::AssertUrlAction>) return AssertUrl(a);
        if constexpr (std::is_same_v<T, synth::ScreenshotAction>) return TakeScreenshot(a);
        if constexpr (std::is_same_v<T, synth::SleepAction>) return Sleep(a);
        if constexpr (std::is_same_v<T, synth::EvaluateAction>) return Evaluate(a);
      },
      action);
  if (failure) {
    failure->message = "action " + std::to_string(index) + " (" +
                       std::string(synth::ActionName(action)) + "): " + failure->message;
  }
  return failure;
}

ActionFailure ActionRunner::FromStatus(const Status& status) const {
  switch (status.code()) {
    case StatusCode::kDeadlineExceeded:
      return {"timeout", status.message() + " (step deadline or action timeout reached)"};
    case StatusCode::kInvalidArgument:
      return {"script", status.message()};
    case StatusCode::kUnavailable:
      return {"other", "browser connection lost: " + status.message()};
    default:
      return {"other", status.message()};
  }
}

ActionRunner::Failure ActionRunner::Expand(const std::string& text, std::string* out) {
  std::string local = ReplaceLocal(text, variables_);
  if (!expand_ || local.find("{{") == std::string::npos) {
    *out = std::move(local);
    return std::nullopt;
  }
  auto expanded = expand_(local);
  if (!expanded.ok()) return ActionFailure{"script", expanded.status().message()};
  *out = std::move(*expanded);
  return std::nullopt;
}

milliseconds ActionRunner::WaitBudget(std::optional<int> timeout_ms) const {
  milliseconds left = Remaining(deadline_);
  return timeout_ms ? std::min(left, milliseconds(*timeout_ms)) : left;
}

ActionRunner::Failure ActionRunner::WaitForElement(const std::string& script, milliseconds wait,
                                                   const std::string& what, Json* result) {
  const SteadyTime until = std::min(deadline_, Clock::now() + wait);
  std::string last_state = "missing";
  while (true) {
    auto r = page_.Evaluate(script, until);
    if (r.ok() && r->is_object()) {
      if (auto e = r->find("error"); e != r->end()) {
        return ActionFailure{"script", e->is_string() ? e->get<std::string>() : e->dump()};
      }
      last_state = State(*r);
      if (last_state == "visible") {
        *result = std::move(*r);
        return std::nullopt;
      }
    } else if (!r.ok() && r.status().code() != StatusCode::kAborted &&
               r.status().code() != StatusCode::kDeadlineExceeded) {
      return FromStatus(r.status());
    }
    if (Clock::now() + options_.poll_interval >= until) {
      return ActionFailure{
          "timeout", "no visible element " + what + " within " + std::to_string(wait.count()) +
                         " ms (" + (last_state == "hidden" ? "it exists but is hidden" : "none") +
                         ")"};
    }
    std::this_thread::sleep_for(options_.poll_interval);
  }
}

ActionRunner::Failure ActionRunner::Settle(int64_t mark, std::chrono::milliseconds grace) {
  Status s = page_.WaitForNavigationToSettle(mark, grace, deadline_);
  if (!s.ok()) return FromStatus(s);
  return std::nullopt;
}

ActionRunner::Failure ActionRunner::Navigate(const synth::NavigateAction& a) {
  std::string url;
  if (auto f = Expand(a.url, &url)) return f;
  if (!url.starts_with("http://") && !url.starts_with("https://")) {
    return ActionFailure{"script", "url " + Quote(url) + " is not an absolute http(s) URL"};
  }
  std::string net_error;
  Status s = page_.Navigate(url, deadline_, &net_error);
  if (!net_error.empty()) return ActionFailure{"network", s.message()};
  if (!s.ok()) return FromStatus(s);
  return std::nullopt;
}

ActionRunner::Failure ActionRunner::Click(const synth::ClickAction& a) {
  std::string selector;
  if (auto f = Expand(a.selector, &selector)) return f;
  Json point;
  if (auto f = WaitForElement(scripts::ClickPoint(selector),
                              std::min(WaitBudget(std::nullopt), options_.action_timeout),
                              "matches " + Quote(selector), &point)) {
    return f;
  }
  const int64_t mark = page_.NavigationMark();
  if (!point["x"].is_number() || !point["y"].is_number()) {
    return ActionFailure{"other", "the page answered " + point.dump()};
  }
  Status s = page_.Click(point["x"].get<double>(), point["y"].get<double>(), deadline_);
  if (!s.ok()) return FromStatus(s);
  return Settle(mark, options_.navigation_grace);
}

ActionRunner::Failure ActionRunner::Fill(const synth::FillAction& a) {
  std::string selector, value;
  if (auto f = Expand(a.selector, &selector)) return f;
  if (auto f = Expand(a.value, &value)) return f;
  Json prepared;
  if (auto f = WaitForElement(scripts::PrepareFill(selector, value),
                              std::min(WaitBudget(std::nullopt), options_.action_timeout),
                              "matches " + Quote(selector), &prepared)) {
    return f;
  }
  if (prepared["typed"].is_boolean() && prepared["typed"].get<bool>() && !value.empty()) {
    Status s = page_.InsertText(value, deadline_);
    if (!s.ok()) return FromStatus(s);
  }
  return std::nullopt;
}

ActionRunner::Failure ActionRunner::Press(const synth::PressAction& a) {
  std::string key;
  if (auto f = Expand(a.key, &key)) return f;
  auto events = KeyPressEvents(key);
  if (!events.ok()) return ActionFailure{"script", events.status().message()};
  const int64_t mark = page_.NavigationMark();
  for (const Json& e : *events) {
    Status s = page_.DispatchKey(e, deadline_);
    if (!s.ok()) return FromStatus(s);
  }
  return Settle(mark, options_.navigation_grace);
}

ActionRunner::Failure ActionRunner::Select(const synth::SelectAction& a) {
  std::string selector, value;
  if (auto f = Expand(a.selector, &selector)) return f;
  if (auto f = Expand(a.value, &value)) return f;
  const int64_t mark = page_.NavigationMark();
  Json selected;
  if (auto f = WaitForElement(scripts::SelectOption(selector, value),
                              std::min(WaitBudget(std::nullopt), options_.action_timeout),
                              "matches " + Quote(selector), &selected)) {
    return f;
  }
  return Settle(mark, options_.navigation_grace);
}

ActionRunner::Failure ActionRunner::WaitForSelector(const synth::WaitForSelectorAction& a) {
  std::string selector;
  if (auto f = Expand(a.selector, &selector)) return f;
  Json found;
  return WaitForElement(scripts::ProbeSelector(selector), WaitBudget(a.timeout_ms),
                        "matches " + Quote(selector), &found);
}

ActionRunner::Failure ActionRunner::WaitForText(const synth::WaitForTextAction& a) {
  std::string text;
  if (auto f = Expand(a.text, &text)) return f;
  const milliseconds wait = WaitBudget(a.timeout_ms);
  const SteadyTime until = std::min(deadline_, Clock::now() + wait);
  const std::string script = scripts::PageHasText(text);
  while (true) {
    auto r = page_.Evaluate(script, until);
    if (r.ok() && r->is_boolean() && r->get<bool>()) return std::nullopt;
    if (!r.ok() && r.status().code() != StatusCode::kAborted &&
        r.status().code() != StatusCode::kDeadlineExceeded) {
      return FromStatus(r.status());
    }
    if (Clock::now() + options_.poll_interval >= until) {
      return ActionFailure{"timeout", "text " + Quote(text) + " did not appear within " +
                                          std::to_string(wait.count()) + " ms"};
    }
    std::this_thread::sleep_for(options_.poll_interval);
  }
}

ActionRunner::Failure ActionRunner::AssertText(const synth::AssertTextAction& a) {
  std::string text, selector;
  if (auto f = Expand(a.text, &text)) return f;
  if (auto f = Expand(a.selector, &selector)) return f;
  if (auto f = Settle(page_.NavigationMark(), milliseconds(0))) return f;
  auto r = page_.Evaluate(scripts::ReadText(selector), deadline_);
  if (!r.ok()) return FromStatus(r.status());
  if (!r->is_object()) return ActionFailure{"other", "the page answered " + r->dump()};
  if (auto e = r->find("error"); e != r->end()) {
    return ActionFailure{"script", e->is_string() ? e->get<std::string>() : e->dump()};
  }
  const std::string where = selector.empty() ? "the page" : selector;
  synth::StepAssertion assertion{.type = "text"};
  if (!(*r)["found"].is_boolean() || !(*r)["found"].get<bool>()) {
    assertion.message =
        "element " + Quote(selector) + " not found (looking for text " + Quote(text) + ")";
  } else {
    const Json& seen = (*r)["text"];
    assertion.passed =
        seen.is_string() && seen.get_ref<const std::string&>().find(text) != std::string::npos;
    assertion.message =
        "text " + Quote(text) + (assertion.passed ? " found in " : " not found in ") + where;
  }
  assertions_.push_back(assertion);
  if (!assertion.passed) return ActionFailure{"assertion", assertion.message};
  return std::nullopt;
}

ActionRunner::Failure ActionRunner::AssertUrl(const synth::AssertUrlAction& a) {
  std::string contains;
  if (auto f = Expand(a.contains, &contains)) return f;
  if (auto f = Settle(page_.NavigationMark(), milliseconds(0))) return f;
  auto url = page_.Url(deadline_);
  if (!url.ok()) return FromStatus(url.status());
  synth::StepAssertion assertion{.type = "url"};
  assertion.passed = url->find(contains) != std::string::npos;
  assertion.message = "URL " + Quote(*url) +
                      (assertion.passed ? " contains " : " does not contain ") + Quote(contains);
  assertions_.push_back(assertion);
  if (!assertion.passed) return ActionFailure{"assertion", assertion.message};
  return std::nullopt;
}

ActionRunner::Failure ActionRunner::TakeScreenshot(const synth::ScreenshotAction& a) {
  std::string name;
  if (auto f = Expand(a.name, &name)) return f;
  auto png = page_.Screenshot(deadline_);
  if (!png.ok()) return FromStatus(png.status());
  std::string filename = ScreenshotFilename(step_index_, name, screenshots_.size() + 1);
  for (int n = 2; std::any_of(screenshots_.begin(), screenshots_.end(),
                              [&](const Screenshot& s) { return s.filename == filename; });
       ++n) {
    filename = ScreenshotFilename(step_index_, name + "-" + std::to_string(n), 0);
  }
  screenshots_.push_back({std::move(filename), std::move(*png)});
  return std::nullopt;
}

ActionRunner::Failure ActionRunner::Sleep(const synth::SleepAction& a) {
  const milliseconds left = Remaining(deadline_);
  if (milliseconds(a.ms) > left) {
    std::this_thread::sleep_for(left);
    return ActionFailure{"timeout",
                         "sleeping " + std::to_string(a.ms) + " ms would pass the step's deadline"};
  }
  std::this_thread::sleep_for(milliseconds(a.ms));
  return std::nullopt;
}

ActionRunner::Failure ActionRunner::Evaluate(const synth::EvaluateAction& a) {
  std::string script;
  if (auto f = Expand(a.script, &script)) return f;
  const int64_t mark = page_.NavigationMark();
  const milliseconds left = Remaining(deadline_);
  if (left.count() == 0) return ActionFailure{"timeout", "no time left in the step"};
  auto r = page_.Evaluate(script, deadline_, left);
  if (!r.ok()) {
    ActionFailure f = FromStatus(r.status());
    if (r.status().code() == StatusCode::kInvalidArgument) f.message = "script threw: " + f.message;
    return f;
  }
  if (!a.var.empty()) {
    variables_[a.var] = r->is_string() ? r->get<std::string>() : r->is_null() ? "" : r->dump();
  }
  return Settle(mark, options_.navigation_grace);
}

}  // namespace pa::robot::browser
