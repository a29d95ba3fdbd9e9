// JSON in PrimoART: nlohmann::json for documents (`pa::Json`), plus a fast escaper for the hot
// paths that build small objects by hand (access logs, metrics labels).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace pa {

using Json = nlohmann::json;

// Appends `s` as a quoted JSON string. Control characters are escaped; invalid UTF-8 bytes are
// replaced by U+FFFD so the output is always valid JSON.
void AppendJsonString(std::string& out, std::string_view s);

// Whether `s` is well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF).
bool IsValidUtf8(std::string_view s);

// Parses `text`; on failure returns nullopt and sets `error` to a one-line message with the
// byte offset. Never throws. Parsed by simdjson into nlohmann's DOM, and by nlohmann itself when
// simdjson refuses the text: the same verdicts, values and messages as Json::parse (tested in
// json_test.cc), except that `-0` is number_unsigned 0 rather than number_integer 0.
std::optional<Json> ParseJson(std::string_view text, std::string* error);

}  // namespace pa
