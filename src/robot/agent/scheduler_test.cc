#include "robot/agent/scheduler.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "base/telemetry.h"

namespace pa::robot {
namespace {

using namespace std::chrono_literals;

// A definition whose only step fails at once: a tcp connect to a port nothing listens on.
synth::TransactionDefinition Failing(const std::string& id, int retries) {
  synth::FieldErrors errors;
  auto def = synth::ParseDefinition(
      Json{{"id", id},
           {"name", id},
           {"interval_s", 3600},  // no regular slot during the test
           {"timeout_s", 5},
           {"retries", {{"count", retries}, {"backoff", "fixed"}, {"delay_s", 0}}},
           {"steps", {{{"name", "closed"}, {"type", "tcp"}, {"host", "127.0.0.1"}, {"port", 1}}}}},
      &errors);
  EXPECT_TRUE(def.has_value()) << (errors.empty() ? "" : errors[0].path + ": " + errors[0].message);
  return def.value_or(synth::TransactionDefinition{});
}

class SchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    scheduler_ = std::make_unique<Scheduler>(
        Scheduler::Options{.concurrency = 2, .robot_id = "r1"},
        [] { return std::make_unique<TransactionRunner>(); },
        [this](RunOutput out) {
          std::lock_guard lock(mu_);
          results_.push_back(std::move(out));
          cv_.notify_all();
        },
        metrics_);
    scheduler_->Start();
  }
  void TearDown() override { scheduler_->Stop(); }

  bool WaitFor(size_t n, std::chrono::milliseconds timeout = 20s) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return results_.size() >= n; });
  }

  telemetry::Registry metrics_;
  std::unique_ptr<Scheduler> scheduler_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<RunOutput> results_;
};

TEST_F(SchedulerTest, ARequestedRunThatFailsIsRetriedAsTheDefinitionSays) {
  scheduler_->Update({{Failing("t", 2), 3, std::nullopt}});
  // A run requested before the robot knew the transaction is not replayed; a new request is.
  scheduler_->Update({{Failing("t", 2), 3, "2026-11-28T10:00:00.000Z"}});
  ASSERT_TRUE(WaitFor(3));
  std::this_thread::sleep_for(300ms);  // no fourth: the retries are spent
  std::lock_guard lock(mu_);
  ASSERT_EQ(results_.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    const Json& r = results_[i].result;
    EXPECT_FALSE(results_[i].success);
    EXPECT_EQ(r["transaction_id"], "t");
    EXPECT_EQ(r["transaction_version"], 3);
    EXPECT_EQ(r["error"]["type"], "network") << r.dump();
    if (i == 0) {
      EXPECT_FALSE(r["attributes"].contains("attempt"));
    } else {
      EXPECT_EQ(r["attributes"]["attempt"], std::to_string(i + 1));
    }
  }
  EXPECT_NE(results_[0].run_id, results_[1].run_id);
}

TEST_F(SchedulerTest, PhasesAreStableAndSpreadOverTheInterval) {
  const auto interval = std::chrono::milliseconds(60000);
  EXPECT_EQ(Scheduler::Phase("a", "r1", interval), Scheduler::Phase("a", "r1", interval));
  std::set<int64_t> seconds;
  for (int i = 0; i < 50; ++i) {
    const auto p = Scheduler::Phase("tx-" + std::to_string(i), "r1", interval);
    EXPECT_GE(p.count(), 0);
    EXPECT_LT(p.count(), interval.count());
    seconds.insert(p.count() / 1000);
  }
  EXPECT_GT(seconds.size(), 25u);  // 50 transactions do not bunch up in a few seconds
  EXPECT_NE(Scheduler::Phase("a", "r1", interval), Scheduler::Phase("a", "r2", interval));
}

TEST_F(SchedulerTest, RemovedAndDisabledTransactionsStopRunning) {
  synth::TransactionDefinition def = Failing("gone", 0);
  scheduler_->Update({{def, 1, std::nullopt}});
  scheduler_->Update({{def, 1, "r1"}});
  ASSERT_TRUE(WaitFor(1));
  def.enabled = false;
  scheduler_->Update({{def, 2, "r2"}});  // disabled: a new request does not run it
  scheduler_->Update({});
  std::this_thread::sleep_for(500ms);
  std::lock_guard lock(mu_);
  EXPECT_EQ(results_.size(), 1u);
}

}  // namespace
}  // namespace pa::robot
