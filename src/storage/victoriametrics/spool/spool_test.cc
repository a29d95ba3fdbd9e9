#include "storage/victoriametrics/spool/spool.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "storage/victoriametrics/vm_test_support.h"

namespace pa::storage::victoriametrics {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;
using namespace std::chrono_literals;

std::vector<std::string> Records(int from, int n, size_t size = 10) {
  std::vector<std::string> out;
  for (int i = from; i < from + n; ++i) {
    std::string r = "record-" + std::to_string(i) + ":";
    r.resize(std::max(size, r.size()), 'x');
    out.push_back(r);
  }
  return out;
}

// Reads and commits everything pending; the records in order.
std::vector<std::string> Drain(Spool& spool, size_t max_bytes = 1 << 20) {
  std::vector<std::string> out;
  for (;;) {
    Result<SpoolBatch> b = spool.Next(max_bytes, 0ms);
    EXPECT_TRUE(b.ok()) << b.status().ToString();
    if (!b.ok() || b->records.empty()) return out;
    for (auto& r : b->records) out.push_back(r);
    EXPECT_TRUE(spool.Commit(*b).ok());
  }
}

std::vector<fs::path> Segments(const std::string& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".seg") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(SpoolTest, DeliversRecordsInOrderAcrossSegments) {
  TempDir dir;
  auto spool = Spool::Open({.dir = dir.path(), .max_bytes = 1 << 20, .segment_bytes = 200});
  ASSERT_TRUE(spool.ok()) << spool.status().ToString();
  for (int i = 0; i < 50; i += 5) ASSERT_TRUE((*spool)->Append(Records(i, 5, 30)).ok());
  EXPECT_GT(Segments(dir.path()).size(), 3u);
  EXPECT_EQ((*spool)->Stats().pending_records, 50);
  std::vector<std::string> got = Drain(**spool, 100);
  EXPECT_EQ(got, Records(0, 50, 30));
  EXPECT_EQ((*spool)->Stats().pending_records, 0);
  EXPECT_EQ((*spool)->Stats().committed_records, 50);
  // Fully delivered segments are gone except the one still open for appending.
  EXPECT_LE(Segments(dir.path()).size(), 1u);
}

TEST(SpoolTest, NextRepeatsUntilCommittedAndHonoursMaxBytes) {
  TempDir dir;
  auto spool = Spool::Open({.dir = dir.path()});
  ASSERT_TRUE(spool.ok());
  ASSERT_TRUE((*spool)->Append(Records(0, 4, 100)).ok());
  auto a = (*spool)->Next(250, 0ms);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->records, Records(0, 2, 100));  // a third would pass 250 bytes
  auto again = (*spool)->Next(250, 0ms);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->records, a->records);
  auto one = (*spool)->Next(0, 0ms);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->records.size(), 1u);
  ASSERT_TRUE((*spool)->Commit(*a).ok());
  auto rest = (*spool)->Next(1 << 20, 0ms);
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(rest->records, Records(2, 2, 100));
  // A record larger than max_bytes still comes, alone.
  ASSERT_TRUE((*spool)->Commit(*rest).ok());
  ASSERT_TRUE((*spool)->Append(Records(9, 1, 5000)).ok());
  auto big = (*spool)->Next(10, 0ms);
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(big->records, Records(9, 1, 5000));
}

TEST(SpoolTest, ReopenReplaysOnlyUncommittedRecords) {
  TempDir dir;
  {
    auto spool = Spool::Open({.dir = dir.path(), .segment_bytes = 300});
    ASSERT_TRUE(spool.ok());
    for (int i = 0; i < 20; i += 2) ASSERT_TRUE((*spool)->Append(Records(i, 2, 40)).ok());
    // Commit the first 7 records, one batch at a time (the cursor lands mid-segment).
    for (int i = 0; i < 7; ++i) {
      auto b = (*spool)->Next(0, 0ms);
      ASSERT_TRUE(b.ok());
      ASSERT_TRUE((*spool)->Commit(*b).ok());
    }
  }
  SpoolRecovery rec;
  auto spool = Spool::Open({.dir = dir.path(), .segment_bytes = 300}, &rec);
  ASSERT_TRUE(spool.ok()) << spool.status().ToString();
  EXPECT_EQ(rec.records, 13);
  EXPECT_EQ(rec.truncated_bytes, 0);
  ASSERT_TRUE((*spool)->Append(Records(20, 1, 40)).ok());
  EXPECT_EQ(Drain(**spool), Records(7, 14, 40));
}

