#include "synth/definition.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

namespace pa::synth {
namespace {

// Every step example of the contract (spec: transaction-definition.md), verbatim, in one
// definition: steps[0] http, [1] browser, [2] tcp, [3] dns, [4] tls.
constexpr std::string_view kSpecExample = R"json({
  "id": "shop.checkout", "name": "Оформление заказа", "application": "shop",
  "variables": {"base": "https://shop.example"}, "secrets": {"card": "4111111111111111"},
  "steps": [
{"name": "Каталог", "type": "http",
 "request": {"method": "POST", "url": "{{base}}/api/search", "headers": {"Content-Type": "application/json"},
             "body": "{\"q\": \"чайник\"}", "follow_redirects": true, "tls_verify": true},
 "assert": [{"type": "status", "in": [200]},
            {"type": "header", "name": "Content-Type", "matches": "json"},
            {"type": "body_contains", "value": "чайник"},
            {"type": "body_matches", "regex": "\"total\":\\s*[1-9]"},
            {"type": "json_path", "path": "$.items[0].id", "exists": true},
            {"type": "json_path", "path": "$.items[0].available", "equals": true},
            {"type": "max_duration_ms", "value": 1500}],
 "extract": [{"var": "item", "from": "json_path", "path": "$.items[0].id"},
             {"var": "csrf", "from": "regex", "regex": "csrf=([a-z0-9]+)", "group": 1},
             {"var": "next", "from": "header", "name": "Location"}]},
{"name": "Оплата", "type": "browser", "actions": [
  {"action": "navigate", "url": "{{base}}/cart"},
  {"action": "click", "selector": "button#pay"},
  {"action": "fill", "selector": "input[name=card]", "value": "{{card}}"},
  {"action": "press", "key": "Enter"},
  {"action": "select", "selector": "select#country", "value": "RU"},
  {"action": "wait_for_selector", "selector": ".done", "timeout_ms": 5000},
  {"action": "wait_for_text", "text": "Спасибо"},
  {"action": "assert_text", "text": "Спасибо", "selector": "h1"},
  {"action": "assert_url", "contains": "/thanks"},
  {"action": "screenshot", "name": "after-pay"},
  {"action": "sleep", "ms": 500},
  {"action": "evaluate", "script": "document.title", "var": "title"}]},
{"name": "DB port", "type": "tcp", "host": "db.example", "port": 5432, "send": "PING\r\n", "expect": "PONG"},
{"name": "DNS", "type": "dns", "query": "shop.example", "record": "A", "expect": ["203.0.113.7"], "resolver": "192.0.2.53"},
{"name": "Certificate", "type": "tls", "host": "shop.example", "port": 443, "min_days_valid": 14}
]})json";

// The same definition as YAML, as a person would write it (quoting only where YAML needs it).
constexpr std::string_view kSpecExampleYaml = R"yaml(
id: shop.checkout
name: Оформление заказа
application: shop
variables: {base: "https://shop.example"}
secrets:
  card: "4111111111111111"
steps:
  - name: Каталог
    type: http
    request:
      method: POST
      url: "{{base}}/api/search"
      headers: {Content-Type: application/json}
      body: '{"q": "чайник"}'
      follow_redirects: true
      tls_verify: true
    assert:
      - {type: status, in: [200]}
      - {type: header, name: Content-Type, matches: json}
      - {type: body_contains, value: чайник}
      - type: body_matches
        regex: '"total":\s*[1-9]'
      - {type: json_path, path: "$.items[0].id", exists: true}
      - {type: json_path, path: "$.items[0].available", equals: true}
      - {type: max_duration_ms, value: 1500}
    extract:
      - {var: item, from: json_path, path: "$.items[0].id"}
      - {var: csrf, from: regex, regex: "csrf=([a-z0-9]+)", group: 1}
      - {var: next, from: header, name: Location}
  - name: Оплата
    type: browser
    actions:
      - {action: navigate, url: "{{base}}/cart"}
      - {action: click, selector: "button#pay"}
      - {action: fill, selector: "input[name=card]", value: "{{card}}"}
      - {action: press, key: Enter}
      - {action: select, selector: "select#country", value: RU}
      - {action: wait_for_selector, selector: .done, timeout_ms: 5000}
      - {action: wait_for_text, text: Спасибо}
      - {action: assert_text, text: Спасибо, selector: h1}
      - {action: assert_url, contains: /thanks}
      - {action: screenshot, name: after-pay}
      - {action: sleep, ms: 500}
      - {action: evaluate, script: document.title, var: title}
  - {name: DB port, type: tcp, host: db.example, port: 5432, send: "PING\r\n", expect: PONG}
  - {name: DNS, type: dns, query: shop.example, record: A, expect: [203.0.113.7], resolver: 192.0.2.53}
  - {name: Certificate, type: tls, host: shop.example, port: 443, min_days_valid: 14}
)yaml";

Json SpecExample() { return Json::parse(kSpecExample); }

std::string Describe(const FieldErrors& errors) {
  std::string out;
  for (const FieldError& e : errors) out += "\n  " + e.path + ": " + e.message;
  return out;
}

// Parses `doc`, expecting success.
TransactionDefinition MustParse(const Json& doc) {
  FieldErrors errors;
  std::optional<TransactionDefinition> def = ParseDefinition(doc, &errors);
  EXPECT_TRUE(def.has_value()) << Describe(errors);
  EXPECT_TRUE(errors.empty()) << Describe(errors);
  return def.value_or(TransactionDefinition{});
}

