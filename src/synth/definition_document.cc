// ParseDocument: JSON or YAML text to one JSON document (see definition.h). YAML is read
// through yaml-cpp's event API rather than YAML::Node so that aliases are refused before they
// are expanded (a few hundred bytes of nested aliases would otherwise expand to gigabytes) and
// so that a quoted "5" can be told from a plain 5.
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "base/strings.h"
#include "synth/definition.h"
#include "synth/definition_reader.h"

namespace pa::synth {
namespace {

using definition_internal::ToValidUtf8;

constexpr size_t kMaxDepth = 64;

enum class Format { kJson, kYaml, kSniff };

std::optional<Format> FormatOf(std::string_view content_type) {
  const std::string media = MediaType(content_type);
  if (media.empty()) return Format::kSniff;
  if (media == "application/json") return Format::kJson;
  if (media == "application/yaml" || media == "application/x-yaml" || media == "text/yaml") {
    return Format::kYaml;
  }
  return std::nullopt;
}

std::string Position(size_t line, size_t column) {
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

// The 1-based line and column of byte `offset`.
std::string PositionOf(std::string_view text, size_t offset) {
  size_t line = 1;
  size_t line_start = 0;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') ++line, line_start = i + 1;
  }
  return Position(line, offset - line_start + 1);
}

std::optional<size_t> FirstInvalidUtf8(std::string_view text) {
  if (IsValidUtf8(text)) return std::nullopt;
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    const size_t len = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    if (len > 1 && (i + len > text.size() || !IsValidUtf8(text.substr(i, len)))) return i;
    i += len;
  }
  return text.size();
}

std::string OneLine(std::string s) {
  for (char& c : s) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  return ToValidUtf8(s);
}

// Whether `[`/`{` nest deeper than kMaxDepth outside strings: deep documents would make the
// recursive copies and dumps of nlohmann::json overflow the stack.
bool JsonTooDeep(std::string_view text) {
  size_t depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxDepth) return true;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return false;
}

Result<Json> ParseJsonText(std::string_view text) {
  if (JsonTooDeep(text)) {
    return InvalidArgumentError("invalid JSON: nested deeper than " + std::to_string(kMaxDepth) +
                                " levels");
  }
  // nlohmann keeps the last of duplicate keys silently; a person who wrote a key twice meant
  // one of them, so refuse like the YAML reader does.
  std::vector<std::set<std::string>> keys;  // of the objects being read
  std::optional<std::string> duplicate;
  auto track_keys = [&](int, Json::parse_event_t event, Json& parsed) {
    if (event == Json::parse_event_t::object_start) {
      keys.emplace_back();
    } else if (event == Json::parse_event_t::object_end && !keys.empty()) {
      keys.pop_back();
    } else if (event == Json::parse_event_t::key && !keys.empty() && parsed.is_string() &&
               !keys.back().insert(parsed.get_ref<const std::string&>()).second && !duplicate) {
      duplicate = parsed.get_ref<const std::string&>();
    }
    return true;
  };
  Json doc;
  try {
    // nlohmann reports errors only by exception; it is caught right here.
    doc = Json::parse(text, track_keys);
  } catch (const Json::exception& e) {
    // "[json.exception.parse_error.101] parse error at line 1, column 2: ..." without the tag.
    std::string error = e.what();
    if (error.starts_with("[json.exception.")) error.erase(0, error.find("] ") + 2);
    return InvalidArgumentError("invalid JSON: " + OneLine(error));
  }
  if (duplicate)
    return InvalidArgumentError("invalid JSON: duplicate key '" + OneLine(*duplicate) + "'");
  return doc;
}

bool AllOf(std::string_view s, bool (*pred)(char)) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!pred(c)) return false;
  }
  return true;
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsOctal(char c) { return c >= '0' && c <= '7'; }
bool IsHex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }

// YAML 1.2 core schema float: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
bool IsFloatSyntax(std::string_view s) {
  size_t i = 0;
  size_t int_digits = 0;
  size_t frac_digits = 0;
  while (i < s.size() && IsDigit(s[i])) ++i, ++int_digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && IsDigit(s[i])) ++i, ++frac_digits;
  }
  if (int_digits == 0 && frac_digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (!AllOf(s.substr(i), IsDigit)) return false;
    i = s.size();
  }
  return i == s.size();
}

