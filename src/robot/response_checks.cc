#include "robot/response_checks.h"

#include <re2/re2.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <span>
#include <variant>

#include "base/strings.h"
#include "fmt/format.h"

namespace pa::robot {
namespace {

using synth::JsonPathSegment;

void Select(const Json& node, std::span<const JsonPathSegment> path,
            std::vector<const Json*>& out) {
  if (path.empty()) {
    out.push_back(&node);
    return;
  }
  const JsonPathSegment& seg = path.front();
  const auto rest = path.subspan(1);
  switch (seg.kind) {
    case JsonPathSegment::Kind::kKey:
      if (node.is_object()) {
        if (auto it = node.find(seg.key); it != node.end()) Select(*it, rest, out);
      }
      break;
    case JsonPathSegment::Kind::kIndex:
      if (node.is_array()) {
        const auto size = static_cast<int64_t>(node.size());
        const int64_t i = seg.index < 0 ? size + seg.index : seg.index;
        if (i >= 0 && i < size) Select(node[static_cast<size_t>(i)], rest, out);
      }
      break;
    case JsonPathSegment::Kind::kWildcard:
      if (node.is_array() || node.is_object()) {
        for (const Json& child : node) Select(child, rest, out);
      }
      break;
  }
}

// The JSON body, parsed on first use.
class LazyJson {
 public:
  explicit LazyJson(std::string_view body) : body_(body) {}
  const Json* Get() {
    if (!tried_) {
      tried_ = true;
      std::string error;
      doc_ = ParseJson(body_, &error);
    }
    return doc_ ? &*doc_ : nullptr;
  }

