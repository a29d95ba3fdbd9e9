#include "base/units.h"

#include <charconv>
#include <cmath>
#include <limits>

namespace pa {
namespace {

struct Unit {
  std::string_view suffix;
  double factor;
};

// Longest suffixes first so "ms" is not read as "m" + "s".
constexpr Unit kDurationUnits[] = {{"ms", 1.0},   {"s", 1e3},     {"m", 60e3},
                                   {"h", 3600e3}, {"d", 86400e3}, {"w", 7 * 86400e3}};
constexpr Unit kSizeUnits[] = {
    {"KiB", 1024.0}, {"MiB", 1048576.0}, {"GiB", 1073741824.0}, {"TiB", 1099511627776.0},
    {"KB", 1e3},     {"MB", 1e6},        {"GB", 1e9},           {"TB", 1e12},
    {"B", 1.0}};

Result<double> ParseNumber(std::string_view text) {
  double value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || !std::isfinite(value)) {
    return InvalidArgumentError("'" + std::string(text) + "' is not a number");
  }
  return value;
}

template <size_t N>
Result<double> ParseWithUnits(std::string_view text, const Unit (&units)[N], double bare_factor,
                              std::string_view what) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  if (text.empty()) return InvalidArgumentError(std::string("empty ") + std::string(what));
  for (const Unit& u : units) {
    if (text.size() > u.suffix.size() && text.ends_with(u.suffix)) {
      std::string_view number = text.substr(0, text.size() - u.suffix.size());
      const char last = number.back();
      if (last >= '0' && last <= '9') {
        auto value = ParseNumber(number);
        if (!value.ok()) break;
        if (*value < 0) return InvalidArgumentError(std::string(what) + " must not be negative");
        return *value * u.factor;
      }
    }
  }
  auto value = ParseNumber(text);
  if (!value.ok()) {
    return InvalidArgumentError("'" + std::string(text) + "' is not a " + std::string(what));
  }
  if (*value < 0) return InvalidArgumentError(std::string(what) + " must not be negative");
  return *value * bare_factor;
}

}  // namespace

Result<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  PA_ASSIGN_OR_RETURN(double ms,
                      ParseWithUnits(text, kDurationUnits, 1e3, "duration (e.g. 30s, 5m, 250ms)"));
  if (ms > static_cast<double>(std::numeric_limits<int64_t>::max() / 2)) {
    return InvalidArgumentError("duration '" + std::string(text) + "' is too large");
  }
  return std::chrono::milliseconds(static_cast<int64_t>(std::llround(ms)));
}

Result<int64_t> ParseByteSize(std::string_view text) {
  PA_ASSIGN_OR_RETURN(double bytes,
                      ParseWithUnits(text, kSizeUnits, 1.0, "size (e.g. 512KiB, 16MiB)"));
  if (bytes > 9.0e18) return InvalidArgumentError("size '" + std::string(text) + "' is too large");
  return static_cast<int64_t>(std::llround(bytes));
}

std::string FormatDuration(std::chrono::milliseconds d) {
  const int64_t ms = d.count();
  if (ms == 0) return "0s";
  for (auto it = std::rbegin(kDurationUnits); it != std::rend(kDurationUnits); ++it) {
    const auto factor = static_cast<int64_t>(it->factor);
    if (ms % factor == 0) return std::to_string(ms / factor) + std::string(it->suffix);
  }
  return std::to_string(ms) + "ms";
}

std::string FormatByteSize(int64_t bytes) {
  if (bytes == 0) return "0";
  for (std::string_view suffix : {"TiB", "GiB", "MiB", "KiB"}) {
    for (const Unit& u : kSizeUnits) {
      if (u.suffix != suffix) continue;
      const auto factor = static_cast<int64_t>(u.factor);
      if (bytes % factor == 0) return std::to_string(bytes / factor) + std::string(suffix);
    }
  }
  return std::to_string(bytes);
}

}  // namespace pa
