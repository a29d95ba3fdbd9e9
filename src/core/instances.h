// InstanceRegistry: which PrimoART processes are running, with which roles, where — the core
// role's view of a split deployment (table core_instances).
//
// Each process running the core role records itself at start, refreshes its heartbeat from a
// background job, and removes itself on a clean stop. An instance whose heartbeat is older than
// three heartbeat intervals is reported `stale` (it crashed or lost the database).
//
// Thread-safety: all methods may be called concurrently.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "storage/relational_store.h"

namespace pa::core {

struct Instance {
  std::string instance_id;
  std::string hostname;
  int64_t pid = 0;
  std::vector<std::string> roles;
  std::string listen;
  std::string version;
  int64_t started_at_ms = 0;
  int64_t heartbeat_at_ms = 0;
};

class InstanceRegistry {
 public:
  InstanceRegistry(storage::RelationalStore& db, Clock& clock,
                   std::chrono::milliseconds heartbeat_interval)
      : db_(db), clock_(clock), interval_(heartbeat_interval) {}

  // Records (or refreshes) `self` with the current time as heartbeat.
  Status Register(const Instance& self);
  Status Heartbeat(const std::string& instance_id);
  Status Remove(const std::string& instance_id);
  Result<std::vector<Instance>> List();

  // "up" or "stale" for an instance at the current time.
  std::string StateOf(const Instance& instance) const;

 private:
  storage::RelationalStore& db_;
  Clock& clock_;
  std::chrono::milliseconds interval_;
};

}  // namespace pa::core
