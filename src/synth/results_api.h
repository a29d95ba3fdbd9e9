// ResultsApi: the read side of synthetic results. Every route needs the `read` permission and
// answers JSON (errors as {"error", "message"}; a bad query parameter as 422 with the parameter's
// name as the detail's path). Times are RFC 3339 with milliseconds, UTC.
//
//   ResultsApi api(db, artifacts, clock);
//   PA_RETURN_IF_ERROR(api.Register(router));
//
// GET /api/v1/transactions/{id}/results?from=&to=&status=&robot=&location=&limit=&cursor=
//   Results with started_at in [from, to] (RFC 3339 or Unix ms; default the last 24 h), newest
//   first (started_at DESC, run_id DESC), `status` success|error, `robot`, `location` exact
//   matches, `limit` 1..1000 (default 100):
//   {"results": [{"run_id", "transaction_id", "tx_version" (int|null), "robot_id", "location",
//                 "started_at", "finished_at", "duration_ms", "status",
//                 "error": {"type", "message"} | null, "received_at"}],
//    "next_cursor": "..." | null}
//   next_cursor (opaque) continues after the page's last result with the same query; it is null
//   on the last page. 404 when the transaction does not exist.
//
// GET /api/v1/results/{run_id}
//   The stored document (as uploaded, with the server's normalisations) with the server's
//   fields set: "received_at", "tx_version", "location" (as resolved), and per step whose
//   `screenshot` is an artifact of this run "screenshot_url": "/api/v1/artifacts/<id>"; plus
//   "artifacts": [{"id", "filename", "content_type", "size", "step_index" (int|null), "url"}].
//
// GET /api/v1/artifacts/{id}
//   The bytes, with the stored Content-Type, `Content-Disposition: inline; filename="..."`
//   (the name reduced to [A-Za-z0-9._-]), `X-Content-Type-Options: nosniff`,
//   `Content-Security-Policy: sandbox` and `Cache-Control: private, max-age=86400`.
//
// GET /api/v1/transactions/{id}/stats?from=&to=
//   Over the results with started_at in [from, to] (default the last 24 h):
//   {"transaction_id", "from", "to", "runs", "successes", "failures",
//    "availability_pct" (100 * successes / runs; null without runs),
//    "duration_ms": {"p50", "p90", "p99", "avg", "min", "max"}   (each null without runs),
//    "steps": [{"index", "name", "runs", "failures", "skipped",
//               "duration_ms": {"p50", "p90", "p99"}}]            (by index),
//    "locations": [{"location", "runs", "availability_pct",
//                   "duration_ms": {"p50", "p90", "p99"}}]}       (by location)
//   A step's runs count the results that have it, failures those where it is "error", skipped
//   those where it is "skipped"; its percentiles are over the steps that ran (not skipped). Its
//   name is the one of its newest run in the range.
//
// GET /api/v1/overview
//   {"transactions": [{"id", "name", "application" (string|null), "enabled", "external",
//     "interval_s", "version", "last_status" (string|null), "last_run_at" (started_at of the
//     newest result, or null), "runs_24h", "availability_24h_pct" (null without runs),
//     "p90_ms_24h" (null without runs), "state", "missed_since" (RFC 3339|null)}]}  (by id)
//   `state`, first that applies: "disabled" (not enabled), "missed" (missed_since set),
//   "failing" (the newest result is an error), "no_data" (no result at all), "ok".
//   The 24 h are [now - 24 h, now]. Two queries whatever the number of transactions.
//
// Percentiles (p50, p90, p99 everywhere): linear interpolation between the closest ranks —
// numpy.percentile's default, as Prometheus' quantile_over_time. With the n values sorted,
// x[0] <= ... <= x[n-1], h = q * (n - 1) and k = floor(h): Q(q) = x[k] + (h - k) * (x[k+1] - x[k])
// (x[n-1] when k = n - 1). They are computed here from the selected rows, not in SQL, so both
// database backends give the same numbers.
//
// Errors: a database error is 503/500 as Response::FromStatus maps it; an artifact whose object
// is gone from the artifact store is 404.
// Thread-safety: handlers run concurrently; the object is immutable after Register.
#pragma once

#include "base/clock.h"
#include "base/status.h"
#include "gateway/router.h"
#include "storage/artifact_store.h"
#include "storage/relational_store.h"

namespace pa::synth {

class ResultsApi {
 public:
  // The references must outlive the routes.
  ResultsApi(storage::RelationalStore& db, storage::ArtifactStore& artifacts, Clock& clock)
      : db_(db), artifacts_(artifacts), clock_(clock) {}

  // Adds the five routes (owner "synth"); fails like Router::Add (e.g. a duplicate route).
  Status Register(gateway::Router& router);

 private:
  gateway::Response ListResults(gateway::Request& req);
  gateway::Response GetResult(gateway::Request& req);
  gateway::Response GetArtifact(gateway::Request& req);
  gateway::Response Stats(gateway::Request& req);     // result_stats.cc
  gateway::Response Overview(gateway::Request& req);  // result_stats.cc

  // 404 Response when the transaction does not exist, nullopt when it does; the database
  // error as a Response otherwise.
  std::optional<gateway::Response> RequireTransaction(std::string_view id);

  storage::RelationalStore& db_;
  storage::ArtifactStore& artifacts_;
  Clock& clock_;
};

}  // namespace pa::synth
