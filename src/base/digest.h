// Hex encoding and SHA-256 digests, for checksums, ETags and request signing.
//
//   std::string etag = Sha256Hex(body).substr(0, 32);
//
// Thread-safety: free functions without shared state.
#pragma once

#include <string>
#include <string_view>

namespace pa {

// Lower-case hex of `bytes` (two characters per byte).
std::string HexEncode(std::string_view bytes);

// The SHA-256 digest of `data` as 64 lower-case hex characters.
std::string Sha256Hex(std::string_view data);

}  // namespace pa
