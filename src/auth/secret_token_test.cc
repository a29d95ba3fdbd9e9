#include "auth/secret_token.h"

#include <gtest/gtest.h>

namespace pa::auth {
namespace {

TEST(SecretTokenTest, FormatAndChecksum) {
  const std::string t = NewSecretToken(kApiTokenPrefix);
  EXPECT_EQ(t.size(), 52u);
  EXPECT_TRUE(t.starts_with("pa_"));
  EXPECT_TRUE(WellFormedToken(t, kApiTokenPrefix));
  EXPECT_FALSE(WellFormedToken(t, kSessionTokenPrefix));
  // Any single changed character breaks the checksum (or the alphabet).
  for (size_t i = 3; i < t.size(); ++i) {
    std::string bad = t;
    bad[i] = bad[i] == 'a' ? 'b' : 'a';
    EXPECT_FALSE(WellFormedToken(bad, kApiTokenPrefix)) << i;
  }
  EXPECT_FALSE(WellFormedToken(t.substr(0, 51), kApiTokenPrefix));
  EXPECT_NE(NewSecretToken(kApiTokenPrefix), t);
  const std::string s = NewSecretToken(kSessionTokenPrefix);
  EXPECT_TRUE(WellFormedToken(s, kSessionTokenPrefix));
}

TEST(SecretTokenTest, HashAndHint) {
  EXPECT_EQ(HashToken("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const std::string t = NewSecretToken(kApiTokenPrefix);
  EXPECT_EQ(TokenHint(t), t.substr(0, 7) + "…");
}

}  // namespace
}  // namespace pa::auth