// A plain (unquoted) scalar resolved by the YAML 1.2 core schema, as JSON would type it. Numbers
// with leading zeros stay strings: JSON has no such numbers and YAML 1.1 read them as octal.
// nullopt with `*error` set when the value has no JSON form.
std::optional<Json> ResolvePlain(const std::string& v, std::string* error) {
  if (v.empty() || v == "~" || v == "null" || v == "Null" || v == "NULL") return Json(nullptr);
  if (v == "true" || v == "True" || v == "TRUE") return Json(true);
  if (v == "false" || v == "False" || v == "FALSE") return Json(false);
  const bool negative = v[0] == '-';
  const std::string_view body = std::string_view(v).substr(v[0] == '-' || v[0] == '+' ? 1 : 0);
  if (body == ".inf" || body == ".Inf" || body == ".INF" || v == ".nan" || v == ".NaN" ||
      v == ".NAN") {
    *error = "'" + v + "' has no JSON form";
    return std::nullopt;
  }
  if ((body.starts_with("0x") || body.starts_with("0o")) && v[0] != '-' && v[0] != '+') {
    const bool hex = body[1] == 'x';
    const std::string_view digits = body.substr(2);
    uint64_t u = 0;
    if (AllOf(digits, hex ? IsHex : IsOctal)) {
      const auto r = std::from_chars(digits.data(), digits.data() + digits.size(), u, hex ? 16 : 8);
      if (r.ec != std::errc()) {
        *error = "'" + v + "' is out of range";
        return std::nullopt;
      }
      return u > static_cast<uint64_t>(INT64_MAX) ? Json(u) : Json(static_cast<int64_t>(u));
    }
    return Json(v);
  }
  const size_t int_digits = std::min(body.find_first_not_of("0123456789"), body.size());
  if (int_digits > 1 && body[0] == '0') return Json(v);  // 0042, 01.5: a string
  if (AllOf(body, IsDigit)) {
    int64_t i = 0;
    auto r = std::from_chars(v.data() + (v[0] == '+'), v.data() + v.size(), i);
    if (r.ec == std::errc() && r.ptr == v.data() + v.size()) return Json(i);
    uint64_t u = 0;
    r = std::from_chars(body.data(), body.data() + body.size(), u);
    if (!negative && r.ec == std::errc()) return Json(u);
  }
  if (IsFloatSyntax(body)) {
    double d = 0;
    const auto r = std::from_chars(body.data(), body.data() + body.size(), d);
    if (r.ec != std::errc() || !std::isfinite(d)) {
      *error = "'" + v + "' is out of range";
      return std::nullopt;
    }
    return Json(negative ? -d : d);
  }
  return Json(v);
}

// Builds the JSON document from yaml-cpp's parse events. After the first problem it records
// nothing more; the caller discards the document.
class JsonBuilder : public YAML::EventHandler {
 public:
  const std::optional<std::string>& error() const { return error_; }
  bool has_root() const { return root_.has_value(); }
  Json TakeRoot() { return std::move(*root_); }

