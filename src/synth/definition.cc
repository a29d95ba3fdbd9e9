// ParseDefinition's top level, the name helpers, templates and json_path syntax. The steps are
// in definition_steps.cc, the canonical JSON in definition_json.cc, ParseDocument in
// definition_document.cc.
#include "synth/definition.h"

#include <cassert>
#include <charconv>
#include <climits>
#include <variant>

#include "synth/definition_reader.h"

namespace pa::synth {

using namespace definition_internal;  // NOLINT: the internal helpers of this one component

static_assert(std::variant_size_v<StepKind> == kStepTypeNames.size());
static_assert(std::variant_size_v<BrowserAction> == kActionNames.size());
static_assert(std::variant_size_v<HttpAssertion> == kAssertTypeNames.size());

std::string_view StepTypeName(const Step& step) { return kStepTypeNames[step.kind.index()]; }
std::string_view ActionName(const BrowserAction& action) { return kActionNames[action.index()]; }
std::string_view DnsRecordName(DnsRecord record) {
  return kDnsRecordNames[static_cast<size_t>(record)];
}
std::string_view BackoffName(Backoff backoff) {
  return kBackoffNames[static_cast<size_t>(backoff)];
}
std::string_view ExtractFromName(ExtractFrom from) {
  return kExtractFromNames[static_cast<size_t>(from)];
}

// ---- templates -------------------------------------------------------------------------------

namespace {

bool IsNameStart(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool IsNameChar(char c) { return IsNameStart(c) || (c >= '0' && c <= '9'); }

// Calls `on_template(begin, end, name)` for every `{{name}}` in `text`, left to right.
template <typename F>
void ForEachTemplate(std::string_view text, F on_template) {
  size_t pos = 0;
  while ((pos = text.find("{{", pos)) != std::string_view::npos) {
    size_t end = pos + 2;
    while (end < text.size() && IsNameChar(text[end])) ++end;
    const std::string_view name = text.substr(pos + 2, end - pos - 2);
    if (text.substr(end, 2) == "}}" && IsTemplateName(name)) {
      on_template(pos, end + 2, name);
      pos = end + 2;
    } else {
      ++pos;  // "{{{name}}}" holds a template one brace further on
    }
  }
}

}  // namespace

bool IsTemplateName(std::string_view name) {
  if (name.empty() || !IsNameStart(name[0])) return false;
  for (char c : name) {
    if (!IsNameChar(c)) return false;
  }
  return true;
}

bool IsBuiltinTemplateName(std::string_view name) {
  return name == "uuid" || name == "timestamp" || name == "iso_time" || name == "random_int";
}

std::vector<std::string> TemplateNamesIn(std::string_view text) {
  std::vector<std::string> names;
  ForEachTemplate(text, [&](size_t, size_t, std::string_view name) { names.emplace_back(name); });
  return names;
}

namespace definition_internal {

std::string ReplaceTemplates(std::string_view text, std::string_view replacement) {
  std::string out;
  size_t copied = 0;
  ForEachTemplate(text, [&](size_t begin, size_t end, std::string_view) {
    out.append(text.substr(copied, begin - copied));
    out.append(replacement);
    copied = end;
  });
  out.append(text.substr(copied));
  return out;
}

bool CheckVariableName(std::string_view name, const std::string& path, FieldErrors* errors) {
  if (!IsTemplateName(name)) {
    errors->push_back({path, "must be a name of letters, digits and _ not starting with a digit"});
    return false;
  }
  if (IsBuiltinTemplateName(name)) {
    errors->push_back({path, "is a built-in name"});
    return false;
  }
  return true;
}

}  // namespace definition_internal

// ---- json_path -------------------------------------------------------------------------------

Result<std::vector<JsonPathSegment>> ParseJsonPath(std::string_view path) {
  auto fail = [&](size_t pos, std::string_view what) {
    return InvalidArgumentError(std::string(what) + " at position " + std::to_string(pos + 1));
  };
  if (path.empty() || path[0] != '$') return InvalidArgumentError("must start with $");
  std::vector<JsonPathSegment> out;
  size_t i = 1;
  while (i < path.size()) {
    const size_t start = i;
    if (path[i] == '.') {
      ++i;
      while (i < path.size() && path.find_first_of(".[] \t\r\n", i) != i) ++i;
      const std::string_view key = path.substr(start + 1, i - start - 1);
      if (key.empty()) return fail(start, "expected a key after '.'");
      if (key == "*") return fail(start, "'.*' is not supported, use [*]");
      out.push_back({JsonPathSegment::Kind::kKey, std::string(key), 0});
      continue;
    }
    if (path[i] != '[') return fail(i, "expected '.' or '['");
    ++i;
    if (i < path.size() && (path[i] == '\'' || path[i] == '"')) {
      const char quote = path[i++];
      std::string key;
      while (i < path.size() && path[i] != quote) {
        if (path[i] == '\\' && i + 1 < path.size()) ++i;
        key += path[i++];
      }
      if (i >= path.size()) return fail(start, "unterminated quoted key");
      ++i;  // the closing quote
      out.push_back({JsonPathSegment::Kind::kKey, std::move(key), 0});
    } else if (i < path.size() && path[i] == '*') {
      ++i;
      out.push_back({JsonPathSegment::Kind::kWildcard, "", 0});
    } else {
      const size_t digits = i + (i < path.size() && path[i] == '-');
      size_t end = digits;
      while (end < path.size() && path[end] >= '0' && path[end] <= '9') ++end;
      int64_t index = 0;
      const auto r = std::from_chars(path.data() + i, path.data() + end, index);
      if (end == digits || r.ec != std::errc() || r.ptr != path.data() + end) {
        return fail(i, "expected an index, '*' or a quoted key");
      }
      i = end;
      out.push_back({JsonPathSegment::Kind::kIndex, "", index});
    }
    if (i >= path.size() || path[i] != ']') return fail(i, "expected ']'");
    ++i;
  }
  return out;
}

// ---- the top level ---------------------------------------------------------------------------

namespace {

bool IsIdChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == ':' || c == '-';
}

void ParseIdentity(ObjectReader& r, TransactionDefinition* def) {
  if (r.String("id", &def->id, kRequired)) {
    if (def->id.size() > kMaxIdLength) {
      r.ErrorAt("id", "must be at most " + std::to_string(kMaxIdLength) + " characters");
    } else {
      for (char c : def->id) {
        if (!IsIdChar(c)) {
          r.ErrorAt("id", "may contain only letters, digits and . _ : -");
          break;
        }
      }
    }
  }
  if (r.String("name", &def->name, kRequired) && CodePointCount(def->name) > kMaxNameLength) {
    r.ErrorAt("name", "must be at most " + std::to_string(kMaxNameLength) + " characters");
  }
  r.String("application", &def->application);
  r.String("description", &def->description, /*allow_empty=*/true);
  r.Bool("enabled", &def->enabled);
}

// Returns the definition's timeout_s when it is valid.
std::optional<int> ParseSchedule(ObjectReader& r, TransactionDefinition* def) {
  const bool interval_ok = r.Int("interval_s", &def->interval_s, kMinIntervalS, INT_MAX);
  bool timeout_ok = r.Int("timeout_s", &def->timeout_s, 1, INT_MAX);
  if (timeout_ok && interval_ok && def->timeout_s > def->interval_s) {
    r.ErrorAt("timeout_s", "must not exceed interval_s (" + std::to_string(def->interval_s) + ")");
    timeout_ok = false;
  }
  if (const Json* retries = r.Field("retries")) {
    ObjectReader rr(*retries, r.PathOf("retries"), r.errors());
    rr.Int("count", &def->retries.count, 0, kMaxRetries);
    size_t backoff = 0;
    if (rr.Enum("backoff", kBackoffNames, &backoff)) {
      def->retries.backoff = static_cast<Backoff>(backoff);
    }
    rr.Int("delay_s", &def->retries.delay_s, 0, INT_MAX);
    rr.Bool("same_robot", &def->retries.same_robot);
    rr.RejectUnknown();
  }
  if (!timeout_ok) return std::nullopt;
  return def->timeout_s;
}

void ParseTargeting(ObjectReader& r, TransactionDefinition* def) {
  r.StringList("locations", &def->locations);
  r.StringMap("robot_selector", &def->robot_selector);
  for (const char* key : {"variables", "secrets"}) {
    auto* values = std::string_view(key) == "variables" ? &def->variables : &def->secrets;
    if (!r.StringMap(key, values)) continue;
    for (const auto& [name, value] : *values) {
      CheckVariableName(name, JoinPath(key, name), r.errors());
    }
  }
}

void ParseSteps(ObjectReader& r, std::optional<int> timeout_s, TransactionDefinition* def) {
  const Json* steps = r.Field("steps", kRequired);
  if (steps == nullptr) return;
  if (!steps->is_array()) return r.ErrorAt("steps", "must be an array");
  if (steps->empty()) return r.ErrorAt("steps", "must have at least one step");
  if (steps->size() > kMaxSteps) {
    return r.ErrorAt("steps", "must have at most " + std::to_string(kMaxSteps) + " steps");
  }
  for (size_t i = 0; i < steps->size(); ++i) {
    std::optional<Step> step = ParseStep((*steps)[i], IndexPath("steps", i), timeout_s, r.errors());
    if (step) def->steps.push_back(std::move(*step));
  }
}

}  // namespace

std::optional<TransactionDefinition> ParseDefinition(const Json& doc, FieldErrors* errors) {
  assert(errors != nullptr);
  const size_t errors_before = errors->size();
  ObjectReader r(doc, "", errors);
  if (!r.is_object()) return std::nullopt;
  TransactionDefinition def;
  ParseIdentity(r, &def);
  const std::optional<int> timeout_s = ParseSchedule(r, &def);
  ParseTargeting(r, &def);
  ParseSteps(r, timeout_s, &def);
  r.RejectUnknown();
  if (errors->size() > errors_before) return std::nullopt;
  return def;
}

}  // namespace pa::synth
