#include "robot/agent/scheduler.h"

#include <pthread.h>

#include "base/digest.h"
#include "base/logging.h"
#include "base/random.h"

namespace pa::robot {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

std::chrono::milliseconds Scheduler::Phase(const std::string& id, const std::string& robot_id,
                                           std::chrono::milliseconds interval) {
  if (interval.count() <= 0) return milliseconds(0);
  const std::string digest = Sha256Hex(robot_id + '\x1f' + id);
  const uint64_t h = std::stoull(digest.substr(0, 15), nullptr, 16);
  return milliseconds(static_cast<int64_t>(h % static_cast<uint64_t>(interval.count())));
}

Scheduler::Scheduler(Options options, MakeRunner make_runner, OnResult on_result,
                     telemetry::Registry& metrics)
    : options_(std::move(options)),
      make_runner_(std::move(make_runner)),
      on_result_(std::move(on_result)),
      runs_(metrics.AddCounter("primoart_robot_runs_total",
                               "Transaction runs this robot finished, by status (success, error).",
                               {"status"})),
      skipped_(metrics
                   .AddCounter("primoart_robot_skipped_slots_total",
                               "Scheduled runs skipped because the previous run of the same "
                               "transaction was still going.")
                   .With({})) {}

Scheduler::~Scheduler() { Stop(milliseconds(0)); }

void Scheduler::Update(std::vector<ScheduledTransaction> transactions) {
  const auto now = steady_clock::now();
  std::lock_guard lock(mu_);
  std::map<std::string, Entry> next;
  for (ScheduledTransaction& t : transactions) {
    if (!t.def.enabled) continue;
    auto tx = std::make_shared<const ScheduledTransaction>(std::move(t));
    const std::string id = tx->def.id;
    const milliseconds interval = std::chrono::seconds(tx->def.interval_s);
    auto it = entries_.find(id);
    Entry e;
    if (it != entries_.end()) {
      e = std::move(it->second);
      const bool interval_changed = e.tx->def.interval_s != tx->def.interval_s;
      if (tx->run_requested_at && tx->run_requested_at != e.tx->run_requested_at) e.run_now = true;
      e.tx = tx;
      if (interval_changed) {
        // The new rhythm from now on, at the same phase.
        const auto phase = Phase(id, options_.robot_id, interval);
        const auto since_epoch = std::chrono::duration_cast<milliseconds>(
            std::chrono::system_clock::now().time_since_epoch());
        const auto into = milliseconds((since_epoch - phase).count() % interval.count());
        e.next = now + (interval - into);
      }
    } else {
      // Aligned to wall time, so that the phase survives restarts of the robot.
      const auto phase = Phase(id, options_.robot_id, interval);
      const auto since_epoch = std::chrono::duration_cast<milliseconds>(
          std::chrono::system_clock::now().time_since_epoch());
      const auto into = milliseconds((since_epoch - phase).count() % interval.count());
      e.tx = tx;
      e.next = now + (interval - into);
      // A run requested before this robot knew the transaction is not replayed; a new one is.
    }
    next.emplace(id, std::move(e));
  }
  // Removed transactions: a run in progress finishes and is reported; nothing more is scheduled.
  for (auto& [id, e] : entries_) {
    if (!next.contains(id) && e.running) {
      e.tx = nullptr;  // marks it removed; its job holds the definition
      e.retry_at.reset();
      e.run_now = false;
      next.emplace(id, std::move(e));
    }
  }
  entries_ = std::move(next);
  cv_.notify_all();
}

void Scheduler::Start() {
  std::lock_guard lock(mu_);
  if (started_) return;
  started_ = true;
  for (int i = 0; i < std::max(1, options_.concurrency); ++i) {
    workers_.emplace_back([this] { Worker(); });
  }
  timer_ = std::thread([this] { Timer(); });
}

void Scheduler::Stop(milliseconds grace) {
  {
    std::unique_lock lock(mu_);
    if (stopping_ && !timer_.joinable() && workers_.empty()) return;
    stopping_ = true;
    for (const Job& j : jobs_) {  // queued, never started
      --running_;
      if (auto it = entries_.find(j.tx->def.id); it != entries_.end()) it->second.running = false;
    }
    jobs_.clear();
    cancel_ = true;
    cv_.notify_all();
    work_cv_.notify_all();
    // Running runs end at their next step; wait for them to report.
    cv_.wait_for(lock, grace, [&] { return running_ == 0; });
  }
  if (timer_.joinable()) timer_.join();
  for (std::thread& w : workers_) w.join();
  workers_.clear();
}

size_t Scheduler::running() const {
  std::lock_guard lock(mu_);
  return running_;
}

void Scheduler::Timer() {
  pthread_setname_np(pthread_self(), "robot-sched");
  std::unique_lock lock(mu_);
  while (!stopping_) {
    const auto now = steady_clock::now();
    auto wake = now + std::chrono::seconds(1);
    for (auto& [id, e] : entries_) {
      if (!e.tx) continue;  // removed, finishing its last run
      const milliseconds interval = std::chrono::seconds(e.tx->def.interval_s);
      bool due = false;
      int attempt = 1;
      if (e.run_now) {
        due = true;
        e.run_now = false;
      } else if (e.retry_at && *e.retry_at <= now) {
        due = true;
        attempt = e.attempt;
        e.retry_at.reset();
      } else if (e.next <= now) {
        due = true;
        // The next slot on the grid; slots missed while the machine slept are not made up.
        while (e.next <= now) e.next += interval;
      }
      if (due) {
        if (e.running) {
          skipped_.Inc();
        } else {
          e.running = true;
          ++running_;
          jobs_.push_back({e.tx, attempt});
          work_cv_.notify_one();
        }
      }
      wake = std::min(wake, e.next);
      if (e.retry_at) wake = std::min(wake, *e.retry_at);
    }
    cv_.wait_until(lock, wake);
  }
}

void Scheduler::Worker() {
  pthread_setname_np(pthread_self(), "robot-run");
  std::unique_ptr<TransactionRunner> runner = make_runner_();
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mu_);
      work_cv_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stopping
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    RunInput in;
    in.def = &job.tx->def;
    in.version = job.tx->version;
    in.robot_id = options_.robot_id;
    in.location = options_.location;
    in.run_id = NewId(std::chrono::duration_cast<milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count());
    in.attempt = job.attempt;
    in.step_options = options_.step_options;
    RunOutput out = runner->Run(in, &cancel_);
    const bool success = out.success;
    runs_.With({success ? "success" : "error"}).Inc();
    on_result_(std::move(out));
    Finished(job.tx->def.id, success, job.attempt);
  }
}

void Scheduler::Finished(const std::string& id, bool success, int attempt) {
  std::lock_guard lock(mu_);
  --running_;
  cv_.notify_all();
  const auto it = entries_.find(id);
  if (it == entries_.end()) return;
  Entry& e = it->second;
  e.running = false;
  if (!e.tx) {
    entries_.erase(it);  // removed while it ran
    return;
  }
  const synth::RetryPolicy& retry = e.tx->def.retries;
  if (!success && attempt <= retry.count && !stopping_) {
    e.attempt = attempt + 1;
    e.retry_at = steady_clock::now() + std::chrono::seconds(RetryDelayS(retry, attempt));
  }
}

}  // namespace pa::robot