TEST(DefinitionParse, SpecExampleParsesIntoTypedSteps) {
  const TransactionDefinition def = MustParse(SpecExample());
  ASSERT_EQ(def.steps.size(), 5u);
  EXPECT_EQ(def.id, "shop.checkout");
  EXPECT_EQ(def.application, "shop");
  EXPECT_EQ(def.secrets.at("card"), "4111111111111111");

  const auto& http = std::get<HttpStep>(def.steps[0].kind);
  EXPECT_EQ(http.request.method, "POST");
  EXPECT_EQ(http.request.headers.at("Content-Type"), "application/json");
  EXPECT_EQ(http.request.body, R"({"q": "чайник"})");
  ASSERT_EQ(http.asserts.size(), 7u);
  EXPECT_EQ(std::get<StatusAssertion>(http.asserts[0]).in, std::vector<int>{200});
  EXPECT_EQ(std::get<BodyMatchesAssertion>(http.asserts[3]).regex, R"("total":\s*[1-9])");
  EXPECT_EQ(std::get<JsonPathAssertion>(http.asserts[4]).exists, true);
  EXPECT_EQ(std::get<JsonPathAssertion>(http.asserts[5]).equals, Json(true));
  EXPECT_EQ(std::get<MaxDurationAssertion>(http.asserts[6]).value, 1500);
  ASSERT_EQ(http.extracts.size(), 3u);
  EXPECT_EQ(http.extracts[1].from, ExtractFrom::kRegex);
  EXPECT_EQ(http.extracts[1].group, 1);
  EXPECT_EQ(http.extracts[2].name, "Location");

  const auto& browser = std::get<BrowserStep>(def.steps[1].kind);
  ASSERT_EQ(browser.actions.size(), 12u);
  EXPECT_EQ(std::get<FillAction>(browser.actions[2]).value, "{{card}}");
  EXPECT_EQ(std::get<WaitForSelectorAction>(browser.actions[5]).timeout_ms, 5000);
  EXPECT_EQ(std::get<AssertTextAction>(browser.actions[7]).selector, "h1");
  EXPECT_EQ(std::get<SleepAction>(browser.actions[10]).ms, 500);
  EXPECT_EQ(std::get<EvaluateAction>(browser.actions[11]).var, "title");
  EXPECT_EQ(ActionName(browser.actions[8]), "assert_url");

  const auto& tcp = std::get<TcpStep>(def.steps[2].kind);
  EXPECT_EQ(tcp.port, 5432);
  EXPECT_EQ(tcp.send, "PING\r\n");
  const auto& dns = std::get<DnsStep>(def.steps[3].kind);
  EXPECT_EQ(dns.record, DnsRecord::kA);
  EXPECT_EQ(dns.expect, std::vector<std::string>{"203.0.113.7"});
  EXPECT_EQ(dns.resolver, "192.0.2.53");
  const auto& tls = std::get<TlsStep>(def.steps[4].kind);
  EXPECT_EQ(tls.min_days_valid, 14);
  EXPECT_EQ(StepTypeName(def.steps[4]), "tls");
}

TEST(DefinitionParse, FillsDefaults) {
  const TransactionDefinition def = MustParse(Json::parse(R"json({
    "id": "a", "name": "A", "description": null,
    "steps": [{"name": "home", "type": "http", "request": {"url": "https://x.example/"}},
              {"name": "dns", "type": "dns", "query": "x.example"},
              {"name": "tls", "type": "tls", "host": "x.example"},
              {"name": "re", "type": "http", "request": {"url": "http://x.example:8080/a?b#c"},
               "extract": [{"var": "g", "from": "regex", "regex": "id=(\\d+)"},
                           {"var": "w", "from": "regex", "regex": "id=\\d+"}]}]})json"));
  const Json expected = Json::parse(R"json({
    "id": "a", "name": "A", "enabled": true, "interval_s": 300, "timeout_s": 60,
    "retries": {"count": 0, "backoff": "fixed", "delay_s": 0, "same_robot": false},
    "locations": [], "robot_selector": {}, "variables": {}, "secret_names": [],
    "steps": [
      {"name": "home", "type": "http", "continue_on_failure": false,
       "request": {"method": "GET", "url": "https://x.example/", "headers": {},
                   "follow_redirects": true, "tls_verify": true},
       "assert": [], "extract": []},
      {"name": "dns", "type": "dns", "continue_on_failure": false, "query": "x.example",
       "record": "A", "expect": []},
      {"name": "tls", "type": "tls", "continue_on_failure": false, "host": "x.example",
       "port": 443},
      {"name": "re", "type": "http", "continue_on_failure": false,
       "request": {"method": "GET", "url": "http://x.example:8080/a?b#c", "headers": {},
                   "follow_redirects": true, "tls_verify": true},
       "assert": [],
       "extract": [{"var": "g", "from": "regex", "regex": "id=(\\d+)", "group": 1},
                   {"var": "w", "from": "regex", "regex": "id=\\d+", "group": 0}]}]})json");
  EXPECT_EQ(DefinitionToJson(def, SecretsMode::kOmit), expected);
}

TEST(DefinitionParse, AcceptsEdgesOfTheRules) {
  Json doc = SpecExample();
  doc["id"] = "A-z_0.9:" + std::string(120, 'x');  // 128 characters
  std::string name;
  for (int i = 0; i < 256; ++i) name += "я";  // 256 code points, 512 bytes
  doc["name"] = name;
  doc["interval_s"] = 10;
  doc["timeout_s"] = 10;
  doc["retries"] = {{"count", 5}, {"backoff", "exponential"}, {"delay_s", 0}};
  doc["steps"][0]["timeout_s"] = 10;
  doc["steps"][0]["request"]["tls_verify"] = nullptr;  // null: absent, default kept
  doc["steps"][0]["extract"][1]["group"] = 0;
  doc["steps"][0]["assert"][5]["equals"] = nullptr;  // equals null is a value
  doc["steps"][1]["actions"][10]["ms"] = 10000;      // exactly the step's timeout
  doc["steps"][3]["resolver"] = "2001:db8::53";
  doc["steps"][2]["port"] = 65535;
  const TransactionDefinition def = MustParse(doc);
  EXPECT_EQ(def.retries.backoff, Backoff::kExponential);
  EXPECT_TRUE(std::get<HttpStep>(def.steps[0].kind).request.tls_verify);
  EXPECT_EQ(std::get<JsonPathAssertion>(std::get<HttpStep>(def.steps[0].kind).asserts[5]).equals,
            Json(nullptr));
}

