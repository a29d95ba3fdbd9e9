// The WAL: records come back in order across segments and reopenings, concurrent writers share
// fsyncs without losing records, torn tails are truncated, segments before a cut can be removed.
#include "storage/embedded_tsdb/wal/wal.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

namespace pa::storage::embedded_tsdb {
namespace {

class WalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/pa_wal_XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<Wal> Open(std::vector<std::string>* replayed, Wal::ReplayStats* stats = nullptr,
                            int64_t segment_bytes = 1 << 20) {
    auto wal = Wal::Open(
        {.dir = dir_, .segment_bytes = segment_bytes},
        [&](std::string_view rec) {
          replayed->emplace_back(rec);
          return Status::Ok();
        },
        stats);
    EXPECT_TRUE(wal.ok()) << wal.status().ToString();
    return wal.ok() ? std::move(*wal) : nullptr;
  }
  std::vector<std::string> Segments() {
    std::set<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(dir_)) {
      names.insert(e.path().filename().string());
    }
    return {names.begin(), names.end()};
  }

  std::string dir_;
};

TEST_F(WalTest, RecordsReplayInOrderAcrossSegmentsAndReopens) {
  std::vector<std::string> replayed;
  auto wal = Open(&replayed, nullptr, 4096);
  ASSERT_TRUE(replayed.empty());
  std::vector<std::string> written;
  for (int i = 0; i < 500; ++i) {
    written.push_back("record-" + std::to_string(i) + std::string(i % 50, 'x'));
    ASSERT_TRUE(wal->Sync(wal->Add(written.back())).ok());
  }
  EXPECT_GT(wal->num_segments(), 3);
  wal.reset();
  wal = Open(&replayed);
  EXPECT_EQ(replayed, written);
}

TEST_F(WalTest, ConcurrentWritersShareFsyncsAndLoseNothing) {
  std::vector<std::string> replayed;
  auto wal = Open(&replayed);
  std::mutex order_mu;  // Add is single-writer (the store's append lock)
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int w = 0; w < 4; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < 200; ++i) {
        uint64_t pos;
        {
          std::lock_guard lock(order_mu);
          pos = wal->Add(std::to_string(w) + ":" + std::to_string(i));
        }
        if (!wal->Sync(pos).ok()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  wal.reset();
  replayed.clear();
  wal = Open(&replayed);
  EXPECT_EQ(replayed.size(), 800u);
  std::set<std::string> unique(replayed.begin(), replayed.end());
  EXPECT_EQ(unique.size(), 800u);
}

TEST_F(WalTest, TornTailIsTruncatedOnlyThere) {
  std::vector<std::string> replayed;
  auto wal = Open(&replayed);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(wal->Sync(wal->Add("r" + std::to_string(i))).ok());
  const uint64_t segment = wal->current_segment();
  wal.reset();
  char name[32];
  std::snprintf(name, sizeof name, "%016llu", static_cast<unsigned long long>(segment));
  const std::string path = dir_ + "/" + name;
  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 1);
  Wal::ReplayStats stats;
  wal = Open(&replayed, &stats);
  EXPECT_EQ(replayed.size(), 9u);
  EXPECT_EQ(stats.torn_bytes, 9);  // the 8-byte header and 1 of 2 payload bytes
  EXPECT_EQ(std::filesystem::file_size(path), 9u * 10);
  // The next reopen is clean and sees what was written since.
  ASSERT_TRUE(wal->Sync(wal->Add("after")).ok());
  wal.reset();
  replayed.clear();
  wal = Open(&replayed, &stats);
  EXPECT_EQ(replayed.back(), "after");
  EXPECT_EQ(replayed.size(), 10u);
}

TEST_F(WalTest, CutStartsASegmentAndRemoveBeforeDropsTheOldOnes) {
  std::vector<std::string> replayed;
  auto wal = Open(&replayed);
  ASSERT_TRUE(wal->Sync(wal->Add("old")).ok());
  auto cut = wal->Cut();
  ASSERT_TRUE(cut.ok());
  ASSERT_TRUE(wal->Sync(wal->Add("new")).ok());
  EXPECT_EQ(Segments().size(), 2u);
  ASSERT_TRUE(wal->RemoveBefore(*cut).ok());
  EXPECT_EQ(Segments().size(), 1u);
  wal.reset();
  wal = Open(&replayed);
  EXPECT_EQ(replayed, std::vector<std::string>{"new"});
}

}  // namespace
}  // namespace pa::storage::embedded_tsdb
