// ParseStep: one step of a definition, of each type, with its own rules (see definition.h).
#include <arpa/inet.h>

#include <climits>
#include <cstdint>
#include <string>
#include <utility>

#include "base/go_regex.h"
#include "synth/definition.h"
#include "synth/definition_reader.h"

namespace pa::synth::definition_internal {
namespace {

constexpr size_t kMaxEqualsDepth = 64;

// ---- value checks ------------------------------------------------------------------------------

// Capture groups of a pattern RE2 accepted; nullopt when a ')' closes nothing (RE2 accepts
// "a)|(b" inside the "^(?:...)$" that GoRegex wraps around it, Go does not).
std::optional<int> CountCaptureGroups(std::string_view p) {
  int groups = 0;
  int depth = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    if (c == '\\') {
      if (i + 1 < p.size() && p[i + 1] == 'Q') {  // \Q...\E: literal text
        const size_t end = p.find("\\E", i + 2);
        if (end == std::string_view::npos) break;
        i = end + 1;
      } else {
        ++i;
      }
    } else if (c == '[') {  // a class: '(' and ')' are literal inside
      size_t j = i + 1;
      if (j < p.size() && p[j] == '^') ++j;
      if (j < p.size() && p[j] == ']') ++j;  // a leading ']' is literal
      while (j < p.size() && p[j] != ']') {
        if (p[j] == '\\') {
          j += 2;
        } else if (p.substr(j, 2) == "[:" && p.find(":]", j + 2) != std::string_view::npos) {
          j = p.find(":]", j + 2) + 2;
        } else {
          ++j;
        }
      }
      i = j;
    } else if (c == '(') {
      ++depth;
      const std::string_view rest = p.substr(i + 1);
      if (!rest.starts_with('?') || rest.starts_with("?P<") || rest.starts_with("?<")) ++groups;
    } else if (c == ')') {
      if (depth-- == 0) return std::nullopt;
    }
  }
  return groups;
}

// The capture groups of `pattern` (templates stand for literal text), or nullopt after
// reporting why it does not compile.
std::optional<int> CheckRegex(const std::string& pattern, const std::string& path,
                              FieldErrors* errors) {
  const std::string p = ReplaceTemplates(pattern, "0");
  Result<GoRegex> re = GoRegex::Compile(p);
  const std::optional<int> groups = CountCaptureGroups(p);
  if (re.ok() && groups) return groups;
  std::string why = "unexpected )";
  if (!re.ok()) {
    // "error parsing regexp: <why>: `^(?:<pattern>)$`": the wrapper is GoRegex's, not the user's.
    // "error parsing regexp: <what>: <where>: `^(?:<pattern>)$`", where <where> is sometimes
    // the whole wrapped pattern again: keep only what the user wrote.
    why = re.status().message();
    if (why.starts_with("error parsing regexp: ")) why.erase(0, 22);
    if (const size_t cut = why.rfind(": `"); cut != std::string::npos) why.erase(cut);
    if (const size_t cut = why.find(": ^(?:"); cut != std::string::npos) why.erase(cut);
    if (why.ends_with(")$")) why.resize(why.size() - 2);
  }
  errors->push_back({path, "is not a valid regex: " + ToValidUtf8(why)});
  return std::nullopt;
}

// Returns whether the path has a [*]; nullopt after reporting a syntax error.
std::optional<bool> CheckJsonPath(const std::string& path_text, const std::string& path,
                                  FieldErrors* errors) {
  Result<std::vector<JsonPathSegment>> segments = ParseJsonPath(ReplaceTemplates(path_text, "0"));
  if (!segments.ok()) {
    errors->push_back({path, "is not a valid json path: " + segments.status().message()});
    return std::nullopt;
  }
  for (const JsonPathSegment& s : *segments) {
    if (s.kind == JsonPathSegment::Kind::kWildcard) return true;
  }
  return false;
}

bool IsHttpScheme(std::string_view scheme) {
  std::string lower(scheme);
  for (char& c : lower) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return lower == "http" || lower == "https";
}

bool IsPort(std::string_view s) {
  if (s.empty() || s.size() > 5) return false;
  int port = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    port = port * 10 + (c - '0');
  }
  return port >= 1 && port <= 65535;
}