// ---- one failing case per rule -----------------------------------------------------------------

struct RuleCase {
  const char* rule;
  std::vector<std::pair<const char*, Json>> set;  // JSON pointer → value; a "-" value removes
  const char* path;
  const char* message;  // a part of the message
};

const Json kRemove = "-";

std::vector<RuleCase> RuleCases() {
  // clang-format off
  return {
      {"IdRequired", {{"/id", kRemove}}, "id", "is required"},
      {"IdCharacters", {{"/id", "shop checkout"}}, "id", "letters, digits"},
      {"IdLength", {{"/id", std::string(129, 'a')}}, "id", "at most 128"},
      {"IdType", {{"/id", 7}}, "id", "must be a string"},
      {"NameRequired", {{"/name", kRemove}}, "name", "is required"},
      {"NameEmpty", {{"/name", ""}}, "name", "must not be empty"},
      {"NameCodePoints", {{"/name", std::string(257, 'n')}}, "name", "at most 256"},
      {"NameUtf8", {{"/name", "caf\xE9"}}, "name", "not valid UTF-8"},
      {"EnabledType", {{"/enabled", "yes"}}, "enabled", "must be a boolean"},
      {"IntervalMin", {{"/interval_s", 9}}, "interval_s", "at least 10"},
      {"IntervalType", {{"/interval_s", "300"}}, "interval_s", "must be an integer"},
      {"IntervalFloat", {{"/interval_s", 300.5}}, "interval_s", "must be an integer"},
      {"IntervalHuge", {{"/interval_s", 18446744073709551615u}}, "interval_s", "at most"},
      {"TimeoutMin", {{"/timeout_s", 0}}, "timeout_s", "at least 1"},
      {"TimeoutOverInterval", {{"/timeout_s", 301}}, "timeout_s", "interval_s (300)"},
      {"RetriesType", {{"/retries", 3}}, "retries", "must be an object"},
      {"RetriesCount", {{"/retries", {{"count", 6}}}}, "retries.count", "between 0 and 5"},
      {"RetriesBackoff", {{"/retries", {{"backoff", "random"}}}},
       "retries.backoff", "must be one of fixed, linear, exponential"},
      {"RetriesDelay", {{"/retries", {{"delay_s", -1}}}}, "retries.delay_s", "at least 0"},
      {"RetriesSameRobot", {{"/retries", {{"same_robot", 1}}}}, "retries.same_robot", "boolean"},
      {"RetriesUnknown", {{"/retries", {{"cuont", 1}}}}, "retries.cuont", "unknown field"},
      {"LocationsType", {{"/locations", "eu"}}, "locations", "must be an array"},
      {"LocationsEmptyItem", {{"/locations", {"eu", ""}}}, "locations[1]", "must not be empty"},
      {"RobotSelectorValue", {{"/robot_selector", {{"os", 1}}}},
       "robot_selector.os", "must be a string"},
      {"VariableValue", {{"/variables/base", false}}, "variables.base", "must be a string"},
      {"VariableBuiltin", {{"/variables/uuid", "x"}}, "variables.uuid", "is a built-in name"},
      {"VariableName", {{"/variables/base-url", "x"}}, "variables.base-url", "letters, digits"},
      {"SecretBuiltin", {{"/secrets/timestamp", "x"}}, "secrets.timestamp", "built-in"},
      {"SecretsType", {{"/secrets", {"a"}}}, "secrets", "must be an object"},
      {"StepsRequired", {{"/steps", kRemove}}, "steps", "is required"},
      {"StepsEmpty", {{"/steps", Json::array()}}, "steps", "at least one step"},
      {"StepsTooMany", {{"/steps", Json::array()}}, "steps", "at most 100 steps"},  // filled in Apply
      {"UnknownTopLevel", {{"/intervall_s", 60}}, "intervall_s", "unknown field"},
      {"StepObject", {{"/steps/2", "tcp"}}, "steps[2]", "must be an object"},
      {"StepName", {{"/steps/2/name", kRemove}}, "steps[2].name", "is required"},
      {"StepNameLength", {{"/steps/2/name", std::string(257, 's')}}, "steps[2].name", "256"},
      {"StepType", {{"/steps/2/type", "udp"}},
       "steps[2].type", "must be one of http, browser, tcp, dns, tls"},
      {"StepTypeRequired", {{"/steps/2/type", kRemove}}, "steps[2].type", "is required"},
      {"StepTimeoutMin", {{"/steps/2/timeout_s", 0}}, "steps[2].timeout_s", "at least 1"},
      {"StepTimeoutOverDefinition", {{"/steps/2/timeout_s", 61}},
       "steps[2].timeout_s", "definition's timeout_s (60)"},
      {"StepContinue", {{"/steps/2/continue_on_failure", "no"}},
       "steps[2].continue_on_failure", "boolean"},
      {"StepFieldOfOtherType", {{"/steps/2/request", {{"url", "http://x"}}}},
       "steps[2].request", "unknown field"},
      // http
      {"RequestRequired", {{"/steps/0/request", kRemove}}, "steps[0].request", "is required"},
      {"UrlRequired", {{"/steps/0/request/url", kRemove}}, "steps[0].request.url", "required"},
      {"UrlScheme", {{"/steps/0/request/url", "ftp://x.example/"}},
       "steps[0].request.url", "absolute http:// or https:// URL"},
      {"UrlRelative", {{"/steps/0/request/url", "/api/search"}},
       "steps[0].request.url", "absolute"},
      {"UrlNoHost", {{"/steps/0/request/url", "https:///x"}}, "steps[0].request.url", "absolute"},
      {"UrlSpace", {{"/steps/0/request/url", "https://x.example/a b"}},
       "steps[0].request.url", "absolute"},
      {"UrlPort", {{"/steps/0/request/url", "https://x.example:70000/"}},
       "steps[0].request.url", "absolute"},
      {"UrlTemplatedScheme", {{"/steps/0/request/url", "ftp://{{host}}/x"}},
       "steps[0].request.url", "http:// or https://"},
      {"Method", {{"/steps/0/request/method", "get"}},
       "steps[0].request.method", "must be one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"},
      {"HeaderName", {{"/steps/0/request/headers", {{"Bad Header", "x"}}}},
       "steps[0].request.headers.Bad Header", "not a valid header name"},
      {"HeaderValueType", {{"/steps/0/request/headers", {{"X-N", 1}}}},
       "steps[0].request.headers.X-N", "must be a string"},
      {"HeaderValueNewline", {{"/steps/0/request/headers", {{"X-N", "a\r\nEvil: 1"}}}},
       "steps[0].request.headers.X-N", "line breaks"},
      {"Body", {{"/steps/0/request/body", Json::object()}},
       "steps[0].request.body", "must be a string"},
      {"FollowRedirects", {{"/steps/0/request/follow_redirects", "true"}},
       "steps[0].request.follow_redirects", "boolean"},
      {"TlsVerify", {{"/steps/0/request/tls_verify", 0}}, "steps[0].request.tls_verify", "boolean"},
      {"RequestUnknown", {{"/steps/0/request/timeout", 5}},
       "steps[0].request.timeout", "unknown field"},
      {"AssertType", {{"/steps/0/assert", {"status"}}}, "steps[0].assert[0]", "must be an object"},
      {"AssertArray", {{"/steps/0/assert", {{"type", "status"}}}},
       "steps[0].assert", "must be an array"},
      {"AssertUnknownType", {{"/steps/0/assert/0/type", "speed"}},
       "steps[0].assert[0].type", "must be one of status, header, body_contains"},
      {"StatusInEmpty", {{"/steps/0/assert/0/in", Json::array()}},
       "steps[0].assert[0].in", "must not be empty"},
      {"StatusInRequired", {{"/steps/0/assert/0/in", kRemove}},
       "steps[0].assert[0].in", "is required"},
      {"StatusInRange", {{"/steps/0/assert/0/in", {200, 600}}},
       "steps[0].assert[0].in[1]", "between 100 and 599"},
      {"StatusInType", {{"/steps/0/assert/0/in", {"200"}}},
       "steps[0].assert[0].in[0]", "must be an integer"},
      {"StatusExtraField", {{"/steps/0/assert/0/value", 200}},
       "steps[0].assert[0].value", "unknown field"},
      {"HeaderAssertName", {{"/steps/0/assert/1/name", kRemove}},
       "steps[0].assert[1].name", "is required"},
      {"HeaderAssertRegex", {{"/steps/0/assert/1/matches", "json("}},
       "steps[0].assert[1].matches", "not a valid regex: missing )"},
      {"BodyContainsValue", {{"/steps/0/assert/2/value", ""}},
       "steps[0].assert[2].value", "must not be empty"},
      {"BodyMatchesRegex", {{"/steps/0/assert/3/regex", "a)|(b"}},
       "steps[0].assert[3].regex", "not a valid regex"},
      {"BodyMatchesLookahead", {{"/steps/0/assert/3/regex", "a(?=b)"}},
       "steps[0].assert[3].regex", "not a valid regex"},
      {"JsonPathDollar", {{"/steps/0/assert/4/path", "items[0]"}},
       "steps[0].assert[4].path", "must start with $"},
      {"JsonPathBracket", {{"/steps/0/assert/4/path", "$.items[0"}},
       "steps[0].assert[4].path", "expected ']'"},
      {"JsonPathIndex", {{"/steps/0/assert/4/path", "$.items[x]"}},
       "steps[0].assert[4].path", "not a valid json path"},
      {"JsonPathNeither", {{"/steps/0/assert/4/exists", kRemove}},
       "steps[0].assert[4]", "exactly one of exists and equals"},
      {"JsonPathBoth", {{"/steps/0/assert/4/equals", 1}},
       "steps[0].assert[4]", "exactly one of exists and equals"},
      {"JsonPathWildcardEquals", {{"/steps/0/assert/5/path", "$.items[*].available"}},
       "steps[0].assert[5].path", "[*] may only be used with exists"},
      {"JsonPathExists", {{"/steps/0/assert/4/exists", "yes"}},
       "steps[0].assert[4].exists", "boolean"},
      {"MaxDuration", {{"/steps/0/assert/6/value", 0}}, "steps[0].assert[6].value", "at least 1"},
      {"ExtractVar", {{"/steps/0/extract/0/var", "1st"}},
       "steps[0].extract[0].var", "letters, digits"},
      {"ExtractVarBuiltin", {{"/steps/0/extract/0/var", "random_int"}},
       "steps[0].extract[0].var", "is a built-in name"},
      {"ExtractFrom", {{"/steps/0/extract/0/from", "cookie"}},
       "steps[0].extract[0].from", "must be one of json_path, regex, header"},
      {"ExtractWildcard", {{"/steps/0/extract/0/path", "$.items[*].id"}},
       "steps[0].extract[0].path", "[*]"},
      {"ExtractGroupTooBig", {{"/steps/0/extract/1/group", 2}},
       "steps[0].extract[1].group", "at most 1"},
      {"ExtractGroupNegative", {{"/steps/0/extract/1/group", -1}},
       "steps[0].extract[1].group", "at least 0"},
      {"ExtractRegex", {{"/steps/0/extract/1/regex", "csrf=([a-z"}},
       "steps[0].extract[1].regex", "not a valid regex"},
      {"ExtractFieldOfOtherFrom", {{"/steps/0/extract/1/path", "$.a"}},
       "steps[0].extract[1].path", "unknown field"},
      {"ExtractHeaderName", {{"/steps/0/extract/2/name", kRemove}},
       "steps[0].extract[2].name", "is required"},
      // browser
      {"ActionsRequired", {{"/steps/1/actions", kRemove}}, "steps[1].actions", "is required"},
      {"ActionsEmpty", {{"/steps/1/actions", Json::array()}},
       "steps[1].actions", "must not be empty"},
      {"ActionUnknown", {{"/steps/1/actions/0/action", "hover"}},
       "steps[1].actions[0].action", "must be one of navigate, click"},
      {"NavigateUrl", {{"/steps/1/actions/0/url", "javascript:alert(1)"}},
       "steps[1].actions[0].url", "absolute"},
      {"ClickSelector", {{"/steps/1/actions/1/selector", kRemove}},
       "steps[1].actions[1].selector", "is required"},
      {"FillValue", {{"/steps/1/actions/2/value", kRemove}},
       "steps[1].actions[2].value", "is required"},
      {"PressExtraField", {{"/steps/1/actions/3/selector", "#q"}},
       "steps[1].actions[3].selector", "unknown field"},
      {"SelectSelector", {{"/steps/1/actions/4/selector", 3}},
       "steps[1].actions[4].selector", "must be a string"},
      {"WaitTimeout", {{"/steps/1/actions/5/timeout_ms", 0}},
       "steps[1].actions[5].timeout_ms", "at least 1"},
      {"WaitTextTimeout", {{"/steps/1/actions/6/timeout_ms", 60001}},
       "steps[1].actions[6].timeout_ms", "step's timeout (60000 ms)"},
      {"AssertTextText", {{"/steps/1/actions/7/text", kRemove}},
       "steps[1].actions[7].text", "is required"},
      {"AssertUrlContains", {{"/steps/1/actions/8/contains", ""}},
       "steps[1].actions[8].contains", "must not be empty"},
      {"ScreenshotName", {{"/steps/1/actions/9/name", 1}},
       "steps[1].actions[9].name", "must be a string"},
      {"SleepNegative", {{"/steps/1/actions/10/ms", -1}}, "steps[1].actions[10].ms", "at least 0"},
      {"SleepOverTransaction", {{"/steps/1/actions/10/ms", 60001}},
       "steps[1].actions[10].ms", "step's timeout (60000 ms)"},
      {"SleepOverStep", {{"/steps/1/timeout_s", 6}, {"/steps/1/actions/10/ms", 6001}},
       "steps[1].actions[10].ms", "step's timeout (6000 ms)"},
      {"SleepRequired", {{"/steps/1/actions/10/ms", kRemove}},
       "steps[1].actions[10].ms", "is required"},
      {"EvaluateVar", {{"/steps/1/actions/11/var", "iso_time"}},
       "steps[1].actions[11].var", "is a built-in name"},
      {"EvaluateScript", {{"/steps/1/actions/11/script", kRemove}},
       "steps[1].actions[11].script", "is required"},
      // tcp, dns, tls
      {"TcpHost", {{"/steps/2/host", kRemove}}, "steps[2].host", "is required"},
      {"TcpHostUrl", {{"/steps/2/host", "tcp://db.example"}}, "steps[2].host", "host name"},
      {"TcpPortRequired", {{"/steps/2/port", kRemove}}, "steps[2].port", "is required"},
      {"TcpPortRange", {{"/steps/2/port", 65536}}, "steps[2].port", "between 1 and 65535"},
      {"TcpSend", {{"/steps/2/send", 5}}, "steps[2].send", "must be a string"},
      {"DnsQuery", {{"/steps/3/query", kRemove}}, "steps[3].query", "is required"},
      {"DnsRecord", {{"/steps/3/record", "SRV"}},
       "steps[3].record", "must be one of A, AAAA, CNAME, MX, TXT, NS"},
      {"DnsExpectType", {{"/steps/3/expect", "203.0.113.7"}}, "steps[3].expect", "array"},
      {"DnsExpectItem", {{"/steps/3/expect", {1}}}, "steps[3].expect[0]", "must be a string"},
      {"DnsResolver", {{"/steps/3/resolver", "dns.google"}}, "steps[3].resolver", "IP"},
      {"TlsPort", {{"/steps/4/port", "443"}}, "steps[4].port", "must be an integer"},
      {"TlsMinDays", {{"/steps/4/min_days_valid", -1}}, "steps[4].min_days_valid", "at least 0"},
      {"TlsUnknown", {{"/steps/4/min_days", 14}}, "steps[4].min_days", "unknown field"},
  };
  // clang-format on
}

