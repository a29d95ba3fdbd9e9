// Compaction pieces: priority merges, partitions by age, the planner's rules, and block
// round trips through BlockWriter/Block.
#include "storage/embedded_tsdb/blocks/compact.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace pa::storage::embedded_tsdb {
namespace {

constexpr int64_t kHour = 3600 * 1000;

TEST(MergeSampleRuns, LaterRunsWinAndDisjointRunsConcatenate) {
  std::vector<std::vector<Sample>> runs = {{{1, 1}, {2, 1}, {5, 1}}, {{2, 2}, {3, 2}}, {{5, 3}}};
  std::vector<Sample> out;
  MergeSampleRuns(runs, &out);
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[1].v, 2);
  EXPECT_EQ(out[3].v, 3);
  runs = {{{10, 1}, {11, 1}}, {}, {{1, 2}, {2, 2}}};
  out.clear();
  MergeSampleRuns(runs, &out);
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0].t, 1);
  EXPECT_EQ(out[3].t, 11);
}

TEST(Partitions, RecentSamplesSmallOldSamplesLarge) {
  const auto ranges = BlockRanges(30LL * 24 * kHour);
  ASSERT_EQ(ranges, (std::vector<int64_t>{2 * kHour, 12 * kHour, 48 * kHour}));
  EXPECT_EQ(BlockRanges(24 * kHour), std::vector<int64_t>{2 * kHour});
  const int64_t now = 1000 * 48 * kHour;  // aligned to every range
  EXPECT_EQ(PartitionFor(now - kHour, now, ranges), std::make_pair(now - 2 * kHour, now));
  EXPECT_EQ(PartitionFor(now - 20 * kHour, now, ranges),
            std::make_pair(now - 24 * kHour, now - 12 * kHour));
  EXPECT_EQ(PartitionFor(now - 100 * kHour, now, ranges),
            std::make_pair(now - 144 * kHour, now - 96 * kHour));
  EXPECT_EQ(PartitionFor(-1, now, ranges).first, -48 * kHour);  // floors negative times
}

class BlockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/pa_blocks_XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::shared_ptr<Block> Write(uint64_t order, int64_t start, int64_t end,
                               const std::vector<std::pair<Labels, std::vector<Sample>>>& series) {
    auto w = BlockWriter::Create(dir_, next_seq_++, order, start, end);
    EXPECT_TRUE(w.ok());
    for (const auto& [labels, samples] : series) EXPECT_TRUE((*w)->Add(labels, samples).ok());
    auto meta = (*w)->Finish();
    EXPECT_TRUE(meta.ok()) << meta.status().ToString();
    auto block = Block::Open(dir_ + "/" + BlockDirName(meta->seq));
    EXPECT_TRUE(block.ok()) << block.status().ToString();
    return *block;
  }

  std::string dir_;
  std::atomic<uint64_t> next_seq_{1};
};

TEST_F(BlockTest, WriteOpenReadAndIndex) {
  std::vector<Sample> many;
  for (int i = 0; i < 10000; ++i) many.push_back({i * 1000, i * 0.25});
  auto b = Write(1, 0, 2 * kHour,
                 {{{{"__name__", "a"}, {"job", "x"}}, many},
                  {{{"__name__", "b"}, {"job", "x"}}, {{5, 1}}},
                  {{{"__name__", "b"}, {"job", "y"}}, {{7, 2}}}});
  EXPECT_EQ(b->num_series(), 3u);
  EXPECT_EQ(b->meta().samples, 10002);
  EXPECT_EQ(b->meta().mint, 0);
  EXPECT_EQ(b->meta().maxt, 9999000);
  EXPECT_EQ(b->SeriesChunks(0).size(), 3u);  // 4096 samples per chunk at most
  std::vector<Sample> got;
  ASSERT_TRUE(b->Read(0, 2000 * 1000, 6000 * 1000, &got).ok());
  ASSERT_EQ(got.size(), 4001u);
  EXPECT_EQ(got.front().t, 2000 * 1000);
  ASSERT_NE(b->Postings("job", "x"), nullptr);
  EXPECT_EQ(*b->Postings("job", "x"), (PostingList{0, 1}));
  EXPECT_EQ(b->Postings("job", "z"), nullptr);
  EXPECT_EQ(b->SeriesLabels(2), (Labels{{"__name__", "b"}, {"job", "y"}}));
  EXPECT_FALSE(b->HasDataIn(1, 6, 100));
  EXPECT_TRUE(b->HasDataIn(1, 5, 5));
}

