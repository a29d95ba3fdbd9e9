// upload_bench: the load generator of bench/upload/run — uploads of synthetic transaction results
// (POST /api/v1/transactions/results/upload, spec transaction-result.md) over HTTP/1.1
// keep-alive connections, against PrimoART or the FastAPI peer alike.
//
//   upload_bench max  URL TOKEN CONCURRENCY SECONDS        closed loop: the highest throughput
//   upload_bench rate URL TOKEN RATE SECONDS CONCURRENCY   open loop at RATE results/s; latency
//                                                          from each request's scheduled time
//   upload_bench body                                      prints one request body (to look at)
//
// URL is the server's base URL (http://127.0.0.1:8080) or the route's full URL. Each request is
// one ~4 KB result with 10 steps and a unique run_id `<prefix>-<counter>` (prefix from
// BENCH_RUN_PREFIX, else one per process), so repeated runs against the same store never collide.
// An answer counts as ok when it is 200 and reports the result "created"; anything else is an
// error, counted by status (the first few are printed to stderr).
//
// Prints one JSON line: mode, concurrency, seconds, target_rate, sent, ok, results_per_s,
// p50_ms, p90_ms, p99_ms, max_ms (of the ok requests), body_bytes (average) and errors
// ({"404": n, "connection_closed": n, ...}). Exits 1 on bad arguments or an unreachable target,
// never because of the figures or of error answers.
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "base/url.h"
#include "http_load.h"
#include "result_payload.h"

namespace {

constexpr const char* kRoute = "/api/v1/transactions/results/upload";

int Usage() {
  std::fprintf(stderr,
               "usage: upload_bench max  URL TOKEN CONCURRENCY SECONDS\n"
               "       upload_bench rate URL TOKEN RATE SECONDS CONCURRENCY\n"
               "       upload_bench body\n");
  return 1;
}

int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double Percentile(const std::vector<int64_t>& sorted_us, double q) {
  if (sorted_us.empty()) return 0;
  const size_t rank = static_cast<size_t>(q * static_cast<double>(sorted_us.size()));
  return static_cast<double>(sorted_us[std::min(rank, sorted_us.size() - 1)]) / 1000.0;
}

std::string ReportJson(const std::string& mode, const pa::bench::LoadOptions& o,
                       pa::bench::LoadReport& r) {
  std::sort(r.latency_us.begin(), r.latency_us.end());
  std::string errors;
  for (const auto& [what, n] : r.errors) {
    errors += fmt::format("{}\"{}\": {}", errors.empty() ? "" : ", ", what, n);
  }
  return fmt::format(
      "{{\"mode\": \"{}\", \"concurrency\": {}, \"seconds\": {}, \"target_rate\": {}, "
      "\"sent\": {}, \"ok\": {}, \"results_per_s\": {:.1f}, \"p50_ms\": {:.2f}, "
      "\"p90_ms\": {:.2f}, \"p99_ms\": {:.2f}, \"max_ms\": {:.2f}, \"body_bytes\": {}, "
      "\"errors\": {{{}}}}}",
      mode, o.concurrency, o.seconds, o.rate, r.sent, r.ok,
      r.elapsed_s > 0 ? static_cast<double>(r.ok) / r.elapsed_s : 0.0,
      Percentile(r.latency_us, 0.5), Percentile(r.latency_us, 0.9), Percentile(r.latency_us, 0.99),
      r.latency_us.empty() ? 0.0 : static_cast<double>(r.latency_us.back()) / 1000.0,
      r.sent ? r.body_bytes / r.sent : 0, errors);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::string(argv[1]) == "body") {
    std::printf("%s\n", pa::bench::ResultPayload("bench-sample", 1).Next(WallMs()).c_str());
    return 0;
  }
  if (argc < 6) return Usage();
  const std::string mode = argv[1];
  pa::bench::LoadOptions o;
  if (mode == "max" && argc == 6) {
    o.concurrency = std::atoi(argv[4]);
    o.seconds = std::atof(argv[5]);
  } else if (mode == "rate" && argc == 7) {
    o.rate = std::atof(argv[4]);
    o.seconds = std::atof(argv[5]);
    o.concurrency = std::atoi(argv[6]);
    if (o.rate <= 0) return Usage();
  } else {
    return Usage();
  }
  if (o.concurrency < 1 || o.seconds <= 0) return Usage();

  auto url = pa::ParseUrl(argv[2]);
  if (!url.ok() || url->scheme != "http" || url->host.empty()) {
    std::fprintf(stderr, "upload_bench: URL must be http://host:port[/path]: %s\n", argv[2]);
    return 1;
  }
  o.host = url->host;
  o.port = url->port ? url->port : 80;
  o.path = url->path.empty() || url->path == "/" ? kRoute : url->path;
  o.extra_headers = fmt::format("Authorization: Bearer {}\r\n", argv[3]);
  o.ok_marker = "created";

  const char* prefix_env = std::getenv("BENCH_RUN_PREFIX");
  const std::string prefix = prefix_env && *prefix_env
                                 ? std::string(prefix_env)
                                 : fmt::format("bench-{}-{}", WallMs(), getpid());
  pa::bench::ResultPayload payload(prefix, static_cast<uint64_t>(WallMs()) ^ getpid());
  auto report = pa::bench::RunLoad(o, [&] { return payload.Next(WallMs()); });
  if (!report.ok()) {
    std::fprintf(stderr, "upload_bench: %s\n", report.status().ToString().c_str());
    return 1;
  }
  std::printf("%s\n", ReportJson(mode, o, *report).c_str());
  return 0;
}
