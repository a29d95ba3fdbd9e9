#include "robot/agent/browser_glue.h"

namespace pa::robot {

Result<BrowserStepFn> MakeBrowserStepFn(const BrowserGlueOptions& /*options*/) {
  return UnavailableError("browser support is not linked yet");
}

}  // namespace pa::robot
