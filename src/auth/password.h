// Passwords: Argon2id hashing (libargon2, RFC 9106) and the password policy.
//
// Hashes are PHC strings ("$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>") with a random 16-byte
// salt; the parameters travel inside the string, so raising them later keeps old hashes valid.
// Verification is constant-time (argon2's own comparison). Hashing costs ~19 MiB and tens of
// milliseconds by design; callers bound how many run at once (see AuthService).
//
// Thread-safety: all functions are thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace pa::auth {

struct Argon2Params {
  uint32_t memory_kib = 19456;  // 19 MiB: OWASP's minimum for Argon2id
  uint32_t iterations = 2;
  uint32_t parallelism = 1;
};

inline constexpr size_t kMinPasswordLength = 12;  // Unicode code points
inline constexpr size_t kMaxPasswordBytes =
    1024;  // bounds the hashing work an attacker can ask for

// InvalidArgument explaining the rule the password breaks.
Status CheckPasswordPolicy(std::string_view password);

Result<std::string> HashPassword(std::string_view password, const Argon2Params& params = {});

// True when `password` matches the PHC string; false on mismatch or a malformed hash.
bool VerifyPassword(std::string_view password, const std::string& phc);

// Verifies against a fixed hash so that a login for an unknown user costs as much as a real one
// (no user enumeration by timing).
void BurnVerificationTime(std::string_view password);

// A random password of `length` characters from an unambiguous alphabet.
std::string GeneratePassword(size_t length = 20);

}  // namespace pa::auth