Json Apply(const RuleCase& c) {
  Json doc = SpecExample();
  for (const auto& [pointer, value] : c.set) {
    const Json::json_pointer ptr(pointer);
    if (value == kRemove) {
      doc[ptr.parent_pointer()].erase(ptr.back());
    } else {
      doc[ptr] = value;
    }
  }
  if (std::string_view(c.rule) == "StepsTooMany") {
    for (int i = 0; i < 101; ++i) doc["steps"].push_back(SpecExample()["steps"][2]);
  }
  return doc;
}

class DefinitionRuleTest : public testing::TestWithParam<RuleCase> {};

TEST_P(DefinitionRuleTest, ReportsExactlyThisProblemAtItsPath) {
  const RuleCase& c = GetParam();
  FieldErrors errors;
  EXPECT_FALSE(ParseDefinition(Apply(c), &errors).has_value());
  ASSERT_EQ(errors.size(), 1u) << Describe(errors);
  EXPECT_EQ(errors[0].path, c.path) << Describe(errors);
  EXPECT_NE(errors[0].message.find(c.message), std::string::npos) << Describe(errors);
}

INSTANTIATE_TEST_SUITE_P(DefinitionRules, DefinitionRuleTest, testing::ValuesIn(RuleCases()),
                         [](const testing::TestParamInfo<RuleCase>& info) {
                           return std::string(info.param.rule);
                         });

