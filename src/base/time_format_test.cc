#include "base/time_format.h"

#include <gtest/gtest.h>

namespace pa {
namespace {

TEST(TimeFormatTest, RoundTrip) {
  const int64_t ms = 1795860003250;  // 2026-11-28T10:00:03.250Z
  EXPECT_EQ(FormatRfc3339Ms(ms), "2026-11-28T10:00:03.250Z");
  EXPECT_EQ(*ParseRfc3339Ms("2026-11-28T10:00:03.250Z"), ms);
  EXPECT_EQ(FormatRfc3339Ms(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatRfc3339Ms(-1), "1969-12-31T23:59:59.999Z");
}

TEST(TimeFormatTest, OffsetsAndPrecision) {
  EXPECT_EQ(*ParseRfc3339Ms("2026-11-28T13:00:03.250+03:00"),
            *ParseRfc3339Ms("2026-11-28T10:00:03.250Z"));
  EXPECT_EQ(*ParseRfc3339Ms("2026-11-28T10:00:03.250999999Z"),
            *ParseRfc3339Ms("2026-11-28T10:00:03.250Z"));
  EXPECT_EQ(*ParseRfc3339Ms("2024-02-29T00:00:00Z") % 1000, 0);
  EXPECT_FALSE(ParseRfc3339Ms("2026-11-28T10:00:03Z", /*require_fraction=*/true).ok());
  EXPECT_TRUE(ParseRfc3339Ms("2026-11-28T10:00:03.123Z", true).ok());
}

TEST(TimeFormatTest, Rejects) {
  for (const char* bad : {"", "2026-11-28", "2026-11-28T10:00:03", "2026-13-01T00:00:00Z",
                          "2025-02-29T00:00:00Z", "2026-11-28T24:00:00Z", "2026-11-28T10:00:03.Z",
                          "2026-11-28T10:00:03Zjunk", "2026-11-28T10:00:03+3:00"}) {
    EXPECT_FALSE(ParseRfc3339Ms(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace pa
