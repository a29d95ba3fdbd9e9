// robot_http_bench: the robot's http checks under load, for bench/robot/run — the same
// HttpStepRunner the robot uses (src/robot/http_step.h), driven from this process.
//
//   robot_http_bench load URL CONCURRENCY SECONDS   CONCURRENCY threads, each with its own
//                                                   HttpStepRunner, run checks back to back
//   robot_http_bench ttfb URL COUNT                 COUNT sequential checks, one after another
//
// A check is one run of a one-step definition: GET URL with a `status` assertion `in: [200]`, a
// fresh RunContext per check, the robot's default step options (so a fresh connection per check,
// no DNS cache: every check measures a first visit, as the robot does).
//
// load prints one JSON line: checks (ok), errors ({"network": n, ...}), first_error, seconds
// (wall), checks_per_s, cpu_s (getrusage RUSAGE_SELF user + system over the timed part: the
// whole process, so the load generation is counted as ours too), checks_per_cpu_s, and p50_ms /
// p99_ms of the steps' duration_ms. ttfb prints {"ttfb_ms": [...], "errors": n}: each ok
// check's timings.ttfb_ms (starttransfer - max(connect, appconnect), curl's timers).
// Exits 1 on bad arguments, an invalid URL, or when the first check fails (nothing to measure);
// never because of the figures.
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/json.h"
#include "robot/http_step.h"
#include "robot/run_context.h"
#include "robot/step_run.h"
#include "synth/definition.h"

namespace {

using pa::Json;
using Steady = std::chrono::steady_clock;

int Usage() {
  std::fprintf(stderr,
               "usage: robot_http_bench load URL CONCURRENCY SECONDS\n"
               "       robot_http_bench ttfb URL COUNT\n");
  return 1;
}

// The one-step definition every check runs.
std::optional<pa::synth::TransactionDefinition> CheckDefinition(const std::string& url) {
  const Json doc = {{"id", "bench-http"},
                    {"name", "bench http check"},
                    {"steps",
                     {{{"name", "GET"},
                       {"type", "http"},
                       {"request", {{"method", "GET"}, {"url", url}}},
                       {"assert", {{{"type", "status"}, {"in", {200}}}}}}}}};
  pa::synth::FieldErrors errors;
  auto def = pa::synth::ParseDefinition(doc, &errors);
  for (const auto& e : errors)
    std::fprintf(stderr, "definition: %s: %s\n", e.path.c_str(), e.message.c_str());
  return def;
}

pa::robot::StepRun Check(pa::robot::HttpStepRunner& runner,
                         const pa::synth::TransactionDefinition& def) {
  pa::robot::RunContext ctx(def.variables, def.secrets);
  pa::robot::StepOptions options;
  options.deadline = Steady::now() + std::chrono::seconds(10);
  return runner.Run(def.steps[0], 0, ctx, options);
}

double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return s(u.ru_utime) + s(u.ru_stime);
}

double Percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  const size_t rank = static_cast<size_t>(q * static_cast<double>(sorted.size()));
  return sorted[std::min(rank, sorted.size() - 1)];
}

// What one load thread saw.
struct ThreadTally {
  std::vector<double> durations_ms;  // of ok checks
  std::map<std::string, int64_t> errors;
  std::string first_error;
};

void LoadThread(const pa::synth::TransactionDefinition& def, Steady::time_point until,
                ThreadTally* tally) {
  pa::robot::HttpStepRunner runner;
  tally->durations_ms.reserve(1 << 16);
  while (Steady::now() < until) {
    pa::robot::StepRun run = Check(runner, def);
    if (!run.error_type) {
      tally->durations_ms.push_back(run.result.duration_ms);
      continue;
    }
    ++tally->errors[std::string(pa::robot::StepErrorTypeName(*run.error_type))];
    if (tally->first_error.empty()) tally->first_error = run.result.error_message.value_or("");
  }
}

int Load(const pa::synth::TransactionDefinition& def, int concurrency, double seconds) {
  std::vector<ThreadTally> tallies(static_cast<size_t>(concurrency));
  std::vector<std::thread> threads;
  const double cpu_before = CpuSeconds();
  const Steady::time_point start = Steady::now();
  const auto until =
      start + std::chrono::duration_cast<Steady::duration>(std::chrono::duration<double>(seconds));
  for (ThreadTally& t : tallies) threads.emplace_back(LoadThread, std::cref(def), until, &t);
  for (std::thread& t : threads) t.join();
  const double wall_s = std::chrono::duration<double>(Steady::now() - start).count();
  const double cpu_s = CpuSeconds() - cpu_before;

  std::vector<double> all;
  std::map<std::string, int64_t> errors;
  std::string first_error;
  for (ThreadTally& t : tallies) {
    all.insert(all.end(), t.durations_ms.begin(), t.durations_ms.end());
    for (const auto& [k, v] : t.errors) errors[k] += v;
    if (first_error.empty()) first_error = t.first_error;
  }
  std::sort(all.begin(), all.end());
  const double checks = static_cast<double>(all.size());
  const Json out = {{"mode", "load"},
                    {"concurrency", concurrency},
                    {"checks", all.size()},
                    {"errors", errors},
                    {"first_error", first_error},
                    {"seconds", wall_s},
                    {"checks_per_s", checks / wall_s},
                    {"cpu_s", cpu_s},
                    {"checks_per_cpu_s", cpu_s > 0 ? checks / cpu_s : 0.0},
                    {"p50_ms", Percentile(all, 0.50)},
                    {"p99_ms", Percentile(all, 0.99)}};
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

int Ttfb(const pa::synth::TransactionDefinition& def, int count) {
  pa::robot::HttpStepRunner runner;
  Json ttfb = Json::array();
  int errors = 0;
  for (int i = 0; i < count; ++i) {
    pa::robot::StepRun run = Check(runner, def);
    if (run.error_type || !run.result.timings.ttfb_ms) {
      ++errors;
      continue;
    }
    ttfb.push_back(*run.result.timings.ttfb_ms);
  }
  std::printf("%s\n", Json{{"ttfb_ms", ttfb}, {"errors", errors}}.dump().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) return Usage();
  const std::string mode = argv[1], url = argv[2];
  const auto def = CheckDefinition(url);
  if (!def) return 1;
  {  // One check first: a wrong URL or a server that is not there is an error, not a figure.
    pa::robot::HttpStepRunner runner;
    pa::robot::StepRun run = Check(runner, *def);
    if (run.error_type) {
      std::fprintf(stderr, "robot_http_bench: the first check of %s failed (%s): %s\n", url.c_str(),
                   std::string(pa::robot::StepErrorTypeName(*run.error_type)).c_str(),
                   run.result.error_message.value_or("").c_str());
      return 1;
    }
  }
  if (mode == "load" && argc == 5) {
    const int concurrency = std::atoi(argv[3]);
    const double seconds = std::atof(argv[4]);
    if (concurrency < 1 || concurrency > 10000 || seconds <= 0) return Usage();
    return Load(*def, concurrency, seconds);
  }
  if (mode == "ttfb" && argc == 4) {
    const int count = std::atoi(argv[3]);
    if (count < 1) return Usage();
    return Ttfb(*def, count);
  }
  return Usage();
}
