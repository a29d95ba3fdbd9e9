// The robot's `http` step (spec/transaction-definition.md): one request with libcurl, then the
// step's assertions and extractions.
//
//   HttpStepRunner runner;                       // one per worker thread, reused
//   StepRun run = runner.Run(def.steps[i], i, ctx, {.deadline = run_deadline});
//
// What a run does:
//   - method, URL, header values and body go through ctx.Substitute(); an unknown name fails the
//     step (type script) before anything is sent. A body over options.max_request_bytes is not
//     sent (script).
//   - the step ends at StepDeadline(): curl's whole-transfer and connect timeouts are set to
//     what is left (type timeout when it passes).
//   - redirects are followed when `follow_redirects` (at most options.max_redirects, http and
//     https only); TLS peer and host verification are on unless `tls_verify` is false. Proxies
//     come from the environment (http_proxy, https_proxy, no_proxy: libcurl's behaviour).
//   - every run measures a first visit: a fresh connection, closed afterwards, no DNS cache, no
//     TLS session resumption. Compressed responses are decoded.
//   - a response body over options.max_response_bytes aborts the transfer (type http).
//   - timings are curl's own timers turned into phase durations: dns = namelookup,
//     connect = connect - namelookup, tls = appconnect - connect (https only),
//     ttfb = starttransfer - max(connect, appconnect) (the server's think time, what
//     `curl -w '%{time_starttransfer}-%{time_appconnect}'` shows), download = total -
//     starttransfer. Over redirects each is the sum over the hops.
//   - details: http_version ("1.1", "2"), remote_ip, redirects (when > 0) and, for https,
//     tls_days_left of the final server's certificate.
//   - result.http carries the method, the URL as substituted and masked, the final status and
//     the body's size (decoded).
// Error types are those of step_run.h.
//
// Thread-safety: a HttpStepRunner is used by one thread at a time; make one per worker. Keeping
// it warm saves parsing the CA bundle on every https check (libcurl caches the parsed store per
// handle: about 20 ms of CPU per check otherwise).
#pragma once

#include <cstdint>

#include "robot/run_context.h"
#include "robot/step_run.h"
#include "synth/definition.h"

namespace pa::robot {

class HttpStepRunner {
 public:
  HttpStepRunner();
  ~HttpStepRunner();
  HttpStepRunner(const HttpStepRunner&) = delete;
  HttpStepRunner& operator=(const HttpStepRunner&) = delete;

  // Runs `step`, which must be an http step, as step `index` of the run. Extracted values go
  // into `ctx`. Never throws; every failure is in the returned StepRun.
  StepRun Run(const synth::Step& step, int64_t index, RunContext& ctx, const StepOptions& options);

 private:
  void* handle_;  // CURL*, made on first use
};

// The same with a runner made for this one call.
StepRun RunHttpStep(const synth::Step& step, int64_t index, RunContext& ctx,
                    const StepOptions& options);

}  // namespace pa::robot
