#include "auth/password.h"

#include <argon2.h>

#include <cstring>

#include "base/random.h"

namespace pa::auth {
namespace {

size_t CodePoints(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace

Status CheckPasswordPolicy(std::string_view password) {
  if (password.size() > kMaxPasswordBytes) {
    return InvalidArgumentError("must be at most " + std::to_string(kMaxPasswordBytes) + " bytes");
  }
  if (CodePoints(password) < kMinPasswordLength) {
    return InvalidArgumentError("must be at least " + std::to_string(kMinPasswordLength) +
                                " characters long");
  }
  return Status::Ok();
}

Result<std::string> HashPassword(std::string_view password, const Argon2Params& p) {
  if (password.size() > kMaxPasswordBytes) return InvalidArgumentError("password too long");
  const std::string salt = SecureRandomBytes(16);
  constexpr uint32_t kHashLen = 32;
  std::string encoded(argon2_encodedlen(p.iterations, p.memory_kib, p.parallelism,
                                        static_cast<uint32_t>(salt.size()), kHashLen, Argon2_id),
                      '\0');
  const int rc = argon2id_hash_encoded(p.iterations, p.memory_kib, p.parallelism, password.data(),
                                       password.size(), salt.data(), salt.size(), kHashLen,
                                       encoded.data(), encoded.size());
  if (rc != ARGON2_OK) return InternalError(std::string("argon2: ") + argon2_error_message(rc));
  encoded.resize(std::strlen(encoded.c_str()));
  return encoded;
}

bool VerifyPassword(std::string_view password, const std::string& phc) {
  if (password.size() > kMaxPasswordBytes) return false;
  return argon2id_verify(phc.c_str(), password.data(), password.size()) == ARGON2_OK;
}

void BurnVerificationTime(std::string_view password) {
  static const std::string kDummy = HashPassword("not a real password, only a time sink").value();
  (void)VerifyPassword(password, kDummy);
}

std::string GeneratePassword(size_t length) {
  static constexpr char kAlphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
  constexpr size_t kN = sizeof(kAlphabet) - 1;
  std::string out;
  while (out.size() < length) {
    for (unsigned char b : SecureRandomBytes(length)) {
      // Rejection sampling keeps every character equally likely.
      if (b >= 256 - 256 % kN) continue;
      out += kAlphabet[b % kN];
      if (out.size() == length) break;
    }
  }
  return out;
}

}  // namespace pa::auth
