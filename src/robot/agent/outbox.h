// Outbox: the robot's results waiting for upload, kept durably in its data directory so that
// neither a server outage nor a robot restart loses one.
//
//   PA_ASSIGN_OR_RETURN(auto outbox, Outbox::Open({.dir = data_dir / "outbox"}, clock));
//   PA_RETURN_IF_ERROR(outbox->Put(run_id, result_json, artifacts));   // durable on OK
//   for (const std::string& name : outbox->Oldest(100)) { auto e = outbox->Read(name); ... }
//   outbox->Remove(name);                       // the server acknowledged it
//   outbox->DeadLetter(name, "HTTP 422: ...");  // refused for good: kept aside, counted
//
// One file per result, `<created ms>-<seq>.result`: a header line (JSON: run id, creation time,
// the sizes of the parts), the result JSON, then each artifact's bytes. A Put writes a
// `.tmp` file, fsyncs it, renames it into place and fsyncs the directory, so an entry exists
// whole or not at all; leftover `.tmp` files (a Put cut short) are removed at Open. Names sort
// in creation order, which is the upload order.
//
// Bounds (Options): total bytes and age. Put and Oldest drop the oldest entries beyond them,
// counting each drop and logging it — a robot cut off for days keeps its newest results rather
// than filling its disk. Refused entries move to `<dir>/../dead-letter/` (kept for an operator,
// counted, not uploaded again).
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/status.h"

namespace pa::robot {

struct OutboxArtifact {
  std::string filename;      // as the result's steps name it (`screenshot`)
  std::string content_type;  // image/png, ...
  std::string data;
};

struct OutboxEntry {
  std::string name;
  std::string run_id;
  int64_t created_ms = 0;
  std::string result_json;
  std::vector<OutboxArtifact> artifacts;
};

struct OutboxStats {
  int64_t entries = 0;
  int64_t bytes = 0;
  int64_t dropped_total = 0;      // removed by the bounds, since Open
  int64_t dead_letter_total = 0;  // moved to dead-letter, since Open
};

class Outbox {
 public:
  struct Options {
    std::filesystem::path dir;
    int64_t max_bytes = int64_t{512} << 20;
    std::chrono::milliseconds max_age = std::chrono::hours(24 * 7);
  };

  // Creates the directories, removes unfinished `.tmp` files and indexes the entries.
  static Result<std::unique_ptr<Outbox>> Open(Options options, Clock& clock);

  // Stores one result durably; then applies the bounds (the new entry itself is never dropped).
  Status Put(std::string_view run_id, std::string_view result_json,
             const std::vector<OutboxArtifact>& artifacts);

  // The names of the `max` oldest entries, after dropping those beyond the bounds.
  std::vector<std::string> Oldest(size_t max);
  // kNotFound when the entry is gone; kDataLoss when its file is damaged (the caller
  // dead-letters it).
  Result<OutboxEntry> Read(const std::string& name) const;
  Status Remove(const std::string& name);
  Status DeadLetter(const std::string& name, std::string_view reason);

  OutboxStats stats() const;

 private:
  struct Indexed {
    int64_t bytes = 0;
    int64_t created_ms = 0;
  };
  Outbox(Options options, Clock& clock) : options_(std::move(options)), clock_(clock) {}
  void EnforceLocked(const std::string* keep);
  Status RemoveLocked(const std::string& name);

  const Options options_;
  Clock& clock_;
  mutable std::mutex mu_;
  std::map<std::string, Indexed> entries_;  // name -> size, in upload order
  int64_t bytes_ = 0;
  int64_t seq_ = 0;
  int64_t dropped_ = 0;
  int64_t dead_lettered_ = 0;
};

}  // namespace pa::robot