 private:
  std::string_view body_;
  bool tried_ = false;
  std::optional<Json> doc_;
};

std::unique_ptr<RE2> CompileRegex(const std::string& pattern, std::string* error) {
  RE2::Options options;
  options.set_log_errors(false);
  auto re = std::make_unique<RE2>(pattern, options);
  if (!re->ok()) {
    *error = "invalid regex '" + pattern + "': " + re->error();
    return nullptr;
  }
  return re;
}

std::string Quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

std::string JsonText(const Json& j) {
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// One assertion's evaluation: a StepAssertion or, for a template/regex that cannot be used, a
// script failure.
class AssertionChecker {
 public:
  AssertionChecker(const ReceivedResponse& resp, const RunContext& ctx, StepRecorder& rec,
                   LazyJson& json)
      : resp_(resp), ctx_(ctx), rec_(rec), json_(json) {}

  void operator()(const synth::StatusAssertion& a) {
    const bool passed = std::find(a.in.begin(), a.in.end(), resp_.status_code) != a.in.end();
    std::string in;
    for (int code : a.in) in += (in.empty() ? "" : ", ") + std::to_string(code);
    rec_.Assert("status", passed,
                passed ? fmt::format("status {}", resp_.status_code)
                       : fmt::format("status {}, expected one of {}", resp_.status_code, in));
  }

  void operator()(const synth::HeaderAssertion& a) {
    std::string name, pattern;
    if (!Sub("header", a.name, &name) || !Sub("header", a.matches, &pattern)) return;
    std::string error;
    auto re = CompileRegex(pattern, &error);
    if (!re) return ScriptError("header", error);
    const std::optional<std::string_view> value = resp_.Header(name);
    if (!value) return rec_.Assert("header", false, "header " + Quoted(name) + " is missing");
    const bool passed = RE2::PartialMatch(*value, *re);
    rec_.Assert("header", passed,
                "header " + Quoted(name) + " value " + Quoted(*value) +
                    (passed ? " matches " : " does not match ") + Quoted(pattern));
  }

  void operator()(const synth::BodyContainsAssertion& a) {
    std::string value;
    if (!Sub("body_contains", a.value, &value)) return;
    const bool passed = resp_.body.find(value) != std::string::npos;
    rec_.Assert("body_contains", passed,
                (passed ? "body contains " : "body does not contain ") + Quoted(value));
  }

  void operator()(const synth::BodyMatchesAssertion& a) {
    std::string pattern, error;
    if (!Sub("body_matches", a.regex, &pattern)) return;
    auto re = CompileRegex(pattern, &error);
    if (!re) return ScriptError("body_matches", error);
    const bool passed = RE2::PartialMatch(resp_.body, *re);
    rec_.Assert("body_matches", passed,
                (passed ? "body matches " : "body does not match ") + Quoted(pattern));
  }

  void operator()(const synth::JsonPathAssertion& a) {
    std::string path;
    if (!Sub("json_path", a.path, &path)) return;
    const Json* doc = json_.Get();
    if (doc == nullptr) return rec_.Assert("json_path", false, path + ": the body is not JSON");
    Result<std::vector<const Json*>> found = SelectJsonPath(*doc, path);
    if (!found.ok()) return ScriptError("json_path", path + ": " + found.status().message());
    if (a.exists) {
      const bool exists = !found->empty();
      const bool passed = exists == *a.exists;
      rec_.Assert("json_path", passed,
                  path + (exists ? " exists" : " does not exist") +
                      (passed ? "" : (*a.exists ? ", expected it to" : ", expected it not to")));
      return;
    }
    Json expected = a.equals.value_or(Json());
    if (expected.is_string()) {
      std::string text;
      if (!Sub("json_path", expected.get<std::string>(), &text)) return;
      expected = std::move(text);
    }
    if (found->empty()) {
      return rec_.Assert("json_path", false,
                         path + " does not exist, expected " + JsonText(expected));
    }
    const Json& actual = *found->front();
    const bool passed = actual == expected;  // nlohmann compares 5 and 5.0 as numbers
    rec_.Assert("json_path", passed,
                passed ? path + " equals " + JsonText(expected)
                       : path + " is " + JsonText(actual) + ", expected " + JsonText(expected));
  }

  void operator()(const synth::MaxDurationAssertion& a) {
    const bool passed = resp_.duration_ms <= a.value;
    rec_.Assert("max_duration_ms", passed,
                fmt::format("took {:.1f} ms, limit {} ms", resp_.duration_ms, a.value));
  }

 private:
  // Substitutes `text` into `*out`; on failure records a failed assertion of type script.
  bool Sub(std::string_view type, std::string_view text, std::string* out) {
    Result<std::string> r = ctx_.Substitute(text);
    if (!r.ok()) {
      ScriptError(type, r.status().message());
      return false;
    }
    *out = std::move(*r);
    return true;
  }
  void ScriptError(std::string_view type, const std::string& message) {
    rec_.Fail(StepErrorType::kScript, message);
    rec_.Assert(std::string(type), false, message);
  }

  const ReceivedResponse& resp_;
  const RunContext& ctx_;
  StepRecorder& rec_;
  LazyJson& json_;
};

// The value `x` extracts, or a message saying why there is none.
Result<std::string> Extract(const synth::Extraction& x, const ReceivedResponse& resp,
                            const RunContext& ctx, LazyJson& json) {
  switch (x.from) {
    case synth::ExtractFrom::kJsonPath: {
      PA_ASSIGN_OR_RETURN(std::string path, ctx.Substitute(x.path));
      const Json* doc = json.Get();
      if (doc == nullptr) return NotFoundError(path + ": the body is not JSON");
      PA_ASSIGN_OR_RETURN(std::vector<const Json*> found, SelectJsonPath(*doc, path));
      if (found.empty()) return NotFoundError(path + " not found in the body");
      const Json& v = *found.front();
      return v.is_string() ? v.get<std::string>() : JsonText(v);
    }
    case synth::ExtractFrom::kRegex: {
      PA_ASSIGN_OR_RETURN(std::string pattern, ctx.Substitute(x.regex));
      std::string error;
      auto re = CompileRegex(pattern, &error);
      if (!re) return InvalidArgumentError(error);
      if (x.group > re->NumberOfCapturingGroups()) {
        return InvalidArgumentError("regex " + Quoted(pattern) + " has no group " +
                                    std::to_string(x.group));
      }
      std::vector<re2::StringPiece> groups(static_cast<size_t>(x.group) + 1);
      if (!re->Match(resp.body, 0, resp.body.size(), RE2::UNANCHORED, groups.data(),
                     static_cast<int>(groups.size()))) {
        return NotFoundError("regex " + Quoted(pattern) + " does not match the body");
      }
      const re2::StringPiece g = groups.back();
      return std::string(g.data() == nullptr ? "" : std::string_view(g.data(), g.size()));
    }
    case synth::ExtractFrom::kHeader: {
      PA_ASSIGN_OR_RETURN(std::string name, ctx.Substitute(x.name));
      const std::optional<std::string_view> value = resp.Header(name);
      if (!value) return NotFoundError("header " + Quoted(name) + " is missing");
      return std::string(*value);
    }
  }
  return InternalError("unknown extraction");
}

}  // namespace

std::optional<std::string_view> ReceivedResponse::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoreCase(key, name)) return std::string_view(value);
  }
  return std::nullopt;
}

Result<std::vector<const Json*>> SelectJsonPath(const Json& doc, std::string_view path) {
  PA_ASSIGN_OR_RETURN(std::vector<JsonPathSegment> segments, synth::ParseJsonPath(path));
  std::vector<const Json*> out;
  Select(doc, segments, out);
  return out;
}

void CheckResponse(const synth::HttpStep& step, const ReceivedResponse& response, RunContext& ctx,
                   StepRecorder& rec) {
  const bool has_status_assertion =
      std::any_of(step.asserts.begin(), step.asserts.end(), [](const synth::HttpAssertion& a) {
        return std::holds_alternative<synth::StatusAssertion>(a);
      });
  if (!has_status_assertion && (response.status_code < 200 || response.status_code >= 400)) {
    rec.Fail(StepErrorType::kHttp, fmt::format("HTTP status {}", response.status_code));
  }
  LazyJson json(response.body);
  AssertionChecker checker(response, ctx, rec, json);
  for (const synth::HttpAssertion& a : step.asserts) std::visit(checker, a);

  for (const synth::Extraction& x : step.extracts) {
    Result<std::string> value = Extract(x, response, ctx, json);
    if (value.ok()) {
      ctx.SetExtracted(x.var, std::move(*value));
      continue;
    }
    const bool not_found = value.status().code() == StatusCode::kNotFound;
    rec.Fail(not_found ? StepErrorType::kAssertion : StepErrorType::kScript,
             "extract " + Quoted(x.var) + ": " + value.status().message());
  }
}

}  // namespace pa::robot
