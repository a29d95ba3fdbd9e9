// ObjectReader: reads the fields of one JSON object that a person wrote, collecting every problem
// as a FieldError with its path instead of stopping at the first. Internal to the definition
// parser (definition*.cc); not part of the wire contract. (The result model has its own
// FieldReader, tuned for machine-written uploads.)
//
//   ObjectReader r(doc, "steps[0]", errors);
//   if (!r.is_object()) return;               // "must be an object" is already reported
//   std::string host;
//   r.String("host", &host, kRequired);        // "steps[0].host: is required" when missing
//   int port = 443;
//   r.Int("port", &port, 1, 65535);            // keeps 443 when absent
//   r.RejectUnknown();                         // "unknown field" for every key not read
//
// A JSON null counts as absent: YAML writes `key:` with nothing after it as null. Every getter
// returns false when the field is present but wrong (the error is reported), true when it was
// absent (the output keeps its value) or read. Nothing here throws.
// Thread-safety: an ObjectReader is used by one thread; it appends to `errors` without locking.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/json.h"
#include "synth/definition.h"
#include "synth/field_error.h"

namespace pa::synth::definition_internal {

enum Presence { kOptional, kRequired };

// `s` with every byte that is not part of valid UTF-8 replaced by U+FFFD, for paths and
// messages that quote input (the error list itself must always serialise).
std::string ToValidUtf8(std::string_view s);

// "a.b" for ("a", "b"), "b" for ("", "b").
std::string JoinPath(std::string_view base, std::string_view key);
// "a[3]".
std::string IndexPath(std::string_view base, size_t index);

// Unicode code points in valid UTF-8 `s`.
size_t CodePointCount(std::string_view s);

// {"GET", "HEAD"} → "GET, HEAD", for "must be one of ..." messages.
std::string JoinNames(std::span<const std::string_view> names);

// Checks one value as a string at `path`: a string, valid UTF-8, non-empty unless
// `allow_empty`. Reports the problem and returns nullptr when it is not.
const std::string* CheckString(const Json& value, const std::string& path, FieldErrors* errors,
                               bool allow_empty);

// Checks one value as an integer in [min, max] at `path`.
std::optional<int64_t> CheckInt(const Json& value, const std::string& path, FieldErrors* errors,
                                int64_t min, int64_t max);

class ObjectReader {
 public:
  // `value` must outlive the reader. When it is not an object, "must be an object" is reported
  // at `path` and every getter reads nothing.
  ObjectReader(const Json& value, std::string path, FieldErrors* errors);

  bool is_object() const { return object_ != nullptr; }
  const std::string& path() const { return path_; }
  std::string PathOf(std::string_view key) const { return JoinPath(path_, key); }
  FieldErrors* errors() const { return errors_; }

  // The value of `key`, marked as read; nullptr when absent or null (then "is required" is
  // reported when `presence` is kRequired).
  const Json* Field(std::string_view key, Presence presence = kOptional);
  // Like Field, but a present null is returned too (for fields where null is a value).
  const Json* RawField(std::string_view key);

  bool String(std::string_view key, std::string* out, Presence presence = kOptional,
              bool allow_empty = false);
  bool String(std::string_view key, std::optional<std::string>* out, bool allow_empty = false);
  bool Bool(std::string_view key, bool* out, Presence presence = kOptional);
  bool Bool(std::string_view key, std::optional<bool>* out);
  // An integer in [min, max] (max is capped to INT_MAX).
  bool Int(std::string_view key, int* out, int64_t min, int64_t max, Presence presence = kOptional);
  bool Int(std::string_view key, std::optional<int>* out, int64_t min, int64_t max);
  // One of `names`; `*out` is set to its index.
  bool Enum(std::string_view key, std::span<const std::string_view> names, size_t* out,
            Presence presence = kOptional);
  // An object of string → string; values may be empty, names may not.
  bool StringMap(std::string_view key, std::map<std::string, std::string>* out);
  // An array of strings; each must be non-empty unless `allow_empty`.
  bool StringList(std::string_view key, std::vector<std::string>* out, bool allow_empty = false);

  void Error(std::string path, std::string message);
  void ErrorAt(std::string_view key, std::string message) { Error(PathOf(key), message); }

  // Reports "unknown field" for every key that no getter read.
  void RejectUnknown();

 private:
  const Json* object_ = nullptr;
  std::string path_;
  FieldErrors* errors_;
  std::set<std::string, std::less<>> read_;
};

// ---- shared by definition.cc, definition_steps.cc and definition_json.cc ---------------------
// The spec's names, in the order of the matching enum or variant alternatives.

inline constexpr std::array<std::string_view, 5> kStepTypeNames = {"http", "browser", "tcp", "dns",
                                                                   "tls"};
inline constexpr std::array<std::string_view, 7> kMethods = {"GET",   "HEAD",   "POST",   "PUT",
                                                             "PATCH", "DELETE", "OPTIONS"};
inline constexpr std::array<std::string_view, 6> kAssertTypeNames = {
    "status", "header", "body_contains", "body_matches", "json_path", "max_duration_ms"};
inline constexpr std::array<std::string_view, 3> kExtractFromNames = {"json_path", "regex",
                                                                      "header"};
inline constexpr std::array<std::string_view, 12> kActionNames = {
    "navigate",      "click",       "fill",       "press",      "select", "wait_for_selector",
    "wait_for_text", "assert_text", "assert_url", "screenshot", "sleep",  "evaluate"};
inline constexpr std::array<std::string_view, 6> kDnsRecordNames = {"A",  "AAAA", "CNAME",
                                                                    "MX", "TXT",  "NS"};
inline constexpr std::array<std::string_view, 3> kBackoffNames = {"fixed", "linear", "exponential"};

// Reports at `path` when `name` cannot be a template variable defined by the user (a variable,
// a secret, an extract's or evaluate's `var`). Returns whether it can.
bool CheckVariableName(std::string_view name, const std::string& path, FieldErrors* errors);

// `text` with every `{{name}}` replaced by `replacement`, so that a templated regex or json path
// can be checked for syntax.
std::string ReplaceTemplates(std::string_view text, std::string_view replacement);

// Parses and checks one step at `path` ("steps[2]"). `definition_timeout_s` is the definition's
// timeout_s, nullopt when it is itself invalid (then limits derived from it are not checked).
std::optional<Step> ParseStep(const Json& value, const std::string& path,
                              std::optional<int> definition_timeout_s, FieldErrors* errors);

}  // namespace pa::synth::definition_internal
