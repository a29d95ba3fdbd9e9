#include "auth/password.h"

#include <gtest/gtest.h>

#include <set>

namespace pa::auth {
namespace {

TEST(PasswordTest, HashIsArgon2idPhcWithRequiredCost) {
  auto hash = HashPassword("correct horse battery");
  ASSERT_TRUE(hash.ok());
  EXPECT_TRUE(hash->starts_with("$argon2id$v=19$m=19456,t=2,p=1$")) << *hash;
  EXPECT_EQ(hash->find("correct horse"), std::string::npos);
  EXPECT_TRUE(VerifyPassword("correct horse battery", *hash));
  EXPECT_FALSE(VerifyPassword("correct horse batterY", *hash));
  EXPECT_FALSE(VerifyPassword("correct horse battery", "$argon2id$garbage"));
  // A fresh salt each time.
  EXPECT_NE(*hash, *HashPassword("correct horse battery"));
}

TEST(PasswordTest, Policy) {
  EXPECT_FALSE(CheckPasswordPolicy("short").ok());
  EXPECT_FALSE(CheckPasswordPolicy("elevenchars").ok());
  EXPECT_TRUE(CheckPasswordPolicy("twelve chars").ok());
  // Twelve Cyrillic letters are 24 bytes but twelve characters: allowed.
  EXPECT_TRUE(CheckPasswordPolicy("пароль пароль").ok());
  EXPECT_FALSE(CheckPasswordPolicy("пароль").ok());  // 12 bytes, 6 characters
  EXPECT_FALSE(CheckPasswordPolicy(std::string(kMaxPasswordBytes + 1, 'x')).ok());
}

TEST(PasswordTest, GeneratedPasswordsPassThePolicyAndDiffer) {
  std::set<std::string> seen;
  for (int i = 0; i < 20; ++i) {
    const std::string p = GeneratePassword();
    EXPECT_TRUE(CheckPasswordPolicy(p).ok());
    EXPECT_TRUE(seen.insert(p).second);
  }
}

}  // namespace
}  // namespace pa::auth
