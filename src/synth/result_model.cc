// ParseResult: one pass over the document, reading each field into TransactionResult while
// checking it with a FieldReader (which holds the generic rules: types, lengths, timestamps).
// Valid documents allocate only what the result keeps: its strings, the steps and the one copy
// of the document in `raw`.
#include "synth/result_model.h"

#include <algorithm>
#include <cmath>

#include "base/time_format.h"
#include "synth/field_reader.h"

namespace pa::synth {
namespace {

constexpr size_t kMaxIdChars = 128;
constexpr size_t kMaxNameChars = 256;
constexpr size_t kMaxMessageChars = 4096;
constexpr size_t kMaxUrlChars = 2048;
constexpr size_t kMaxScreenshotChars = 256;
constexpr size_t kMaxAssertionMessageChars = 1024;
constexpr size_t kMaxDetailKeyChars = 64;
constexpr size_t kMaxDetailValueChars = 1024;
constexpr size_t kMaxAttributeKeyChars = 128;
constexpr size_t kMaxAttributeValueChars = 1024;

constexpr std::string_view kRunStatusNames[] = {"success", "error"};              // enum order
constexpr std::string_view kStepStatusNames[] = {"success", "error", "skipped"};  // enum order
constexpr std::string_view kErrorTypeNames[] = {"assertion", "timeout", "http",
                                                "network",   "script",  "other"};

struct TimingKey {
  std::string_view name;
  std::optional<double> StepTimings::*field;
};
constexpr TimingKey kTimingKeys[] = {
    {"dns_ms", &StepTimings::dns_ms},
    {"connect_ms", &StepTimings::connect_ms},
    {"tls_ms", &StepTimings::tls_ms},
    {"ttfb_ms", &StepTimings::ttfb_ms},
    {"download_ms", &StepTimings::download_ms},
    {"dom_content_loaded_ms", &StepTimings::dom_content_loaded_ms},
    {"load_ms", &StepTimings::load_ms},
    {"lcp_ms", &StepTimings::lcp_ms},
    {"cls", &StepTimings::cls},
    {"inp_ms", &StepTimings::inp_ms},
};

// transaction_id: [A-Za-z0-9._:-]
bool IsIdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == ':' || c == '-';
}

using Path = FieldPath;
Path Member(const Path& parent, std::string_view key) { return Path::Member(parent, key); }
Path Element(const Path& parent, size_t i) { return Path::Element(parent, i); }

// A valid run interval, for the steps' "inside the transaction's interval" rule.
struct Interval {
  int64_t started_at_ms, finished_at_ms;
};

// The rules specific to the result model, on top of FieldReader's.
class Reader : public FieldReader {
 public:
  Reader(int64_t now_ms, FieldErrors* errors) : FieldReader(now_ms, kMaxFutureMs, errors) {}

  void ReadRun(const Json& doc, const Path& root, TransactionResult* r);

 private:
  // Reads started_at/finished_at of `obj` into *started/*finished; whether both are valid and
  // in order.
  bool ReadInterval(const Json& obj, const Path& parent, int64_t* started, int64_t* finished) {
    const std::optional<int64_t> s = Timestamp(obj, parent, "started_at");
    const std::optional<int64_t> f = Timestamp(obj, parent, "finished_at");
    if (s) *started = *s;
    if (f) *finished = *f;
    if (!s || !f) return false;
    if (*f < *s) {
      Fail(Member(parent, "finished_at"), "must not be before started_at");
      return false;
    }
    return true;
  }

  void CheckInsideRun(const Path& at, int64_t ms, const Interval& run) {
    if (ms >= run.started_at_ms - kStepToleranceMs && ms <= run.finished_at_ms + kStepToleranceMs) {
      return;
    }
    Fail(at, "must be inside the transaction's interval " + FormatRfc3339Ms(run.started_at_ms) +
                 " .. " + FormatRfc3339Ms(run.finished_at_ms) + " (1 s tolerance)");
  }

