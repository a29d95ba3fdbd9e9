// SecretBox: encrypts transaction secrets at rest with AES-256-GCM (OpenSSL). The key comes from
// the `secret_key` setting (PRIMOART_SECRET_KEY: 64 hex characters or base64 of 32 bytes) or,
// when that is empty, from <data_dir>/secret.key, created on first use (mode 0600). Losing the
// key loses the secrets (they must be entered again), nothing else.
//
//   PA_ASSIGN_OR_RETURN(SecretBox box, SecretBox::Open(cfg.secret_key, cfg.data_dir));
//   std::string sealed = box.Seal(R"({"password": "s3cret"})");
//   PA_ASSIGN_OR_RETURN(std::string plain, box.Unseal(sealed));
//
// Sealed form: "v1:" + base64(12-byte random nonce | ciphertext | 16-byte tag). Unseal fails with
// kDataLoss when the text was altered or sealed with another key.
// Thread-safety: const methods may be called concurrently.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace pa::synth {

class SecretBox {
 public:
  // kInvalidArgument for a malformed key setting; kUnavailable when the key file cannot be read
  // or created.
  static Result<SecretBox> Open(std::string_view key_setting, const std::string& data_dir);
  static Result<SecretBox> FromKey(std::string key);  // exactly 32 bytes

  std::string Seal(std::string_view plaintext) const;
  Result<std::string> Unseal(std::string_view sealed) const;

 private:
  explicit SecretBox(std::string key) : key_(std::move(key)) {}
  std::string key_;
};

}  // namespace pa::synth
