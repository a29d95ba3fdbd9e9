// Parsing and printing of the quantities configuration is written in: durations ("250ms", "30s",
// "5m", "2h", "30d", "1w") and byte sizes ("512", "64KiB", "16MiB", "1GiB", "10MB").
// A bare number is seconds for durations and bytes for sizes. Errors say what was expected.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace pa {

Result<std::chrono::milliseconds> ParseDuration(std::string_view text);
Result<int64_t> ParseByteSize(std::string_view text);

// Shortest exact rendering: 90000ms -> "90s", 7200000ms -> "2h", 1500ms -> "1500ms".
std::string FormatDuration(std::chrono::milliseconds d);
// 16777216 -> "16MiB", 1000 -> "1000".
std::string FormatByteSize(int64_t bytes);

}  // namespace pa
