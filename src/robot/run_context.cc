#include "robot/run_context.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "base/random.h"
#include "base/time_format.h"
#include "base/url.h"
#include "synth/definition.h"

namespace pa::robot {
namespace {

bool IsNameChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

std::string NewUuidV4() {
  const uint64_t hi = (FastRandom() & ~0xF000ull) | 0x4000ull;        // version 4
  const uint64_t lo = (FastRandom() & ~(3ull << 62)) | (2ull << 62);  // variant 10
  char buf[37];
  std::snprintf(buf, sizeof(buf), "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xFFFF), static_cast<unsigned>(hi & 0xFFFF),
                static_cast<unsigned>(lo >> 48),
                static_cast<unsigned long long>(lo & 0xFFFFFFFFFFFFull));
  return buf;
}

}  // namespace

RunContext::RunContext(std::map<std::string, std::string> variables,
                       std::map<std::string, std::string> secrets, Clock* clock)
    : variables_(std::move(variables)), secrets_(std::move(secrets)), clock_(clock) {
  for (const auto& [name, value] : secrets_) {
    if (value.empty()) continue;
    mask_needles_.push_back(value);
    std::string encoded = PercentEncode(value);
    if (encoded != value) mask_needles_.push_back(std::move(encoded));
  }
  std::sort(mask_needles_.begin(), mask_needles_.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  mask_needles_.erase(std::unique(mask_needles_.begin(), mask_needles_.end()), mask_needles_.end());
}

std::string RunContext::Builtin(std::string_view name) const {
  if (name == "uuid") return NewUuidV4();
  if (name == "timestamp") return std::to_string(clock_->NowMs());
  if (name == "iso_time") return FormatRfc3339Ms(clock_->NowMs());
  return std::to_string(FastRandom() & 0x7FFFFFFFull);  // random_int
}

Result<std::string> RunContext::Substitute(std::string_view text, bool* used_secret) const {
  if (used_secret != nullptr) *used_secret = false;
  std::string out;
  out.reserve(text.size());
  size_t copied = 0;
  size_t pos = 0;
  // The scanner of synth::TemplateNamesIn: "{{", a name, "}}"; anything else is literal text.
  while ((pos = text.find("{{", pos)) != std::string_view::npos) {
    size_t end = pos + 2;
    while (end < text.size() && IsNameChar(text[end])) ++end;
    const std::string_view name = text.substr(pos + 2, end - pos - 2);
    if (text.substr(end, 2) != "}}" || !synth::IsTemplateName(name)) {
      ++pos;  // "{{{name}}}" holds a template one brace further on
      continue;
    }
    out.append(text.substr(copied, pos - copied));
    const std::string key(name);
    if (auto it = extracted_.find(key); it != extracted_.end()) {
      out += it->second;
    } else if (auto s = secrets_.find(key); s != secrets_.end()) {
      out += s->second;
      if (used_secret != nullptr) *used_secret = true;
    } else if (auto v = variables_.find(key); v != variables_.end()) {
      out += v->second;
    } else if (synth::IsBuiltinTemplateName(name)) {
      out += Builtin(name);
    } else {
      return InvalidArgumentError("unknown template variable '" + key + "'");
    }
    pos = copied = end + 2;
  }
  out.append(text.substr(copied));
  return out;
}

std::string RunContext::Mask(std::string_view text) const {
  std::string out(text);
  for (const std::string& needle : mask_needles_) {
    size_t pos = 0;
    while ((pos = out.find(needle, pos)) != std::string::npos) {
      out.replace(pos, needle.size(), kSecretMask);
      pos += kSecretMask.size();
    }
  }
  return out;
}

bool RunContext::ContainsSecret(std::string_view text) const {
  return std::any_of(mask_needles_.begin(), mask_needles_.end(),
                     [&](const std::string& n) { return text.find(n) != std::string_view::npos; });
}

void RunContext::SetExtracted(const std::string& name, std::string value) {
  extracted_[name] = std::move(value);
}

const std::string* RunContext::Extracted(const std::string& name) const {
  auto it = extracted_.find(name);
  return it == extracted_.end() ? nullptr : &it->second;
}

}  // namespace pa::robot
