#include "storage/victoriametrics/remote_write.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>

namespace pa::storage::victoriametrics {
namespace {

bool SameBits(double a, double b) {
  return std::bit_cast<uint64_t>(a) == std::bit_cast<uint64_t>(b);
}

std::vector<SeriesSamples> Decode(const std::vector<std::string>& records, int64_t* samples) {
  std::string request;
  *samples = 0;
  for (const auto& r : records) {
    uint32_t n;
    std::string_view fragment;
    EXPECT_TRUE(SplitRecord(r, &n, &fragment));
    *samples += n;
    request.append(fragment);
  }
  auto body = DecompressBody(CompressBody(request));
  EXPECT_TRUE(body.ok());
  EXPECT_EQ(*body, request);
  auto decoded = DecodeWriteRequest(*body);
  EXPECT_TRUE(decoded.ok()) << decoded.status().ToString();
  return decoded.ok() ? *decoded : std::vector<SeriesSamples>{};
}

TEST(RemoteWriteTest, RoundTripKeepsLabelsTimestampsAndValueBits) {
  const double values[] = {0.0,
                           -0.0,
                           1.5,
                           0.1 + 0.2,
                           std::numeric_limits<double>::infinity(),
                           -std::numeric_limits<double>::infinity(),
                           std::numeric_limits<double>::quiet_NaN(),
                           StaleNaN(),
                           std::numeric_limits<double>::denorm_min(),
                           std::numeric_limits<double>::max()};
  SeriesSamples s{.labels = {{"__name__", "m"}, {"job", "ünïcode \"x\""}}};
  int64_t t = -5000;  // before 1970 too
  for (double v : values) s.samples.push_back({t++ * 1000, v});
  std::vector<SeriesSamples> batch = {s, {.labels = {{"__name__", "empty"}}}};
  int64_t samples;
  auto decoded = Decode(EncodeRecords(batch, 1 << 20), &samples);
  EXPECT_EQ(samples, std::size(values));
  ASSERT_EQ(decoded.size(), 1u);  // the series without samples is left out
  EXPECT_EQ(decoded[0].labels, s.labels);
  ASSERT_EQ(decoded[0].samples.size(), s.samples.size());
  for (size_t i = 0; i < s.samples.size(); ++i) {
    EXPECT_EQ(decoded[0].samples[i].t, s.samples[i].t);
    EXPECT_TRUE(SameBits(decoded[0].samples[i].v, s.samples[i].v)) << i;
  }
  EXPECT_TRUE(IsStaleNaN(decoded[0].samples[7].v));
}

TEST(RemoteWriteTest, SplitsIntoRecordsAndLongSeriesIntoChunks) {
  std::vector<SeriesSamples> batch;
  for (int i = 0; i < 50; ++i) {
    SeriesSamples s{.labels = {{"__name__", "m"}, {"i", std::to_string(i)}}};
    for (int j = 0; j < 30; ++j) s.samples.push_back({j, static_cast<double>(i * 100 + j)});
    batch.push_back(s);
  }
  const auto records = EncodeRecords(batch, 2000, /*max_samples_per_series=*/7);
  EXPECT_GT(records.size(), 5u);
  for (const auto& r : records) EXPECT_LT(r.size(), 2000u + 200u);
  int64_t samples;
  const auto decoded = Decode(records, &samples);
  EXPECT_EQ(samples, 50 * 30);
  // 30 samples in chunks of at most 7: 5 TimeSeries per series, in order.
  ASSERT_EQ(decoded.size(), 50u * 5);
  size_t k = 0;
  for (int i = 0; i < 50; ++i) {
    int j = 0;
    for (int c = 0; c < 5; ++c, ++k) {
      EXPECT_EQ(LabelValue(decoded[k].labels, "i"), std::to_string(i));
      EXPECT_LE(decoded[k].samples.size(), 7u);
      for (const auto& smp : decoded[k].samples) {
        EXPECT_EQ(smp.t, j);
        EXPECT_EQ(smp.v, i * 100 + j);
        ++j;
      }
    }
    EXPECT_EQ(j, 30);
  }
}

TEST(RemoteWriteTest, MalformedInputIsRefused) {
  EXPECT_FALSE(DecodeWriteRequest("\x0a\x10short").ok());
  EXPECT_FALSE(DecompressBody("not snappy at all").ok());
  uint32_t n;
  std::string_view f;
  EXPECT_FALSE(SplitRecord("abc", &n, &f));
}

}  // namespace
}  // namespace pa::storage::victoriametrics
