#include "synth/secret_box.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>

#include "base/digest.h"
#include "base/random.h"

namespace pa::synth {
namespace {

constexpr size_t kKeyBytes = 32;
constexpr size_t kNonceBytes = 12;
constexpr size_t kTagBytes = 16;
constexpr std::string_view kPrefix = "v1:";

Result<std::string> DecodeKey(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  if (auto k = HexDecode(text); k && k->size() == kKeyBytes) return *k;
  if (auto k = Base64Decode(text); k && k->size() == kKeyBytes) return *k;
  return InvalidArgumentError("the secret key must be 32 bytes: 64 hex characters or base64");
}

struct CtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};

}  // namespace

Result<SecretBox> SecretBox::FromKey(std::string key) {
  if (key.size() != kKeyBytes) return InvalidArgumentError("the secret key must be 32 bytes");
  return SecretBox(std::move(key));
}

Result<SecretBox> SecretBox::Open(std::string_view key_setting, const std::string& data_dir) {
  if (!key_setting.empty()) {
    auto key = DecodeKey(key_setting);
    if (!key.ok()) return InvalidArgumentError("secret_key: " + key.status().message());
    return SecretBox(std::move(*key));
  }
  const std::filesystem::path path = std::filesystem::path(data_dir) / "secret.key";
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  // O_EXCL: of two processes starting at once, one creates the key and both read it.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) {
    const std::string text = HexEncode(SecureRandomBytes(kKeyBytes)) + "\n";
    const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                    ::fsync(fd) == 0;
    ::close(fd);
    if (!ok) {
      std::filesystem::remove(path, ec);
      return UnavailableError("cannot write the secret key file " + path.string());
    }
  } else if (errno != EEXIST) {
    return UnavailableError("cannot create the secret key file " + path.string());
  }
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) return UnavailableError("cannot read the secret key file " + path.string());
  auto key = DecodeKey(text.str());
  if (!key.ok()) return InvalidArgumentError(path.string() + ": " + key.status().message());
  return SecretBox(std::move(*key));
}

std::string SecretBox::Seal(std::string_view plaintext) const {
  const std::string nonce = SecureRandomBytes(kNonceBytes);
  std::string out = nonce;
  out.resize(kNonceBytes + plaintext.size() + kTagBytes);
  std::unique_ptr<EVP_CIPHER_CTX, CtxFree> ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  auto* dst = reinterpret_cast<unsigned char*>(out.data() + kNonceBytes);
  const bool ok = ctx &&
                  EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr,
                                     reinterpret_cast<const unsigned char*>(key_.data()),
                                     reinterpret_cast<const unsigned char*>(nonce.data())) == 1 &&
                  EVP_EncryptUpdate(ctx.get(), dst, &len,
                                    reinterpret_cast<const unsigned char*>(plaintext.data()),
                                    static_cast<int>(plaintext.size())) == 1 &&
                  EVP_EncryptFinal_ex(ctx.get(), dst + len, &len) == 1 &&
                  EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes,
                                      out.data() + kNonceBytes + plaintext.size()) == 1;
  if (!ok) std::abort();  // AES-GCM with a valid key cannot fail; nothing safe to do otherwise
  return std::string(kPrefix) + Base64Encode(out);
}

Result<std::string> SecretBox::Unseal(std::string_view sealed) const {
  if (sealed.substr(0, kPrefix.size()) != kPrefix) {
    return DataLossError("sealed secret: unknown format");
  }
  const auto raw = Base64Decode(sealed.substr(kPrefix.size()));
  if (!raw || raw->size() < kNonceBytes + kTagBytes) {
    return DataLossError("sealed secret: malformed");
  }
  const size_t n = raw->size() - kNonceBytes - kTagBytes;
  std::string out(n, '\0');
  std::string tag = raw->substr(kNonceBytes + n);
  std::unique_ptr<EVP_CIPHER_CTX, CtxFree> ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  auto* dst = reinterpret_cast<unsigned char*>(out.data());
  const bool ok =
      ctx &&
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr,
                         reinterpret_cast<const unsigned char*>(key_.data()),
                         reinterpret_cast<const unsigned char*>(raw->data())) == 1 &&
      EVP_DecryptUpdate(ctx.get(), dst, &len,
                        reinterpret_cast<const unsigned char*>(raw->data() + kNonceBytes),
                        static_cast<int>(n)) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes, tag.data()) == 1 &&
      EVP_DecryptFinal_ex(ctx.get(), dst + len, &len) == 1;
  if (!ok) return DataLossError("sealed secret: altered, or sealed with another key");
  return out;
}

}  // namespace pa::synth
