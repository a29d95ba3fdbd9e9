#include "robot/agent/browser_glue.h"

#include <unistd.h>

#include <algorithm>
#include <memory>

#include "robot/browser/browser_runner.h"
#include "robot/browser/chromium.h"

namespace pa::robot {
namespace {

// Masks every string the browser runner put in `s` (it knows nothing of secrets).
void MaskStep(synth::ResultStep& s, const RunContext& ctx) {
  if (s.error_message) s.error_message = ctx.Mask(*s.error_message);
  if (s.http && s.http->url) s.http->url = ctx.Mask(*s.http->url);
  for (synth::StepAssertion& a : s.assertions) a.message = ctx.Mask(a.message);
  if (s.details.is_object()) {
    for (auto& [k, v] : s.details.items()) {
      if (v.is_string()) v = ctx.Mask(v.get<std::string>());
    }
  }
}

StepErrorType ErrorType(std::string_view name) {
  if (name == "timeout") return StepErrorType::kTimeout;
  if (name == "network") return StepErrorType::kNetwork;
  if (name == "assertion") return StepErrorType::kAssertion;
  if (name == "script") return StepErrorType::kScript;
  if (name == "http") return StepErrorType::kHttp;
  return StepErrorType::kOther;
}

}  // namespace

Result<BrowserStepFn> MakeBrowserStepFn(const BrowserGlueOptions& options) {
  browser::ChromiumOptions chromium_options;
  if (const char* path = std::getenv("PRIMOART_ROBOT_CHROMIUM"); path && *path) {
    chromium_options.executable = path;
  }
  if (access(chromium_options.executable.c_str(), X_OK) != 0) {
    return UnavailableError(chromium_options.executable +
                            " is not installed (Debian package `chromium`; "
                            "PRIMOART_ROBOT_CHROMIUM names another)");
  }
  chromium_options.visible = options.visible;
  // One browser for the robot, started on first use and restarted when it dies or leaks; the
  // runner gives each run a fresh, isolated browser context.
  auto chromium = std::make_shared<browser::Chromium>(chromium_options);
  auto runner = std::make_shared<browser::BrowserRunner>(chromium.get());
  if (options.metrics) {
    options.metrics->AddCollector(
        [weak = std::weak_ptr<browser::Chromium>(chromium)](std::string& out) {
          const auto c = weak.lock();
          if (!c) return;
          const browser::ChromiumStats st = c->stats();
          const std::pair<const char*, int64_t> counters[] = {
              {"starts", st.starts}, {"restarts", st.restarts}, {"crashes", st.crashes}};
          for (const auto& [what, value] : counters) {
            const std::string name = std::string("primoart_robot_browser_") + what + "_total";
            out += "# HELP " + name + " Chromium processes: " + what +
                   " (restarts replace a crashed, hung or recycled browser).\n";
            out += "# TYPE " + name + " counter\n";
            out += name + " " + std::to_string(value) + "\n";
          }
        });
  }
  return BrowserStepFn([chromium, runner](const synth::Step& step, int64_t index, RunContext& ctx,
                                          const StepOptions& opts,
                                          std::vector<OutboxArtifact>* artifacts) {
    const auto now = std::chrono::steady_clock::now();
    const auto until = StepDeadline(step, opts);
    browser::BrowserStepContext bctx;
    bctx.step_index = index;
    bctx.step_name = step.name;
    bctx.timeout = std::max(std::chrono::milliseconds(1),
                            std::chrono::duration_cast<std::chrono::milliseconds>(until - now));
    bctx.expand = [&ctx](std::string_view text) { return ctx.Substitute(text); };
    browser::BrowserStepOutcome out = runner->Run(std::get<synth::BrowserStep>(step.kind), bctx);
    for (auto& [name, value] : out.variables) ctx.SetExtracted(name, value);
    for (browser::Screenshot& shot : out.screenshots) {
      artifacts->push_back({shot.filename, "image/png", std::move(shot.png)});
    }
    StepRun run;
    run.result = std::move(out.result);
    MaskStep(run.result, ctx);
    if (!out.error_type.empty()) run.error_type = ErrorType(out.error_type);
    return run;
  });
}

}  // namespace pa::robot