TEST(DefinitionRules, TheBaseDocumentOfTheTableIsValid) { MustParse(SpecExample()); }

TEST(DefinitionRules, ReportsEveryProblemAtOnce) {
  Json doc = SpecExample();
  doc["id"] = "no spaces";
  doc["interval_s"] = 5;
  doc["steps"][0]["request"]["url"] = "mailto:x@example";
  doc["steps"][0]["assert"][0]["in"] = {99};
  doc["steps"][1]["actions"][3]["selector"] = "#q";
  doc["steps"][4]["port"] = 0;
  doc["typo"] = true;
  FieldErrors errors;
  EXPECT_FALSE(ParseDefinition(doc, &errors).has_value());
  std::vector<std::string> paths;
  for (const FieldError& e : errors) paths.push_back(e.path);
  EXPECT_EQ(paths, (std::vector<std::string>{
                       "id", "interval_s", "steps[0].request.url", "steps[0].assert[0].in[0]",
                       "steps[1].actions[3].selector", "steps[4].port", "typo"}))
      << Describe(errors);
}

TEST(DefinitionRules, NotAnObjectIsReportedAtTheRoot) {
  for (const Json& doc : {Json(nullptr), Json::array(), Json(5), Json("x")}) {
    FieldErrors errors;
    EXPECT_FALSE(ParseDefinition(doc, &errors).has_value());
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(errors[0], (FieldError{"", "must be an object"}));
  }
}

