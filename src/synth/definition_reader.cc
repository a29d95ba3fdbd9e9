#include "synth/definition_reader.h"

#include <algorithm>
#include <climits>
#include <utility>

namespace pa::synth::definition_internal {

std::string ToValidUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const size_t len = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    if (len == 1 || (i + len <= s.size() && IsValidUtf8(s.substr(i, len)))) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out += "\xEF\xBF\xBD";  // U+FFFD
      ++i;
    }
  }
  return out;
}

std::string JoinPath(std::string_view base, std::string_view key) {
  std::string out(base);
  if (!out.empty()) out += '.';
  out += ToValidUtf8(key);
  return out;
}

std::string IndexPath(std::string_view base, size_t index) {
  return std::string(base) + "[" + std::to_string(index) + "]";
}

size_t CodePointCount(std::string_view s) {
  size_t n = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

std::string JoinNames(std::span<const std::string_view> names) {
  std::string out;
  for (std::string_view name : names) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

const std::string* CheckString(const Json& value, const std::string& path, FieldErrors* errors,
                               bool allow_empty) {
  if (!value.is_string()) {
    errors->push_back({path, "must be a string"});
    return nullptr;
  }
  const auto& s = value.get_ref<const std::string&>();
  if (!IsValidUtf8(s)) {
    errors->push_back({path, "is not valid UTF-8"});
    return nullptr;
  }
  if (s.empty() && !allow_empty) {
    errors->push_back({path, "must not be empty"});
    return nullptr;
  }
  return &s;
}

std::optional<int64_t> CheckInt(const Json& value, const std::string& path, FieldErrors* errors,
                                int64_t min, int64_t max) {
  if (!value.is_number_integer()) {
    errors->push_back({path, "must be an integer"});
    return std::nullopt;
  }
  // Unsigned values past INT64_MAX are past every maximum used here.
  const bool too_big =
      value.is_number_unsigned() && value.get<uint64_t>() > static_cast<uint64_t>(max);
  const int64_t v = too_big ? max : value.get<int64_t>();
  if (too_big || v < min || v > max) {
    std::string message;
    if (max >= INT_MAX) {
      message = v < min ? "must be at least " + std::to_string(min)
                        : "must be at most " + std::to_string(max);
    } else {
      message = "must be between " + std::to_string(min) + " and " + std::to_string(max);
    }
    errors->push_back({path, std::move(message)});
    return std::nullopt;
  }
  return v;
}

ObjectReader::ObjectReader(const Json& value, std::string path, FieldErrors* errors)
    : path_(std::move(path)), errors_(errors) {
  if (value.is_object()) {
    object_ = &value;
  } else {
    errors_->push_back({path_, "must be an object"});
  }
}

const Json* ObjectReader::RawField(std::string_view key) {
  if (object_ == nullptr) return nullptr;
  read_.emplace(key);
  const auto it = object_->find(key);
  return it == object_->end() ? nullptr : &*it;
}

const Json* ObjectReader::Field(std::string_view key, Presence presence) {
  const Json* value = RawField(key);
  if (value != nullptr && value->is_null()) value = nullptr;
  if (value == nullptr && presence == kRequired && object_ != nullptr) {
    ErrorAt(key, "is required");
  }
  return value;
}

bool ObjectReader::String(std::string_view key, std::string* out, Presence presence,
                          bool allow_empty) {
  const Json* value = Field(key, presence);
  if (value == nullptr) return presence == kOptional;
  const std::string* s = CheckString(*value, PathOf(key), errors_, allow_empty);
  if (s == nullptr) return false;
  *out = *s;
  return true;
}

bool ObjectReader::String(std::string_view key, std::optional<std::string>* out, bool allow_empty) {
  const Json* value = Field(key);
  if (value == nullptr) return true;
  const std::string* s = CheckString(*value, PathOf(key), errors_, allow_empty);
  if (s == nullptr) return false;
  *out = *s;
  return true;
}

bool ObjectReader::Bool(std::string_view key, bool* out, Presence presence) {
  const Json* value = Field(key, presence);
  if (value == nullptr) return presence == kOptional;
  if (!value->is_boolean()) {
    ErrorAt(key, "must be a boolean");
    return false;
  }
  *out = value->get<bool>();
  return true;
}

bool ObjectReader::Bool(std::string_view key, std::optional<bool>* out) {
  bool b = false;
  const bool present = Field(key) != nullptr;
  if (!Bool(key, &b)) return false;
  if (present) *out = b;
  return true;
}

bool ObjectReader::Int(std::string_view key, int* out, int64_t min, int64_t max,
                       Presence presence) {
  const Json* value = Field(key, presence);
  if (value == nullptr) return presence == kOptional;
  const auto v = CheckInt(*value, PathOf(key), errors_, min, std::min<int64_t>(max, INT_MAX));
  if (!v) return false;
  *out = static_cast<int>(*v);
  return true;
}

bool ObjectReader::Int(std::string_view key, std::optional<int>* out, int64_t min, int64_t max) {
  int v = 0;
  const bool present = Field(key) != nullptr;
  if (!Int(key, &v, min, max)) return false;
  if (present) *out = v;
  return true;
}

bool ObjectReader::Enum(std::string_view key, std::span<const std::string_view> names, size_t* out,
                        Presence presence) {
  const Json* value = Field(key, presence);
  if (value == nullptr) return presence == kOptional;
  if (value->is_string()) {
    const auto& s = value->get_ref<const std::string&>();
    for (size_t i = 0; i < names.size(); ++i) {
      if (s == names[i]) {
        *out = i;
        return true;
      }
    }
  }
  ErrorAt(key, "must be one of " + JoinNames(names));
  return false;
}

bool ObjectReader::StringMap(std::string_view key, std::map<std::string, std::string>* out) {
  const Json* value = Field(key);
  if (value == nullptr) return true;
  const std::string path = PathOf(key);
  if (!value->is_object()) {
    Error(path, "must be an object");
    return false;
  }
  bool ok = true;
  for (const auto& [name, item] : value->items()) {
    if (name.empty() || !IsValidUtf8(name)) {
      Error(name.empty() ? path : JoinPath(path, name),
            name.empty() ? "names must not be empty" : "is not valid UTF-8");
      ok = false;
      continue;
    }
    const std::string* s = CheckString(item, JoinPath(path, name), errors_, /*allow_empty=*/true);
    if (s == nullptr) {
      ok = false;
      continue;
    }
    (*out)[name] = *s;
  }
  return ok;
}

bool ObjectReader::StringList(std::string_view key, std::vector<std::string>* out,
                              bool allow_empty) {
  const Json* value = Field(key);
  if (value == nullptr) return true;
  const std::string path = PathOf(key);
  if (!value->is_array()) {
    Error(path, "must be an array");
    return false;
  }
  bool ok = true;
  for (size_t i = 0; i < value->size(); ++i) {
    const std::string* s = CheckString((*value)[i], IndexPath(path, i), errors_, allow_empty);
    if (s == nullptr) {
      ok = false;
    } else {
      out->push_back(*s);
    }
  }
  return ok;
}

void ObjectReader::Error(std::string path, std::string message) {
  errors_->push_back({std::move(path), std::move(message)});
}

void ObjectReader::RejectUnknown() {
  if (object_ == nullptr) return;
  for (const auto& [name, value] : object_->items()) {
    if (!read_.contains(name)) ErrorAt(name, "unknown field");
  }
}

}  // namespace pa::synth::definition_internal
