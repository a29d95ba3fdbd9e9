// The write-ahead log: what makes an acknowledged Append survive `kill -9`.
//
// A directory of numbered segment files; each record is [length u32][crc32 u32][payload].
// Writers Add() records while holding the store's append lock (so the log order is the order
// the head applied them in) and then Sync() outside of it: one thread writes everything pending
// and fdatasyncs once for all callers waiting at that moment (group commit), so concurrent
// appenders share fsyncs and one Append call costs one fsync however many samples it carries.
//
// Open() replays every segment in order. A record cut short or failing its CRC at the end of
// the last segment is a torn write from a crash: the segment is truncated there and the event
// logged; the same damage anywhere else is disk corruption, logged as an error, and the rest of
// that segment is skipped. Writing always starts a new segment. After a head cut the store
// calls Cut() for a segment boundary and, once the cut head is in blocks, RemoveBefore() it.
//
// Thread-safety: Add and Cut by one thread at a time (the append lock); Sync from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "base/status.h"
#include "base/telemetry.h"

namespace pa::storage::embedded_tsdb {

class Wal {
 public:
  struct Options {
    std::string dir;
    int64_t segment_bytes = int64_t{128} << 20;
    telemetry::Histogram* fsync_seconds = nullptr;  // optional
  };
  struct ReplayStats {
    int64_t records = 0;
    int64_t torn_bytes = 0;     // dropped from the tail of the last segment
    int64_t corrupt_bytes = 0;  // dropped elsewhere
  };
  using ReplayFn = std::function<Status(std::string_view payload)>;

  // Replays the existing segments through `replay` (its errors abort the open), then opens a
  // new segment for writing. kUnavailable when the directory cannot be used.
  static Result<std::unique_ptr<Wal>> Open(const Options& options, const ReplayFn& replay,
                                           ReplayStats* stats);
  ~Wal();

  // Queues a record; returns the position to pass to Sync().
  uint64_t Add(std::string_view payload);
  // Returns once every record up to `position` is on disk. A write or fsync failure is sticky:
  // this and every later call fail with kUnavailable, since the log's state is then unknown.
  Status Sync(uint64_t position);
  // Writes and syncs what is pending, then starts a new segment; returns its number.
  Result<uint64_t> Cut();
  // Deletes the segments numbered below `segment`.
  Status RemoveBefore(uint64_t segment);
  int64_t num_segments() const;
  // OK, or the sticky write/fsync failure.
  Status status() const;
  uint64_t current_segment() const;

 private:
  explicit Wal(Options options) : options_(std::move(options)) {}
  Status OpenSegment(uint64_t n);
  Status WriteAndSync(const std::string& data);  // only by the thread holding `io_busy_`
  // Takes the I/O role (waiting for another holder), flushes everything pending.
  Status FlushLocked(std::unique_lock<std::mutex>& lock);

  const Options options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::string pending_;
  uint64_t added_ = 0;   // bytes ever queued
  uint64_t synced_ = 0;  // bytes ever made durable
  bool io_busy_ = false;
  Status error_;
  // Owned by the I/O role.
  int fd_ = -1;
  std::atomic<uint64_t> segment_{0};
  int64_t segment_size_ = 0;
};

}  // namespace pa::storage::embedded_tsdb
