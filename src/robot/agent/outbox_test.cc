#include "robot/agent/outbox.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <fstream>

#include "base/clock.h"

namespace pa::robot {
namespace {

namespace fs = std::filesystem;

class OutboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("outbox-test-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<Outbox> Open(Outbox::Options o = {}) {
    o.dir = dir_ / "outbox";
    auto box = Outbox::Open(o, clock_);
    EXPECT_TRUE(box.ok()) << box.status().ToString();
    return box.ok() ? std::move(*box) : nullptr;
  }

  fs::path dir_;
  FakeClock clock_;
};

TEST_F(OutboxTest, EntriesSurviveReopenInOrderWithTheirArtifacts) {
  {
    auto box = Open();
    ASSERT_TRUE(box->Put("run-1", R"({"run_id":"run-1"})", {}).ok());
    clock_.Advance(std::chrono::milliseconds(5));
    const std::string png = std::string("\x89PNG\r\n\x1a\n", 8) + std::string(1000, '\0');
    ASSERT_TRUE(box->Put("run-2", R"({"run_id":"run-2"})",
                         {{"step-1.png", "image/png", png}, {"trace.txt", "text/plain", "abc"}})
                    .ok());
    ASSERT_TRUE(box->Put("run-3", R"({"run_id":"run-3"})", {}).ok());  // same millisecond
  }
  // A Put cut short by a crash leaves only a .tmp file, which Open removes.
  std::ofstream(dir_ / "outbox" / "0000000000001-000001.result.tmp") << "partial";
  auto box = Open();
  const std::vector<std::string> names = box->Oldest(10);
  ASSERT_EQ(names.size(), 3u);
  EXPECT_FALSE(fs::exists(dir_ / "outbox" / "0000000000001-000001.result.tmp"));
  std::vector<std::string> runs;
  for (const std::string& n : names) {
    auto e = box->Read(n);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    runs.push_back(e->run_id);
    EXPECT_EQ(e->result_json, R"({"run_id":")" + e->run_id + R"("})");
    if (e->run_id == "run-2") {
      ASSERT_EQ(e->artifacts.size(), 2u);
      EXPECT_EQ(e->artifacts[0].filename, "step-1.png");
      EXPECT_EQ(e->artifacts[0].content_type, "image/png");
      EXPECT_EQ(e->artifacts[0].data.size(), 1008u);
      EXPECT_EQ(e->artifacts[1].data, "abc");
    }
  }
  EXPECT_EQ(runs, (std::vector<std::string>{"run-1", "run-2", "run-3"}));
  EXPECT_EQ(box->stats().entries, 3);

  ASSERT_TRUE(box->Remove(names[0]).ok());
  ASSERT_TRUE(box->DeadLetter(names[1], "HTTP 422: steps[0].name is required").ok());
  EXPECT_EQ(box->stats().entries, 1);
  EXPECT_EQ(box->stats().dead_letter_total, 1);
  EXPECT_TRUE(fs::exists(dir_ / "dead-letter" / names[1]));
  EXPECT_TRUE(fs::exists(dir_ / "dead-letter" / (names[1] + ".reason")));
  EXPECT_EQ(Open()->Oldest(10), (std::vector<std::string>{names[2]}));
}

TEST_F(OutboxTest, BoundsDropTheOldestAndCountThem) {
  auto box = Open({.max_bytes = 4000, .max_age = std::chrono::hours(1)});
  const std::string big(900, 'x');
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(box->Put("run-" + std::to_string(i), big, {}).ok());
    clock_.Advance(std::chrono::milliseconds(1));
  }
  // ~1 KB each with the header: only the newest fit in 4000 B.
  const OutboxStats s = box->stats();
  EXPECT_LE(s.bytes, 4000);
  EXPECT_EQ(s.entries + s.dropped_total, 6);
  EXPECT_GE(s.dropped_total, 2);
  auto oldest = box->Read(box->Oldest(1).at(0));
  ASSERT_TRUE(oldest.ok());
  EXPECT_EQ(oldest->run_id, "run-" + std::to_string(s.dropped_total));

  // Age: everything older than an hour goes at the next look.
  clock_.Advance(std::chrono::minutes(61));
  EXPECT_TRUE(box->Oldest(10).empty());
  EXPECT_EQ(box->stats().dropped_total, 6);
}

TEST_F(OutboxTest, AnAcknowledgedPutSurvivesSigkill) {
  const fs::path dir = dir_ / "outbox";
  int pipefd[2];
  ASSERT_EQ(pipe(pipefd), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(pipefd[0]);
    FakeClock clock;
    auto box = Outbox::Open({.dir = dir}, clock);
    bool ok = box.ok();
    for (int i = 0; ok && i < 50; ++i) {
      ok = (*box)->Put("run-" + std::to_string(i), "{}", {}).ok();
    }
    const char byte = ok ? 'y' : 'n';
    if (write(pipefd[1], &byte, 1) != 1) _exit(2);
    for (;;) pause();
  }
  close(pipefd[1]);
  char byte = 0;
  ASSERT_EQ(read(pipefd[0], &byte, 1), 1);
  close(pipefd[0]);
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  ASSERT_EQ(byte, 'y');
  EXPECT_EQ(Open()->stats().entries, 50);
}

TEST_F(OutboxTest, ADamagedEntryIsDataLoss) {
  auto box = Open();
  ASSERT_TRUE(box->Put("run-1", R"({"run_id":"run-1"})", {}).ok());
  const std::string name = box->Oldest(1).at(0);
  std::ofstream(dir_ / "outbox" / name, std::ios::trunc) << "{\"result_size\": 999}\n{}";
  EXPECT_EQ(box->Read(name).status().code(), StatusCode::kDataLoss);
  fs::remove(dir_ / "outbox" / name);
  EXPECT_EQ(box->Read(name).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace pa::robot
