// JobScheduler: the background jobs of every role — heartbeats, retention sweeps, missed-run
// detection, baseline training — run at fixed intervals on their own threads.
//
//   jobs.Add({.name = "core.heartbeat", .interval = 10s, .run = [&] { return Beat(); }});
//   jobs.Start();   // by the module manager's owner, after every module started
//   jobs.Stop();    // waits for running jobs to finish
//
// A job runs once at start (after `initial_delay`) and then every `interval` measured from the end
// of the previous run, so a slow job never overlaps itself. A failing run is logged and counted
// (primoart_job_runs_total{job,result}) and the job keeps its schedule. RunNow() runs a job
// synchronously — tests drive jobs with it instead of waiting.
//
// Thread-safety: Add before Start; RunNow, Stop from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"
#include "base/telemetry.h"

namespace pa::core {

struct Job {
  std::string name;
  std::chrono::milliseconds interval{60000};
  std::chrono::milliseconds initial_delay{0};
  std::function<Status()> run;
};

class JobScheduler {
 public:
  explicit JobScheduler(telemetry::Registry& metrics);
  ~JobScheduler();

  void Add(Job job);
  void Start();
  // Wakes every job thread, waits for running jobs to finish, joins. Idempotent.
  void Stop();
  // Runs the named job now on the calling thread; NotFound if there is no such job.
  Status RunNow(const std::string& name);

  std::vector<std::string> names() const;

 private:
  struct Entry;
  Status RunOnce(Entry& e);
  void Loop(Entry& e);

  telemetry::Family<telemetry::Counter>& runs_;
  telemetry::Family<telemetry::Histogram>& duration_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool started_ = false;
  std::vector<std::unique_ptr<Entry>> jobs_;
};

}  // namespace pa::core
