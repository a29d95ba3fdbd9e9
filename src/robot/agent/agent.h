// Agent: the long-running robot — registration, heartbeats, configuration polling, the
// scheduler, the outbox and its uploader, and the optional metrics endpoint.
//
//   Agent agent(config, browser_fn);
//   PA_RETURN_IF_ERROR(agent.Start());   // opens the outbox; the rest retries in background
//   ... SIGTERM ...
//   agent.Stop();                        // cancels runs at their next step, keeps the outbox
//
// The control thread registers (retrying with backoff while the server is unreachable), then
// heartbeats every `heartbeat_interval_s` (the server's) and polls the configuration every
// `config_poll` with If-None-Match; a changed configuration replaces the scheduler's set of
// transactions without a restart. Results go to the outbox first (durable), then to the
// server; a robot whose server is down keeps running and uploads later.
//
// Thread-safety: Start/Stop from one thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "base/http_client.h"
#include "base/status.h"
#include "base/telemetry.h"
#include "robot/agent/outbox.h"
#include "robot/agent/scheduler.h"
#include "robot/agent/server_api.h"
#include "robot/agent/uploader.h"

namespace pa::robot {

struct AgentConfig {
  std::string server;  // gateway URL
  std::string token;   // a `robot` token
  std::string name;    // shown in the console; default: the host name
  std::string location;
  std::map<std::string, std::string> labels;
  std::filesystem::path data_dir = "/var/lib/primoart-robot";
  int concurrency = 4;
  std::string metrics_listen;  // host:port for /metrics; empty: none
  int64_t outbox_max_bytes = int64_t{512} << 20;
  std::chrono::milliseconds outbox_max_age = std::chrono::hours(24 * 7);
  std::chrono::milliseconds config_poll = std::chrono::seconds(10);
  bool verify_server_tls = true;
  std::string version = "dev";
};

class Agent {
 public:
  // `metrics` holds the robot's metrics (the agent adds its own); it must outlive the agent.
  Agent(AgentConfig config, BrowserStepFn browser, telemetry::Registry& metrics);
  ~Agent();

  Status Start();
  void Stop();

  telemetry::Registry& metrics() { return metrics_; }
  // What the heartbeat reports about the robot itself.
  Json SelfReport() const;

 private:
  void Control();
  bool Sleep(std::chrono::milliseconds d);  // false when stopping
  void ApplyConfig(const Json& config);
  void OnResult(RunOutput out);

  const AgentConfig config_;
  const BrowserStepFn browser_;
  telemetry::Registry& metrics_;
  HttpClient http_;
  ServerApi api_;
  std::unique_ptr<Outbox> outbox_;
  std::unique_ptr<Uploader> uploader_;
  std::unique_ptr<Scheduler> scheduler_;
  std::string robot_id_;  // from the registration
  std::string location_;
  telemetry::Counter& outbox_errors_;
  telemetry::Counter& config_errors_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::atomic<int64_t> runs_total_{0};  // since Start
  std::thread control_;
  class MetricsServer;
  std::unique_ptr<MetricsServer> metrics_server_;
};

}  // namespace pa::robot