  void OnDocumentStart(const YAML::Mark& mark) override {
    if (documents_++ > 0) Fail(mark, "only one document is allowed");
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override {
    if (ExpectingKey()) return Fail(mark, "keys must be strings");
    Add(Json(nullptr));
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override {
    Fail(mark, "aliases (*name) are not supported");
  }
  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t,
                const std::string& value) override {
    if (error_) return;
    if (ExpectingKey()) return SetKey(mark, value);
    if (tag == "!" || tag == "tag:yaml.org,2002:str") return Add(Json(value));  // quoted: a string
    if (tag != "?" && !IsCoreTag(tag)) return Fail(mark, "tag " + tag + " is not supported");
    std::string problem;
    std::optional<Json> resolved = ResolvePlain(value, &problem);
    if (!resolved) return Fail(mark, problem);
    if (tag != "?" && !MatchesTag(tag, *resolved)) {
      return Fail(mark, "'" + value + "' is not a valid " + tag);
    }
    Add(std::move(*resolved));
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    Open(mark, tag, "tag:yaml.org,2002:seq", Json::array());
  }
  void OnSequenceEnd() override { Close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    Open(mark, tag, "tag:yaml.org,2002:map", Json::object());
  }
  void OnMapEnd() override { Close(); }

 private:
  struct Frame {
    Json value;
    std::optional<std::string> key;  // of a mapping: the key whose value comes next
  };

  // The core schema's scalar tags other than !!str; custom tags have no JSON meaning.
  static bool IsCoreTag(const std::string& tag) {
    return tag == "tag:yaml.org,2002:int" || tag == "tag:yaml.org,2002:float" ||
           tag == "tag:yaml.org,2002:bool" || tag == "tag:yaml.org,2002:null";
  }
  static bool MatchesTag(const std::string& tag, const Json& value) {
    if (tag == "tag:yaml.org,2002:int") return value.is_number_integer();
    if (tag == "tag:yaml.org,2002:float") return value.is_number();
    if (tag == "tag:yaml.org,2002:bool") return value.is_boolean();
    return value.is_null();
  }

  void Fail(const YAML::Mark& mark, std::string message) {
    if (error_) return;
    error_ = Position(static_cast<size_t>(mark.line) + 1, static_cast<size_t>(mark.column) + 1) +
             ": " + OneLine(std::move(message));
  }

  bool ExpectingKey() const {
    return !stack_.empty() && stack_.back().value.is_object() && !stack_.back().key;
  }

  void SetKey(const YAML::Mark& mark, const std::string& key) {
    if (stack_.back().value.contains(key)) return Fail(mark, "duplicate key '" + key + "'");
    stack_.back().key = key;
  }

  void Open(const YAML::Mark& mark, const std::string& tag, const char* own_tag, Json value) {
    if (error_) return;
    if (ExpectingKey()) return Fail(mark, "keys must be strings");
    if (tag != "?" && tag != "!" && tag != own_tag)
      return Fail(mark, "tag " + tag + " is not supported");
    if (stack_.size() >= kMaxDepth) {
      return Fail(mark, "nested deeper than " + std::to_string(kMaxDepth) + " levels");
    }
    stack_.push_back({std::move(value), std::nullopt});
  }

  void Close() {
    if (error_ || stack_.empty()) return;
    Json value = std::move(stack_.back().value);
    stack_.pop_back();
    Add(std::move(value));
  }

  void Add(Json value) {
    if (error_) return;
    if (stack_.empty()) {
      root_ = std::move(value);
      return;
    }
    Frame& top = stack_.back();
    if (top.value.is_array()) {
      top.value.push_back(std::move(value));
    } else {
      top.value[*top.key] = std::move(value);
      top.key.reset();
    }
  }

  std::vector<Frame> stack_;
  std::optional<Json> root_;
  std::optional<std::string> error_;
  int documents_ = 0;
};

Result<Json> ParseYamlText(std::string_view text) {
  JsonBuilder builder;
  try {
    std::istringstream in{std::string(text)};
    YAML::Parser parser(in);
    if (!parser.HandleNextDocument(builder))
      return InvalidArgumentError("invalid YAML: empty document");
    // A second document is reported by the builder.
    if (!builder.error()) parser.HandleNextDocument(builder);
  } catch (const YAML::Exception& e) {
    if (e.mark.is_null()) return InvalidArgumentError("invalid YAML: " + OneLine(e.msg));
    return InvalidArgumentError(
        "invalid YAML: " +
        Position(static_cast<size_t>(e.mark.line) + 1, static_cast<size_t>(e.mark.column) + 1) +
        ": " + OneLine(e.msg));
  } catch (const std::exception& e) {
    return InvalidArgumentError("invalid YAML: " + OneLine(e.what()));
  }
  if (builder.error()) return InvalidArgumentError("invalid YAML: " + *builder.error());
  if (!builder.has_root()) return InvalidArgumentError("invalid YAML: empty document");
  return builder.TakeRoot();
}

bool LooksLikeJson(std::string_view text) {
  const size_t first = text.find_first_not_of(" \t\r\n");
  return first != std::string_view::npos && (text[first] == '{' || text[first] == '[');
}

}  // namespace

Result<Json> ParseDocument(std::string_view text, std::string_view content_type) {
  const std::optional<Format> format = FormatOf(content_type);
  if (!format) {
    return InvalidArgumentError("unsupported content type '" + OneLine(std::string(content_type)) +
                                "': use application/json or application/yaml");
  }
  if (const std::optional<size_t> bad = FirstInvalidUtf8(text)) {
    return InvalidArgumentError("invalid document: not valid UTF-8 at " + PositionOf(text, *bad));
  }
  switch (*format) {
    case Format::kJson:
      return ParseJsonText(text);
    case Format::kYaml:
      return ParseYamlText(text);
    case Format::kSniff:
      break;
  }
  Result<Json> json = ParseJsonText(text);
  if (json.ok()) return json;
  Result<Json> yaml = ParseYamlText(text);
  if (yaml.ok() || !LooksLikeJson(text)) return yaml;
  return json;  // "{" that is neither: the JSON message is the more precise one
}

}  // namespace pa::synth
