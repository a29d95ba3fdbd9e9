// Spool: a durable, bounded FIFO of records on local disk — the outbox between
// MetricStore::Append and the sender that ships to VictoriaMetrics.
//
//   PA_ASSIGN_OR_RETURN(auto spool, Spool::Open({.dir = "/data/vm-spool", .max_bytes = 1 << 30}));
//   PA_RETURN_IF_ERROR(spool->Append({record1, record2}));    // durable when OK
//   // the one consumer thread:
//   PA_ASSIGN_OR_RETURN(SpoolBatch b, spool->Next(4 << 20, 1s));
//   if (!b.records.empty() && Send(b).ok()) PA_RETURN_IF_ERROR(spool->Commit(b));
//
// On disk: segment files <20-digit sequence>.seg, each an 8-byte magic followed by frames
// [u32 length][u32 CRC32 of the payload][payload] (little-endian). Append writes all records of
// every caller waiting at that moment with one write and one fdatasync (group commit), so
// concurrent appenders share the cost of the sync. A segment is deleted once all its records are
// committed and writing moved on to a newer one. The file `shipped` remembers the commit cursor
// (written without fsync: losing it only means records are delivered again), and `LOCK` keeps a
// second process out.
// Recovery (Open): every frame that passes its CRC is kept; a torn tail (a crash in the middle of
// an append that was never acknowledged) is cut off; records before the cursor are skipped.
// Bound: the segment files never hold more than max_bytes; an Append that does not fit now is
// kResourceExhausted (retry later), one that could never fit is kInvalidArgument.
// Thread-safety: Append, Stats and WaitShipped from any thread; Next, Commit and SkipCorrupt from
// one consumer thread at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"

namespace pa::storage::victoriametrics {

struct SpoolOptions {
  std::string dir;  // created if missing
  int64_t max_bytes = int64_t{1} << 30;
  // A new segment starts when the current one reaches this size. 0: max_bytes / 8, clamped to
  // [64 KiB, 64 MiB].
  int64_t segment_bytes = 0;
  Clock* clock = nullptr;  // append times, for the age of the oldest record
};

// What Open found, for the log.
struct SpoolRecovery {
  int64_t records = 0;                // unshipped records found
  int64_t bytes = 0;                  // their segment files' size
  int64_t truncated_bytes = 0;        // torn or corrupt tails cut off
  std::vector<std::string> problems;  // one line per corrupt file or tail
};

struct SpoolStats {
  int64_t bytes = 0;  // segment files on disk
  int64_t max_bytes = 0;
  int64_t pending_records = 0;   // appended, not committed
  int64_t appended_records = 0;  // since Open, recovered records included
  int64_t committed_records = 0;
  std::optional<Clock::WallTime> oldest_pending;  // when the oldest pending record was appended
};

// Consecutive records from the head of the spool; commit it as a whole.
struct SpoolBatch {
  std::vector<std::string> records;
  int64_t payload_bytes = 0;
  uint64_t segment = 0;  // position, for Commit
  int64_t begin = 0;
  int64_t end = 0;
};

class Spool {
 public:
  static Result<std::unique_ptr<Spool>> Open(const SpoolOptions& options,
                                             SpoolRecovery* recovery = nullptr);
  ~Spool();
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  // Appends `records` (non-empty payloads) durably, as one unit and in call order relative to
  // other Appends. kResourceExhausted: no room now; kInvalidArgument: larger than max_bytes;
  // kUnavailable: a write or fsync failed (nothing of this call is acknowledged).
  Status Append(std::vector<std::string> records);

  // The oldest uncommitted records, up to `max_bytes` of payload (always at least one record;
  // max_bytes 0 = exactly one), all from one segment. Waits up to `wait` for a record; an empty
  // batch when none came or Wake() was called. The same records come again until committed.
  // kDataLoss when a record fails its CRC on the way back (see SkipCorrupt).
  Result<SpoolBatch> Next(size_t max_bytes, std::chrono::milliseconds wait);
  // Marks `batch` (the last one Next returned) delivered; deletes segments no longer needed.
  Status Commit(const SpoolBatch& batch);
  // After kDataLoss from Next: gives up the rest of the current segment. Returns how many
  // records were dropped.
  int64_t SkipCorrupt();
  // Makes a waiting Next return at once.
  void Wake();

  // Waits until `committed_records` reaches `target` or until `deadline`; true when reached.
  bool WaitCommitted(int64_t target, std::chrono::steady_clock::time_point deadline);
  SpoolStats Stats() const;

 private:
  struct State;
  explicit Spool(std::unique_ptr<State> state);
  std::unique_ptr<State> s_;
};

}  // namespace pa::storage::victoriametrics
