// RFC 3339 timestamps, the form every API of PrimoART speaks ("2026-11-28T10:00:03.250Z"), and
// Unix milliseconds, the form every store keeps.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace pa {

// "2026-11-28T10:00:03.250Z" (UTC, always milliseconds).
std::string FormatRfc3339Ms(int64_t unix_ms);

// Parses RFC 3339 with a 'Z' or ±hh:mm offset; fractional seconds of any precision (truncated to
// milliseconds); a lower-case 't'/'z' is accepted. InvalidArgument says what is wrong.
// `require_fraction`: refuse timestamps without at least millisecond precision.
Result<int64_t> ParseRfc3339Ms(std::string_view text, bool require_fraction = false);

}  // namespace pa
