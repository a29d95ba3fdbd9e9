#include "synth/field_reader.h"

#include <algorithm>
#include <cmath>

#include "base/time_format.h"

namespace pa::synth {
namespace {

void AppendPath(const FieldPath& p, std::string& out) {
  if (p.parent == nullptr) {
    out.append(p.key);
    return;
  }
  AppendPath(*p.parent, out);
  if (p.index >= 0) {
    out += '[';
    out += std::to_string(p.index);
    out += ']';
    return;
  }
  if (!out.empty() && out.back() != '.') out += '.';
  out.append(p.key);
}

// Unicode code points of valid UTF-8 `s`: the bytes that do not continue a sequence.
size_t CodePoints(std::string_view s) {
  size_t n = 0;
  for (const char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

bool IsAscii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return (c & 0x80) == 0; });
}

std::string JoinNames(std::span<const std::string_view> names) {
  std::string out;
  for (const std::string_view n : names) {
    if (!out.empty()) out += ", ";
    out.append(n);
  }
  return out;
}

}  // namespace

std::string FieldPath::ToString() const {
  std::string out;
  AppendPath(*this, out);
  return out;
}

void FieldReader::Fail(const FieldPath& at, std::string message) {
  errors_->push_back(FieldError{at.ToString(), std::move(message)});
}

bool FieldReader::CheckText(const FieldPath& at, std::string_view s, size_t min, size_t max,
                            std::string_view what) {
  if (!IsValidUtf8(s)) {
    Fail(at, std::string(what) + "must be valid UTF-8");
    return false;
  }
  // Bytes bound code points from above, so most strings need no counting.
  bool fits = min <= 1 && s.size() >= min && s.size() <= max;
  if (!fits) {
    const size_t n = CodePoints(s);
    fits = n >= min && n <= max;
  }
  if (fits) return true;
  std::string message(what);
  if (min == 1 && s.empty()) {
    message += "must not be empty";
  } else {
    message += "must be " + (min > 0 ? std::to_string(min) + ".." : "at most ") +
               std::to_string(max) + " characters long (is " + std::to_string(CodePoints(s)) + ")";
  }
  Fail(at, std::move(message));
  return false;
}

const std::string* FieldReader::StringValue(const Json& v, const FieldPath& at, size_t min,
                                            size_t max) {
  const auto* s = v.get_ptr<const Json::string_t*>();
  if (s == nullptr) {
    Fail(at, "must be a string");
    return nullptr;
  }
  return CheckText(at, *s, min, max) ? s : nullptr;
}

const std::string* FieldReader::String(const Json& obj, const FieldPath& parent,
                                       std::string_view key, Need need, size_t min, size_t max) {
  const Json* v = Find(obj, parent, key, need);
  return v == nullptr ? nullptr : StringValue(*v, FieldPath::Member(parent, key), min, max);
}

std::optional<std::string> FieldReader::OptionalText(const Json& obj, const FieldPath& parent,
                                                     std::string_view key, size_t max) {
  const std::string* s = String(obj, parent, key, Need::kOptional, 0, max);
  if (s == nullptr || s->empty()) return std::nullopt;
  return *s;
}

std::optional<double> FieldReader::NumberValue(const Json& v, const FieldPath& at) {
  if (!v.is_number()) {
    Fail(at, "must be a number");
    return std::nullopt;
  }
  const double d = v.get<double>();  // cannot throw: v is a number
  if (!std::isfinite(d)) {
    Fail(at, "must be a finite number");
    return std::nullopt;
  }
  if (d < 0) {
    Fail(at, "must be >= 0");
    return std::nullopt;
  }
  return d;
}

std::optional<double> FieldReader::Number(const Json& obj, const FieldPath& parent,
                                          std::string_view key, Need need) {
  const Json* v = Find(obj, parent, key, need);
  return v == nullptr ? std::nullopt : NumberValue(*v, FieldPath::Member(parent, key));
}

