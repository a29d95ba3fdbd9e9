// Secret tokens: API tokens for machines (`pa_...`) and session tokens for people (`pas_...`).
//
// Format: prefix + 43 base62 characters of 256 random bits + 6 base62 characters of a CRC32 over
// everything before it, e.g. `pa_4Xq...Zt` (52 characters). The fixed prefix lets secret
// scanners recognise leaked tokens; the checksum lets them — and us — reject a mistyped or made-up
// token without a database lookup. Only SHA-256(token) is stored: the token has 256 bits of
// entropy, so a fast hash is enough and a stolen database reveals nothing usable.
#pragma once

#include <string>
#include <string_view>

namespace pa::auth {

inline constexpr std::string_view kApiTokenPrefix = "pa_";
inline constexpr std::string_view kSessionTokenPrefix = "pas_";

std::string NewSecretToken(std::string_view prefix);

// True when `token` has the prefix, the length, the alphabet and a matching checksum.
bool WellFormedToken(std::string_view token, std::string_view prefix);

// Lower-case hex SHA-256 of the token: what the database keeps.
std::string HashToken(std::string_view token);

// The first characters of a token, safe to show in lists ("pa_4Xq9…").
std::string TokenHint(std::string_view token);

}  // namespace pa::auth
