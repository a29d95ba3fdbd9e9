// Hex and base64 encodings (base64 through OpenSSL) and SHA-256 digests, for checksums, ETags,
// request signing, cursors and sealed secrets.
//
//   std::string etag = Sha256Hex(body).substr(0, 32);
//   std::optional<std::string> raw = Base64Decode(text);  // nullopt: not canonical base64
//
// Thread-safety: free functions without shared state.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace pa {

// Lower-case hex of `bytes` (two characters per byte).
std::string HexEncode(std::string_view bytes);

// Hex text (either case) back to bytes; nullopt for an odd length or a non-hex character.
std::optional<std::string> HexDecode(std::string_view hex);

// Standard base64 (RFC 4648 section 4) with '=' padding.
std::string Base64Encode(std::string_view bytes);
// Accepts exactly what Base64Encode produces (padding required, no whitespace, no stray bits), so
// that every value has one text; nullopt otherwise.
std::optional<std::string> Base64Decode(std::string_view text);

// base64url (RFC 4648 section 5) without padding, for tokens and cursors in URLs.
std::string Base64UrlEncode(std::string_view bytes);
// Strict like Base64Decode: only what Base64UrlEncode produces.
std::optional<std::string> Base64UrlDecode(std::string_view text);

// The SHA-256 digest of `data` as 64 lower-case hex characters.
std::string Sha256Hex(std::string_view data);

}  // namespace pa