bool IsAbsoluteHttpUrl(std::string_view url) {
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7F) return false;
  }
  const size_t sep = url.find("://");
  if (sep == std::string_view::npos || !IsHttpScheme(url.substr(0, sep))) return false;
  std::string_view authority = url.substr(sep + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  const size_t at = authority.rfind('@');
  const std::string_view host_port =
      at == std::string_view::npos ? authority : authority.substr(at + 1);
  std::string_view port;
  if (host_port.starts_with('[')) {  // [IPv6]
    const size_t close = host_port.find(']');
    if (close == std::string_view::npos || close == 1) return false;
    const std::string_view after = host_port.substr(close + 1);
    if (after.empty()) return true;
    return after[0] == ':' && IsPort(after.substr(1));
  }
  const size_t colon = host_port.rfind(':');
  if (colon != std::string_view::npos) {
    return colon > 0 && IsPort(host_port.substr(colon + 1));
  }
  return !host_port.empty();
}

void CheckHttpUrl(const std::string& url, const std::string& path, FieldErrors* errors) {
  const size_t first_template = url.find("{{");
  if (first_template == std::string::npos) {
    if (!IsAbsoluteHttpUrl(url)) {
      errors->push_back({path, "must be an absolute http:// or https:// URL"});
    }
    return;
  }
  // Only the literal text before the first template can be checked: its scheme, if it has one.
  const std::string_view literal = std::string_view(url).substr(0, first_template);
  const size_t sep = literal.find("://");
  if (sep != std::string_view::npos && !IsHttpScheme(literal.substr(0, sep))) {
    errors->push_back({path, "must be an http:// or https:// URL"});
  }
}

// RFC 9110 token.
bool IsHeaderName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

void CheckHeaderName(const std::string& name, const std::string& path, FieldErrors* errors) {
  if (!IsHeaderName(name)) errors->push_back({path, "is not a valid header name"});
}

void CheckHost(const std::string& host, const std::string& path, FieldErrors* errors) {
  if (host.find_first_of(" \t\r\n/") != std::string::npos) {
    errors->push_back({path, "must be a host name or IP address"});
  }
}

