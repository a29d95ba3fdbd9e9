#include "base/json.h"

#include <simdjson.h>

#include <cassert>
#include <memory>

namespace pa {
namespace {

// simdjson's DOM into nlohmann's, with nlohmann's own conventions: a non-negative integer is
// number_unsigned, a negative one number_integer, a repeated key keeps its last value.
// Recursion is bounded by simdjson's depth limit (1024).
template <typename T>
T Get(simdjson::dom::element e) {
  T value{};
  const simdjson::error_code error = e.get(value);
  assert(error == simdjson::SUCCESS);  // Convert asks only for the element's own type
  (void)error;
  return value;
}

void Convert(simdjson::dom::element e, Json& out) {
  using Type = simdjson::dom::element_type;
  // Get copies each value out (value_unsafe() would return a reference into a temporary).
  switch (e.type()) {
    case Type::ARRAY: {
      const auto a = Get<simdjson::dom::array>(e);
      out = Json::array();
      auto& array = out.get_ref<Json::array_t&>();
      array.reserve(a.size());
      for (simdjson::dom::element child : a) Convert(child, array.emplace_back());
      return;
    }
    case Type::OBJECT: {
      const auto o = Get<simdjson::dom::object>(e);
      out = Json::object();
      auto& object = out.get_ref<Json::object_t&>();
      for (simdjson::dom::key_value_pair kv : o) Convert(kv.value, object[std::string(kv.key)]);
      return;
    }
    case Type::INT64: {
      const auto v = Get<int64_t>(e);
      if (v >= 0) {
        out = static_cast<uint64_t>(v);
      } else {
        out = v;
      }
      return;
    }
    case Type::UINT64:
      out = Get<uint64_t>(e);
      return;
    case Type::DOUBLE:
      out = Get<double>(e);
      return;
    case Type::STRING:
      out = std::string(Get<std::string_view>(e));
      return;
    case Type::BOOL:
      out = Get<bool>(e);
      return;
    case Type::NULL_VALUE:
      out = nullptr;
      return;
  }
}

// Documents up to this size are parsed by a parser kept per thread (its buffers grow to the
// largest document it has seen); larger ones by a parser of their own, freed afterwards.
constexpr size_t kReusedParserMaxBytes = 1 << 20;

// Parses `text` with simdjson into *out; false when simdjson refuses it (ParseJson then asks
// nlohmann, for its verdict and its error message).
bool FastParse(std::string_view text, Json* out) {
  thread_local simdjson::dom::parser reused;
  thread_local std::string padded;
  std::unique_ptr<simdjson::dom::parser> own;
  simdjson::dom::parser* parser = &reused;
  std::string own_padded;
  std::string* buffer = &padded;
  if (text.size() > kReusedParserMaxBytes) {
    own = std::make_unique<simdjson::dom::parser>();
    parser = own.get();
    buffer = &own_padded;
  }
  // simdjson reads up to SIMDJSON_PADDING bytes past the end: a padded copy of the text.
  buffer->assign(text);
  buffer->resize(text.size() + simdjson::SIMDJSON_PADDING);
  simdjson::dom::element root;
  if (parser->parse(buffer->data(), text.size(), false).get(root) != simdjson::SUCCESS) {
    return false;
  }
  Convert(root, *out);
  return true;
}

// Length of the valid UTF-8 sequence starting at s[i], or 0 if it is not valid.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  size_t len = 0;
  uint32_t min = 0;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2, min = 0x80;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3, min = 0x800;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4, min = 0x10000;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  uint32_t cp = c & (0x7F >> len);
  for (size_t k = 1; k < len; ++k) {
    const auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

}  // namespace

bool IsValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    const size_t len = Utf8SequenceLength(s, i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

void AppendJsonString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      const size_t len = Utf8SequenceLength(s, i);
      if (len == 0) {
        out += "\\ufffd";
        ++i;
      } else {
        out.append(s.data() + i, len);
        i += len;
      }
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7F) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 15];
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  out += '"';
}

std::optional<Json> ParseJson(std::string_view text, std::string* error) {
  // simdjson first (several times faster on the upload path); what it refuses goes to nlohmann,
  // whose verdict and message stand: simdjson refuses a few documents nlohmann accepts
  // (integers past 64 bits, nesting past 1024) and accepts none that nlohmann refuses.
  Json fast;
  if (FastParse(text, &fast)) return fast;
  // nlohmann reports the position only through its exception; it is caught right here and never
  // crosses this function.
  try {
    return Json::parse(text);
  } catch (const Json::exception& e) {
    if (error) *error = e.what();
    return std::nullopt;
  }
}

}  // namespace pa
