// The head's series: in-order and out-of-order appends, rewrites, duplicate detection, bounded
// chunks, and the cut (Freeze) keeping every sample visible.
#include "storage/embedded_tsdb/head.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <map>
#include <random>

namespace pa::storage::embedded_tsdb {
namespace {

std::vector<Sample> ReadAll(const MemSeries& s) {
  std::vector<Sample> out;
  s.Read(INT64_MIN, INT64_MAX, &out);
  return out;
}

TEST(MemSeries, AnyOrderReadsBackSortedWithLastWriteWinning) {
  MemSeries s(1, {{"__name__", "x"}}, 0);
  std::map<int64_t, double> want;
  std::mt19937 rng(5);
  for (int round = 0; round < 40; ++round) {
    std::vector<Sample> batch;
    for (int i = 0; i < 100; ++i) {
      const int64_t t = static_cast<int64_t>(rng() % 3000) * 1000;
      const double v = static_cast<double>(rng() % 1000);
      batch.push_back({t, v});
    }
    s.Append(batch, nullptr);
    for (const Sample& x : batch) want[x.t] = x.v;
    const auto got = ReadAll(s);
    ASSERT_EQ(got.size(), want.size());
    size_t i = 0;
    for (const auto& [t, v] : want) {
      ASSERT_EQ(got[i].t, t);
      ASSERT_EQ(got[i].v, v) << "at " << t;
      ++i;
    }
  }
  // Chunks stay full-ish: 3000 samples need at most a few dozen chunks.
  EXPECT_LE(s.num_chunks(), 3000 / XorChunk::kMaxSamples * 2);
}

TEST(MemSeries, IdenticalRewritesAreDuplicates) {
  MemSeries s(1, {{"__name__", "x"}}, 0);
  std::vector<Sample> samples;
  for (int i = 0; i < 500; ++i) samples.push_back({i * 1000, i * 0.5});
  EXPECT_EQ(s.Append(samples, nullptr).accepted, 500);
  std::vector<Sample> written;
  const auto again = s.Append(samples, &written);
  EXPECT_EQ(again.accepted, 0);
  EXPECT_EQ(again.duplicates, 500);
  EXPECT_TRUE(written.empty());
  // A different value is a rewrite, not a duplicate; NaN payloads compare by bits.
  const auto changed = s.Append({{Sample{7000, 99}, Sample{8000, StaleNaN()}}}, &written);
  EXPECT_EQ(changed.accepted, 2);
  EXPECT_EQ(written.size(), 2u);
  EXPECT_EQ(s.Append({{Sample{8000, StaleNaN()}}}, nullptr).duplicates, 1);
  const auto got = ReadAll(s);
  EXPECT_EQ(got[7].v, 99);
  EXPECT_EQ(std::bit_cast<uint64_t>(got[8].v), kStaleNaNBits);
}

TEST(MemSeries, FreezeMovesSamplesAsideAtomically) {
  MemSeries s(1, {{"__name__", "x"}}, 0);
  std::vector<Sample> samples;
  for (int i = 0; i < 300; ++i) samples.push_back({i * 1000, static_cast<double>(i)});
  s.Append(samples, nullptr);
  s.Append({{Sample{5500, -1}}}, nullptr);  // pending out of order
  const auto chunks = s.Freeze();
  ASSERT_TRUE(chunks);
  EXPECT_EQ(s.num_chunks(), 0u);
  // Newer writes go on; a rewrite of a frozen timestamp wins over the frozen value.
  s.Append({{Sample{10000, 42}, Sample{400000, 1}}}, nullptr);
  auto got = ReadAll(s);
  ASSERT_EQ(got.size(), 302u);
  EXPECT_EQ(got[6].t, 5500);
  EXPECT_EQ(got[11].v, 42);
  EXPECT_TRUE(s.HasDataIn(0, 0));
  s.DropFrozen();
  got = ReadAll(s);
  EXPECT_EQ(got.size(), 2u);
  EXPECT_FALSE(s.HasDataIn(0, 0));
  EXPECT_FALSE(s.Freeze() == nullptr);
}

TEST(Head, SeriesByLabelsAndIdleSeriesDroppedAtTheSecondCut) {
  Head head;
  bool created = false;
  MemSeries* a = head.GetOrCreate({{"__name__", "a"}}, &created);
  EXPECT_TRUE(created);
  EXPECT_EQ(head.GetOrCreate({{"__name__", "a"}}, &created), a);
  EXPECT_FALSE(created);
  MemSeries* b = head.GetOrCreate({{"__name__", "b"}, {"x", "1"}}, &created);
  EXPECT_NE(a->ref(), b->ref());
  a->Append({{Sample{1, 1}}}, nullptr);
  {
    std::shared_lock lock(head.index_mu());
    ASSERT_NE(head.Postings("x", "1"), nullptr);
    EXPECT_EQ(*head.Postings("x", "1"), (PostingList{b->ref()}));
    EXPECT_EQ(head.AllPostings().size(), 2u);
  }
  FrozenHead f = head.Freeze();
  ASSERT_EQ(f.series.size(), 1u);
  EXPECT_EQ(f.series[0]->ref(), a->ref());
  EXPECT_EQ(head.num_series(), 2);
  for (const auto& s : f.series) s->DropFrozen();
  f = head.Freeze();  // b idle for two periods, a for one
  EXPECT_TRUE(f.series.empty());
  EXPECT_EQ(head.num_series(), 1);
  EXPECT_NE(head.FindByRef(a->ref()), nullptr);
  std::shared_lock lock(head.index_mu());
  EXPECT_EQ(head.Postings("x", "1"), nullptr);
}

}  // namespace
}  // namespace pa::storage::embedded_tsdb
