// HttpLoad: a small HTTP/1.1 keep-alive load generator for one POST route, used by upload_bench.
//
// One thread, epoll, `concurrency` persistent connections; each carries one request at a time
// (no pipelining), as robots and SDKs do. Two ways to drive it:
//   closed loop (rate == 0)  every connection sends its next request as soon as the previous
//                            answer arrives: the highest throughput the server sustains;
//   open loop (rate > 0)     requests are scheduled at fixed intervals of 1/rate whatever the
//                            server does; a request waits for a free connection when all are
//                            busy, and its latency runs from its *scheduled* time, so a stalled
//                            server shows in the figures instead of slowing the clients down
//                            (no coordinated omission).
// A request counts as ok when the answer is 200 and its body contains `ok_marker`; anything else
// is an error, counted by HTTP status or by what went wrong ("connection_closed", "timeout",
// "not_sent": scheduled in the open loop but still waiting for a connection at the end).
//
//   pa::bench::LoadOptions options{.host = "127.0.0.1", .port = 8080, .path = "/x", ...};
//   auto report = pa::bench::RunLoad(options, [&] { return payload.Next(NowMs()); });
//
// Not thread-safe; RunLoad blocks for about `seconds` (plus up to `drain` for the last answers).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "base/status.h"

namespace pa::bench {

struct LoadOptions {
  std::string host;  // a numeric address or a name getaddrinfo resolves
  int port = 80;
  std::string path = "/";
  std::string extra_headers;  // complete lines, each ending in "\r\n" (Authorization, ...)
  int concurrency = 16;
  double seconds = 10;
  double rate = 0;                         // requests/s; 0 = closed loop
  std::chrono::milliseconds drain{10000};  // how long to wait for in-flight answers at the end
  std::string ok_marker;                   // a 200 body must contain this to count as ok
  int error_samples = 3;                   // non-ok answers printed to stderr, at most
};

struct LoadReport {
  int64_t sent = 0;
  int64_t ok = 0;
  double elapsed_s = 0;             // from the first send to the last answer
  std::vector<int64_t> latency_us;  // of the ok requests
  std::map<std::string, int64_t> errors;
  int64_t body_bytes = 0;  // total request body bytes sent
};

// Fails only when the target cannot be reached at all (resolution or the first connection);
// everything after that is counted in the report.
Result<LoadReport> RunLoad(const LoadOptions& options, const std::function<std::string()>& body);

}  // namespace pa::bench