TEST(DefinitionRules, AppendsToExistingErrorsAndJudgesOnlyItsOwn) {
  FieldErrors errors = {{"earlier", "problem"}};
  EXPECT_TRUE(ParseDefinition(SpecExample(), &errors).has_value());
  EXPECT_EQ(errors.size(), 1u);
  Json doc = SpecExample();
  doc.erase("id");
  EXPECT_FALSE(ParseDefinition(doc, &errors).has_value());
  EXPECT_EQ(errors.size(), 2u);
}

TEST(DefinitionRules, AnInvalidTypeDoesNotCascade) {
  // The fields of a step of unknown type cannot be judged: only the type is reported.
  Json doc = SpecExample();
  doc["steps"][2]["type"] = "ssh";
  FieldErrors errors;
  EXPECT_FALSE(ParseDefinition(doc, &errors).has_value());
  ASSERT_EQ(errors.size(), 1u) << Describe(errors);
  // An invalid definition timeout is reported once, not again by every step and sleep.
  doc = SpecExample();
  doc["timeout_s"] = 1000;
  doc["steps"][1]["actions"][10]["ms"] = 500000;
  errors.clear();
  EXPECT_FALSE(ParseDefinition(doc, &errors).has_value());
  ASSERT_EQ(errors.size(), 1u) << Describe(errors);
  EXPECT_EQ(errors[0].path, "timeout_s");
}

TEST(DefinitionRules, AnyValueAnywhereIsJudgedWithoutThrowing) {
  // Every leaf of the spec example replaced by values of every JSON type: the parser must not
  // throw, must report something for every refusal, and what it accepts must round-trip.
  const Json flat = SpecExample().flatten();
  std::vector<Json> replacements = Json::parse(R"([null, 0, -1, 70000, 1.5, "", "x", "{{v}}", true,
                                            [], [1], {}, {"k": "v"}, "caf\u00e9"])")
                                       .get<std::vector<Json>>();
  replacements.push_back(std::string("caf\xE9"));  // not UTF-8
  for (const auto& [pointer, original] : flat.items()) {
    for (const Json& replacement : replacements) {
      Json doc = SpecExample();
      doc[Json::json_pointer(pointer)] = replacement;
      FieldErrors errors;
      std::optional<TransactionDefinition> def;
      ASSERT_NO_THROW(def = ParseDefinition(doc, &errors)) << pointer;
      EXPECT_EQ(def.has_value(), errors.empty())
          << pointer << " = " << replacement.dump(-1, ' ', false, Json::error_handler_t::replace);
      if (!def) continue;
      const Json canonical = DefinitionToJson(*def, SecretsMode::kInclude);
      EXPECT_NO_THROW((void)canonical.dump());
      FieldErrors again;
      EXPECT_EQ(ParseDefinition(canonical, &again), def) << pointer << Describe(again);
    }
  }
}

// ---- documents ---------------------------------------------------------------------------------

Json MustParseDocument(std::string_view text, std::string_view content_type) {
  Result<Json> doc = ParseDocument(text, content_type);
  EXPECT_TRUE(doc.ok()) << doc.status().ToString();
  return doc.value_or(Json());
}

TEST(DefinitionDocument, YamlAndJsonGiveTheSameCanonicalJson) {
  const Json from_json = MustParseDocument(kSpecExample, "application/json");
  const Json from_yaml = MustParseDocument(kSpecExampleYaml, "application/yaml; charset=utf-8");
  const Json canonical_json = DefinitionToJson(MustParse(from_json), SecretsMode::kInclude);
  const Json canonical_yaml = DefinitionToJson(MustParse(from_yaml), SecretsMode::kInclude);
  EXPECT_EQ(canonical_yaml, canonical_json) << canonical_yaml.dump(1);
  EXPECT_EQ(canonical_json["steps"][0]["request"]["body"], R"({"q": "чайник"})");
}

TEST(DefinitionDocument, SniffsJsonThenYaml) {
  EXPECT_EQ(MustParseDocument(R"({"a": [1, "2"]})", ""), Json::parse(R"({"a": [1, "2"]})"));
  EXPECT_EQ(MustParseDocument("a: [1, '2']\n", ""), Json::parse(R"({"a": [1, "2"]})"));
  EXPECT_EQ(MustParseDocument("{a: 1}", " "), Json::parse(R"({"a": 1})"));  // flow YAML
  for (std::string_view type : {"application/x-yaml", "text/yaml", "Application/YAML"}) {
    EXPECT_EQ(MustParseDocument("a: 1", type), Json::parse(R"({"a": 1})")) << type;
  }
}

