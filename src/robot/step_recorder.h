// StepRecorder: the bookkeeping every executor shares — timestamps, duration, the first failure
// and the final masking of every string of the ResultStep. Internal to pa_robot_checks.
//
//   StepRecorder rec(step, index, options);
//   rec.result().timings.connect_ms = 1.2;
//   if (!connected) rec.Fail(StepErrorType::kNetwork, "connection refused");
//   return rec.Finish(ctx);
//
// Thread-safety: one recorder per executing step.
#pragma once

#include <chrono>
#include <string>

#include "robot/run_context.h"
#include "robot/step_run.h"

namespace pa::robot {

class StepRecorder {
 public:
  StepRecorder(const synth::Step& step, int64_t index, const StepOptions& options);

  synth::ResultStep& result() { return run_.result; }

  // Records a failure. Only the first one is kept: it is the cause users act on.
  void Fail(StepErrorType type, std::string message);
  bool failed() const { return run_.error_type.has_value(); }

  // Adds an assertion result; a failed one fails the step (type assertion) with its message.
  void Assert(std::string type, bool passed, std::string message);

  // Milliseconds since the recorder was made.
  double ElapsedMs() const;

  // Sets finished_at, duration and status; masks error_message, http.url, assertion messages
  // and string details with `ctx`. Call once.
  StepRun Finish(const RunContext& ctx);

 private:
  StepRun run_;
  std::chrono::steady_clock::time_point started_;
  Clock* clock_;
};

// `text` as valid UTF-8 (invalid bytes become U+FFFD) of at most `max_bytes` bytes, cut with
// "..." when longer: how free text (bodies, server messages) enters a result.
std::string ResultText(std::string_view text, size_t max_bytes);

// Milliseconds from `a` to `b`, never negative.
double MsBetween(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b);

}  // namespace pa::robot
