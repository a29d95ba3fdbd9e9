// MakeBrowserStepFn: the robot's browser steps, run in a shared headless Chromium
// (src/robot/browser/), as the BrowserStepFn the TransactionRunner takes. Fails when Chromium
// cannot be found; the robot then runs its other steps and fails browser steps with a message.
#pragma once

#include "base/status.h"
#include "base/telemetry.h"
#include "robot/agent/transaction_run.h"

namespace pa::robot {

struct BrowserGlueOptions {
  bool visible = false;  // --browser-visible
  // Where the browser's own counters go (primoart_robot_browser_starts_total,
  // ..._restarts_total, ..._crashes_total); none when null.
  telemetry::Registry* metrics = nullptr;
};

Result<BrowserStepFn> MakeBrowserStepFn(const BrowserGlueOptions& options);

}  // namespace pa::robot
