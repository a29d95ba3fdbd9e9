#include "base/random.h"

#include <openssl/rand.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace pa {
namespace {

// xoshiro256** (Blackman & Vigna): fast, 256-bit state, seeded per thread from the CSPRNG.
class Xoshiro256 {
 public:
  Xoshiro256() {
    std::string seed = SecureRandomBytes(sizeof(s_));
    std::memcpy(s_, seed.data(), sizeof(s_));
  }
  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

Xoshiro256& ThreadRng() {
  thread_local Xoshiro256 rng;
  return rng;
}

constexpr char kHex[] = "0123456789abcdef";
constexpr char kCrockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

}  // namespace

std::string SecureRandomBytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    std::fputs("fatal: OpenSSL RAND_bytes failed\n", stderr);
    std::abort();
  }
  return out;
}

uint64_t FastRandom() { return ThreadRng().Next(); }

std::string NewRequestId() {
  std::string out(32, '0');
  for (int word = 0; word < 2; ++word) {
    uint64_t v = ThreadRng().Next();
    for (int i = 0; i < 16; ++i) {
      out[word * 16 + i] = kHex[v & 0xF];
      v >>= 4;
    }
  }
  return out;
}

std::string NewId(int64_t unix_ms) {
  // 128 bits: 48 of time, 80 of randomness, written as 26 base32 digits (the first holds 3 bits).
  unsigned __int128 v =
      static_cast<unsigned __int128>(static_cast<uint64_t>(unix_ms) & ((uint64_t{1} << 48) - 1))
      << 80;
  const uint64_t hi = ThreadRng().Next() & 0xFFFF;
  const uint64_t lo = ThreadRng().Next();
  v |= (static_cast<unsigned __int128>(hi) << 64) | lo;
  std::string out(26, '0');
  for (int i = 25; i >= 0; --i) {
    out[i] = kCrockford[static_cast<unsigned>(v & 31)];
    v >>= 5;
  }
  return out;
}

}  // namespace pa
