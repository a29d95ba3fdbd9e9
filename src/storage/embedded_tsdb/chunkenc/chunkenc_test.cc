// Round trips of both chunk encodings: every value comes back bit for bit, including NaN
// payloads, ±Inf, -0.0 and staleness markers, and range filters keep exactly the samples inside.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <random>

#include "storage/embedded_tsdb/chunkenc/bits.h"
#include "storage/embedded_tsdb/chunkenc/block_chunk.h"
#include "storage/embedded_tsdb/chunkenc/xor_chunk.h"

namespace pa::storage::embedded_tsdb {
namespace {

void ExpectSameSamples(const std::vector<Sample>& got, const std::vector<Sample>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(got[i].t, want[i].t) << "sample " << i;
    EXPECT_EQ(std::bit_cast<uint64_t>(got[i].v), std::bit_cast<uint64_t>(want[i].v))
        << "sample " << i << ": " << got[i].v << " vs " << want[i].v;
  }
}

std::vector<Sample> Filter(const std::vector<Sample>& s, int64_t mint, int64_t maxt) {
  std::vector<Sample> out;
  for (const Sample& x : s) {
    if (x.t >= mint && x.t <= maxt) out.push_back(x);
  }
  return out;
}

// Series shapes that exercise every branch of both encoders.
std::vector<std::vector<Sample>> Corpus() {
  std::mt19937_64 rng(42);
  std::vector<std::vector<Sample>> out;
  auto make = [&](auto value, auto step) {
    std::vector<Sample> s;
    int64_t t = 1767225600000;
    for (int i = 0; i < 1000; ++i) {
      t += step(i);
      s.push_back({t, value(i)});
    }
    out.push_back(std::move(s));
  };
  make([](int) { return 1.0; }, [](int) { return 15000; });
  make([](int i) { return i * 3.0; }, [](int) { return 15000; });
  make([&](int) { return std::round(std::uniform_real_distribution<>(0, 1000)(rng) * 100) / 100; },
       [&](int) { return 60000 + static_cast<int64_t>(rng() % 200) - 100; });
  make([&](int) { return std::uniform_real_distribution<>(-1e6, 1e6)(rng); },
       [&](int) { return 1 + static_cast<int64_t>(rng() % 5000000); });
  make([&](int i) { return i % 7 == 0 ? StaleNaN() : i * 0.1; },
       [](int i) { return i % 3 == 0 ? 1 : 1000000000; });
  const double specials[] = {std::numeric_limits<double>::quiet_NaN(),
                             std::numeric_limits<double>::infinity(),
                             -std::numeric_limits<double>::infinity(),
                             -0.0,
                             0.0,
                             StaleNaN(),
                             std::bit_cast<double>(uint64_t{0x7ff8000000000123}),
                             std::numeric_limits<double>::max(),
                             std::numeric_limits<double>::denorm_min(),
                             1e300,
                             -1e-300,
                             0.1 + 0.2};
  make([&](int i) { return specials[i % std::size(specials)]; }, [](int) { return 1; });
  make([](int i) { return i < 900 ? 5.5 : std::numeric_limits<double>::infinity(); },
       [](int) { return 10; });
  return out;
}

TEST(XorChunk, RoundTripsEverySample) {
  for (const auto& samples : Corpus()) {
    XorChunk c;
    for (const Sample& s : samples) c.Append(s.t, s.v);
    std::vector<Sample> got;
    c.DecodeAll(&got);
    ExpectSameSamples(got, samples);
    EXPECT_EQ(c.mint(), samples.front().t);
    EXPECT_EQ(c.maxt(), samples.back().t);
    got.clear();
    c.Decode(samples[100].t, samples[200].t, &got);
    ExpectSameSamples(got, Filter(samples, samples[100].t, samples[200].t));
  }
}

TEST(XorChunk, EncodeSplitsIntoEvenChunks) {
  std::vector<Sample> samples;
  for (int i = 0; i < 250; ++i) samples.push_back({i * 1000, static_cast<double>(i)});
  const auto chunks = XorChunk::Encode(samples);
  ASSERT_EQ(chunks.size(), 3u);
  std::vector<Sample> got;
  for (const auto& c : chunks) {
    EXPECT_LE(c.count(), XorChunk::kMaxSamples);
    EXPECT_GE(c.count(), 80u);
    c.DecodeAll(&got);
  }
  ExpectSameSamples(got, samples);
}

TEST(XorChunk, RegularSeriesCompressWell) {
  XorChunk c;
  for (int i = 0; i < 120; ++i) c.Append(1767225600000 + i * 15000, 42.0);
  EXPECT_LT(c.encoded_bytes(), 60u);  // ~2 bits per sample after the first
}

TEST(BlockChunk, RoundTripsEverySampleAndFiltersRanges) {
  for (const auto& samples : Corpus()) {
    std::string data;
    EncodeBlockChunk(samples, &data);
    std::vector<Sample> got;
    ASSERT_TRUE(DecodeBlockChunk(data, INT64_MIN, INT64_MAX, &got).ok());
    ExpectSameSamples(got, samples);
    got.clear();
    ASSERT_TRUE(DecodeBlockChunk(data, samples[10].t, samples[500].t, &got).ok());
    ExpectSameSamples(got, Filter(samples, samples[10].t, samples[500].t));
    got.clear();
    ASSERT_TRUE(DecodeBlockChunk(data, samples.back().t + 1, INT64_MAX, &got).ok());
    EXPECT_TRUE(got.empty());
  }
}

TEST(BlockChunk, DecimalValuesAreDenserThanGorilla) {
  std::mt19937_64 rng(7);
  std::vector<Sample> samples;
  double counter = 1000;
  for (int i = 0; i < 4096; ++i) {
    counter += static_cast<double>(rng() % 20);
    samples.push_back({1767225600000 + i * 15000, counter});
  }
  std::string data;
  EncodeBlockChunk(samples, &data);
  size_t gorilla = 0;
  for (const auto& c : XorChunk::Encode(samples)) gorilla += c.encoded_bytes();
  EXPECT_LT(data.size() * 2, gorilla) << data.size() << " vs " << gorilla;
  EXPECT_LT(data.size(), samples.size());  // under a byte per sample
}

TEST(BlockChunk, ZstdOnlyWhereItSavesMuch) {
  // Regular scrapes of a constant: the varints are mostly zeros, which zstd folds away.
  std::vector<Sample> regular;
  for (int i = 0; i < 1000; ++i) regular.push_back({1767225600000 + i * 15000, 1});
  // Jittered scrapes of a random walk: zstd would save only a little.
  std::mt19937_64 rng(11);
  std::vector<Sample> jittered;
  int64_t walk = 5000;
  for (int i = 0; i < 1000; ++i) {
    walk += static_cast<int64_t>(rng() % 11) - 5;
    jittered.push_back({1767225600000 + i * 60000 + static_cast<int64_t>(rng() % 41) - 20,
                        static_cast<double>(walk) / 1000});
  }
  for (const auto& [samples, zstd] : {std::pair{regular, true}, std::pair{jittered, false}}) {
    std::string data;
    EncodeBlockChunk(samples, &data);
    EXPECT_EQ(data[0] == 1, zstd) << "flags " << int(data[0]) << ", " << data.size() << " bytes";
    std::vector<Sample> got;
    ASSERT_TRUE(DecodeBlockChunk(data, INT64_MIN, INT64_MAX, &got).ok());
    ExpectSameSamples(got, samples);
  }
}

TEST(BlockChunk, CorruptInputIsDataLossNotACrash) {
  std::vector<Sample> samples;
  for (int i = 0; i < 500; ++i) samples.push_back({i * 1000, i * 0.5});
  std::string data;
  EncodeBlockChunk(samples, &data);
  std::mt19937 rng(1);
  for (int round = 0; round < 300; ++round) {
    std::string bad = data;
    if (round % 2 == 0) {
      bad.resize(rng() % bad.size());
    } else {
      bad[rng() % bad.size()] ^= static_cast<char>(1 + rng() % 255);
    }
    std::vector<Sample> got;
    const Status s = DecodeBlockChunk(bad, INT64_MIN, INT64_MAX, &got);
    if (!s.ok()) {
      EXPECT_EQ(s.code(), StatusCode::kDataLoss);
    }
  }
}

TEST(Bits, VarintsAndZigZagRoundTrip) {
  std::string buf;
  const int64_t values[] = {0, 1, -1, 63, -64, 1 << 20, INT64_MAX, INT64_MIN};
  for (int64_t v : values) PutSignedVarint(buf, v);
  ByteReader r(buf);
  for (int64_t v : values) EXPECT_EQ(r.SignedVarint(), v);
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(r.done());
  r.Varint();
  EXPECT_FALSE(r.ok());
}

}  // namespace
}  // namespace pa::storage::embedded_tsdb
