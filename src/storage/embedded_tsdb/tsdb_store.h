// The embedded metric store (`embedded://<dir>`, default <data dir>/metrics): a time-series
// engine of PrimoART's own — inverted index from labels to series, Gorilla-compressed chunks
// (delta-of-delta timestamps, XOR floats), a write-ahead log so an acknowledged Append survives
// `kill -9`, background compaction into immutable blocks, retention, bounded memory per active
// series, and out-of-order samples anywhere inside the retention period. Queries run on the
// PromQL engine (src/promql).
//
//   PA_ASSIGN_OR_RETURN(auto store, embedded_tsdb::Open({.dir = data_dir + "/metrics"}));
//   PA_ASSIGN_OR_RETURN(AppendResult r, store->Append(batch));
//
// How it is built (details in each header):
//   wal/wal.h             the write-ahead log, one fsync per Append shared by appenders;
//   head.h                the in-memory series, Gorilla chunks and out-of-order buffers;
//   chunkenc/             Gorilla head chunks and the denser on-disk chunk encoding;
//   blocks/block.h        immutable on-disk blocks (symbols, series, chunks);
//   blocks/compact.h      head flushes, time partitions, merging blocks;
//   index/index.h         postings and label matchers;
//   querier.h             the merged read path;
//   db.h                  the whole, with retention and the background thread.
//
// On disk: <dir>/wal/ (segments), <dir>/blocks/b-<seq>/ (blocks), <dir>/LOCK. One process at a
// time: a second Open of the same directory fails with kFailedPrecondition.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "base/clock.h"
#include "base/telemetry.h"
#include "storage/metric_store.h"

namespace pa::storage::embedded_tsdb {

struct Options {
  std::string dir;  // created if missing
  std::chrono::milliseconds retention{30LL * 24 * 3600 * 1000};
  std::chrono::milliseconds max_future{10 * 60 * 1000};  // samples further ahead are refused
  Clock* clock = nullptr;                                // default: the system clock
  // Optional self-metrics (primoart_tsdb_*). A registry may serve one open store at a time and
  // must outlive it.
  telemetry::Registry* metrics = nullptr;

  // Tuning; the defaults suit production.
  // The head is written to blocks when it holds this many samples...
  int64_t max_head_samples = 8'000'000;
  // ...or when one series holds this many chunks (of up to 120 samples): bounds its memory...
  int64_t max_head_chunks_per_series = 64;
  // ...or when its oldest sample was appended this long ago.
  std::chrono::milliseconds head_period{2 * 3600 * 1000};
  // How often the background thread checks for flushes, compactions and retention.
  std::chrono::milliseconds maintenance_interval{60 * 1000};
  // How long an append waits for the previous cut to reach disk once the head holds twice its
  // budget, before failing with kUnavailable.
  std::chrono::milliseconds max_backpressure_wait{60 * 1000};
  // Write the head to blocks on close (faster restarts, WAL emptied) instead of replaying the
  // WAL at the next open.
  bool flush_on_close = true;
};

Result<std::unique_ptr<MetricStore>> Open(const Options& options);

struct Stats {
  int64_t head_series = 0;
  int64_t head_samples = 0;  // appended since the last head cut
  int64_t head_chunks = 0;
  int64_t max_head_chunks_per_series = 0;
  int64_t blocks = 0;
  int64_t block_samples = 0;
  int64_t block_bytes = 0;  // index + chunk files
  int64_t wal_segments = 0;
  int64_t compactions = 0;  // head flushes and block merges since open
};

// Statistics of an embedded store; kInvalidArgument for another backend.
Result<Stats> GetStats(MetricStore& store);

// A reader over the store's data as it is now, for tests and tools that need raw samples (every
// PromQL query gets its own). Must not outlive the store; hold it briefly, since the memory of a
// head flush is only released once the readers that started before it are gone (so a thread
// holding one must not call Compact() or close the store meanwhile: that would wait forever).
// kInvalidArgument for another backend.
Result<std::unique_ptr<Querier>> NewQuerier(MetricStore& store);

// Writes the head to blocks, applies retention and merges blocks as far as possible, now, in
// the calling thread (the background thread does this gradually). For tests, benchmarks and
// maintenance tools. kInvalidArgument for another backend.
Status Compact(MetricStore& store);

}  // namespace pa::storage::embedded_tsdb