std::optional<int64_t> FieldReader::IntegerValue(const Json& v, const FieldPath& at, int64_t min,
                                                 int64_t max) {
  int64_t x = 0;
  bool in_range = true;
  if (const auto* i = v.get_ptr<const Json::number_integer_t*>()) {
    x = *i;
  } else if (const auto* u = v.get_ptr<const Json::number_unsigned_t*>()) {
    in_range = *u <= static_cast<uint64_t>(kInt64Max);
    x = in_range ? static_cast<int64_t>(*u) : 0;
  } else if (const auto* d = v.get_ptr<const Json::number_float_t*>()) {
    if (!std::isfinite(*d) || *d != std::floor(*d)) {
      Fail(at, "must be an integer");
      return std::nullopt;
    }
    in_range = *d >= -0x1p63 && *d < 0x1p63;
    x = in_range ? static_cast<int64_t>(*d) : 0;
  } else {
    Fail(at, "must be an integer");
    return std::nullopt;
  }
  if (!in_range) {
    Fail(at, "is out of range");
    return std::nullopt;
  }
  if (x < min || x > max) {
    Fail(at, max == kInt64Max
                 ? "must be >= " + std::to_string(min)
                 : "must be between " + std::to_string(min) + " and " + std::to_string(max));
    return std::nullopt;
  }
  return x;
}

std::optional<int64_t> FieldReader::Integer(const Json& obj, const FieldPath& parent,
                                            std::string_view key, Need need, int64_t min,
                                            int64_t max) {
  const Json* v = Find(obj, parent, key, need);
  return v == nullptr ? std::nullopt : IntegerValue(*v, FieldPath::Member(parent, key), min, max);
}

std::optional<bool> FieldReader::Boolean(const Json& obj, const FieldPath& parent,
                                         std::string_view key, Need need) {
  const Json* v = Find(obj, parent, key, need);
  if (v == nullptr) return std::nullopt;
  if (const auto* b = v->get_ptr<const Json::boolean_t*>()) return *b;
  Fail(FieldPath::Member(parent, key), "must be a boolean");
  return std::nullopt;
}

std::optional<size_t> FieldReader::OneOf(const Json& obj, const FieldPath& parent,
                                         std::string_view key, Need need,
                                         std::span<const std::string_view> names) {
  const std::string* s = String(obj, parent, key, need, 0, kUnlimited);
  if (s == nullptr) return std::nullopt;
  for (size_t i = 0; i < names.size(); ++i) {
    if (*s == names[i]) return i;
  }
  Fail(FieldPath::Member(parent, key), "must be one of: " + JoinNames(names));
  return std::nullopt;
}

const Json* FieldReader::Object(const Json& obj, const FieldPath& parent, std::string_view key,
                                Need need) {
  const Json* v = Find(obj, parent, key, need);
  if (v == nullptr || v->is_object()) return v;
  Fail(FieldPath::Member(parent, key), "must be an object");
  return nullptr;
}

const Json* FieldReader::Array(const Json& obj, const FieldPath& parent, std::string_view key,
                               Need need) {
  const Json* v = Find(obj, parent, key, need);
  if (v == nullptr || v->is_array()) return v;
  Fail(FieldPath::Member(parent, key), "must be an array");
  return nullptr;
}

std::optional<int64_t> FieldReader::Timestamp(const Json& obj, const FieldPath& parent,
                                              std::string_view key) {
  const std::string* s = String(obj, parent, key, Need::kRequired, 0, kUnlimited);
  if (s == nullptr) return std::nullopt;
  const FieldPath at = FieldPath::Member(parent, key);
  Result<int64_t> ms = ParseRfc3339Ms(*s);
  if (!ms.ok()) {
    // The parser quotes the value cut at 64 bytes, which could split a UTF-8 sequence.
    Fail(at, IsAscii(*s) ? ms.status().message()
                         : "must be an RFC 3339 timestamp such as 2026-11-28T10:00:03.250Z");
    return std::nullopt;
  }
  if (*ms - max_future_ms_ > now_ms_) {  // *ms is within years 0..9999: no overflow
    Fail(at, "is more than " + std::to_string(max_future_ms_ / 3'600'000) +
                 " h ahead of the server clock (" + FormatRfc3339Ms(now_ms_) + ")");
    return std::nullopt;
  }
  return *ms;
}

}  // namespace pa::synth
