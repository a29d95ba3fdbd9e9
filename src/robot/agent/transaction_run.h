// RunTransaction: one run of a transaction definition, step by step, as the
// TransactionResultBaseModel (spec/transaction-result.md) with its artifacts.
//
//   TransactionRunner runner(browser_fn);           // one per worker thread (reuses connections)
//   RunOutput out = runner.Run({.def = def, .robot_id = "msk-01", .run_id = NewRunId()});
//   outbox.Put(out.run_id, out.result.dump(), out.artifacts);
//
// Steps run in order under the run's deadline (`timeout_s`); a failed step ends the run unless
// it says continue_on_failure, and the steps after it are reported `skipped`. The run's `error`
// is its first failed step's (index, type, message). A run whose deadline passed reports the
// step it was in as `timeout`. Every string of the result is masked (no secret value in it).
// `cancel` (SIGTERM) ends the run at the next step as an error of type `other`.
//
// Browser steps are run by `browser` (the Chromium pool, src/robot/browser/); without one they
// fail with type `other`. Thread-safety: one TransactionRunner per thread.
#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/json.h"
#include "robot/agent/outbox.h"
#include "robot/http_step.h"
#include "robot/run_context.h"
#include "robot/step_run.h"
#include "synth/definition.h"

namespace pa::robot {

// Runs one browser step; screenshots it takes go to `artifacts` (their filenames are the
// steps' `screenshot` values).
using BrowserStepFn =
    std::function<StepRun(const synth::Step& step, int64_t index, RunContext& ctx,
                          const StepOptions& options, std::vector<OutboxArtifact>* artifacts)>;

struct RunInput {
  const synth::TransactionDefinition* def = nullptr;
  std::optional<int64_t> version;  // sent as transaction_version
  std::string robot_id;
  std::string location;
  std::string run_id;
  int attempt = 1;           // 2.. for the retries of a failed run (attributes.attempt)
  StepOptions step_options;  // limits; the deadline is set from def->timeout_s
};

struct RunOutput {
  std::string run_id;
  bool success = false;
  Json result;  // the TransactionResultBaseModel
  std::vector<OutboxArtifact> artifacts;
};

class TransactionRunner {
 public:
  explicit TransactionRunner(BrowserStepFn browser = nullptr, Clock* clock = Clock::System());
  RunOutput Run(const RunInput& in, const std::atomic<bool>* cancel = nullptr);

 private:
  BrowserStepFn browser_;
  Clock* clock_;
  HttpStepRunner http_;
};

// The result as its wire JSON (every optional member left out when absent).
Json ResultStepToJson(const synth::ResultStep& step);

// Seconds to wait before retry `n` (1-based) of a failed run, as the policy says.
int RetryDelayS(const synth::RetryPolicy& policy, int n);

}  // namespace pa::robot
