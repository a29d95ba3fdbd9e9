// Db: the embedded time-series engine as a whole — the head, the WAL, the blocks, and the
// background thread that flushes, compacts and applies retention. tsdb_store.cc adapts it to
// the MetricStore interface.
//
// Write path: Append validates the whole batch first (all-or-nothing), then under the append
// lock resolves each series (hash of labels -> series), applies the samples to the head and
// queues one WAL record per call; outside the lock it waits for the group-committed fsync.
// Samples are visible to readers from the moment they are applied, a little before they are
// durable; if the fsync fails, Append returns kUnavailable although they may have been seen, and
// every later Append fails too (the WAL's state is unknown; a restart replays what is there).
//
// The head is cut (see head.h) when it holds max_head_samples, when a series exceeds its chunk
// budget, or after head_period; the background thread writes the cut to blocks, then deletes the
// WAL segments before the cut. Appends only wait for that when the head has grown to twice its
// budget meanwhile (back-pressure instead of unbounded memory), and they wait without the append
// lock, which the flush they wait for needs.
//
// Thread-safety: every public method may be called concurrently.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "storage/embedded_tsdb/blocks/block.h"
#include "storage/embedded_tsdb/head.h"
#include "storage/embedded_tsdb/querier.h"
#include "storage/embedded_tsdb/tsdb_store.h"
#include "storage/embedded_tsdb/wal/wal.h"

namespace pa::storage::embedded_tsdb {

struct DbMetrics;

class Db {
 public:
  // kUnavailable when the directory cannot be used, kFailedPrecondition when another process
  // has it open, kDataLoss never (damaged blocks are set aside and logged).
  static Result<std::unique_ptr<Db>> Open(const Options& options);
  ~Db();

  Result<AppendResult> Append(const std::vector<SeriesSamples>& batch);
  // A reader over the current blocks and the live head.
  std::unique_ptr<DbQuerier> NewQuerier();
  // Flush, retention and full compaction, now.
  Status Compact();
  Stats GetStats();
  // OK while appends can be made durable.
  Status Health() const { return wal_->status(); }
  const std::string& dir() const { return options_.dir; }

 private:
  explicit Db(const Options& options);
  Status Init();
  Status Replay(std::string_view record);
  void BackgroundLoop();
  Status Maintain(bool full);

  // Append lock held.
  Status CutLocked();
  // Maintenance lock held.
  Status FlushFrozen();
  Status ApplyRetention();
  Result<bool> CompactOnce(bool full);

  bool FrozenPending();
  void Kick();
  void PublishGauges();

  Options options_;
  Clock* clock_;
  std::string wal_dir_, blocks_dir_;
  int lock_fd_ = -1;
  int64_t replay_skipped_ = 0;      // WAL replay: samples of unknown series
  int64_t replay_bad_records_ = 0;  // WAL replay: records that did not decode
  std::vector<int64_t> ranges_;
  std::unique_ptr<DbMetrics> metrics_;

  Head head_;
  std::unique_ptr<Wal> wal_;
  std::mutex append_mu_;
  int64_t head_start_ms_ = 0;  // append_mu_: when the head's first sample arrived (0: none)
  bool over_budget_ = false;   // append_mu_: a series outgrew twice its chunk budget

  std::shared_mutex state_mu_;
  std::vector<std::shared_ptr<Block>> blocks_;  // state_mu_; ascending order
  ReaderRegistry readers_;

  std::mutex frozen_mu_;
  std::condition_variable frozen_cv_;
  std::shared_ptr<FrozenHead> frozen_;  // frozen_mu_: a cut waiting to be written
  uint64_t frozen_segment_ = 0;         // frozen_mu_: its WAL segments are those before this
  Status last_flush_error_;             // frozen_mu_

  std::mutex maint_mu_;  // one flush or compaction at a time
  std::atomic<uint64_t> next_seq_{1};
  std::atomic<int64_t> compactions_{0};

  std::mutex bg_mu_;
  std::condition_variable bg_cv_;
  bool kicked_ = false;  // bg_mu_
  std::atomic<bool> stopping_{false};
  std::thread bg_;
};

}  // namespace pa::storage::embedded_tsdb