TEST(SpoolTest, ReopenWithoutMarkerReplaysEverything) {
  TempDir dir;
  {
    auto spool = Spool::Open({.dir = dir.path()});
    ASSERT_TRUE(spool.ok());
    ASSERT_TRUE((*spool)->Append(Records(0, 3)).ok());
    auto b = (*spool)->Next(0, 0ms);
    ASSERT_TRUE((*spool)->Commit(*b).ok());
  }
  fs::remove(fs::path(dir.path()) / "shipped");  // the marker is best effort
  auto spool = Spool::Open({.dir = dir.path()});
  ASSERT_TRUE(spool.ok());
  EXPECT_EQ(Drain(**spool), Records(0, 3));  // at least once
}

TEST(SpoolTest, TornTailIsCutAndTheRestKept) {
  TempDir dir;
  {
    auto spool = Spool::Open({.dir = dir.path()});
    ASSERT_TRUE(spool.ok());
    ASSERT_TRUE((*spool)->Append(Records(0, 3)).ok());
  }
  const fs::path seg = Segments(dir.path()).back();
  const auto good_size = fs::file_size(seg);
  {
    std::ofstream out(seg, std::ios::binary | std::ios::app);
    out.write("\x20\x00\x00\x00\x01\x02\x03\x04partial", 15);  // a frame cut short by a crash
  }
  SpoolRecovery rec;
  auto spool = Spool::Open({.dir = dir.path()}, &rec);
  ASSERT_TRUE(spool.ok());
  EXPECT_EQ(rec.truncated_bytes, 15);
  EXPECT_EQ(rec.problems.size(), 1u);
  EXPECT_EQ(fs::file_size(seg), good_size);
  EXPECT_EQ(Drain(**spool), Records(0, 3));
}

TEST(SpoolTest, CorruptRecordEndsItsSegmentButNotTheOthers) {
  TempDir dir;
  {
    auto spool = Spool::Open({.dir = dir.path(), .segment_bytes = 50});
    ASSERT_TRUE(spool.ok());
    for (int i = 0; i < 6; ++i) ASSERT_TRUE((*spool)->Append(Records(i, 1, 60)).ok());
  }
  const auto segs = Segments(dir.path());
  ASSERT_GE(segs.size(), 3u);
  {
    // Flip one payload byte of the first segment's only record.
    std::fstream f(segs[0], std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(8 + 8 + 3);
    f.put('#');
  }
  SpoolRecovery rec;
  auto spool = Spool::Open({.dir = dir.path(), .segment_bytes = 50}, &rec);
  ASSERT_TRUE(spool.ok());
  EXPECT_EQ(rec.problems.size(), 1u);
  std::vector<std::string> got = Drain(**spool);
  EXPECT_EQ(got, Records(1, 5, 60));
}

TEST(SpoolTest, CorruptionFoundWhileReadingIsReportedAndSkipped) {
  TempDir dir;
  auto spool = Spool::Open({.dir = dir.path()});
  ASSERT_TRUE(spool.ok());
  ASSERT_TRUE((*spool)->Append(Records(0, 3, 20)).ok());
  {
    std::fstream f(Segments(dir.path())[0], std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(8 + 8 + 2);
    f.put('#');
  }
  auto b = (*spool)->Next(1 << 20, 0ms);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), StatusCode::kDataLoss);
  EXPECT_EQ((*spool)->SkipCorrupt(), 3);
  EXPECT_EQ((*spool)->Stats().pending_records, 0);
  ASSERT_TRUE((*spool)->Append(Records(3, 1, 20)).ok());  // appends continue, in a new segment
  EXPECT_EQ(Drain(**spool), Records(3, 1, 20));
}

