// FieldReader: reads typed fields out of an untrusted JSON document and records one FieldError
// per problem, with the field's path. The synth wire models (the transaction result) are parsed
// with it; it never throws, whatever the document holds.
//
//   FieldErrors errors;
//   FieldReader in(now_ms, /*max_future_ms=*/24 * 3600 * 1000, &errors);
//   const FieldPath root{nullptr, "[3]."};                  // or "" for a single document
//   const std::string* id = in.String(doc, root, "run_id", Need::kRequired, 1, 128);
//   if (id) result.run_id = *id;                            // else an error was recorded
//
// Conventions shared by every reader: a JSON null is the same as an absent member; a reader
// returns the value, or nothing when the member is absent (reported only when required) or bad
// (reported once, as "must be a string", "must be >= 0", ...). Lengths count Unicode code
// points and every string must be valid UTF-8; numbers must be finite.
//
// Paths are a chain of FieldPath frames on the caller's stack, turned into text
// ("[3].steps[2].http.url") only when an error is recorded, so valid documents cost no strings.
//
// Thread-safety: one FieldReader per document; not shared between threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "base/json.h"
#include "synth/field_error.h"

namespace pa::synth {

// A position in a document: a member `key` of the parent, or element `index` of it. The root
// frame (parent == nullptr) carries the caller's prefix in `key` ("" or "[3].").
struct FieldPath {
  const FieldPath* parent = nullptr;
  std::string_view key;
  int64_t index = -1;  // ≥ 0: an array element (then `key` is unused)

  // The frames must outlive the result.
  static FieldPath Member(const FieldPath& parent, std::string_view key) {
    return FieldPath{&parent, key, -1};
  }
  static FieldPath Element(const FieldPath& parent, size_t i) {
    return FieldPath{&parent, {}, static_cast<int64_t>(i)};
  }

  // "[3].steps[2].http.url": members joined with '.', elements as [i], after the root prefix.
  std::string ToString() const;
};

enum class Need { kOptional, kRequired };

class FieldReader {
 public:
  static constexpr size_t kUnlimited = std::numeric_limits<size_t>::max();
  static constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

  // `now_ms`: the server clock (Unix ms); Timestamp refuses times more than `max_future_ms`
  // after it. `errors` must outlive the reader; errors are appended to what it already holds.
  FieldReader(int64_t now_ms, int64_t max_future_ms, FieldErrors* errors)
      : now_ms_(now_ms), max_future_ms_(max_future_ms), errors_(errors) {}

  void Fail(const FieldPath& at, std::string message);
  size_t error_count() const { return errors_->size(); }

  // The member `key` of object `obj` (which must be an object), or nullptr when absent or null;
  // records "is required" then when `need` says so.
  const Json* Find(const Json& obj, const FieldPath& parent, std::string_view key, Need need) {
    const auto* members = obj.get_ptr<const Json::object_t*>();
    const auto it = members->find(key);  // transparent comparator: no std::string built
    if (it != members->end() && !it->second.is_null()) return &it->second;
    if (need == Need::kRequired) Fail(FieldPath::Member(parent, key), "is required");
    return nullptr;
  }

  // Whether `s` is valid UTF-8 of min..max code points; `what` prefixes the message ("key ").
  bool CheckText(const FieldPath& at, std::string_view s, size_t min, size_t max,
                 std::string_view what = {});

  // A string of min..max code points, pointing into the document.
  const std::string* StringValue(const Json& v, const FieldPath& at, size_t min, size_t max);
  const std::string* String(const Json& obj, const FieldPath& parent, std::string_view key,
                            Need need, size_t min, size_t max);
  // An optional string of at most `max` code points, where "" counts as absent.
  std::optional<std::string> OptionalText(const Json& obj, const FieldPath& parent,
                                          std::string_view key, size_t max);

  // A finite number ≥ 0 (every measurement of the synth models is one).
  std::optional<double> NumberValue(const Json& v, const FieldPath& at);
  std::optional<double> Number(const Json& obj, const FieldPath& parent, std::string_view key,
                               Need need);

  // An integer in min..max; 5.0 counts as an integer, 5.5 does not.
  std::optional<int64_t> IntegerValue(const Json& v, const FieldPath& at, int64_t min, int64_t max);
  std::optional<int64_t> Integer(const Json& obj, const FieldPath& parent, std::string_view key,
                                 Need need, int64_t min, int64_t max);

  std::optional<bool> Boolean(const Json& obj, const FieldPath& parent, std::string_view key,
                              Need need);

  // The position in `names` of the string obj[key].
  std::optional<size_t> OneOf(const Json& obj, const FieldPath& parent, std::string_view key,
                              Need need, std::span<const std::string_view> names);

  // obj[key] when it is an object / an array.
  const Json* Object(const Json& obj, const FieldPath& parent, std::string_view key, Need need);
  const Json* Array(const Json& obj, const FieldPath& parent, std::string_view key, Need need);

  // A required RFC 3339 timestamp with an offset or 'Z' (any fraction, kept to the ms), as Unix
  // ms, no more than max_future_ms after the server clock.
  std::optional<int64_t> Timestamp(const Json& obj, const FieldPath& parent, std::string_view key);

 private:
  const int64_t now_ms_;
  const int64_t max_future_ms_;
  FieldErrors* const errors_;
};

}  // namespace pa::synth
