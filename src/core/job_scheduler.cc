#include "core/job_scheduler.h"

#include "base/logging.h"

namespace pa::core {

struct JobScheduler::Entry {
  Job job;
  std::mutex run_mu;  // one run at a time, whether scheduled or RunNow
  std::thread thread;
};

JobScheduler::JobScheduler(telemetry::Registry& metrics)
    : runs_(metrics.AddCounter("primoart_job_runs_total", "Background job runs by result.",
                               {"job", "result"})),
      duration_(metrics.AddHistogram("primoart_job_duration_seconds",
                                     "Duration of background job runs.", {"job"})) {}

JobScheduler::~JobScheduler() { Stop(); }

void JobScheduler::Add(Job job) {
  std::lock_guard lock(mu_);
  auto e = std::make_unique<Entry>();
  e->job = std::move(job);
  jobs_.push_back(std::move(e));
}

void JobScheduler::Start() {
  std::lock_guard lock(mu_);
  if (started_) return;
  started_ = true;
  for (auto& e : jobs_) {
    Entry* entry = e.get();
    entry->thread = std::thread([this, entry] { Loop(*entry); });
  }
}

void JobScheduler::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& e : jobs_) {
    if (e->thread.joinable()) e->thread.join();
  }
}

Status JobScheduler::RunOnce(Entry& e) {
  std::lock_guard run_lock(e.run_mu);
  const auto start = std::chrono::steady_clock::now();
  Status st;
  try {
    st = e.job.run();
  } catch (const std::exception& ex) {
    st = InternalError(std::string("job threw: ") + ex.what());
  }
  duration_.With({e.job.name})
      .Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  runs_.With({e.job.name, st.ok() ? "ok" : "error"}).Inc();
  if (!st.ok()) log::Get("jobs")->warn("job {} failed: {}", e.job.name, st.ToString());
  return st;
}

void JobScheduler::Loop(Entry& e) {
  auto wait = e.job.initial_delay;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      if (cv_.wait_for(lock, wait, [this] { return stopping_; })) return;
    }
    (void)RunOnce(e);
    wait = e.job.interval;
  }
}

Status JobScheduler::RunNow(const std::string& name) {
  Entry* entry = nullptr;
  {
    std::lock_guard lock(mu_);
    for (auto& e : jobs_) {
      if (e->job.name == name) entry = e.get();
    }
  }
  if (!entry) return NotFoundError("no job named '" + name + "'");
  return RunOnce(*entry);
}

std::vector<std::string> JobScheduler::names() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& e : jobs_) out.push_back(e->job.name);
  return out;
}

}  // namespace pa::core
