// Opening stores from their URLs: the one place that knows which backend a URL scheme means.
//
//   database_url   sqlite://<path>                      → storage/sqlite
//                  postgresql://user:pass@host:port/db  → storage/postgres (also postgres://)
//   metrics_url    embedded://<dir>                     → storage/embedded_tsdb
//                  victoriametrics+http://host:8428[?select=...&tenant=...]
//                                                       → storage/victoriametrics
//   artifacts_url  file://<dir>                         → storage/fs
//                  s3://bucket[/prefix]?endpoint=http://host:port&region=r&path_style=true
//                                                       → storage/s3
//
// Open* connect and check the store once, so an unreachable store fails at start-up with a
// message naming it. The returned stores are wrapped with the metrics decorator when a registry is
// given (primoart_store_operation_duration_seconds, primoart_store_errors_total).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "base/status.h"
#include "base/telemetry.h"
#include "storage/artifact_store.h"
#include "storage/metric_store.h"
#include "storage/relational_store.h"

namespace pa::storage {

struct RelationalOptions {
  std::string url;
  int pool_size = 8;  // PostgreSQL connections / SQLite reader connections
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds busy_timeout{5000};  // how long a write waits for a lock
};

struct ArtifactOptions {
  std::string url;
  std::string s3_access_key;
  std::string s3_secret_key;
  std::chrono::milliseconds timeout{30000};  // per S3 request
  int max_retries = 4;                       // S3: on 5xx, 429 and network errors
};

struct MetricOptions {
  std::string url;        // embedded://<dir> or victoriametrics+http(s)://...
  std::string spool_dir;  // VictoriaMetrics: where the durable outbox lives
  std::chrono::milliseconds retention{30LL * 24 * 3600 * 1000};  // embedded
  int64_t spool_max_bytes = int64_t{1} << 30;                    // VictoriaMetrics
};

Result<std::unique_ptr<MetricStore>> OpenMetricStore(const MetricOptions& options,
                                                     telemetry::Registry* metrics);
Status ValidateMetricsUrl(const std::string& url);

Result<std::unique_ptr<RelationalStore>> OpenRelationalStore(const RelationalOptions& options,
                                                             telemetry::Registry* metrics);
Result<std::unique_ptr<ArtifactStore>> OpenArtifactStore(const ArtifactOptions& options,
                                                         telemetry::Registry* metrics);

// Checks a URL's form without connecting (for configuration validation); the message says what
// is wrong and which forms are accepted.
Status ValidateDatabaseUrl(const std::string& url);
Status ValidateArtifactsUrl(const std::string& url);

}  // namespace pa::storage
