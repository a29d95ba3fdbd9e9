#include "base/units.h"

#include <gtest/gtest.h>

namespace pa {
namespace {

using std::chrono::milliseconds;

TEST(UnitsTest, Durations) {
  EXPECT_EQ(*ParseDuration("250ms"), milliseconds(250));
  EXPECT_EQ(*ParseDuration("30s"), milliseconds(30000));
  EXPECT_EQ(*ParseDuration("5m"), milliseconds(300000));
  EXPECT_EQ(*ParseDuration("2h"), milliseconds(7200000));
  EXPECT_EQ(*ParseDuration("30d"), milliseconds(int64_t{30} * 86400000));
  EXPECT_EQ(*ParseDuration("1.5s"), milliseconds(1500));
  EXPECT_EQ(*ParseDuration("10"), milliseconds(10000));  // bare number: seconds
  EXPECT_FALSE(ParseDuration("").ok());
  EXPECT_FALSE(ParseDuration("5 parsecs").ok());
  EXPECT_FALSE(ParseDuration("-5s").ok());
  EXPECT_FALSE(ParseDuration("s").ok());
}

TEST(UnitsTest, Sizes) {
  EXPECT_EQ(*ParseByteSize("512"), 512);
  EXPECT_EQ(*ParseByteSize("64KiB"), 65536);
  EXPECT_EQ(*ParseByteSize("16MiB"), 16 << 20);
  EXPECT_EQ(*ParseByteSize("1GiB"), int64_t{1} << 30);
  EXPECT_EQ(*ParseByteSize("10MB"), 10000000);
  EXPECT_FALSE(ParseByteSize("lots").ok());
  EXPECT_FALSE(ParseByteSize("16 MiBs").ok());
}

TEST(UnitsTest, FormatRoundTrips) {
  for (const char* d : {"250ms", "90s", "5m", "2h", "30d", "1w"}) {
    EXPECT_EQ(FormatDuration(*ParseDuration(d)), d);
  }
  EXPECT_EQ(FormatByteSize(16 << 20), "16MiB");
  EXPECT_EQ(FormatByteSize(1000), "1000");
}

}  // namespace
}  // namespace pa
