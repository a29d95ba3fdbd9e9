#include "robot/step_run.h"

#include <algorithm>
#include <cassert>

#include "base/json.h"
#include "robot/step_recorder.h"

namespace pa::robot {
namespace {

// The contract's limits (spec/transaction-result.md), in bytes, which bounds code points too.
constexpr size_t kMaxErrorMessage = 4096;
constexpr size_t kMaxAssertionMessage = 1024;
constexpr size_t kMaxDetailValue = 1024;
constexpr size_t kMaxUrl = 2048;

size_t Utf8SequenceLength(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead >> 5) == 0x6) return 2;
  if ((lead >> 4) == 0xE) return 3;
  if ((lead >> 3) == 0x1E) return 4;
  return 0;
}

}  // namespace

std::string ResultText(std::string_view text, size_t max_bytes) {
  static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
  static constexpr std::string_view kEllipsis = "...";
  std::string out;
  out.reserve(std::min(text.size(), max_bytes));
  for (size_t i = 0; i < text.size();) {
    const size_t n = Utf8SequenceLength(static_cast<unsigned char>(text[i]));
    if (n != 0 && i + n <= text.size() && IsValidUtf8(text.substr(i, n))) {
      out.append(text.substr(i, n));
      i += n;
    } else {
      out.append(kReplacement);
      ++i;
    }
  }
  if (out.size() <= max_bytes) return out;
  size_t cut = max_bytes > kEllipsis.size() ? max_bytes - kEllipsis.size() : 0;
  while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
  out.resize(cut);
  return out.append(kEllipsis);
}

std::string_view StepErrorTypeName(StepErrorType type) {
  switch (type) {
    case StepErrorType::kAssertion:
      return "assertion";
    case StepErrorType::kTimeout:
      return "timeout";
    case StepErrorType::kHttp:
      return "http";
    case StepErrorType::kNetwork:
      return "network";
    case StepErrorType::kScript:
      return "script";
    case StepErrorType::kOther:
      return "other";
  }
  return "other";
}

synth::ResultError ToResultError(const StepRun& run) {
  assert(run.error_type.has_value());
  return {.step_index = run.result.index,
          .type = std::string(StepErrorTypeName(run.error_type.value_or(StepErrorType::kOther))),
          .message = run.result.error_message.value_or("")};
}

synth::ResultStep SkippedStep(const synth::Step& step, int64_t index, int64_t now_ms) {
  synth::ResultStep r;
  r.index = index;
  r.name = step.name;
  r.started_at_ms = r.finished_at_ms = now_ms;
  r.status = synth::StepStatus::kSkipped;
  return r;
}

std::chrono::steady_clock::time_point StepDeadline(const synth::Step& step,
                                                   const StepOptions& options) {
  const auto now = std::chrono::steady_clock::now();
  const auto fallback = std::chrono::seconds(step.timeout_s.value_or(synth::kDefaultTimeoutS));
  auto deadline = options.deadline;
  if (step.timeout_s || deadline == std::chrono::steady_clock::time_point::max()) {
    deadline = std::min(deadline, now + fallback);
  }
  return deadline;
}

double MsBetween(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
  return std::max(0.0, std::chrono::duration<double, std::milli>(b - a).count());
}

StepRecorder::StepRecorder(const synth::Step& step, int64_t index, const StepOptions& options)
    : started_(std::chrono::steady_clock::now()), clock_(options.clock) {
  run_.result.index = index;
  run_.result.name = step.name;
  run_.result.started_at_ms = clock_->NowMs();
}

void StepRecorder::Fail(StepErrorType type, std::string message) {
  if (run_.error_type) return;
  run_.error_type = type;
  run_.result.error_message = std::move(message);
}

void StepRecorder::Assert(std::string type, bool passed, std::string message) {
  if (!passed) Fail(StepErrorType::kAssertion, message);
  run_.result.assertions.push_back({std::move(type), passed, std::move(message)});
}

double StepRecorder::ElapsedMs() const {
  return MsBetween(started_, std::chrono::steady_clock::now());
}

StepRun StepRecorder::Finish(const RunContext& ctx) {
  synth::ResultStep& r = run_.result;
  r.duration_ms = ElapsedMs();
  r.finished_at_ms = std::max(r.started_at_ms, clock_->NowMs());
  r.status = run_.error_type ? synth::StepStatus::kError : synth::StepStatus::kSuccess;
  // Mask first, then cut: a cut could split a secret into a prefix Mask() no longer finds.
  if (r.error_message) r.error_message = ResultText(ctx.Mask(*r.error_message), kMaxErrorMessage);
  if (r.http && r.http->url) r.http->url = ResultText(ctx.Mask(*r.http->url), kMaxUrl);
  for (synth::StepAssertion& a : r.assertions) {
    a.message = ResultText(ctx.Mask(a.message), kMaxAssertionMessage);
  }
  if (r.details.is_object()) {
    for (auto& [key, value] : r.details.items()) {
      if (value.is_string())
        value = ResultText(ctx.Mask(value.get<std::string>()), kMaxDetailValue);
    }
  }
  return std::move(run_);
}

}  // namespace pa::robot
