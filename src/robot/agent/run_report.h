// RunReport: a TransactionResultBaseModel as the readable table `primoart-robot run --file`
// prints — the run's outcome, then each step with its status, duration, phase timings, HTTP
// status, assertions and error, and where its screenshot was written.
#pragma once

#include <string>

#include "base/json.h"

namespace pa::robot {

std::string RunReport(const Json& result, const std::string& artifacts_dir);

}  // namespace pa::robot