  bool ReadSteps(const Json& steps, const Path& at, const Interval* run, TransactionResult* r);
  bool ReadStep(const Json& v, const Path& at, const Interval* run, ResultStep* s);
  void ReadTimings(const Json& v, const Path& at, StepTimings* t);
  StepHttp ReadHttp(const Json& v, const Path& at);
  void ReadAssertions(const Json& v, const Path& at, std::vector<StepAssertion>* out);
  void ReadDetails(const Json& v, const Path& at);
  void ReadError(const Json& v, const Path& at, bool step_indexes_known,
                 const std::vector<ResultStep>& steps, ResultError* e);
  void ReadAttributes(const Json& v, const Path& at, TransactionResult* r);
};

void Reader::ReadRun(const Json& doc, const Path& root, TransactionResult* r) {
  if (const std::string* s = String(doc, root, "run_id", Need::kRequired, 1, kMaxIdChars)) {
    r->run_id = *s;
  }
  if (const std::string* s = String(doc, root, "transaction_id", Need::kRequired, 1, kMaxIdChars)) {
    if (std::all_of(s->begin(), s->end(), IsIdChar)) {
      r->transaction_id = *s;
    } else {
      Fail(Member(root, "transaction_id"), "may contain only A-Z a-z 0-9 . _ : -");
    }
  }
  r->transaction_name = OptionalText(doc, root, "transaction_name", kMaxNameChars);
  if (const std::string* s = String(doc, root, "robot_id", Need::kRequired, 1, kMaxIdChars)) {
    r->robot_id = *s;
  }
  r->location = OptionalText(doc, root, "location", kMaxIdChars);

  const bool interval_ok = ReadInterval(doc, root, &r->started_at_ms, &r->finished_at_ms);
  const Interval run{r->started_at_ms, r->finished_at_ms};
  const std::optional<double> duration = Number(doc, root, "duration_ms", Need::kOptional);
  r->duration_ms = duration ? *duration : static_cast<double>(r->finished_at_ms - r->started_at_ms);

  const std::optional<size_t> status = OneOf(doc, root, "status", Need::kRequired, kRunStatusNames);
  if (status) r->status = *status == 0 ? RunStatus::kSuccess : RunStatus::kError;

  bool step_indexes_known = false;
  if (const Json* steps = Array(doc, root, "steps", Need::kRequired)) {
    step_indexes_known = ReadSteps(*steps, Member(root, "steps"), interval_ok ? &run : nullptr, r);
  }

  // Accepted (and kept) with status "success" too: a robot may report a soft failure.
  if (const Json* error = Find(doc, root, "error", Need::kOptional)) {
    if (error->is_object()) {
      ReadError(*error, Member(root, "error"), step_indexes_known, r->steps, &r->error.emplace());
    } else {
      Fail(Member(root, "error"), "must be an object");
    }
  } else if (status && r->status == RunStatus::kError) {
    Fail(Member(root, "error"), "is required when status is \"error\"");
  }

  if (const Json* attributes = Object(doc, root, "attributes", Need::kOptional)) {
    ReadAttributes(*attributes, Member(root, "attributes"), r);
  }
}

// Whether every step has a valid, unique index (so that error.step_index can be checked).
bool Reader::ReadSteps(const Json& steps, const Path& at, const Interval* run,
                       TransactionResult* r) {
  const auto& items = *steps.get_ptr<const Json::array_t*>();
  if (items.empty()) {
    Fail(at, "must contain at least 1 step");
    return false;
  }
  if (items.size() > kMaxResultSteps) {
    Fail(at, "must contain at most " + std::to_string(kMaxResultSteps) + " steps (has " +
                 std::to_string(items.size()) + ")");
    return false;
  }
  r->steps.resize(items.size());
  bool all_indexes = true;
  bool increasing = true;  // the usual case: no duplicates, already sorted
  int64_t last_index = -1;
  for (size_t i = 0; i < items.size(); ++i) {
    ResultStep& s = r->steps[i];
    s.position = i;
    if (!ReadStep(items[i], Element(at, i), run, &s)) {
      all_indexes = false;
      s.index = -1;  // unknown: left out of the duplicate check
      continue;
    }
    if (s.index <= last_index) increasing = false;
    last_index = s.index;
  }
  if (increasing) return all_indexes;

  // Slow path: find duplicates; the second (third, ...) occurrence is the one reported.
  std::vector<std::pair<int64_t, size_t>> by_index;  // (index, position)
  by_index.reserve(items.size());
  for (const ResultStep& s : r->steps) {
    if (s.index >= 0) by_index.emplace_back(s.index, s.position);
  }
  std::sort(by_index.begin(), by_index.end());
  bool unique = true;
  for (size_t k = 1; k < by_index.size(); ++k) {
    if (by_index[k].first != by_index[k - 1].first) continue;
    unique = false;
    size_t first = k - 1;
    while (first > 0 && by_index[first - 1].first == by_index[k].first) --first;
    const Path step = Element(at, by_index[k].second);
    Fail(Member(step, "index"), "duplicate index " + std::to_string(by_index[k].first) +
                                    " (also steps[" + std::to_string(by_index[first].second) +
                                    "])");
  }
  std::sort(r->steps.begin(), r->steps.end(),
            [](const ResultStep& a, const ResultStep& b) { return a.index < b.index; });
  return all_indexes && unique;
}

// Whether the step's index is valid.
bool Reader::ReadStep(const Json& v, const Path& at, const Interval* run, ResultStep* s) {
  if (!v.is_object()) {
    Fail(at, "must be an object");
    return false;
  }
  const std::optional<int64_t> index = Integer(v, at, "index", Need::kRequired, 0, kInt64Max);
  if (index) s->index = *index;
  if (const std::string* name = String(v, at, "name", Need::kRequired, 1, kMaxNameChars)) {
    s->name = *name;
  }
  const bool interval_ok = ReadInterval(v, at, &s->started_at_ms, &s->finished_at_ms);
  if (interval_ok && run != nullptr) {
    CheckInsideRun(Member(at, "started_at"), s->started_at_ms, *run);
    CheckInsideRun(Member(at, "finished_at"), s->finished_at_ms, *run);
  }
  const std::optional<double> duration = Number(v, at, "duration_ms", Need::kOptional);
  s->duration_ms = duration ? *duration : static_cast<double>(s->finished_at_ms - s->started_at_ms);
  if (const auto status = OneOf(v, at, "status", Need::kRequired, kStepStatusNames)) {
    s->status = static_cast<StepStatus>(*status);  // kStepStatusNames is in enum order
  }
  if (const std::string* m = String(v, at, "error_message", Need::kOptional, 0, kMaxMessageChars)) {
    s->error_message = *m;
  }
  if (const Json* timings = Object(v, at, "timings", Need::kOptional)) {
    ReadTimings(*timings, Member(at, "timings"), &s->timings);
  }
  if (const Json* http = Object(v, at, "http", Need::kOptional)) {
    s->http = ReadHttp(*http, Member(at, "http"));
  }
  s->screenshot = OptionalText(v, at, "screenshot", kMaxScreenshotChars);
  if (const Json* assertions = Array(v, at, "assertions", Need::kOptional)) {
    ReadAssertions(*assertions, Member(at, "assertions"), &s->assertions);
  }
  if (const Json* details = Object(v, at, "details", Need::kOptional)) {
    const size_t errors_before = error_count();
    ReadDetails(*details, Member(at, "details"));
    if (error_count() == errors_before) s->details = *details;
  }
  return index.has_value();
}

// Keys other than the known ones are left to raw (forward compatibility).
void Reader::ReadTimings(const Json& v, const Path& at, StepTimings* t) {
  for (const TimingKey& key : kTimingKeys) {
    t->*key.field = Number(v, at, key.name, Need::kOptional);
  }
}

StepHttp Reader::ReadHttp(const Json& v, const Path& at) {
  StepHttp http;
  if (const std::string* s = String(v, at, "method", Need::kOptional, 0, kUnlimited)) {
    http.method = *s;
  }
  if (const std::string* s = String(v, at, "url", Need::kOptional, 0, kMaxUrlChars)) {
    http.url = *s;
  }
  if (const auto code = Integer(v, at, "status_code", Need::kOptional, 100, 599)) {
    http.status_code = static_cast<int>(*code);
  }
  http.response_bytes = Integer(v, at, "response_bytes", Need::kOptional, 0, kInt64Max);
  return http;
}

void Reader::ReadAssertions(const Json& v, const Path& at, std::vector<StepAssertion>* out) {
  const auto& items = *v.get_ptr<const Json::array_t*>();
  if (items.size() > kMaxAssertions) {
    Fail(at, "must contain at most " + std::to_string(kMaxAssertions) + " assertions (has " +
                 std::to_string(items.size()) + ")");
    return;
  }
  out->resize(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    const Path item = Element(at, i);
    if (!items[i].is_object()) {
      Fail(item, "must be an object");
      continue;
    }
    StepAssertion& a = (*out)[i];
    if (const std::string* s = String(items[i], item, "type", Need::kRequired, 0, kUnlimited)) {
      a.type = *s;
    }
    a.passed = Boolean(items[i], item, "passed", Need::kRequired).value_or(false);
    if (const std::string* s =
            String(items[i], item, "message", Need::kOptional, 0, kMaxAssertionMessageChars)) {
      a.message = *s;
    }
  }
}

void Reader::ReadDetails(const Json& v, const Path& at) {
  const auto& members = *v.get_ptr<const Json::object_t*>();
  if (members.size() > kMaxDetails) {
    Fail(at, "must have at most " + std::to_string(kMaxDetails) + " entries (has " +
                 std::to_string(members.size()) + ")");
    return;
  }
  for (const auto& [key, value] : members) {
    const Path item = Member(at, key);
    if (!CheckText(item, key, 0, kMaxDetailKeyChars, "key ")) continue;
    if (value.is_string()) {
      StringValue(value, item, 0, kMaxDetailValueChars);
    } else if (value.is_number()) {
      if (!std::isfinite(value.get<double>())) Fail(item, "must be a finite number");
    } else {
      Fail(item, "must be a string or a number");
    }
  }
}

void Reader::ReadError(const Json& v, const Path& at, bool step_indexes_known,
                       const std::vector<ResultStep>& steps, ResultError* e) {
  e->step_index = Integer(v, at, "step_index", Need::kOptional, 0, kInt64Max);
  if (e->step_index && step_indexes_known &&
      std::none_of(steps.begin(), steps.end(),
                   [&](const ResultStep& s) { return s.index == *e->step_index; })) {
    Fail(Member(at, "step_index"), "is not the index of any step");
  }
  if (const auto type = OneOf(v, at, "type", Need::kRequired, kErrorTypeNames)) {
    e->type = kErrorTypeNames[*type];
  }
  if (const std::string* s = String(v, at, "message", Need::kRequired, 0, kMaxMessageChars)) {
    e->message = *s;
  }
}

void Reader::ReadAttributes(const Json& v, const Path& at, TransactionResult* r) {
  const auto& members = *v.get_ptr<const Json::object_t*>();
  if (members.size() > kMaxAttributes) {
    Fail(at, "must have at most " + std::to_string(kMaxAttributes) + " entries (has " +
                 std::to_string(members.size()) + ")");
    return;
  }
  r->attributes.reserve(members.size());
  for (const auto& [key, value] : members) {
    const Path item = Member(at, key);
    if (!CheckText(item, key, 0, kMaxAttributeKeyChars, "key ")) continue;
    if (const std::string* s = StringValue(value, item, 0, kMaxAttributeValueChars)) {
      r->attributes.emplace_back(key, *s);
    }
  }
}

// Sets obj["duration_ms"] to `duration_ms` when absent or null; a computed duration is whole ms.
// Returns whether it changed `obj`.
bool FillDuration(Json& obj, double duration_ms) {
  const auto it = obj.find("duration_ms");
  if (it != obj.end() && !it->is_null()) return false;
  obj["duration_ms"] = static_cast<int64_t>(duration_ms);
  return true;
}

}  // namespace

