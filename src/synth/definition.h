// TransactionDefinition: what a robot replays — the typed, validated form of the public contract
// "Transaction definition" (spec/transaction-definition.md: top-level fields, retries, steps of
// type http, browser, tcp, dns and tls). The synth role stores definitions and hands them to
// robots; `primoart-robot run --file` reads them from disk. Both go through this one validator.
//
//   PA_ASSIGN_OR_RETURN(Json doc, ParseDocument(body, request.content_type));
//   FieldErrors errors;
//   std::optional<TransactionDefinition> def = ParseDefinition(doc, &errors);
//   if (!def) return Unprocessable(errors);        // 422 with every problem, not just the first
//   Json stored = DefinitionToJson(*def, SecretsMode::kInclude);   // for the robot
//   Json shown = DefinitionToJson(*def, SecretsMode::kOmit);       // for the API: no secrets
//
// Errors: ParseDocument returns kInvalidArgument with a one-line message on a syntax error.
// ParseDefinition reports each problem as a FieldError whose path is the spec's
// ("steps[2].assert[0].in", "retries.count"; "" for the document itself) and whose message says
// what is wrong ("must be an integer", "unknown field"). Unknown fields are errors: definitions
// are written by hand and a typo must not be silently ignored. A JSON null counts as an absent
// field (YAML's `key:`), except for json_path's `equals`, where null is a value to compare.
// Nothing here throws.
//
// Templating: `{{name}}` (name: [A-Za-z_][A-Za-z0-9_]*, no spaces) may appear in every string
// value of a step except the step's own `name`, which results report as written. Fields that
// contain a template are checked as far as the literal text allows (a URL beginning with
// `{{base}}` cannot be checked for its scheme); the robot checks the rest after substitution.
//
// Thread-safety: free functions over values; call them from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/json.h"
#include "base/status.h"
#include "synth/field_error.h"

