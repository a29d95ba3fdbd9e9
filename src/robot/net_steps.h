// The robot's `tcp`, `dns` and `tls` steps (spec/transaction-definition.md).
//
//   StepRun run = RunTcpStep(def.steps[i], i, ctx, options);   // or RunDnsStep, RunTlsStep
//   StepRun run = RunStep(def.steps[i], i, ctx, options);      // any non-browser step
//
// tcp: resolves `host`, connects to the first address that accepts (timings.dns_ms,
//   connect_ms; details.remote_ip). With `send`, writes it; with `expect`, reads until the text
//   appears (assertion "expect"), the peer closes or 64 KiB arrived. `send` and `expect` are
//   templated.
// dns: asks for `record` of `query`. A and AAAA without a `resolver` go through getaddrinfo
//   (the system's view: /etc/hosts, nsswitch); other types, and every type with a `resolver`,
//   through a DNS stub client (dns_client.h) to the system's nameservers or the given one (on
//   options.dns_port). timings.dns_ms; details.dns_answers (the answers joined by ", ") and
//   dns_answer_count. Each `expect` value becomes an assertion "expect": present when an answer
//   equals it, ignoring case and a final dot (for MX, either "10 mx.example" or "mx.example").
//   A name without records of the type fails the step (type network).
// tls: connects, handshakes (SNI = host) with TLS >= 1.2 and checks the chain and the host name
//   against the system's trust store (or options.ca_file). timings dns_ms, connect_ms, tls_ms;
//   details tls_days_left (always, when a certificate arrived), tls_not_after, tls_version,
//   tls_cipher, tls_subject, tls_issuer. Assertions: "certificate" (verification) and, with
//   `min_days_valid`, "min_days_valid"; a failed one fails the step (type assertion).
// Every step ends at StepDeadline() (type timeout); resolution and connection failures are type
// network; an unknown template name type script. Results are masked as step_run.h says.
//
// Thread-safety: the functions may run concurrently on any threads (each call uses its own
// sockets; TLS contexts are shared, read-only).
#pragma once

#include <cstdint>

#include "robot/http_step.h"
#include "robot/run_context.h"
#include "robot/step_run.h"
#include "synth/definition.h"

namespace pa::robot {

// Each requires `step` to hold the matching kind.
StepRun RunTcpStep(const synth::Step& step, int64_t index, RunContext& ctx,
                   const StepOptions& options);
StepRun RunDnsStep(const synth::Step& step, int64_t index, RunContext& ctx,
                   const StepOptions& options);
StepRun RunTlsStep(const synth::Step& step, int64_t index, RunContext& ctx,
                   const StepOptions& options);

// Dispatches on the step's kind (http through `http_runner`). A browser step is not run here:
// it fails with type other ("browser steps need the browser executor").
StepRun RunStep(const synth::Step& step, int64_t index, RunContext& ctx, const StepOptions& options,
                HttpStepRunner& http_runner);

}  // namespace pa::robot
