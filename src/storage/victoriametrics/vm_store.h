// The VictoriaMetrics backend of MetricStore.
//
// URL forms (PRIMOART_METRICS_URL):
//   victoriametrics+http://host:8428                 single-node VictoriaMetrics
//   victoriametrics+http://vminsert:8480?select=http://vmselect:8481&tenant=0[:0]
//                                                    cluster: separate insert/select, a tenant
// (also victoriametrics+https; a base URL may carry a path prefix, e.g. behind a proxy). Query
// parameters, all optional:
//   select=URL       cluster: vmselect's base URL (default: the insert URL, for a vmauth that
//                    routes both /insert and /select)
//   tenant=A[:P]     cluster: accountID[:projectID]; `select` alone implies tenant 0
//   flush=URL        repeatable; bases whose /internal/force_flush Sync calls (cluster: the
//                    vmstorage nodes, port 8482). Single-node: the insert URL.
//   retention=30d    samples older than this are skipped and counted as too_old (default: none
//                    are; VictoriaMetrics itself drops samples outside its -retentionPeriod)
//   max_future=10m   samples further ahead of the clock are skipped and counted as too_new
//   query_cache=true let VictoriaMetrics use its response cache and -search.latencyOffset for
//                    queries (default false: every query is sent with nocache=1, which also
//                    turns off VictoriaMetrics' shifting of "now" by -search.latencyOffset)
// The URL says where VictoriaMetrics is; the spool (directory and size) is the caller's
// configuration, not part of it.
//
// Writes: Append validates the labels (NormalizeLabels, and VictoriaMetrics' own limits that it
// would otherwise apply silently: at most max_labels labels, values of at most
// max_label_value_bytes), skips too-old/too-new samples, and writes the batch durably to a local
// spool (segment files, length+CRC32 framing, one fdatasync shared by concurrent appends) before
// returning. A background sender ships the spool in order through the Prometheus remote write
// protocol (protobuf + snappy) to <insert>/api/v1/write (cluster: /insert/<tenant>/prometheus/
// api/v1/write) and deletes a segment only after VictoriaMetrics answered 2xx for all of it; it
// retries with backoff while VictoriaMetrics is unreachable. Remote write, not /api/v1/import:
// it carries the float64 bits as they are, so the staleness marker survives (JSON has no way to
// write it) and VictoriaMetrics rejects a bad request as a whole instead of skipping bad lines
// with a 204. Delivery is at-least-once: after our crash the batches in flight are sent again
// (a marker file keeps that to the last request); run VictoriaMetrics with
// -dedup.minScrapeInterval=1ms so that a resent sample is stored once.
// When the spool holds spool_max_bytes, Append fails with kUnavailable ("metric spool full:
// VictoriaMetrics unreachable since …"): retryable, nothing is dropped.
//
// What VictoriaMetrics 1.79 does to values (its storage, whatever the protocol): NaN other than
// the staleness marker is dropped; values are stored as decimals with about 12-15 significant
// digits and a common exponent per block, so 0.1+0.2 reads back as 0.3, subnormals as 0, and a
// series mixing very large and very small values loses the small ones. Integers up to 2^53 and
// decimals with few digits round-trip exactly; -0.0 reads back as 0. AppendResult.duplicates is
// always 0 (the spool cannot know what VictoriaMetrics holds). VictoriaMetrics answers nothing
// for queries reaching back to within minutes of the Unix epoch (1970-01-01T00:10Z is where
// Series and the label methods start looking).
//
// Reads pass through to VictoriaMetrics' Prometheus API (MetricsQL, a superset of PromQL, with
// its own semantics: in range queries a series without samples ends after about two of its
// sample intervals, not after Prometheus's 5 minutes, unless VictoriaMetrics runs with
// -search.minStalenessInterval=5m -search.maxStalenessInterval=5m — recommended, and what
// scripts/vm-test-server does).
// VictoriaMetrics answers a scalar expression with a one-element vector and a string literal with
// nothing; the store recognises these expressions ("1+1", "scalar(x)", "\"s\"") and returns
// Prometheus's types. Series/LabelNames/LabelValues are exact for [mint, maxt]: they run
// count_over_time(<match>[maxt-mint]) at maxt (VictoriaMetrics' /api/v1/series answers per
// whole day). QueryLimits: `timeout` is sent as the request's timeout; max_series and
// max_samples are checked on the answer (series and points returned) — VictoriaMetrics has no
// per-request limit on what a query selects, its -search.maxUniqueTimeseries and
// -search.maxSamplesPerQuery apply, and their errors come back as kResourceExhausted.
// Errors: a bad query (400/422) is kInvalidArgument with VictoriaMetrics' message; 5xx, 429, a
// refused connection are kUnavailable; a timeout is kDeadlineExceeded.
//
// Thread-safety: every method may be called concurrently. Destroying the store stops the sender
// (waiting for a request in flight, at most `timeout`); unsent data stays in the spool and is
// sent by the next store opened on it. One process per spool directory (a lock file enforces it).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/telemetry.h"
#include "storage/metric_store.h"

namespace pa::storage::victoriametrics {

struct Options {
  std::string insert_url;  // base URL for writes, e.g. http://host:8428 or http://vminsert:8480
  std::string select_url;  // base URL for reads (default: insert_url)
  std::string tenant;      // cluster only: "accountID[:projectID]"; empty for single-node
  // Bases whose /internal/force_flush Sync calls to make shipped samples searchable at once.
  // Empty: single-node uses insert_url; a cluster waits `visibility_delay` instead.
  std::vector<std::string> flush_urls;
  std::chrono::milliseconds visibility_delay{3000};
  std::string spool_dir;  // durable outbox; created if missing
  int64_t spool_max_bytes = int64_t{1} << 30;
  std::chrono::milliseconds timeout{30000};  // one HTTP request (queries: limits.timeout + 5 s)
  std::chrono::milliseconds retention{0};    // 0: leave "too old" to VictoriaMetrics
  std::chrono::milliseconds max_future{10 * 60 * 1000};
  int max_labels = 30;                    // VictoriaMetrics' -maxLabelsPerTimeseries
  int64_t max_label_value_bytes = 16384;  // VictoriaMetrics' -maxLabelValueLen
  bool query_cache = false;               // see the header comment
  // Sender: uncompressed bytes per remote-write request, and the retry backoff while
  // VictoriaMetrics is unreachable (doubling from min to max).
  int64_t max_request_bytes = int64_t{4} << 20;
  std::chrono::milliseconds retry_min{100};
  std::chrono::milliseconds retry_max{5000};
  Clock* clock = nullptr;                  // default: the system clock
  telemetry::Registry* metrics = nullptr;  // optional self-metrics (at most one store per registry)
};

// Reads insert_url, select_url, tenant, flush_urls, retention, max_future and query_cache from
// a victoriametrics+http(s):// URL. kInvalidArgument names what is wrong.
Result<Options> OptionsFromUrl(const std::string& url);

// Opens the spool (replaying what an earlier process left in it) and starts the sender.
// VictoriaMetrics need not be reachable. kInvalidArgument for bad options, kFailedPrecondition
// when another process uses the spool directory, kUnavailable/kInternal for I/O errors.
Result<std::unique_ptr<MetricStore>> Open(const Options& options);

}  // namespace pa::storage::victoriametrics
