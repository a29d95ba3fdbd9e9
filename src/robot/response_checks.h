// The `assert` and `extract` parts of an http step, over a response already received: each
// assertion becomes a StepAssertion in definition order, each extraction a template variable of
// the run. Internal to pa_robot_checks; separate from the transfer so it can be tested without
// a server.
//
// Thread-safety: free functions; `ctx` and `rec` belong to the calling step.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/json.h"
#include "robot/run_context.h"
#include "robot/step_recorder.h"
#include "synth/definition.h"

namespace pa::robot {

struct ReceivedResponse {
  int status_code = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // the final response's, in order
  std::string body;
  double duration_ms = 0;  // the whole exchange, for max_duration_ms

  // The first header named `name` (case-insensitive), or nullopt.
  std::optional<std::string_view> Header(std::string_view name) const;
};

// The values `path` selects in `doc` ([*] may select several; none when the path leads
// nowhere). kInvalidArgument when `path` does not parse.
Result<std::vector<const Json*>> SelectJsonPath(const Json& doc, std::string_view path);

// Evaluates `step.asserts` in order into `rec` (a failed one fails the step with type
// assertion; a template or regex that cannot be used, with type script). Without a `status`
// assertion a status outside 2xx/3xx fails the step with type http. Then runs `step.extracts`,
// storing values into `ctx`; one that finds nothing fails the step (type assertion).
void CheckResponse(const synth::HttpStep& step, const ReceivedResponse& response, RunContext& ctx,
                   StepRecorder& rec);

}  // namespace pa::robot
