#include "core/instances.h"

#include "base/strings.h"

namespace pa::core {
Status InstanceRegistry::Register(const Instance& self) {
  const int64_t now = clock_.NowMs();
  return db_
      .Exec(
          "INSERT INTO core_instances (instance_id, hostname, pid, roles, listen, version, "
          "started_at, heartbeat_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
          "ON CONFLICT (instance_id) DO UPDATE SET hostname = excluded.hostname, "
          "pid = excluded.pid, roles = excluded.roles, listen = excluded.listen, "
          "version = excluded.version, started_at = excluded.started_at, "
          "heartbeat_at = excluded.heartbeat_at",
          {self.instance_id, self.hostname, self.pid, JoinList(self.roles), self.listen,
           self.version, self.started_at_ms, now})
      .status();
}

Status InstanceRegistry::Heartbeat(const std::string& instance_id) {
  PA_ASSIGN_OR_RETURN(int64_t n,
                      db_.Exec("UPDATE core_instances SET heartbeat_at = $1 WHERE instance_id = $2",
                               {clock_.NowMs(), instance_id}));
  if (n == 0) return NotFoundError("instance '" + instance_id + "' is not registered");
  return Status::Ok();
}

Status InstanceRegistry::Remove(const std::string& instance_id) {
  return db_.Exec("DELETE FROM core_instances WHERE instance_id = $1", {instance_id}).status();
}

Result<std::vector<Instance>> InstanceRegistry::List() {
  PA_ASSIGN_OR_RETURN(
      auto rows, db_.Query("SELECT instance_id, hostname, pid, roles, listen, version, "
                           "started_at, heartbeat_at FROM core_instances ORDER BY instance_id"));
  std::vector<Instance> out;
  for (size_t r = 0; r < rows.size(); ++r) {
    out.push_back({rows.Text(r, 0), rows.Text(r, 1), rows.Int(r, 2), SplitList(rows.Text(r, 3)),
                   rows.Text(r, 4), rows.Text(r, 5), rows.Int(r, 6), rows.Int(r, 7)});
  }
  return out;
}

std::string InstanceRegistry::StateOf(const Instance& instance) const {
  const int64_t age = clock_.NowMs() - instance.heartbeat_at_ms;
  return age <= 3 * interval_.count() ? "up" : "stale";
}

}  // namespace pa::core
