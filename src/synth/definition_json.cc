// DefinitionToJson: the canonical JSON form of a definition, and TemplateNames, which reads the
// steps through it so that every string field is covered without listing them twice.
#include <set>
#include <string>
#include <variant>

#include "synth/definition.h"
#include "synth/definition_reader.h"

namespace pa::synth {

using namespace definition_internal;  // NOLINT: the internal helpers of this one component

namespace {

using OJson = nlohmann::ordered_json;

template <typename... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <typename... F>
Overloaded(F...) -> Overloaded<F...>;

OJson StringMapToJson(const std::map<std::string, std::string>& map) {
  OJson out = OJson::object();
  for (const auto& [key, value] : map) out[key] = value;
  return out;
}

OJson AssertionToJson(const HttpAssertion& assertion) {
  OJson out = OJson::object();
  out["type"] = kAssertTypeNames[assertion.index()];
  std::visit(Overloaded{
                 [&](const StatusAssertion& a) { out["in"] = a.in; },
                 [&](const HeaderAssertion& a) {
                   out["name"] = a.name;
                   out["matches"] = a.matches;
                 },
                 [&](const BodyContainsAssertion& a) { out["value"] = a.value; },
                 [&](const BodyMatchesAssertion& a) { out["regex"] = a.regex; },
                 [&](const JsonPathAssertion& a) {
                   out["path"] = a.path;
                   if (a.exists) out["exists"] = *a.exists;
                   if (a.equals) out["equals"] = OJson(*a.equals);
                 },
                 [&](const MaxDurationAssertion& a) { out["value"] = a.value; },
             },
             assertion);
  return out;
}

OJson ExtractionToJson(const Extraction& e) {
  OJson out = OJson::object();
  out["var"] = e.var;
  out["from"] = ExtractFromName(e.from);
  switch (e.from) {
    case ExtractFrom::kJsonPath:
      out["path"] = e.path;
      break;
    case ExtractFrom::kRegex:
      out["regex"] = e.regex;
      out["group"] = e.group;
      break;
    case ExtractFrom::kHeader:
      out["name"] = e.name;
      break;
  }
  return out;
}

OJson ActionToJson(const BrowserAction& action) {
  OJson out = OJson::object();
  out["action"] = ActionName(action);
  auto optional = [&](const char* key, const std::string& value) {
    if (!value.empty()) out[key] = value;
  };
  auto timeout = [&](const std::optional<int>& ms) {
    if (ms) out["timeout_ms"] = *ms;
  };
  std::visit(Overloaded{
                 [&](const NavigateAction& a) { out["url"] = a.url; },
                 [&](const ClickAction& a) { out["selector"] = a.selector; },
                 [&](const FillAction& a) {
                   out["selector"] = a.selector;
                   out["value"] = a.value;
                 },
                 [&](const PressAction& a) { out["key"] = a.key; },
                 [&](const SelectAction& a) {
                   out["selector"] = a.selector;
                   out["value"] = a.value;
                 },
                 [&](const WaitForSelectorAction& a) {
                   out["selector"] = a.selector;
                   timeout(a.timeout_ms);
                 },
                 [&](const WaitForTextAction& a) {
                   out["text"] = a.text;
                   timeout(a.timeout_ms);
                 },
                 [&](const AssertTextAction& a) {
                   out["text"] = a.text;
                   optional("selector", a.selector);
                 },
                 [&](const AssertUrlAction& a) { out["contains"] = a.contains; },
                 [&](const ScreenshotAction& a) { optional("name", a.name); },
                 [&](const SleepAction& a) { out["ms"] = a.ms; },
                 [&](const EvaluateAction& a) {
                   out["script"] = a.script;
                   optional("var", a.var);
                 },
             },
             action);
  return out;
}

void AddKindFields(const StepKind& kind, OJson& out) {
  std::visit(Overloaded{
                 [&](const HttpStep& s) {
                   OJson request = OJson::object();
                   request["method"] = s.request.method;
                   request["url"] = s.request.url;
                   request["headers"] = StringMapToJson(s.request.headers);
                   if (s.request.body) request["body"] = *s.request.body;
                   request["follow_redirects"] = s.request.follow_redirects;
                   request["tls_verify"] = s.request.tls_verify;
                   out["request"] = std::move(request);
                   out["assert"] = OJson::array();
                   for (const auto& a : s.asserts) out["assert"].push_back(AssertionToJson(a));
                   out["extract"] = OJson::array();
                   for (const auto& e : s.extracts) out["extract"].push_back(ExtractionToJson(e));
                 },
                 [&](const BrowserStep& s) {
                   out["actions"] = OJson::array();
                   for (const auto& a : s.actions) out["actions"].push_back(ActionToJson(a));
                 },
                 [&](const TcpStep& s) {
                   out["host"] = s.host;
                   out["port"] = s.port;
                   if (s.send) out["send"] = *s.send;
                   if (s.expect) out["expect"] = *s.expect;
                 },
                 [&](const DnsStep& s) {
                   out["query"] = s.query;
                   out["record"] = DnsRecordName(s.record);
                   out["expect"] = s.expect;
                   if (s.resolver) out["resolver"] = *s.resolver;
                 },
                 [&](const TlsStep& s) {
                   out["host"] = s.host;
                   out["port"] = s.port;
                   if (s.min_days_valid) out["min_days_valid"] = *s.min_days_valid;
                 },
             },
             kind);
}

OJson StepToJson(const Step& step) {
  OJson out = OJson::object();
  out["name"] = step.name;
  out["type"] = StepTypeName(step);
  if (step.timeout_s) out["timeout_s"] = *step.timeout_s;
  out["continue_on_failure"] = step.continue_on_failure;
  AddKindFields(step.kind, out);
  return out;
}

void CollectTemplateNames(const OJson& value, std::set<std::string>* names) {
  if (value.is_string()) {
    for (std::string& name : TemplateNamesIn(value.get_ref<const std::string&>())) {
      names->insert(std::move(name));
    }
  } else if (value.is_structured()) {
    for (const OJson& item : value) CollectTemplateNames(item, names);
  }
}

}  // namespace

OJson DefinitionToOrderedJson(const TransactionDefinition& def, SecretsMode mode) {
  OJson out = OJson::object();
  out["id"] = def.id;
  out["name"] = def.name;
  if (def.application) out["application"] = *def.application;
  if (def.description) out["description"] = *def.description;
  out["enabled"] = def.enabled;
  out["interval_s"] = def.interval_s;
  out["timeout_s"] = def.timeout_s;
  out["retries"] = {{"count", def.retries.count},
                    {"backoff", BackoffName(def.retries.backoff)},
                    {"delay_s", def.retries.delay_s},
                    {"same_robot", def.retries.same_robot}};
  out["locations"] = def.locations;
  out["robot_selector"] = StringMapToJson(def.robot_selector);
  out["variables"] = StringMapToJson(def.variables);
  if (mode == SecretsMode::kInclude) {
    out["secrets"] = StringMapToJson(def.secrets);
  } else {
    OJson names = OJson::array();
    for (const auto& [name, value] : def.secrets) names.push_back(name);
    out["secret_names"] = std::move(names);
  }
  out["steps"] = OJson::array();
  for (const Step& step : def.steps) out["steps"].push_back(StepToJson(step));
  return out;
}

Json DefinitionToJson(const TransactionDefinition& def, SecretsMode mode) {
  return Json(DefinitionToOrderedJson(def, mode));
}

std::vector<std::string> TemplateNames(const TransactionDefinition& def) {
  std::set<std::string> names;
  for (const Step& step : def.steps) {
    OJson json = StepToJson(step);
    json.erase("name");  // reported as written, never substituted
    CollectTemplateNames(json, &names);
  }
  return {names.begin(), names.end()};
}

}  // namespace pa::synth