std::string_view ToString(RunStatus status) {
  return status == RunStatus::kSuccess ? "success" : "error";
}

std::string_view ToString(StepStatus status) {
  switch (status) {
    case StepStatus::kSuccess:
      return "success";
    case StepStatus::kError:
      return "error";
    case StepStatus::kSkipped:
      return "skipped";
  }
  return "error";
}

namespace {

std::optional<TransactionResult> Parse(const Json& doc, Json* movable, int64_t now_ms,
                                       std::string_view path_prefix, FieldErrors* errors) {
  if (!doc.is_object()) {
    std::string_view at = path_prefix;
    if (!at.empty() && at.back() == '.') at.remove_suffix(1);
    errors->push_back(FieldError{std::string(at), "must be a JSON object"});
    return std::nullopt;
  }
  const size_t errors_before = errors->size();
  TransactionResult r;
  Reader(now_ms, errors).ReadRun(doc, Path{nullptr, path_prefix, -1}, &r);
  if (errors->size() != errors_before) return std::nullopt;
  r.raw = movable ? std::move(*movable) : doc;
  return r;
}

}  // namespace

std::optional<TransactionResult> ParseResult(const Json& doc, int64_t now_ms,
                                             std::string_view path_prefix, FieldErrors* errors) {
  return Parse(doc, nullptr, now_ms, path_prefix, errors);
}

