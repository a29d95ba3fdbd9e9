#include "base/random.h"

#include <gtest/gtest.h>

#include <set>

namespace pa {
namespace {

TEST(RandomTest, IdsAreUniqueAndTimeOrdered) {
  std::set<std::string> seen;
  std::string prev;
  for (int64_t ms = 1000; ms < 1100; ++ms) {
    std::string id = NewId(ms);
    EXPECT_EQ(id.size(), 26u);
    EXPECT_TRUE(seen.insert(id).second);
    EXPECT_LT(prev, id);
    prev = id;
  }
  EXPECT_EQ(NewRequestId().size(), 32u);
  EXPECT_NE(NewRequestId(), NewRequestId());
  EXPECT_EQ(SecureRandomBytes(32).size(), 32u);
}

}  // namespace
}  // namespace pa
