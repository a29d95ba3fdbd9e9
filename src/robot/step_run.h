// StepRun and StepOptions: what every step executor of the robot (http_step.h, net_steps.h)
// returns and takes.
//
//   StepOptions options{.deadline = run_started + std::chrono::seconds(def.timeout_s)};
//   StepRun run = RunHttpStep(def.steps[i], i, ctx, options);
//   result.steps.push_back(run.result);
//   if (run.error_type && !result.error) result.error = ToResultError(run);
//
// A StepRun's ResultStep is complete (index, name, timestamps, duration, status, timings,
// details, assertions) and already masked: no string in it contains a secret value. Its
// `error_type` is set exactly when the step failed, with the classification of
// spec/transaction-result.md:
//   assertion  an `assert` (or a tcp `expect`, dns `expect`, tls check) did not hold, or an
//              extraction found nothing;
//   timeout    the step's or the run's deadline passed;
//   http       a response arrived but is unacceptable: a status outside 2xx/3xx without a
//              `status` assertion, too many redirects, a body over the size limit;
//   network    DNS, connect, TLS handshake or verification, reset, malformed response;
//   script     the definition cannot run as written: an unknown `{{name}}`, a URL or regex that
//              is invalid after substitution, a request body over the size limit;
//   other      anything else (out of memory, an unexpected library error).
//
// Thread-safety: plain values.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "synth/definition.h"
#include "synth/result_model.h"

namespace pa::robot {

enum class StepErrorType { kAssertion, kTimeout, kHttp, kNetwork, kScript, kOther };

// "assertion", "timeout", "http", "network", "script", "other": the wire names.
std::string_view StepErrorTypeName(StepErrorType type);

struct StepRun {
  synth::ResultStep result;
  std::optional<StepErrorType> error_type;  // set iff result.status == kError
};

// The run's `error` for a failed step: its index, type and message. `run` must have failed.
synth::ResultError ToResultError(const StepRun& run);

// A step reported `skipped` (a previous step failed without continue_on_failure).
synth::ResultStep SkippedStep(const synth::Step& step, int64_t index, int64_t now_ms);

inline constexpr int64_t kDefaultMaxResponseBytes = 10 << 20;
inline constexpr int64_t kDefaultMaxRequestBytes = 1 << 20;

struct StepOptions {
  // The run's deadline on the real steady clock (network waits cannot run on fake time). A
  // step ends at the earlier of this and its own `timeout_s`; with neither, after
  // synth::kDefaultTimeoutS.
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  // Wall time for started_at/finished_at. Must outlive the call.
  Clock* clock = Clock::System();
  // A response body over this many bytes aborts the step (type http); a request body over
  // max_request_bytes is not sent (type script).
  int64_t max_response_bytes = kDefaultMaxResponseBytes;
  int64_t max_request_bytes = kDefaultMaxRequestBytes;
  long max_redirects = 10;
  // PEM file of CA certificates to trust instead of the system's (a private CA); empty: the
  // system's store.
  std::string ca_file;
  // The port of DNS servers (53); tests point it at their own server.
  uint16_t dns_port = 53;
};

// The moment `step` must end: min(options.deadline, now + step.timeout_s).
std::chrono::steady_clock::time_point StepDeadline(const synth::Step& step,
                                                   const StepOptions& options);

}  // namespace pa::robot
