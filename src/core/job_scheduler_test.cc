#include "core/job_scheduler.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>

namespace pa::core {
namespace {

TEST(JobSchedulerTest, RunNowRunsAndCountsFailures) {
  telemetry::Registry registry;
  JobScheduler jobs(registry);
  int runs = 0;
  jobs.Add({.name = "a", .interval = std::chrono::hours(1), .run = [&] {
              ++runs;
              return runs == 2 ? UnavailableError("db down") : Status::Ok();
            }});
  EXPECT_TRUE(jobs.RunNow("a").ok());
  EXPECT_EQ(jobs.RunNow("a").code(), StatusCode::kUnavailable);
  EXPECT_EQ(jobs.RunNow("b").code(), StatusCode::kNotFound);
  EXPECT_EQ(runs, 2);
  const std::string text = registry.Expose();
  EXPECT_NE(text.find("primoart_job_runs_total{job=\"a\",result=\"ok\"} 1"), std::string::npos);
  EXPECT_NE(text.find("primoart_job_runs_total{job=\"a\",result=\"error\"} 1"), std::string::npos);
}

TEST(JobSchedulerTest, StartRunsAfterInitialDelayAndStopInterruptsTheWait) {
  telemetry::Registry registry;
  JobScheduler jobs(registry);
  std::promise<void> ran;
  std::atomic<int> runs{0};
  jobs.Add({.name = "tick", .interval = std::chrono::hours(1), .initial_delay = {}, .run = [&] {
              if (runs++ == 0) ran.set_value();
              return Status::Ok();
            }});
  jobs.Start();
  ran.get_future().wait();  // the first run happens without waiting for the interval
  jobs.Stop();              // returns although the next run is an hour away
  EXPECT_EQ(runs.load(), 1);
}

}  // namespace
}  // namespace pa::core
