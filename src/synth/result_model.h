// TransactionResult: one run of a synthetic transaction as a robot uploads it (the
// TransactionResultBaseModel of docs/spec "transaction-result"), and the parser that validates
// the untrusted JSON into it.
//
// The wire format is a public contract (our robots and third-party ones, e.g. Python robots
// with pydantic, send it): fields are only ever added. Unknown fields are therefore accepted,
// kept in `raw` and otherwise ignored.
//
//   pa::synth::FieldErrors errors;
//   auto result = pa::synth::ParseResult(doc, clock.NowMs(), "", &errors);
//   if (!result) return Respond422(errors);      // every problem, each with its path
//   Store(*result, pa::synth::StoredResultJson(*result));
//
// Decisions the contract leaves open, made here once:
//   - A JSON null is the same as an absent field ("robot_id": null → "is required";
//     "location": null → no location), because pydantic models dump unset optionals as null.
//   - An empty `transaction_name`, `location` or `steps[i].screenshot` is read as absent.
//   - `error` is accepted (validated, and kept) when status is "success".
//   - `error.step_index` may be absent (= null).
//   - Lengths ("≤ 128 chars") count Unicode code points, as pydantic's max_length does; every
//     string must be valid UTF-8.
//   - Integer fields accept 5.0 but not 5.5; every number must be finite.
//   - A field that fails a check yields one error and no errors derived from it (a bad
//     `started_at` is not also "outside the interval").
//   - Unknown keys inside `timings` are kept in raw and ignored.
//
// Thread-safety: ParseResult and StoredResultJson are pure functions; call them from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/json.h"
#include "synth/field_error.h"

namespace pa::synth {

enum class RunStatus { kSuccess, kError };             // "success" | "error"
enum class StepStatus { kSuccess, kError, kSkipped };  // "success" | "error" | "skipped"

// The wire names ("success", ...).
std::string_view ToString(RunStatus status);
std::string_view ToString(StepStatus status);

// Limits of the contract, for callers that want to say them (docs, robots).
inline constexpr size_t kMaxResultSteps = 500;
inline constexpr size_t kMaxAssertions = 100;
inline constexpr size_t kMaxDetails = 32;
inline constexpr size_t kMaxAttributes = 64;
inline constexpr int64_t kMaxFutureMs = 24 * 3600 * 1000;  // timestamps vs the server clock
inline constexpr int64_t kStepToleranceMs = 1000;          // steps vs the run's interval

// Phase timings of a step in milliseconds, except `cls` (unitless). Each is ≥ 0 when present.
struct StepTimings {
  std::optional<double> dns_ms, connect_ms, tls_ms, ttfb_ms, download_ms, dom_content_loaded_ms,
      load_ms, lcp_ms, cls, inp_ms;
};

struct StepHttp {
  std::optional<std::string> method, url;
  std::optional<int> status_code;         // 100..599
  std::optional<int64_t> response_bytes;  // ≥ 0
};

struct StepAssertion {
  std::string type;
  bool passed = false;
  std::string message;  // "" when absent
};

struct ResultStep {
  int64_t index = 0;  // ≥ 0, unique within the run
  std::string name;
  int64_t started_at_ms = 0, finished_at_ms = 0;  // Unix ms
  double duration_ms = 0;                         // given, or finished - started
  StepStatus status = StepStatus::kSuccess;
  std::optional<std::string> error_message;
  StepTimings timings;
  std::optional<StepHttp> http;
  // As received: the filename of a multipart `artifact` part. The upload handler replaces it
  // with the artifact id; StoredResultJson writes the replaced value.
  std::optional<std::string> screenshot;
  std::vector<StepAssertion> assertions;  // in definition order
  Json details;                           // object of string/number values, or null
  size_t position = 0;  // where this step is in the received array: raw["steps"][position]
};

struct ResultError {
  std::optional<int64_t> step_index;  // the `index` of one of the steps, or none
  std::string type;                   // assertion | timeout | http | network | script | other
  std::string message;
};

struct TransactionResult {
  std::string run_id;  // the idempotency key
  std::string transaction_id;
  std::optional<std::string> transaction_name;
  std::string robot_id;
  std::optional<std::string> location;
  int64_t started_at_ms = 0, finished_at_ms = 0;  // Unix ms
  double duration_ms = 0;                         // given, or finished - started
  RunStatus status = RunStatus::kSuccess;
  std::optional<ResultError> error;                             // always set when status is kError
  std::vector<ResultStep> steps;                                // sorted by index
  std::vector<std::pair<std::string, std::string>> attributes;  // sorted by key
  Json raw;  // the object exactly as received, unknown fields included
};

// Validates one result object `doc` and returns it as a TransactionResult.
//
// Every problem is appended to `errors` (which may already hold errors of other documents) with
// its path prefixed by `path_prefix`: "" for a single object, "[3]." for element 3 of an array
// body, giving e.g. "steps[2].started_at", "[3].steps[0].timings.dns_ms", "error.type",
// "attributes.browser". A `doc` that is not an object is reported at the prefix without its
// trailing '.' ("" or "[3]").
// `now_ms` is the server clock in Unix ms: no timestamp may be more than 24 h after it.
//
// Returns nullopt iff it appended at least one error. Never throws for any `doc`; copies `doc`
// once, into `raw`, and only when it is valid. `errors` must not be null.
std::optional<TransactionResult> ParseResult(const Json& doc, int64_t now_ms,
                                             std::string_view path_prefix, FieldErrors* errors);

// The JSON document stored for a result: `r.raw` (timestamps as the robot wrote them, unknown
// fields kept) with the server's normalisations: `duration_ms` filled in where it was absent
// (run and steps), and each step's `screenshot` set to `r.steps[i].screenshot` (the artifact id
// the upload handler put there; the key is removed when that is nullopt). `r` must come from
// ParseResult (a `raw` that is not an object is returned unchanged). Never throws.
Json StoredResultJson(const TransactionResult& r);

// The same two without copies, for the upload path: ParseResult(std::move(doc), ...) moves `doc`
// into `raw` when it is valid (and leaves it alone otherwise); NormalizeStored applies
// StoredResultJson's normalisations to `r.raw` in place and returns whether it changed anything
// (when not, the received text itself may be stored).
std::optional<TransactionResult> ParseResult(Json&& doc, int64_t now_ms,
                                             std::string_view path_prefix, FieldErrors* errors);
bool NormalizeStored(TransactionResult& r);

}  // namespace pa::synth
