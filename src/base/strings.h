// Small string helpers used across components.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pa {

// "a, b,,c" → {"a", "b", "c"}: items trimmed of spaces, empty items dropped.
std::vector<std::string> SplitList(std::string_view text, char separator = ',');

// ASCII case-insensitive equality (HTTP header names, media types, tokens).
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

// {"a", "b"} → "a,b".
std::string JoinList(const std::vector<std::string>& items, std::string_view separator = ",");

}  // namespace pa
