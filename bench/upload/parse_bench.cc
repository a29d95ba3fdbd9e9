// parse_bench: the CPU an upload's JSON work costs per result, stage by stage, on the payloads of
// upload_bench (result_payload.h) — the in-process part of bench/upload's figures, for deciding
// where the server's time per result goes without a profiler:
//
//   parse      ParseJson: the body's text into a DOM (nlohmann/json)
//   validate   ParseResult: every rule of the result contract, the DOM moved into `raw`
//   normalize  NormalizeStored: the stored form (a no-op for these payloads, as for most)
//   free       the DOM released (the upload frees it on the I/O thread)
//
//   build/bench/upload/parse_bench [results=20000] [rounds=5]
//
// Prints one JSON object: microseconds per result for each stage and in all, the best of
// `rounds` rounds (the least disturbed by other work on the machine).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "base/json.h"
#include "result_payload.h"
#include "synth/result_model.h"

namespace {

using Clock = std::chrono::steady_clock;

double Micros(Clock::duration d, size_t n) {
  return std::chrono::duration<double, std::micro>(d).count() / static_cast<double>(n);
}

}  // namespace

int main(int argc, char** argv) {
  const size_t n = argc > 1 ? static_cast<size_t>(std::atol(argv[1])) : 20000;
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 5;
  if (n == 0 || rounds < 1) {
    std::fprintf(stderr, "usage: parse_bench [results>0] [rounds>0]\n");
    return 2;
  }
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  pa::bench::ResultPayload payload("parse-bench", 7);
  std::vector<std::string> bodies;
  size_t bytes = 0;
  for (size_t i = 0; i < n; ++i) {
    bodies.push_back(payload.Next(now));
    bytes += bodies.back().size();
  }

  double best[4] = {1e18, 1e18, 1e18, 1e18};
  std::vector<pa::Json> docs(n);
  std::vector<pa::synth::TransactionResult> results(n);
  for (int round = 0; round < rounds; ++round) {
    const auto t0 = Clock::now();
    for (size_t i = 0; i < n; ++i) {
      std::string error;
      auto doc = pa::ParseJson(bodies[i], &error);
      if (!doc) {
        std::fprintf(stderr, "parse_bench: body %zu: %s\n", i, error.c_str());
        return 1;
      }
      docs[i] = std::move(*doc);
    }
    const auto t1 = Clock::now();
    for (size_t i = 0; i < n; ++i) {
      pa::synth::FieldErrors errors;
      auto r = pa::synth::ParseResult(std::move(docs[i]), now, "", &errors);
      if (!r) {
        std::fprintf(stderr, "parse_bench: body %zu is refused: %s: %s\n", i,
                     errors.empty() ? "" : errors[0].path.c_str(),
                     errors.empty() ? "" : errors[0].message.c_str());
        return 1;
      }
      results[i] = std::move(*r);
    }
    const auto t2 = Clock::now();
    size_t changed = 0;
    for (size_t i = 0; i < n; ++i) changed += pa::synth::NormalizeStored(results[i]) ? 1 : 0;
    const auto t3 = Clock::now();
    for (size_t i = 0; i < n; ++i) results[i].raw = pa::Json();
    const auto t4 = Clock::now();
    const double stage[4] = {Micros(t1 - t0, n), Micros(t2 - t1, n), Micros(t3 - t2, n),
                             Micros(t4 - t3, n)};
    for (int k = 0; k < 4; ++k) best[k] = std::min(best[k], stage[k]);
    if (changed != 0 && round == 0) {
      std::fprintf(stderr, "parse_bench: note: %zu of %zu results were normalised\n", changed, n);
    }
  }
  std::printf(
      "{\"results\": %zu, \"mean_bytes\": %zu, \"parse_us\": %.2f, \"validate_us\": %.2f, "
      "\"normalize_us\": %.2f, \"free_us\": %.2f, \"total_us\": %.2f}\n",
      n, bytes / n, best[0], best[1], best[2], best[3], best[0] + best[1] + best[2] + best[3]);
  return 0;
}
