// RobotsApi: the robots that replay transactions, and what they are told to run.
//   POST /api/v1/robots/register         a robot token registers its robot: {name, location,
//                                        labels, version, host} (a `write` token may register
//                                        any robot by giving `id`)
//   POST /api/v1/robots/{id}/heartbeat   liveness and the robot's own figures (robot token of id)
//   GET  /api/v1/robots/{id}/config      the transactions assigned to it (by locations and label
//                                        selectors) with secrets resolved, the heartbeat interval
//                                        and upload limits; ETag, 304 on If-None-Match
//   GET  /api/v1/robots                  every robot: status online / stale / offline from its
//                                        heartbeats, version, last result (read)
// A transaction is assigned to a robot when it is enabled and defined (not `external`), its
// `locations` are empty or hold the robot's location, and every label of its robot_selector is
// on the robot.
//
// MissedRuns (a job): an enabled transaction assigned to at least one online robot that has
// produced no result for 3 x its interval (counted from its last result or, without one, from
// when it was last changed) is `missed` — synth_transactions.missed_since holds since when, and
// the overview shows it; a result clears it.
// Thread-safety: handlers and the job run concurrently.
#pragma once

#include <chrono>
#include <string>

#include "base/clock.h"
#include "base/status.h"
#include "gateway/router.h"
#include "storage/relational_store.h"
#include "synth/secret_box.h"

namespace pa::synth {

struct RobotOptions {
  std::chrono::milliseconds stale_after{90'000};
  std::chrono::milliseconds offline_after{300'000};
  std::chrono::milliseconds heartbeat_interval{30'000};
  int64_t upload_max_bytes = 16 << 20;
  int64_t artifact_max_bytes = 10 << 20;
};

class RobotsApi {
 public:
  RobotsApi(storage::RelationalStore& db, Clock& clock, const SecretBox& box, RobotOptions options)
      : db_(db), clock_(clock), box_(box), options_(options) {}
  Status Register(gateway::Router& router);

  // The MissedRuns job: updates synth_transactions.missed_since.
  Status DetectMissedRuns();

  // "online", "stale" or "offline" for a robot last heard of at `last_heartbeat_ms` (0: never).
  std::string StatusOf(int64_t last_heartbeat_ms, int64_t now_ms) const;

 private:
  gateway::Response RegisterRobot(gateway::Request& req);
  gateway::Response Heartbeat(gateway::Request& req);
  gateway::Response Config(gateway::Request& req);
  gateway::Response List(gateway::Request& req);

  storage::RelationalStore& db_;
  Clock& clock_;
  const SecretBox& box_;
  RobotOptions options_;
};

}  // namespace pa::synth