bool IsIpAddress(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

// Every string in `value` is valid UTF-8 and it nests at most kMaxEqualsDepth deep, so that it
// can be copied and serialised safely.
bool IsSafeJson(const Json& value, size_t depth = 0) {
  if (depth > kMaxEqualsDepth) return false;
  if (value.is_string()) return IsValidUtf8(value.get_ref<const std::string&>());
  if (value.is_object()) {
    for (const auto& [key, item] : value.items()) {
      if (!IsValidUtf8(key) || !IsSafeJson(item, depth + 1)) return false;
    }
  } else if (value.is_array()) {
    for (const Json& item : value) {
      if (!IsSafeJson(item, depth + 1)) return false;
    }
  }
  return true;
}

// Reads an array field; reports when present and not an array. nullptr when absent or wrong.
const Json* ArrayField(ObjectReader& r, std::string_view key, Presence presence = kOptional) {
  const Json* value = r.Field(key, presence);
  if (value != nullptr && !value->is_array()) {
    r.ErrorAt(key, "must be an array");
    return nullptr;
  }
  return value;
}

// ---- http ------------------------------------------------------------------------------------

void ParseRequest(ObjectReader& step, HttpRequest* request) {
  const Json* value = step.Field("request", kRequired);
  if (value == nullptr) return;
  ObjectReader r(*value, step.PathOf("request"), step.errors());
  if (!r.is_object()) return;
  size_t method = 0;
  if (r.Enum("method", kMethods, &method)) request->method = kMethods[method];
  if (r.String("url", &request->url, kRequired)) {
    CheckHttpUrl(request->url, r.PathOf("url"), r.errors());
  }
  if (r.StringMap("headers", &request->headers)) {
    for (const auto& [name, header_value] : request->headers) {
      const std::string path = JoinPath(r.PathOf("headers"), name);
      CheckHeaderName(name, path, r.errors());
      if (header_value.find_first_of("\r\n") != std::string::npos) {
        r.Error(path, "must not contain line breaks");
      }
    }
  }
  r.String("body", &request->body, /*allow_empty=*/true);
  r.Bool("follow_redirects", &request->follow_redirects);
  r.Bool("tls_verify", &request->tls_verify);
  r.RejectUnknown();
}

std::optional<StatusAssertion> ParseStatusAssertion(ObjectReader& r) {
  const Json* in = ArrayField(r, "in", kRequired);
  if (in == nullptr) return std::nullopt;
  if (in->empty()) {
    r.ErrorAt("in", "must not be empty");
    return std::nullopt;
  }
  StatusAssertion out;
  for (size_t i = 0; i < in->size(); ++i) {
    const auto code = CheckInt((*in)[i], IndexPath(r.PathOf("in"), i), r.errors(), 100, 599);
    if (code) out.in.push_back(static_cast<int>(*code));
  }
  return out;
}

std::optional<JsonPathAssertion> ParseJsonPathAssertion(ObjectReader& r) {
  JsonPathAssertion out;
  std::optional<bool> wildcard;
  if (r.String("path", &out.path, kRequired)) {
    wildcard = CheckJsonPath(out.path, r.PathOf("path"), r.errors());
  }
  r.Bool("exists", &out.exists);
  const bool has_exists = r.Field("exists") != nullptr;
  if (const Json* equals = r.RawField("equals")) {
    if (IsSafeJson(*equals)) {
      out.equals = *equals;
    } else {
      r.ErrorAt("equals", "must be valid UTF-8 and nest at most 64 levels");
    }
  }
  const bool has_equals = r.RawField("equals") != nullptr;
  if (has_exists == has_equals) {
    r.Error(r.path(), "must have exactly one of exists and equals");
  } else if (has_equals && wildcard.value_or(false)) {
    r.ErrorAt("path", "[*] may only be used with exists");
  }
  return out;
}

std::optional<HttpAssertion> ParseAssertion(const Json& value, const std::string& path,
                                            FieldErrors* errors) {
  ObjectReader r(value, path, errors);
  size_t type = 0;
  if (!r.is_object() || !r.Enum("type", kAssertTypeNames, &type, kRequired)) return std::nullopt;
  std::optional<HttpAssertion> out;
  switch (type) {
    case 0:
      out = ParseStatusAssertion(r);
      break;
    case 1: {
      HeaderAssertion a;
      if (r.String("name", &a.name, kRequired)) CheckHeaderName(a.name, r.PathOf("name"), errors);
      if (r.String("matches", &a.matches, kRequired)) {
        CheckRegex(a.matches, r.PathOf("matches"), errors);
      }
      out = std::move(a);
      break;
    }
    case 2: {
      BodyContainsAssertion a;
      r.String("value", &a.value, kRequired);
      out = std::move(a);
      break;
    }
    case 3: {
      BodyMatchesAssertion a;
      if (r.String("regex", &a.regex, kRequired)) CheckRegex(a.regex, r.PathOf("regex"), errors);
      out = std::move(a);
      break;
    }
    case 4:
      out = ParseJsonPathAssertion(r);
      break;
    default: {
      MaxDurationAssertion a;
      r.Int("value", &a.value, 1, INT_MAX, kRequired);
      out = a;
      break;
    }
  }
  r.RejectUnknown();
  return out;
}

std::optional<Extraction> ParseExtraction(const Json& value, const std::string& path,
                                          FieldErrors* errors) {
  ObjectReader r(value, path, errors);
  if (!r.is_object()) return std::nullopt;
  Extraction out;
  if (r.String("var", &out.var, kRequired)) CheckVariableName(out.var, r.PathOf("var"), errors);
  size_t from = 0;
  if (!r.Enum("from", kExtractFromNames, &from, kRequired)) return std::nullopt;
  out.from = static_cast<ExtractFrom>(from);
  switch (out.from) {
    case ExtractFrom::kJsonPath:
      if (r.String("path", &out.path, kRequired) &&
          CheckJsonPath(out.path, r.PathOf("path"), errors).value_or(false)) {
        r.ErrorAt("path", "[*] may only be used in assertions with exists");
      }
      break;
    case ExtractFrom::kRegex: {
      std::optional<int> groups;
      if (r.String("regex", &out.regex, kRequired)) {
        groups = CheckRegex(out.regex, r.PathOf("regex"), errors);
      }
      std::optional<int> group;
      if (r.Int("group", &group, 0, INT_MAX) && groups) {
        if (group && *group > *groups) {
          r.ErrorAt("group", "must be at most " + std::to_string(*groups) +
                                 ", the number of groups in the regex");
        }
        out.group = group.value_or(*groups > 0 ? 1 : 0);
      }
      break;
    }
    case ExtractFrom::kHeader:
      if (r.String("name", &out.name, kRequired)) {
        CheckHeaderName(out.name, r.PathOf("name"), errors);
      }
      break;
  }
  r.RejectUnknown();
  return out;
}

HttpStep ParseHttp(ObjectReader& r) {
  HttpStep step;
  ParseRequest(r, &step.request);
  if (const Json* asserts = ArrayField(r, "assert")) {
    for (size_t i = 0; i < asserts->size(); ++i) {
      auto a = ParseAssertion((*asserts)[i], IndexPath(r.PathOf("assert"), i), r.errors());
      if (a) step.asserts.push_back(std::move(*a));
    }
  }
  if (const Json* extracts = ArrayField(r, "extract")) {
    for (size_t i = 0; i < extracts->size(); ++i) {
      auto e = ParseExtraction((*extracts)[i], IndexPath(r.PathOf("extract"), i), r.errors());
      if (e) step.extracts.push_back(std::move(*e));
    }
  }
  return step;
}

// ---- browser -------------------------------------------------------------------------------

// A duration in ms inside a step whose limit is `limit_ms` (nullopt: unknown, not checked).
void DurationMs(ObjectReader& r, std::string_view key, int min, std::optional<int64_t> limit_ms,
                std::optional<int>* out) {
  if (!r.Int(key, out, min, INT_MAX) || !*out || !limit_ms || **out <= *limit_ms) return;
  r.ErrorAt(key, "must not exceed the step's timeout (" + std::to_string(*limit_ms) + " ms)");
}

std::optional<BrowserAction> ParseAction(const Json& value, const std::string& path,
                                         std::optional<int64_t> limit_ms, FieldErrors* errors) {
  ObjectReader r(value, path, errors);
  size_t kind = 0;
  if (!r.is_object() || !r.Enum("action", kActionNames, &kind, kRequired)) return std::nullopt;
  BrowserAction out;
  auto text = [&](std::string_view key, std::string* s) { r.String(key, s, kRequired); };
  auto optional_text = [&](std::string_view key, std::string* s) {
    std::optional<std::string> v;
    r.String(key, &v);
    *s = v.value_or("");
  };
  switch (kind) {
    case 0: {
      NavigateAction a;
      if (r.String("url", &a.url, kRequired)) CheckHttpUrl(a.url, r.PathOf("url"), errors);
      out = std::move(a);
      break;
    }
    case 1: {
      ClickAction a;
      text("selector", &a.selector);
      out = std::move(a);
      break;
    }
    case 2: {
      FillAction a;
      text("selector", &a.selector);
      r.String("value", &a.value, kRequired, /*allow_empty=*/true);
      out = std::move(a);
      break;
    }
    case 3: {
      PressAction a;
      text("key", &a.key);
      out = std::move(a);
      break;
    }
    case 4: {
      SelectAction a;
      text("selector", &a.selector);
      r.String("value", &a.value, kRequired, /*allow_empty=*/true);
      out = std::move(a);
      break;
    }
    case 5: {
      WaitForSelectorAction a;
      text("selector", &a.selector);
      DurationMs(r, "timeout_ms", 1, limit_ms, &a.timeout_ms);
      out = std::move(a);
      break;
    }
    case 6: {
      WaitForTextAction a;
      text("text", &a.text);
      DurationMs(r, "timeout_ms", 1, limit_ms, &a.timeout_ms);
      out = std::move(a);
      break;
    }
    case 7: {
      AssertTextAction a;
      text("text", &a.text);
      optional_text("selector", &a.selector);
      out = std::move(a);
      break;
    }
    case 8: {
      AssertUrlAction a;
      text("contains", &a.contains);
      out = std::move(a);
      break;
    }
    case 9: {
      ScreenshotAction a;
      optional_text("name", &a.name);
      out = std::move(a);
      break;
    }
    case 10: {
      std::optional<int> ms;
      if (r.Field("ms", kRequired) != nullptr) DurationMs(r, "ms", 0, limit_ms, &ms);
      out = SleepAction{ms.value_or(0)};
      break;
    }
    default: {
      EvaluateAction a;
      text("script", &a.script);
      optional_text("var", &a.var);
      if (!a.var.empty()) CheckVariableName(a.var, r.PathOf("var"), errors);
      out = std::move(a);
      break;
    }
  }
  r.RejectUnknown();
  return out;
}

BrowserStep ParseBrowser(ObjectReader& r, std::optional<int64_t> limit_ms) {
  BrowserStep step;
  const Json* actions = ArrayField(r, "actions", kRequired);
  if (actions == nullptr) return step;
  if (actions->empty()) r.ErrorAt("actions", "must not be empty");
  for (size_t i = 0; i < actions->size(); ++i) {
    auto a = ParseAction((*actions)[i], IndexPath(r.PathOf("actions"), i), limit_ms, r.errors());
    if (a) step.actions.push_back(std::move(*a));
  }
  return step;
}

// ---- tcp, dns, tls -------------------------------------------------------------------------

TcpStep ParseTcp(ObjectReader& r) {
  TcpStep step;
  if (r.String("host", &step.host, kRequired)) CheckHost(step.host, r.PathOf("host"), r.errors());
  r.Int("port", &step.port, 1, 65535, kRequired);
  r.String("send", &step.send);
  r.String("expect", &step.expect);
  return step;
}

DnsStep ParseDns(ObjectReader& r) {
  DnsStep step;
  if (r.String("query", &step.query, kRequired)) {
    CheckHost(step.query, r.PathOf("query"), r.errors());
  }
  size_t record = 0;
  if (r.Enum("record", kDnsRecordNames, &record)) step.record = static_cast<DnsRecord>(record);
  r.StringList("expect", &step.expect);
  if (r.String("resolver", &step.resolver) && step.resolver && !IsIpAddress(*step.resolver)) {
    r.ErrorAt("resolver", "must be an IPv4 or IPv6 address");
  }
  return step;
}

TlsStep ParseTls(ObjectReader& r) {
  TlsStep step;
  if (r.String("host", &step.host, kRequired)) CheckHost(step.host, r.PathOf("host"), r.errors());
  r.Int("port", &step.port, 1, 65535);
  r.Int("min_days_valid", &step.min_days_valid, 0, INT_MAX);
  return step;
}

}  // namespace