TEST_F(BlockTest, DamageIsDetected) {
  auto b = Write(1, 0, 2 * kHour, {{{{"__name__", "a"}}, {{1, 1}, {2, 2}}}});
  const std::string dir = b->dir();
  b.reset();
  {
    std::fstream f(dir + "/index", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(10);
    f.put('\x7f');
  }
  auto damaged = Block::Open(dir);
  EXPECT_EQ(damaged.status().code(), StatusCode::kDataLoss);
}

TEST_F(BlockTest, PlannerMergesClosedWindowsWithEverythingOverlapping) {
  const auto ranges = BlockRanges(30LL * 24 * kHour);
  const int64_t day = 24 * kHour, now = 100 * 48 * kHour;
  const Labels l = {{"__name__", "a"}};
  std::vector<std::shared_ptr<Block>> blocks;
  // Two flushes into one old 2-hour partition, one into the next, one recent.
  blocks.push_back(Write(1, now - 3 * day, now - 3 * day + 2 * kHour, {{l, {{now - 3 * day, 1}}}}));
  blocks.push_back(Write(2, now - 3 * day, now - 3 * day + 2 * kHour,
                         {{l, {{now - 3 * day, 2}, {now - 3 * day + 1, 2}}}}));
  blocks.push_back(Write(3, now - 3 * day + 2 * kHour, now - 3 * day + 4 * kHour,
                         {{l, {{now - 3 * day + 2 * kHour, 3}}}}));
  blocks.push_back(Write(4, now - 2 * kHour, now, {{l, {{now - kHour, 4}}}}));

  auto plan = PlanCompaction(blocks, ranges, now, false);
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->inputs.size(), 2u);  // the 2-hour window first
  EXPECT_EQ(plan->end - plan->start, 2 * kHour);
  std::atomic<uint64_t> seq{100};
  const BlockWriteContext ctx{dir_, ranges, now, 0, &seq};
  auto merged = MergeBlocks(*plan, ctx);
  ASSERT_TRUE(merged.ok());
  std::vector<Sample> got;
  ASSERT_TRUE((*merged)->Read(0, INT64_MIN, INT64_MAX, &got).ok());
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].v, 2);  // the later write
  EXPECT_EQ((*merged)->meta().order, 2u);

  blocks = {*merged, blocks[2], blocks[3]};
  plan = PlanCompaction(blocks, ranges, now, false);
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->end - plan->start, 12 * kHour);
  EXPECT_EQ(plan->inputs.size(), 2u);
  // The recent block's window is not closed: nothing more without `full`.
  blocks = {blocks[2], blocks[3]};
  EXPECT_FALSE(PlanCompaction({blocks[1]}, ranges, now, true));

  // A small block inside a larger one's partition is merged at the larger level only.
  auto big = Write(5, now - 8 * day, now - 6 * day, {{l, {{now - 7 * day, 5}}}});
  auto late = Write(6, now - 7 * day, now - 7 * day + 2 * kHour, {{l, {{now - 7 * day, 6}}}});
  auto late2 = Write(7, now - 7 * day, now - 7 * day + 2 * kHour, {{l, {{now - 7 * day + 1, 7}}}});
  plan = PlanCompaction({big, late, late2}, ranges, now, false);
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->inputs.size(), 3u);
  EXPECT_EQ(plan->end - plan->start, 48 * kHour);
}

}  // namespace
}  // namespace pa::storage::embedded_tsdb
