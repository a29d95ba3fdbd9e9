// DbQuerier over blocks and the head: every series read back exactly, also when the consumer
// skips series, stops early or reads a series twice (the read-ahead helper thread must neither
// hang nor hand out the wrong series).
#include "storage/embedded_tsdb/querier.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <string>

#include "storage/embedded_tsdb/db.h"

namespace pa::storage::embedded_tsdb {
namespace {

constexpr int64_t kMinute = 60 * 1000;
constexpr int kSeries = 12;
constexpr int kBlockSamples = 600;  // per series, compacted into blocks
constexpr int kHeadSamples = 30;    // per series, appended after: they stay in the head

class QuerierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("pa-querier-test-" + std::to_string(std::random_device{}()));
    Options options;
    options.dir = dir_.string();
    auto db = Db::Open(options);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    t0_ = (std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
               .count() -
           2 * kBlockSamples * kMinute) /
          kMinute * kMinute;
    ASSERT_TRUE(AppendRange(0, kBlockSamples));
    ASSERT_TRUE(db_->Compact().ok());
    ASSERT_TRUE(AppendRange(kBlockSamples, kBlockSamples + kHeadSamples));
  }
  void TearDown() override {
    querier_.reset();  // a live reader would hold up the flush on close
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  static Labels SeriesLabels(int i) {
    return {{"__name__", "q"}, {"i", (i < 10 ? "0" : "") + std::to_string(i)}};
  }
  double Value(int series, int k) const { return series * 1000.0 + k * 0.5; }

  bool AppendRange(int from, int to) {
    std::vector<SeriesSamples> batch;
    for (int i = 0; i < kSeries; ++i) {
      SeriesSamples s{SeriesLabels(i), {}};
      for (int k = from; k < to; ++k) s.samples.push_back({t0_ + k * kMinute, Value(i, k)});
      batch.push_back(std::move(s));
    }
    auto r = db_->Append(batch);
    return r.ok() && r->accepted == kSeries * (to - from);
  }

  // Checks that `got` is series i's whole data.
  void ExpectSeries(int i, const std::vector<Sample>& got) const {
    ASSERT_EQ(got.size(), static_cast<size_t>(kBlockSamples + kHeadSamples)) << "series " << i;
    for (int k = 0; k < kBlockSamples + kHeadSamples; ++k) {
      ASSERT_EQ(got[k].t, t0_ + k * kMinute) << "series " << i << " sample " << k;
      ASSERT_EQ(got[k].v, Value(i, k)) << "series " << i << " sample " << k;
    }
  }

  std::unique_ptr<SeriesSet> SelectAll() {
    auto q = db_->NewQuerier();
    auto set = q->Select({{LabelMatcher::Op::kEqual, "__name__", "q"}}, t0_,
                         t0_ + (kBlockSamples + kHeadSamples) * kMinute);
    EXPECT_TRUE(set.ok()) << set.status().ToString();
    querier_ = std::move(q);
    return set.ok() ? std::move(*set) : nullptr;
  }

  std::filesystem::path dir_;
  std::unique_ptr<Db> db_;
  std::unique_ptr<DbQuerier> querier_;
  int64_t t0_ = 0;
};

TEST_F(QuerierTest, EverySeriesReadsBackWholeAndInLabelOrder) {
  auto set = SelectAll();
  ASSERT_NE(set, nullptr);
  std::vector<Sample> samples;
  int i = 0;
  while (set->Next()) {
    ASSERT_LT(i, kSeries);
    EXPECT_EQ(set->labels(), SeriesLabels(i));
    samples.clear();
    ASSERT_TRUE(set->ReadSamples(&samples).ok());
    ExpectSeries(i, samples);
    ++i;
  }
  EXPECT_EQ(i, kSeries);
  EXPECT_TRUE(set->status().ok());
}

TEST_F(QuerierTest, SkippedSeriesDoNotShiftTheOthers) {
  auto set = SelectAll();
  ASSERT_NE(set, nullptr);
  std::vector<Sample> samples;
  for (int i = 0; set->Next(); ++i) {
    if (i % 3 != 2) continue;  // read series 2, 5, 8, 11 only
    samples.clear();
    ASSERT_TRUE(set->ReadSamples(&samples).ok());
    ExpectSeries(i, samples);
  }
}

TEST_F(QuerierTest, SamplesAreAppendedToWhatTheCallerHolds) {
  auto set = SelectAll();
  ASSERT_NE(set, nullptr);
  std::vector<Sample> samples = {{1, 1}};
  ASSERT_TRUE(set->Next());
  ASSERT_TRUE(set->ReadSamples(&samples).ok());
  ASSERT_EQ(samples.size(), static_cast<size_t>(1 + kBlockSamples + kHeadSamples));
  EXPECT_EQ(samples[0].t, 1);
  ExpectSeries(0, std::vector<Sample>(samples.begin() + 1, samples.end()));
}

TEST_F(QuerierTest, ReadingASeriesTwiceIsAnErrorNotAnotherSeries) {
  auto set = SelectAll();
  ASSERT_NE(set, nullptr);
  std::vector<Sample> samples;
  ASSERT_TRUE(set->Next());
  ASSERT_TRUE(set->ReadSamples(&samples).ok());
  samples.clear();
  const Status again = set->ReadSamples(&samples);
  EXPECT_EQ(again.code(), StatusCode::kInternal);
  EXPECT_TRUE(samples.empty());
  ASSERT_TRUE(set->Next());
  ASSERT_TRUE(set->ReadSamples(&samples).ok());
  ExpectSeries(1, samples);
}

TEST_F(QuerierTest, AbandoningASetEarlyReturnsPromptly) {
  for (int stop_after = 0; stop_after < kSeries; stop_after += 5) {
    auto set = SelectAll();
    ASSERT_NE(set, nullptr);
    std::vector<Sample> samples;
    for (int i = 0; i < stop_after && set->Next(); ++i) {
      samples.clear();
      ASSERT_TRUE(set->ReadSamples(&samples).ok());
    }
    set.reset();  // joins the helper; a hang here fails the test by its timeout
  }
}

}  // namespace
}  // namespace pa::storage::embedded_tsdb
