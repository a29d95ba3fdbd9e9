// The embedded store's self-metrics (primoart_tsdb_*), registered when Options.metrics is set.
#pragma once

#include "base/telemetry.h"

namespace pa::storage::embedded_tsdb {

struct DbMetrics {
  explicit DbMetrics(telemetry::Registry& r) {
    appended = &r.AddCounter("primoart_tsdb_samples_appended_total",
                             "Samples stored by the embedded metric store.")
                    .With(std::vector<std::string>{});
    auto& rejected =
        r.AddCounter("primoart_tsdb_samples_rejected_total",
                     "Samples refused: older than retention or too far ahead.", {"reason"});
    too_old = &rejected.With({"too_old"});
    too_new = &rejected.With({"too_new"});
    duplicates = &r.AddCounter("primoart_tsdb_samples_duplicate_total",
                               "Samples identical to one already stored, skipped.")
                      .With(std::vector<std::string>{});
    head_series = &r.AddGauge("primoart_tsdb_head_series", "Series held in memory.")
                       .With(std::vector<std::string>{});
    head_samples = &r.AddGauge("primoart_tsdb_head_samples",
                               "Samples appended to the in-memory head since its last cut.")
                        .With(std::vector<std::string>{});
    head_chunks = &r.AddGauge("primoart_tsdb_head_chunks", "Chunks held in memory.")
                       .With(std::vector<std::string>{});
    blocks =
        &r.AddGauge("primoart_tsdb_blocks", "Blocks on disk.").With(std::vector<std::string>{});
    block_bytes = &r.AddGauge("primoart_tsdb_block_bytes", "Size of the blocks on disk.")
                       .With(std::vector<std::string>{});
    auto& compactions =
        r.AddCounter("primoart_tsdb_compactions_total", "Head flushes and block merges.", {"kind"});
    flushes = &compactions.With({"flush"});
    merges = &compactions.With({"merge"});
    compaction_failures = &r.AddCounter("primoart_tsdb_compaction_failures_total",
                                        "Head flushes and block merges that failed.")
                               .With(std::vector<std::string>{});
    wal_truncations = &r.AddCounter("primoart_tsdb_wal_truncations_total",
                                    "Torn WAL tails truncated at start-up.")
                           .With(std::vector<std::string>{});
    fsync = &r.AddHistogram("primoart_tsdb_wal_fsync_duration_seconds",
                            "Latency of WAL fsyncs (one per group of Append calls).", {})
                 .With(std::vector<std::string>{});
  }

  telemetry::Counter* appended;
  telemetry::Counter* too_old;
  telemetry::Counter* too_new;
  telemetry::Counter* duplicates;
  telemetry::Gauge* head_series;
  telemetry::Gauge* head_samples;
  telemetry::Gauge* head_chunks;
  telemetry::Gauge* blocks;
  telemetry::Gauge* block_bytes;
  telemetry::Counter* flushes;
  telemetry::Counter* merges;
  telemetry::Counter* compaction_failures;
  telemetry::Counter* wal_truncations;
  telemetry::Histogram* fsync;
};

}  // namespace pa::storage::embedded_tsdb