std::optional<Step> ParseStep(const Json& value, const std::string& path,
                              std::optional<int> definition_timeout_s, FieldErrors* errors) {
  const size_t errors_before = errors->size();
  ObjectReader r(value, path, errors);
  if (!r.is_object()) return std::nullopt;
  Step step;
  if (r.String("name", &step.name, kRequired) && CodePointCount(step.name) > kMaxNameLength) {
    r.ErrorAt("name", "must be at most " + std::to_string(kMaxNameLength) + " characters");
  }
  size_t type = 0;
  const bool type_ok = r.Enum("type", kStepTypeNames, &type, kRequired);
  bool timeout_ok = r.Int("timeout_s", &step.timeout_s, 1, INT_MAX);
  if (timeout_ok && step.timeout_s && definition_timeout_s &&
      *step.timeout_s > *definition_timeout_s) {
    r.ErrorAt("timeout_s", "must not exceed the definition's timeout_s (" +
                               std::to_string(*definition_timeout_s) + ")");
    timeout_ok = false;
  }
  r.Bool("continue_on_failure", &step.continue_on_failure);
  // Waits and sleeps inside the step must fit in it; unknown when a timeout is itself wrong.
  std::optional<int64_t> limit_ms;
  if (timeout_ok && (step.timeout_s || definition_timeout_s)) {
    limit_ms = int64_t{step.timeout_s.value_or(definition_timeout_s.value_or(0))} * 1000;
  }
  // Without a known type the other fields cannot be told from unknown ones.
  if (!type_ok) return std::nullopt;
  switch (type) {
    case 0:
      step.kind = ParseHttp(r);
      break;
    case 1:
      step.kind = ParseBrowser(r, limit_ms);
      break;
    case 2:
      step.kind = ParseTcp(r);
      break;
    case 3:
      step.kind = ParseDns(r);
      break;
    default:
      step.kind = ParseTls(r);
      break;
  }
  r.RejectUnknown();
  if (errors->size() > errors_before) return std::nullopt;
  return step;
}

}  // namespace pa::synth::definition_internal
