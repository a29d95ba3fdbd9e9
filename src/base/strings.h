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

// ASCII lower case (header names, media types, schemes, tokens); other bytes are kept as they are,
// whatever the locale.
char AsciiLower(char c);
std::string AsciiLower(std::string_view s);

// `s` without leading and trailing spaces and tabs.
std::string_view TrimSpaces(std::string_view s);

// The "type/subtype" of a Content-Type value, lower-cased, without parameters or spaces:
// "Application/JSON; charset=utf-8" → "application/json".
std::string MediaType(std::string_view content_type);

// {"a", "b"} → "a,b".
std::string JoinList(const std::vector<std::string>& items, std::string_view separator = ",");

}  // namespace pa
