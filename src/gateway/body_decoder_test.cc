#include "gateway/body_decoder.h"

#include <gtest/gtest.h>

#include "gateway/test_client.h"

namespace pa::gateway {
namespace {

using testing::Gzip;
using testing::GzipZeros;

TEST(BodyDecoderTest, ParseEncoding) {
  using E = BodyDecoder::Encoding;
  EXPECT_EQ(BodyDecoder::ParseEncoding(""), E::kIdentity);
  EXPECT_EQ(BodyDecoder::ParseEncoding("identity"), E::kIdentity);
  EXPECT_EQ(BodyDecoder::ParseEncoding(" GZip "), E::kGzip);
  EXPECT_EQ(BodyDecoder::ParseEncoding("x-gzip"), E::kGzip);
  EXPECT_EQ(BodyDecoder::ParseEncoding("deflate"), E::kDeflate);
  EXPECT_FALSE(BodyDecoder::ParseEncoding("br").has_value());
  EXPECT_FALSE(BodyDecoder::ParseEncoding("gzip, br").has_value());
}

TEST(BodyDecoderTest, IdentityUnderAndOverLimit) {
  std::string out;
  BodyDecoder d;
  d.Reset(BodyDecoder::Encoding::kIdentity, 10, &out, 10);
  EXPECT_TRUE(d.Write("hello").ok());
  EXPECT_TRUE(d.Write("world").ok());
  EXPECT_EQ(out, "helloworld");
  EXPECT_EQ(d.Write("!").code(), StatusCode::kResourceExhausted);
  EXPECT_LE(out.capacity(), 15u);
}

TEST(BodyDecoderTest, GzipInPieces) {
  std::string text;
  for (int i = 0; i < 20000; ++i) text += "line " + std::to_string(i) + "\n";
  const std::string gz = Gzip(text);
  std::string out;
  BodyDecoder d;
  d.Reset(BodyDecoder::Encoding::kGzip, 1 << 20, &out);
  for (size_t i = 0; i < gz.size(); i += 7) {
    ASSERT_TRUE(d.Write(std::string_view(gz).substr(i, 7)).ok());
  }
  EXPECT_TRUE(d.Finish().ok());
  EXPECT_EQ(out, text);

  // Two gzip members in a row are one body.
  d.Reset(BodyDecoder::Encoding::kGzip, 1 << 20, &out);
  ASSERT_TRUE(d.Write(Gzip("ab") + Gzip("cd")).ok());
  EXPECT_TRUE(d.Finish().ok());
  EXPECT_EQ(out, "abcd");
}

TEST(BodyDecoderTest, BombStopsAtTheLimitWithoutGrowingPastIt) {
  const std::string bomb = GzipZeros(64);  // 64 MiB of zeros in ~70 KiB
  const int64_t limit = 3 << 20;
  std::string out;
  BodyDecoder d;
  d.Reset(BodyDecoder::Encoding::kGzip, limit, &out);
  Status st;
  for (size_t i = 0; i < bomb.size() && st.ok(); i += 4096) {
    st = d.Write(std::string_view(bomb).substr(i, 4096));
  }
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted);
  EXPECT_LE(static_cast<int64_t>(out.size()), limit);
  EXPECT_LE(static_cast<int64_t>(out.capacity()), limit);

  // The same stream under a big enough limit decodes completely (it is a valid gzip).
  d.Reset(BodyDecoder::Encoding::kGzip, 65 << 20, &out);
  ASSERT_TRUE(d.Write(bomb).ok());
  EXPECT_TRUE(d.Finish().ok());
  EXPECT_EQ(out.size(), 64u << 20);
}

TEST(BodyDecoderTest, CorruptAndTruncatedGzip) {
  std::string out;
  BodyDecoder d;
  d.Reset(BodyDecoder::Encoding::kGzip, 1 << 20, &out);
  EXPECT_EQ(d.Write("definitely not gzip").code(), StatusCode::kInvalidArgument);

  const std::string gz = Gzip(std::string(10000, 'x'));
  d.Reset(BodyDecoder::Encoding::kGzip, 1 << 20, &out);
  ASSERT_TRUE(d.Write(std::string_view(gz).substr(0, gz.size() / 2)).ok());
  EXPECT_EQ(d.Finish().code(), StatusCode::kInvalidArgument);

  d.Reset(BodyDecoder::Encoding::kGzip, 1 << 20, &out);
  EXPECT_EQ(d.Write(gz + "garbage").code(), StatusCode::kInvalidArgument);
}

TEST(BodyDecoderTest, Deflate) {
  std::string out;
  BodyDecoder d;
  d.Reset(BodyDecoder::Encoding::kDeflate, 1 << 20, &out);
  // zlib-wrapped "hello" (RFC 1950), as HTTP's "deflate" means.
  const std::string zlib("\x78\x9c\xcb\x48\xcd\xc9\xc9\x07\x00\x06\x2c\x02\x15", 13);
  ASSERT_TRUE(d.Write(zlib).ok());
  EXPECT_TRUE(d.Finish().ok());
  EXPECT_EQ(out, "hello");
}

}  // namespace
}  // namespace pa::gateway