TEST(DefinitionDocument, YamlScalarsKeepTheTypesJsonWouldGive) {
  const Json doc = MustParseDocument(R"yaml(
int: 42
negative: -7
big: 18446744073709551615
hex: 0x1F
float: 1.5
exp: 1e3
yes_no: [true, false, True, FALSE]
nulls: [~, null, Null]
empty:
quoted: ["42", 'true', "null", '1.5']
block: |
  two
  lines
leading_zero: 0042
yaml11_words: [yes, no, on, off, NO]
tagged: [!!str 5, !!int "6"]
text: 3 apples
)yaml",
                                     "application/yaml");
  const Json expected = Json::parse(R"({
    "int": 42, "negative": -7, "big": 18446744073709551615, "hex": 31, "float": 1.5,
    "exp": 1000.0, "yes_no": [true, false, true, false], "nulls": [null, null, null],
    "empty": null, "quoted": ["42", "true", "null", "1.5"], "block": "two\nlines\n",
    "leading_zero": "0042", "yaml11_words": ["yes", "no", "on", "off", "NO"],
    "tagged": ["5", 6], "text": "3 apples"})");
  EXPECT_EQ(doc, expected) << doc.dump();
  EXPECT_TRUE(doc["int"].is_number_integer());
  EXPECT_TRUE(doc["exp"].is_number_float());
}