TEST(SpoolTest, FullSpoolRefusesUntilRecordsAreCommitted) {
  TempDir dir;
  auto spool = Spool::Open({.dir = dir.path(), .max_bytes = 8192, .segment_bytes = 2048});
  ASSERT_TRUE(spool.ok());
  int appended = 0;
  Status st;
  while ((st = (*spool)->Append(Records(appended, 1, 500))).ok()) ++appended;
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted) << st.ToString();
  EXPECT_GE(appended, 10);
  EXPECT_LE((*spool)->Stats().bytes, 8192);
  // Nothing that was acknowledged is lost, and delivering makes room again.
  EXPECT_EQ(Drain(**spool), Records(0, appended, 500));
  EXPECT_TRUE((*spool)->Append(Records(appended, 1, 500)).ok());
  // A batch that could never fit is a different error.
  EXPECT_EQ((*spool)->Append(Records(0, 1, 9000)).code(), StatusCode::kInvalidArgument);
}

TEST(SpoolTest, ConcurrentAppendsAreAllDeliveredInEachCallersOrder) {
  TempDir dir;
  auto spool = Spool::Open({.dir = dir.path(), .segment_bytes = 64 << 10});
  ASSERT_TRUE(spool.ok());
  constexpr int kThreads = 8, kPerThread = 200;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string r = std::to_string(t) + ":" + std::to_string(i);
        EXPECT_TRUE((*spool)->Append({r}).ok());
      }
    });
  }
  // Deliver concurrently with the appends.
  std::vector<std::string> got;
  while (static_cast<int>(got.size()) < kThreads * kPerThread) {
    auto b = (*spool)->Next(1000, 100ms);
    ASSERT_TRUE(b.ok());
    for (auto& r : b->records) got.push_back(r);
    ASSERT_TRUE((*spool)->Commit(*b).ok());
  }
  for (auto& t : threads) t.join();
  std::vector<int> next(kThreads, 0);
  for (const auto& r : got) {
    const int t = std::stoi(r.substr(0, r.find(':')));
    EXPECT_EQ(std::stoi(r.substr(r.find(':') + 1)), next[t]++) << r;
  }
  EXPECT_EQ(next, std::vector<int>(kThreads, kPerThread));
}

TEST(SpoolTest, SecondOpenOfTheSameDirectoryIsRefused) {
  TempDir dir;
  auto first = Spool::Open({.dir = dir.path()});
  ASSERT_TRUE(first.ok());
  auto second = Spool::Open({.dir = dir.path()});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
}

TEST(SpoolTest, WaitCommittedAndOldestPendingTrackDelivery) {
  TempDir dir;
  FakeClock clock;
  auto spool = Spool::Open({.dir = dir.path(), .clock = &clock});
  ASSERT_TRUE(spool.ok());
  EXPECT_FALSE((*spool)->Stats().oldest_pending.has_value());
  const auto t0 = clock.Now();
  ASSERT_TRUE((*spool)->Append(Records(0, 1)).ok());
  clock.Advance(5s);
  ASSERT_TRUE((*spool)->Append(Records(1, 1)).ok());
  EXPECT_EQ((*spool)->Stats().oldest_pending, t0);
  EXPECT_FALSE((*spool)->WaitCommitted(2, std::chrono::steady_clock::now()));
  std::thread deliver([&] {
    auto b = (*spool)->Next(0, 0ms);
    ASSERT_TRUE((*spool)->Commit(*b).ok());
  });
  EXPECT_TRUE((*spool)->WaitCommitted(1, std::chrono::steady_clock::now() + 10s));
  deliver.join();
  EXPECT_EQ((*spool)->Stats().oldest_pending, t0 + 5s);
}

TEST(SpoolTest, NextWaitsForAppendsAndWakes) {
  TempDir dir;
  auto spool = Spool::Open({.dir = dir.path()});
  ASSERT_TRUE(spool.ok());
  std::thread waker([&] { (*spool)->Wake(); });
  auto b = (*spool)->Next(100, 60s);  // returns on Wake, not after a minute
  waker.join();
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->records.empty());
  std::thread writer([&] { EXPECT_TRUE((*spool)->Append(Records(0, 1)).ok()); });
  b = (*spool)->Next(100, 60s);
  writer.join();
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->records, Records(0, 1));
}

}  // namespace
}  // namespace pa::storage::victoriametrics