namespace pa::synth {

inline constexpr int kDefaultIntervalS = 300;
inline constexpr int kMinIntervalS = 10;
inline constexpr int kDefaultTimeoutS = 60;
inline constexpr int kMaxRetries = 5;
inline constexpr size_t kMaxSteps = 100;
inline constexpr size_t kMaxNameLength = 256;  // code points
inline constexpr size_t kMaxIdLength = 128;
inline constexpr int kDefaultTlsPort = 443;

// ---- http ----------------------------------------------------------------------------------

struct HttpRequest {
  std::string method = "GET";  // GET HEAD POST PUT PATCH DELETE OPTIONS
  std::string url;             // absolute http(s) once templates are substituted
  std::map<std::string, std::string> headers;
  std::optional<std::string> body;
  bool follow_redirects = true;
  bool tls_verify = true;
  friend bool operator==(const HttpRequest&, const HttpRequest&) = default;
};

// The response status is one of `in` (100..599). Without one, any 2xx/3xx passes.
struct StatusAssertion {
  std::vector<int> in;
  friend bool operator==(const StatusAssertion&, const StatusAssertion&) = default;
};
// The header `name` is present and `matches` (RE2/Go syntax) finds a match in its value.
struct HeaderAssertion {
  std::string name;
  std::string matches;
  friend bool operator==(const HeaderAssertion&, const HeaderAssertion&) = default;
};
struct BodyContainsAssertion {
  std::string value;
  friend bool operator==(const BodyContainsAssertion&, const BodyContainsAssertion&) = default;
};
// `regex` (RE2/Go syntax) finds a match in the body.
struct BodyMatchesAssertion {
  std::string regex;
  friend bool operator==(const BodyMatchesAssertion&, const BodyMatchesAssertion&) = default;
};
// Exactly one of `exists` and `equals` is set; a `[*]` path only with `exists`. `equals`
// compares JSON values (5 equals 5.0; strings exactly).
struct JsonPathAssertion {
  std::string path;
  std::optional<bool> exists;
  std::optional<Json> equals;
  friend bool operator==(const JsonPathAssertion&, const JsonPathAssertion&) = default;
};
// The step took at most `value` ms (> 0).
struct MaxDurationAssertion {
  int value = 0;
  friend bool operator==(const MaxDurationAssertion&, const MaxDurationAssertion&) = default;
};
using HttpAssertion = std::variant<StatusAssertion, HeaderAssertion, BodyContainsAssertion,
                                   BodyMatchesAssertion, JsonPathAssertion, MaxDurationAssertion>;

enum class ExtractFrom { kJsonPath, kRegex, kHeader };

// Sets the template variable `var` for later steps from the response: with kJsonPath the value
// at `path` (no `[*]`), with kRegex capture `group` of the first match of `regex` in the body
// (default: 1 when the regex has a group, else 0, the whole match), with kHeader the header
// `name`. Only the fields of `from` are set.
struct Extraction {
  std::string var;
  ExtractFrom from = ExtractFrom::kJsonPath;
  std::string path;
  std::string regex;
  int group = 0;
  std::string name;
  friend bool operator==(const Extraction&, const Extraction&) = default;
};

struct HttpStep {
  HttpRequest request;
  std::vector<HttpAssertion> asserts;  // "assert"
  std::vector<Extraction> extracts;    // "extract"
  friend bool operator==(const HttpStep&, const HttpStep&) = default;
};

// ---- browser -------------------------------------------------------------------------------
// Selectors are CSS, or `text=...`. Optional strings are empty when absent.

struct NavigateAction {
  std::string url;
  friend bool operator==(const NavigateAction&, const NavigateAction&) = default;
};
struct ClickAction {
  std::string selector;
  friend bool operator==(const ClickAction&, const ClickAction&) = default;
};
struct FillAction {
  std::string selector;
  std::string value;  // may be empty: clears the field
  friend bool operator==(const FillAction&, const FillAction&) = default;
};
struct PressAction {
  std::string key;
  friend bool operator==(const PressAction&, const PressAction&) = default;
};
struct SelectAction {
  std::string selector;
  std::string value;
  friend bool operator==(const SelectAction&, const SelectAction&) = default;
};
struct WaitForSelectorAction {
  std::string selector;
  std::optional<int> timeout_ms;  // 1.. the step's timeout
  friend bool operator==(const WaitForSelectorAction&, const WaitForSelectorAction&) = default;
};
struct WaitForTextAction {
  std::string text;
  std::optional<int> timeout_ms;
  friend bool operator==(const WaitForTextAction&, const WaitForTextAction&) = default;
};
struct AssertTextAction {
  std::string text;
  std::string selector;  // optional: the whole page when empty
  friend bool operator==(const AssertTextAction&, const AssertTextAction&) = default;
};
struct AssertUrlAction {
  std::string contains;
  friend bool operator==(const AssertUrlAction&, const AssertUrlAction&) = default;
};
struct ScreenshotAction {
  std::string name;  // optional
  friend bool operator==(const ScreenshotAction&, const ScreenshotAction&) = default;
};
struct SleepAction {
  int ms = 0;  // 0.. the step's timeout
  friend bool operator==(const SleepAction&, const SleepAction&) = default;
};
struct EvaluateAction {
  std::string script;
  std::string var;  // optional: the template variable that receives the result
  friend bool operator==(const EvaluateAction&, const EvaluateAction&) = default;
};
using BrowserAction =
    std::variant<NavigateAction, ClickAction, FillAction, PressAction, SelectAction,
                 WaitForSelectorAction, WaitForTextAction, AssertTextAction, AssertUrlAction,
                 ScreenshotAction, SleepAction, EvaluateAction>;

struct BrowserStep {
  std::vector<BrowserAction> actions;  // at least one
  friend bool operator==(const BrowserStep&, const BrowserStep&) = default;
};

// ---- tcp, dns, tls -------------------------------------------------------------------------

struct TcpStep {
  std::string host;
  int port = 0;  // 1..65535, required
  std::optional<std::string> send;
  std::optional<std::string> expect;
  friend bool operator==(const TcpStep&, const TcpStep&) = default;
};

enum class DnsRecord { kA, kAaaa, kCname, kMx, kTxt, kNs };

struct DnsStep {
  std::string query;
  DnsRecord record = DnsRecord::kA;
  std::vector<std::string> expect;      // all must be present in the answer; empty: no check
  std::optional<std::string> resolver;  // an IPv4/IPv6 address; absent: the system's
  friend bool operator==(const DnsStep&, const DnsStep&) = default;
};

struct TlsStep {
  std::string host;
  int port = kDefaultTlsPort;
  std::optional<int> min_days_valid;
  friend bool operator==(const TlsStep&, const TlsStep&) = default;
};

// ---- definition ----------------------------------------------------------------------------

using StepKind = std::variant<HttpStep, BrowserStep, TcpStep, DnsStep, TlsStep>;

struct Step {
  std::string name;
  std::optional<int> timeout_s;  // 1..the definition's timeout_s; absent: what is left of it
  bool continue_on_failure = false;
  StepKind kind;
  friend bool operator==(const Step&, const Step&) = default;
};

enum class Backoff { kFixed, kLinear, kExponential };

struct RetryPolicy {
  int count = 0;  // 0..5 more runs after a failed one
  Backoff backoff = Backoff::kFixed;
  int delay_s = 0;  // before the first retry; grows with `backoff`
  bool same_robot = false;
  friend bool operator==(const RetryPolicy&, const RetryPolicy&) = default;
};

struct TransactionDefinition {
  std::string id;    // 1..128 of [A-Za-z0-9._:-]
  std::string name;  // 1..256 code points
  std::optional<std::string> application;
  std::optional<std::string> description;
  bool enabled = true;
  int interval_s = kDefaultIntervalS;
  int timeout_s = kDefaultTimeoutS;  // whole run; ≤ interval_s
  RetryPolicy retries;
  std::vector<std::string> locations;
  std::map<std::string, std::string> robot_selector;
  std::map<std::string, std::string> variables;
  std::map<std::string, std::string> secrets;  // write-only through the API
  std::vector<Step> steps;                     // 1..100
  friend bool operator==(const TransactionDefinition&, const TransactionDefinition&) = default;
};

// JSON or YAML text to a JSON document. `content_type`: "application/json", "application/yaml",
// "application/x-yaml", "text/yaml" (parameters such as "; charset=utf-8" allowed) or "" (JSON if
// it parses as JSON, else YAML). YAML follows the 1.2 core schema, so scalars get the types JSON
// would give them: true/false, integers, floats, null; quoted and block scalars stay strings;
// numbers with leading zeros (0042) stay strings. Refused with kInvalidArgument and a one-line
// message (with line and column for syntax errors): other content types, invalid UTF-8, aliases,
// custom tags, duplicate or non-scalar keys, .inf/.nan, several YAML documents, an empty
// document, nesting deeper than 64 levels.
Result<Json> ParseDocument(std::string_view text, std::string_view content_type);

// Validates `doc` against the spec; appends every problem to `*errors` (which must not be null).
// Returns nullopt iff it appended an error.
std::optional<TransactionDefinition> ParseDefinition(const Json& doc, FieldErrors* errors);

enum class SecretsMode {
  kOmit,     // "secret_names": [sorted names] instead of "secrets" (what the API returns)
  kInclude,  // "secrets": {name: value} (what robots receive)
};

// The canonical JSON form: every default filled in ("enabled", "interval_s", "retries",
// "locations", "method", "assert": [], ...), absent optional fields without a default left out.
// pa::Json sorts object keys; DefinitionToOrderedJson keeps the spec's field order for
// documents people read. ParseDefinition(DefinitionToJson(d, kInclude)) gives back `d`.
Json DefinitionToJson(const TransactionDefinition& def, SecretsMode mode);
nlohmann::ordered_json DefinitionToOrderedJson(const TransactionDefinition& def, SecretsMode mode);

// Every `{{name}}` used in the string values of the steps, sorted, without duplicates.
std::vector<std::string> TemplateNames(const TransactionDefinition& def);

// ---- helpers shared with the robot -----------------------------------------------------------

// "http", "browser", "tcp", "dns", "tls".
std::string_view StepTypeName(const Step& step);
// "navigate", "click", ... as in the spec.
std::string_view ActionName(const BrowserAction& action);
std::string_view DnsRecordName(DnsRecord record);
std::string_view BackoffName(Backoff backoff);
std::string_view ExtractFromName(ExtractFrom from);

// [A-Za-z_][A-Za-z0-9_]*: what may stand between `{{` and `}}`, and be an extract's `var`.
bool IsTemplateName(std::string_view name);
// uuid, timestamp, iso_time, random_int: provided by the robot, so not definable.
bool IsBuiltinTemplateName(std::string_view name);
// The names of the `{{name}}` templates in `text`, in order, with repeats.
std::vector<std::string> TemplateNamesIn(std::string_view text);

// One step of a json_path: `.key` / `['key']`, `[n]` (negative from the end), `[*]`.
struct JsonPathSegment {
  enum class Kind { kKey, kIndex, kWildcard };
  Kind kind = Kind::kKey;
  std::string key;
  int64_t index = 0;
  friend bool operator==(const JsonPathSegment&, const JsonPathSegment&) = default;
};

// Parses "$", "$.items[0].id", "$['a b'][-1]", "$.items[*]"; the segments after `$`.
// kInvalidArgument with the offending position otherwise.
Result<std::vector<JsonPathSegment>> ParseJsonPath(std::string_view path);

}  // namespace pa::synth