TEST(DefinitionDocument, RefusesWhatHasNoSafeJsonForm) {
  struct Bad {
    std::string_view text;
    std::string_view content_type;
    std::string_view message;  // a part of it
  };
  const std::string deep_json = std::string(100, '[') + std::string(100, ']');
  std::string deep_yaml;
  for (int i = 0; i < 100; ++i) deep_yaml += std::string(static_cast<size_t>(i), ' ') + "a:\n";
  deep_yaml += std::string(100, ' ') + "b: 1\n";
  const Bad cases[] = {
      {"{\"a\": 1,}", "application/json", "invalid JSON: parse error at line 1, column 9"},
      {"{\"a\":\n [1, 2}", "", "invalid JSON: parse error at line 2"},
      {"a: 1", "application/json", "invalid JSON"},
      {"a: [1\n", "application/yaml", "invalid YAML: line 2, column 1"},
      {"a: &x [1]\nb: *x\n", "text/yaml", "line 2, column 4: aliases"},
      {"a: 1\na: 2\n", "", "line 2, column 1: duplicate key 'a'"},
      {R"({"a": {"b": 1, "c": {"b": 2}, "b": 3}})", "", "invalid JSON: duplicate key 'b'"},
      {"a: 1\n---\nb: 2\n", "", "only one document"},
      {"[1]: x\n", "application/yaml", "keys must be strings"},
      {"a: !secret x\n", "", "tag !secret is not supported"},
      {"a: .inf\n", "", "'.inf' has no JSON form"},
      {"a: !!int x\n", "", "not a valid tag:yaml.org,2002:int"},
      {"", "", "empty document"},
      {"# nothing\n", "application/yaml", "empty document"},
      {"a: \"caf\xE9\"\n", "", "not valid UTF-8 at line 1, column 8"},
      {"a: 1", "text/plain", "unsupported content type 'text/plain'"},
      {deep_json, "application/json", "nested deeper than 64 levels"},
      {deep_json, "", "invalid JSON: nested deeper than 64 levels"},
      {deep_yaml, "application/yaml", "nested deeper than 64 levels"},
  };
  for (const Bad& c : cases) {
    Result<Json> doc = ParseDocument(c.text, c.content_type);
    ASSERT_FALSE(doc.ok()) << c.text;
    EXPECT_EQ(doc.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(doc.status().message().find(c.message), std::string::npos)
        << c.text << " → " << doc.status().message();
    EXPECT_EQ(doc.status().message().find('\n'), std::string::npos) << doc.status().message();
    EXPECT_TRUE(IsValidUtf8(doc.status().message()));
  }
}

TEST(DefinitionDocument, AnyPrefixOrByteFlipIsParsedOrRefusedWithoutThrowing) {
  for (std::string_view text : {kSpecExample, kSpecExampleYaml}) {
    for (size_t n = 0; n <= text.size(); n += 7) {
      std::string mutated(text.substr(0, n));
      EXPECT_NO_THROW((void)ParseDocument(mutated, ""));
      if (n < text.size()) mutated += static_cast<char>(text[n] ^ 0x20);
      mutated += text.substr(std::min(n + 1, text.size()));
      Result<Json> doc = ParseDocument(mutated, "");
      if (!doc.ok()) continue;
      FieldErrors errors;
      EXPECT_NO_THROW((void)ParseDefinition(*doc, &errors));
    }
  }
}

// ---- canonical JSON --------------------------------------------------------------------------

TEST(DefinitionJson, OmitModeNeverCarriesSecretValues) {
  Json doc = SpecExample();
  doc["secrets"] = {{"zeta_token", "s3cr3t-zeta"}, {"card", "4111111111111111"}};
  const TransactionDefinition def = MustParse(doc);
  const Json shown = DefinitionToJson(def, SecretsMode::kOmit);
  const std::string text = shown.dump();
  EXPECT_EQ(text.find("s3cr3t-zeta"), std::string::npos);
  EXPECT_EQ(text.find("4111111111111111"), std::string::npos);
  EXPECT_FALSE(shown.contains("secrets"));
  EXPECT_EQ(shown.value("secret_names", Json()), Json::parse(R"(["card", "zeta_token"])"));
  EXPECT_EQ(DefinitionToOrderedJson(def, SecretsMode::kOmit).dump().find("s3cr3t"),
            std::string::npos);

  const Json robot = DefinitionToJson(def, SecretsMode::kInclude);
  EXPECT_EQ(robot["secrets"]["zeta_token"], "s3cr3t-zeta");
  EXPECT_FALSE(robot.contains("secret_names"));
}

TEST(DefinitionJson, CanonicalFormParsesBackToTheSameDefinition) {
  const TransactionDefinition def = MustParse(SpecExample());
  const Json canonical = DefinitionToJson(def, SecretsMode::kInclude);
  EXPECT_EQ(MustParse(canonical), def);
  EXPECT_EQ(DefinitionToJson(MustParse(canonical), SecretsMode::kInclude), canonical);
  // A canonical document is a spec example with its defaults written out.
  EXPECT_EQ(canonical["steps"][0]["assert"], SpecExample()["steps"][0]["assert"]);
  EXPECT_EQ(canonical["steps"][1]["actions"], SpecExample()["steps"][1]["actions"]);
  EXPECT_EQ(canonical["retries"]["backoff"], "fixed");
}

TEST(DefinitionJson, OrderedFormKeepsTheSpecFieldOrder) {
  const auto ordered = DefinitionToOrderedJson(MustParse(SpecExample()), SecretsMode::kOmit);
  std::vector<std::string> keys;
  for (const auto& [key, value] : ordered.items()) keys.push_back(key);
  EXPECT_EQ(keys, (std::vector<std::string>{"id", "name", "application", "enabled", "interval_s",
                                            "timeout_s", "retries", "locations", "robot_selector",
                                            "variables", "secret_names", "steps"}));
  EXPECT_EQ(ordered["steps"][0].begin().key(), "name");
  EXPECT_EQ(ordered["steps"][0]["request"].begin().key(), "method");
}

// ---- templates -------------------------------------------------------------------------------

TEST(DefinitionTemplates, FindsNamesInEveryNestedStepString) {
  Json doc = SpecExample();
  doc["steps"][0]["name"] = "{{not_a_use}}";  // a step's name is never substituted
  doc["steps"][0]["request"]["headers"]["Authorization"] = "Bearer {{token}}";
  doc["steps"][0]["request"]["body"] = R"({"csrf": "{{csrf}}", "at": {{timestamp}}})";
  doc["steps"][0]["assert"][5]["equals"] = {{"id", "{{item}}"}, {"n", {"{{ spaced }}"}}};
  doc["steps"][2]["send"] = "AUTH {{user}}{{user}}\r\n";
  doc["steps"][3]["expect"] = {"{{dns_ip}}"};
  doc["steps"][1]["actions"][11]["script"] = "check('{{title}}', '{{{braced}}}')";
  const TransactionDefinition def = MustParse(doc);
  EXPECT_EQ(TemplateNames(def),
            (std::vector<std::string>{"base", "braced", "card", "csrf", "dns_ip", "item",
                                      "timestamp", "title", "token", "user"}));
}

TEST(DefinitionTemplates, NamesInText) {
  EXPECT_EQ(TemplateNamesIn("{{a}}/{{b_2}}{{a}} {{ c }} {{3d}} {{e"),
            (std::vector<std::string>{"a", "b_2", "a"}));
  EXPECT_TRUE(IsTemplateName("_x9"));
  EXPECT_FALSE(IsTemplateName("9x"));
  EXPECT_FALSE(IsTemplateName("a-b"));
  EXPECT_TRUE(IsBuiltinTemplateName("iso_time"));
  EXPECT_FALSE(IsBuiltinTemplateName("base"));
}

TEST(DefinitionTemplates, TemplatedFieldsAreCheckedAsFarAsTheLiteralTextAllows) {
  Json doc = SpecExample();
  doc["steps"][0]["request"]["url"] = "https://{{host}}:{{port}}/x";
  doc["steps"][0]["assert"][4]["path"] = "$.items[{{i}}].{{field}}";
  doc["steps"][0]["extract"][1]["regex"] = "{{prefix}}=([a-z]+)";
  MustParse(doc);
  doc["steps"][0]["extract"][1]["regex"] = "{{prefix}}=([a-z]+";
  FieldErrors errors;
  EXPECT_FALSE(ParseDefinition(doc, &errors).has_value());
  ASSERT_EQ(errors.size(), 1u) << Describe(errors);
  EXPECT_EQ(errors[0].path, "steps[0].extract[1].regex");
}

// ---- json_path -------------------------------------------------------------------------------

TEST(DefinitionJsonPath, ParsesTheSupportedSyntax) {
  using K = JsonPathSegment::Kind;
  EXPECT_EQ(*ParseJsonPath("$"), std::vector<JsonPathSegment>{});
  EXPECT_EQ(*ParseJsonPath("$.items[-1]['a b'][\"c\"][*].ид"),
            (std::vector<JsonPathSegment>{{K::kKey, "items", 0},
                                          {K::kIndex, "", -1},
                                          {K::kKey, "a b", 0},
                                          {K::kKey, "c", 0},
                                          {K::kWildcard, "", 0},
                                          {K::kKey, "ид", 0}}));
  EXPECT_EQ(*ParseJsonPath(R"($['it\'s'])"), (std::vector<JsonPathSegment>{{K::kKey, "it's", 0}}));
  for (std::string_view bad : {"", "items", "$.", "$..a", "$.*", "$[", "$[1", "$['a'", "$[a]",
                               "$[-]", "$[1.5]", "$a", "$[99999999999999999999]"}) {
    EXPECT_FALSE(ParseJsonPath(bad).ok()) << bad;
  }
}

TEST(DefinitionNames, MatchTheSpec) {
  EXPECT_EQ(DnsRecordName(DnsRecord::kAaaa), "AAAA");
  EXPECT_EQ(BackoffName(Backoff::kLinear), "linear");
  EXPECT_EQ(ExtractFromName(ExtractFrom::kHeader), "header");
}

}  // namespace
}  // namespace pa::synth
