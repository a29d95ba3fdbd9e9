// Random identifiers and secrets.
//
// `SecureRandomBytes` draws from OpenSSL's CSPRNG and is what secrets (tokens, keys) must use.
// `NewRequestId` and `NewId` are unique, not secret: a fast per-thread generator seeded from the
// CSPRNG. `NewId` is time-ordered (ULID: 48-bit ms timestamp + 80 random bits, Crockford base32,
// 26 chars) so ids sort by creation time in every store.
//
// Thread-safety: all functions may be called from any thread.
#pragma once

#include <cstdint>
#include <string>

namespace pa {

// n bytes from the CSPRNG. Aborts the process if the CSPRNG fails (nothing safe to do then).
std::string SecureRandomBytes(size_t n);

// 16 random bytes as 32 lower-case hex characters.
std::string NewRequestId();

// A ULID for the given Unix time in milliseconds.
std::string NewId(int64_t unix_ms);

// A uniformly distributed 64-bit value from the fast per-thread generator (not for secrets).
uint64_t FastRandom();

}  // namespace pa
