#include "auth/secret_token.h"

#include <openssl/evp.h>
#include <zlib.h>

#include <cstdlib>

#include "base/digest.h"
#include "base/random.h"

namespace pa::auth {
namespace {

constexpr char kBase62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
constexpr size_t kRandomChars = 43;   // ceil(256 / log2(62))
constexpr size_t kChecksumChars = 6;  // ceil(32 / log2(62))

// Big-endian bytes → base62, left-padded with '0' to `width` (which must fit the value).
std::string Base62(std::string bytes, size_t width) {
  std::string out(width, '0');
  size_t pos = width;
  bool all_zero = false;
  while (!all_zero && pos > 0) {
    all_zero = true;
    unsigned remainder = 0;
    for (auto& byte : bytes) {
      const unsigned v = remainder * 256 + static_cast<unsigned char>(byte);
      byte = static_cast<char>(v / 62);
      remainder = v % 62;
      all_zero = all_zero && byte == 0;
    }
    out[--pos] = kBase62[remainder];
  }
  return out;
}

std::string Checksum(std::string_view body) {
  const uLong crc =
      crc32(0L, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size()));
  std::string bytes(4, '\0');
  for (int i = 0; i < 4; ++i) bytes[i] = static_cast<char>((crc >> (24 - 8 * i)) & 0xFF);
  return Base62(bytes, kChecksumChars);
}

}  // namespace

std::string NewSecretToken(std::string_view prefix) {
  std::string body(prefix);
  body += Base62(SecureRandomBytes(32), kRandomChars);
  return body + Checksum(body);
}

bool WellFormedToken(std::string_view token, std::string_view prefix) {
  if (!token.starts_with(prefix) || token.size() != prefix.size() + kRandomChars + kChecksumChars) {
    return false;
  }
  for (char c : token.substr(prefix.size())) {
    const bool ok = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    if (!ok) return false;
  }
  const std::string_view body = token.substr(0, token.size() - kChecksumChars);
  return Checksum(body) == token.substr(token.size() - kChecksumChars);
}

std::string HashToken(std::string_view token) {
  // Every authenticated request hashes its credential: fetch the algorithm once and reuse one
  // context per thread (OpenSSL 3's one-shot SHA256() looks the algorithm up on every call).
  static EVP_MD* const kSha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  struct Ctx {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    ~Ctx() { EVP_MD_CTX_free(ctx); }
  };
  thread_local Ctx ctx;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!kSha256 || !ctx.ctx || EVP_DigestInit_ex2(ctx.ctx, kSha256, nullptr) != 1 ||
      EVP_DigestUpdate(ctx.ctx, token.data(), token.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.ctx, digest, &len) != 1 || len != 32) {
    std::abort();  // the crypto library is broken; nothing safe to do
  }
  return HexEncode(std::string_view(reinterpret_cast<const char*>(digest), 32));
}

std::string TokenHint(std::string_view token) {
  const size_t prefix_end = token.find('_') == std::string_view::npos ? 0 : token.find('_') + 1;
  return std::string(token.substr(0, prefix_end + 4)) + "…";
}

}  // namespace pa::auth