std::optional<TransactionResult> ParseResult(Json&& doc, int64_t now_ms,
                                             std::string_view path_prefix, FieldErrors* errors) {
  return Parse(doc, &doc, now_ms, path_prefix, errors);
}

bool NormalizeStored(TransactionResult& r) {
  Json& stored = r.raw;
  if (!stored.is_object()) return false;
  bool changed = FillDuration(stored, r.duration_ms);
  const auto it = stored.find("steps");
  if (it == stored.end() || !it->is_array()) return changed;
  Json& steps = *it;
  for (const ResultStep& s : r.steps) {
    if (s.position >= steps.size() || !steps[s.position].is_object()) continue;
    Json& step = steps[s.position];
    changed |= FillDuration(step, s.duration_ms);
    if (s.screenshot) {
      Json& value = step["screenshot"];
      if (!value.is_string() || value.get_ref<const std::string&>() != *s.screenshot) {
        value = *s.screenshot;
        changed = true;
      }
    } else {
      changed |= step.erase("screenshot") > 0;
    }
  }
  return changed;
}

Json StoredResultJson(const TransactionResult& r) {
  TransactionResult copy;
  copy.raw = r.raw;
  copy.duration_ms = r.duration_ms;
  copy.steps = r.steps;
  NormalizeStored(copy);
  return std::move(copy.raw);
}

}  // namespace pa::synth
