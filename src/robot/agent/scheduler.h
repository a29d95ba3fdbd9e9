// Scheduler: runs the robot's transactions at their intervals on a pool of worker threads.
//
//   Scheduler s({.concurrency = 4, .robot_id = "msk-01"}, make_runner, on_result);
//   s.Update(transactions);          // from each configuration change; applied without restart
//   s.Start();  ...  s.Stop();       // Stop cancels running runs at their next step and waits
//
// Each transaction runs every `interval_s` at a stable phase: an offset inside the interval
// derived from the transaction and robot ids, so that a robot's transactions spread over the
// interval and restarts keep the same rhythm. A transaction never overlaps itself (a slot that
// comes while it still runs is skipped and counted); at most `concurrency` run at once. A failed
// run is followed by the definition's retries (attempt 2.., after RetryDelayS). A changed
// `run_requested_at` (POST /api/v1/transactions/{id}/run) runs it once right away.
//
// Thread-safety: Update from any thread; Start/Stop from the owner.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/telemetry.h"
#include "robot/agent/transaction_run.h"
#include "synth/definition.h"

namespace pa::robot {

struct ScheduledTransaction {
  synth::TransactionDefinition def;
  std::optional<int64_t> version;
  std::optional<std::string> run_requested_at;  // as the configuration says it
};

class Scheduler {
 public:
  struct Options {
    int concurrency = 4;
    std::string robot_id;
    std::string location;
    StepOptions step_options;
  };
  using MakeRunner = std::function<std::unique_ptr<TransactionRunner>()>;
  using OnResult = std::function<void(RunOutput)>;

  Scheduler(Options options, MakeRunner make_runner, OnResult on_result,
            telemetry::Registry& metrics);
  ~Scheduler();

  // Replaces the set of transactions: new ones are scheduled, removed ones stop being (a run in
  // progress finishes), changed ones run their new definition from their next slot on.
  void Update(std::vector<ScheduledTransaction> transactions);
  void Start();
  // Cancels the runs in progress (they end at their next step, reported as errors), waits up to
  // `grace` for them, and stops the workers.
  void Stop(std::chrono::milliseconds grace = std::chrono::seconds(30));

  size_t running() const;

  // The phase of `id` on `robot_id` inside `interval`: stable, spread over [0, interval).
  static std::chrono::milliseconds Phase(const std::string& id, const std::string& robot_id,
                                         std::chrono::milliseconds interval);

 private:
  using TimePoint = std::chrono::steady_clock::time_point;
  struct Entry {
    std::shared_ptr<const ScheduledTransaction> tx;
    TimePoint next;  // the next regular slot
    std::optional<TimePoint> retry_at;
    int attempt = 1;  // of the retry due at retry_at
    bool running = false;
    bool run_now = false;
  };
  struct Job {
    std::shared_ptr<const ScheduledTransaction> tx;
    int attempt = 1;
  };

  void Timer();
  void Worker();
  void Finished(const std::string& id, bool success, int attempt);

  const Options options_;
  const MakeRunner make_runner_;
  const OnResult on_result_;
  telemetry::Family<telemetry::Counter>& runs_;  // {status}
  telemetry::Counter& skipped_;

  mutable std::mutex mu_;
  std::condition_variable cv_;       // the timer
  std::condition_variable work_cv_;  // the workers
  std::map<std::string, Entry> entries_;
  std::deque<Job> jobs_;
  size_t running_ = 0;
  bool started_ = false;
  bool stopping_ = false;
  std::atomic<bool> cancel_{false};
  std::thread timer_;
  std::vector<std::thread> workers_;
};

}  // namespace pa::robot
