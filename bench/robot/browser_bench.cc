// robot_browser_bench: browser journeys run back to back by one robot, for bench/robot/run — the
// robot's own path: a TransactionRunner with MakeBrowserStepFn (one shared headless Chromium, a
// fresh browser context per run), exactly as `primoart-robot run` and the agent use them.
//
//   robot_browser_bench DEFINITION BASE_URL SECONDS
//
// DEFINITION is a transaction definition (bench/robot/journey.json); its variable `base` is set
// to BASE_URL. One warm-up run first (it starts Chromium; not counted, and it must succeed), then
// runs one after another until SECONDS have passed. Prints one JSON line: runs (succeeded),
// failed, first_error, seconds (wall, from the end of the warm-up), runs_per_min (succeeded runs),
// p50_ms / max_ms of the succeeded runs' duration_ms, and pid (this process; Chromium runs as its
// descendant, so bench/robot/pss_tree.py measures both from it).
// Exits 1 on bad arguments, an invalid definition, no Chromium, or a failed warm-up run.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "base/json.h"
#include "base/random.h"
#include "robot/agent/browser_glue.h"
#include "robot/agent/transaction_run.h"
#include "synth/definition.h"

namespace {

using pa::Json;
using Steady = std::chrono::steady_clock;

std::optional<pa::synth::TransactionDefinition> LoadDefinition(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "robot_browser_bench: cannot read %s\n", path.c_str());
    return std::nullopt;
  }
  std::stringstream text;
  text << in.rdbuf();
  auto doc = pa::synth::ParseDocument(text.str(), "");
  if (!doc.ok()) {
    std::fprintf(stderr, "robot_browser_bench: %s: %s\n", path.c_str(),
                 doc.status().message().c_str());
    return std::nullopt;
  }
  pa::synth::FieldErrors errors;
  auto def = pa::synth::ParseDefinition(*doc, &errors);
  for (const auto& e : errors) {
    std::fprintf(stderr, "robot_browser_bench: %s: %s: %s\n", path.c_str(), e.path.c_str(),
                 e.message.c_str());
  }
  return def;
}

std::string ErrorOf(const pa::robot::RunOutput& out) {
  const Json& r = out.result;
  if (!r.contains("error") || !r["error"].is_object()) return "failed without an error";
  return r["error"].value("type", "") + ": " + r["error"].value("message", "");
}

pa::robot::RunOutput RunOnce(pa::robot::TransactionRunner& runner,
                             const pa::synth::TransactionDefinition& def) {
  pa::robot::RunInput input;
  input.def = &def;
  input.robot_id = "bench";
  input.run_id = pa::NewId(std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count());
  return runner.Run(input);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4 || std::atof(argv[3]) <= 0) {
    std::fprintf(stderr, "usage: robot_browser_bench DEFINITION BASE_URL SECONDS\n");
    return 1;
  }
  auto def = LoadDefinition(argv[1]);
  if (!def) return 1;
  def->variables["base"] = argv[2];
  const double seconds = std::atof(argv[3]);

  auto browser = pa::robot::MakeBrowserStepFn({});
  if (!browser.ok()) {
    std::fprintf(stderr, "robot_browser_bench: %s\n", browser.status().message().c_str());
    return 1;
  }
  pa::robot::TransactionRunner runner(*browser);
  if (pa::robot::RunOutput warm = RunOnce(runner, *def); !warm.success) {
    std::fprintf(stderr, "robot_browser_bench: the warm-up run failed: %s\n",
                 ErrorOf(warm).c_str());
    return 1;
  }

  std::vector<double> durations_ms;
  int64_t failed = 0;
  std::string first_error;
  const Steady::time_point start = Steady::now();
  const auto until =
      start + std::chrono::duration_cast<Steady::duration>(std::chrono::duration<double>(seconds));
  while (Steady::now() < until) {
    pa::robot::RunOutput out = RunOnce(runner, *def);
    if (out.success) {
      durations_ms.push_back(out.result.value("duration_ms", 0.0));
      continue;
    }
    ++failed;
    if (first_error.empty()) first_error = ErrorOf(out);
  }
  const double wall_s = std::chrono::duration<double>(Steady::now() - start).count();
  std::sort(durations_ms.begin(), durations_ms.end());
  const double p50 = durations_ms.empty() ? 0 : durations_ms[durations_ms.size() / 2];
  const double max = durations_ms.empty() ? 0 : durations_ms.back();
  const Json report = {{"side", "primoart"},
                       {"runs", durations_ms.size()},
                       {"failed", failed},
                       {"first_error", first_error},
                       {"seconds", wall_s},
                       {"runs_per_min", static_cast<double>(durations_ms.size()) * 60.0 / wall_s},
                       {"p50_ms", p50},
                       {"max_ms", max},
                       {"pid", static_cast<int64_t>(getpid())}};
  std::printf("%s\n", report.dump().c_str());
  return 0;
}
