// MakeBrowserStepFn: the robot's browser steps, run in a shared headless Chromium
// (src/robot/browser/), as the BrowserStepFn the TransactionRunner takes. Fails when Chromium
// cannot be found; the robot then runs its other steps and fails browser steps with a message.
#pragma once

#include "base/status.h"
#include "robot/agent/transaction_run.h"

namespace pa::robot {

struct BrowserGlueOptions {
  bool visible = false;  // --browser-visible
};

Result<BrowserStepFn> MakeBrowserStepFn(const BrowserGlueOptions& options);

}  // namespace pa::robot
