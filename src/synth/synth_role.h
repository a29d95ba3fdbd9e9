// The `synth` role: transaction definitions (transactions.h), robots and their configuration
// (robots.h), the result upload (upload.h) with group commit (result_writer.h) and derived
// metrics (metric_export.h), and the result queries (results_api.h). Background jobs:
// synth.missed_runs (every 30 s) and synth.retention (hourly; `synth_result_retention`).
#pragma once

#include <memory>

#include "base/status.h"
#include "core/module.h"
#include "core/services.h"

namespace pa::synth {

Result<std::unique_ptr<core::Module>> NewSynthRole(core::Services& services);

}  // namespace pa::synth
