// ResultWriter: stores uploaded results with group commit. Upload handlers Submit() a unit (the
// validated results of one request, with their artifacts already in the artifact store) and get
// their answer through a callback once it is durable; one writer thread commits whatever units
// are waiting in one database transaction, so the fsync of a commit is shared by every request
// that arrived meanwhile (SQLite with synchronous=FULL: ~0.7 ms per commit here).
//
// Per result: the row in synth_results (ON CONFLICT (run_id) DO NOTHING: a run_id already stored
// is a duplicate and stores nothing), its steps, its artifacts, the `external` transaction when
// the id is unknown, and the robot's last result. Results are numbered (seq) in commit order.
//
// Atomicity: a unit is all or nothing. When a batch fails, each of its units is retried in its
// own transaction, so one bad unit does not fail the others. Ordering: seq = MAX(seq) + n is read
// inside each transaction and seq is unique, so on PostgreSQL two instances' writers conflict
// (retried) instead of interleaving — commit order and seq order agree, which the metric exporter
// relies on.
//
// Thread-safety: Submit from any thread; Start/Stop from the owner. Callbacks run on the writer
// thread and must not block.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "base/telemetry.h"
#include "storage/relational_store.h"
#include "synth/result_model.h"
#include "synth/run_record.h"

namespace pa::synth {

struct StoredArtifact {
  std::string id;
  std::optional<int64_t> step_index;
  std::string filename;
  std::string content_type;
  int64_t size = 0;
  std::string storage_key;
};

struct UploadItem {
  TransactionResult result;  // validated; step screenshots already artifact ids; raw not needed
  std::string doc;           // the stored JSON document
  std::optional<int64_t> sent_version;  // `transaction_version` as the robot sent it, if valid
  std::vector<StoredArtifact> artifacts;
};

// Per item of the unit: true when stored now, false for a duplicate run_id.
using UploadDone = std::function<void(Result<std::vector<bool>>)>;

class ResultWriter {
 public:
  struct Options {
    size_t max_batch_results = 1000;    // results per transaction at most
    size_t max_queued_results = 20000;  // beyond this Submit refuses (kResourceExhausted -> 429)
  };
  ResultWriter(storage::RelationalStore& db, Clock& clock, telemetry::Registry& metrics,
               Options options);
  ~ResultWriter();

  // Called with the records of each commit's new results once they are durable, in seq order
  // (on the writer's thread, or on the store's sync thread).
  void set_on_commit(std::function<void(std::vector<RunRecord>)> fn) { on_commit_ = std::move(fn); }

  void Start();
  // Commits what is queued, then stops the thread. Submit fails with kUnavailable afterwards.
  void Stop();

  // Queues `items` as one unit; `done` is called exactly once.
  void Submit(std::vector<UploadItem> items, UploadDone done);

 private:
  struct Unit {
    std::vector<UploadItem> items;
    UploadDone done;
  };
  struct Touched;

  void Loop();
  void Commit(std::vector<Unit>& batch);
  // Writes `units` in one transaction, left uncommitted in `tx`; fills `created` per unit and
  // `records`.
  Status Store(std::vector<Unit*>& units, std::vector<std::vector<bool>>* created,
               std::vector<RunRecord>* records, std::unique_ptr<storage::Transaction>* tx);
  // Looks up (and creates) what the batch's results refer to, into `touched`.
  Status Prefetch(storage::Transaction& tx, const std::vector<Unit*>& units, int64_t now,
                  Touched& touched);
  // A result of the batch that is stored now, with what its row needs.
  struct NewResult {
    const UploadItem* item;
    int64_t seq;
    std::string location;
    std::optional<int64_t> version;
  };
  static NewResult Describe(const UploadItem& item, int64_t seq, const Touched& touched);
  // The rows of `fresh` (results, steps, artifacts) in chunked multi-row statements; fills
  // `records` and the robots' newest results.
  static Status InsertResults(storage::Transaction& tx, const std::vector<NewResult>& fresh,
                              int64_t now, Touched& touched, std::vector<RunRecord>* records);

  storage::RelationalStore& db_;
  Clock& clock_;
  Options options_;
  std::function<void(std::vector<RunRecord>)> on_commit_;
  telemetry::Histogram& batch_results_;
  telemetry::Counter& commits_failed_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Unit> queue_;     // mu_
  size_t queued_results_ = 0;  // mu_
  bool stopping_ = false;      // mu_
  size_t syncing_ = 0;         // mu_: commits whose durable callback has not run yet
  std::condition_variable synced_cv_;
  bool started_ = false;
  std::thread thread_;
};

}  // namespace pa::synth
