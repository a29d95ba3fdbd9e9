// The start of the tcp and tls steps: substitute the host, resolve it, connect. Internal to
// pa_robot_checks.
#pragma once

#include <optional>
#include <string>

#include "robot/net_util.h"
#include "robot/run_context.h"
#include "robot/step_recorder.h"

namespace pa::robot {

// A connected non-blocking socket to `host_template` (substituted into `*host`):`port`, with
// timings.dns_ms, timings.connect_ms and details.remote_ip recorded in `rec`; nullopt after
// recording the failure in `rec` (script, timeout or network).
std::optional<Socket> ConnectForStep(const std::string& host_template, int port,
                                     const RunContext& ctx, Deadline deadline, StepRecorder& rec,
                                     std::string* host);

}  // namespace pa::robot
