#include "synth/result_model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <set>

#include "base/time_format.h"

namespace pa::synth {
namespace {

// The example of the contract (docs: transaction-result.md), verbatim.
constexpr std::string_view kExample = R"({
  "run_id": "0b9a6f0e-3c1d-4c55-9d2f-5c0e8f1a7b21",
  "transaction_id": "shop.checkout",
  "transaction_name": "Оформление заказа",
  "robot_id": "robot-msk-01",
  "location": "msk-dc1",
  "started_at": "2026-11-28T10:00:00.000Z",
  "finished_at": "2026-11-28T10:00:03.250Z",
  "status": "error",
  "error": {"step_index": 2, "type": "assertion", "message": "text 'Спасибо' not found"},
  "steps": [
    {"index": 0, "name": "Главная страница", "started_at": "2026-11-28T10:00:00.000Z",
     "finished_at": "2026-11-28T10:00:01.100Z", "status": "success",
     "timings": {"dns_ms": 2.1, "connect_ms": 5.0, "tls_ms": 18.7, "ttfb_ms": 240.3, "download_ms": 30.2},
     "http": {"method": "GET", "url": "https://shop.example/", "status_code": 200, "response_bytes": 51234}},
    {"index": 1, "name": "Корзина", "started_at": "2026-11-28T10:00:01.100Z",
     "finished_at": "2026-11-28T10:00:02.000Z", "status": "success"},
    {"index": 2, "name": "Оплата", "started_at": "2026-11-28T10:00:02.000Z",
     "finished_at": "2026-11-28T10:00:03.250Z", "status": "error",
     "error_message": "text 'Спасибо' not found", "screenshot": "step-2.png"}
  ],
  "attributes": {"browser": "chromium", "app": "shop"}
})";

const int64_t kStart = *ParseRfc3339Ms("2026-11-28T10:00:00.000Z");
const int64_t kFinish = *ParseRfc3339Ms("2026-11-28T10:00:03.250Z");
const int64_t kNow = kStart + 60'000;  // the server clock: a minute after the run started

Json Example() { return Json::parse(kExample); }

std::string Repeat(std::string_view unit, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out.append(unit);
  return out;
}

// Parses `doc` expecting it to fail; returns the errors.
FieldErrors ErrorsOf(const Json& doc, std::string_view prefix = "", int64_t now_ms = kNow) {
  FieldErrors errors;
  EXPECT_FALSE(ParseResult(doc, now_ms, prefix, &errors).has_value());
  EXPECT_FALSE(errors.empty());
  return errors;
}

std::set<std::string> Paths(const FieldErrors& errors) {
  std::set<std::string> paths;
  for (const FieldError& e : errors) paths.insert(e.path);
  return paths;
}

std::string Describe(const FieldErrors& errors) {
  std::string out;
  for (const FieldError& e : errors) out += "  " + e.path + ": " + e.message + "\n";
  return out;
}

TEST(ResultModelTest, ParsesTheSpecExample) {
  FieldErrors errors;
  const std::optional<TransactionResult> r = ParseResult(Example(), kNow, "", &errors);
  ASSERT_TRUE(r.has_value()) << Describe(errors);
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(r->run_id, "0b9a6f0e-3c1d-4c55-9d2f-5c0e8f1a7b21");
  EXPECT_EQ(r->transaction_id, "shop.checkout");
  EXPECT_EQ(r->transaction_name, "Оформление заказа");
  EXPECT_EQ(r->robot_id, "robot-msk-01");
  EXPECT_EQ(r->location, "msk-dc1");
  EXPECT_EQ(r->started_at_ms, kStart);
  EXPECT_EQ(r->finished_at_ms, kFinish);
  EXPECT_EQ(r->duration_ms, 3250);  // computed: the example has no duration_ms
  EXPECT_EQ(r->status, RunStatus::kError);
  ASSERT_TRUE(r->error.has_value());
  EXPECT_EQ(r->error->step_index, 2);
  EXPECT_EQ(r->error->type, "assertion");
  EXPECT_EQ(r->error->message, "text 'Спасибо' not found");

  ASSERT_EQ(r->steps.size(), 3u);
  const ResultStep& home = r->steps[0];
  EXPECT_EQ(home.index, 0);
  EXPECT_EQ(home.name, "Главная страница");
  EXPECT_EQ(home.status, StepStatus::kSuccess);
  EXPECT_EQ(home.started_at_ms, kStart);
  EXPECT_EQ(home.duration_ms, 1100);
  EXPECT_EQ(home.timings.dns_ms, 2.1);
  EXPECT_EQ(home.timings.connect_ms, 5.0);
  EXPECT_EQ(home.timings.tls_ms, 18.7);
  EXPECT_EQ(home.timings.ttfb_ms, 240.3);
  EXPECT_EQ(home.timings.download_ms, 30.2);
  EXPECT_FALSE(home.timings.lcp_ms.has_value());
  ASSERT_TRUE(home.http.has_value());
  EXPECT_EQ(home.http->method, "GET");
  EXPECT_EQ(home.http->url, "https://shop.example/");
  EXPECT_EQ(home.http->status_code, 200);
  EXPECT_EQ(home.http->response_bytes, 51234);
  EXPECT_FALSE(home.screenshot.has_value());
  EXPECT_TRUE(home.details.is_null());

  EXPECT_EQ(r->steps[1].name, "Корзина");
  EXPECT_FALSE(r->steps[1].http.has_value());
  const ResultStep& pay = r->steps[2];
  EXPECT_EQ(pay.status, StepStatus::kError);
  EXPECT_EQ(pay.error_message, "text 'Спасибо' not found");
  EXPECT_EQ(pay.screenshot, "step-2.png");
  EXPECT_EQ(pay.position, 2u);

  using Attr = std::pair<std::string, std::string>;
  EXPECT_EQ(r->attributes, (std::vector<Attr>{{"app", "shop"}, {"browser", "chromium"}}));
  EXPECT_EQ(r->raw, Example());
}

TEST(ResultModelTest, EnumNames) {
  EXPECT_EQ(ToString(RunStatus::kSuccess), "success");
  EXPECT_EQ(ToString(RunStatus::kError), "error");
  EXPECT_EQ(ToString(StepStatus::kSkipped), "skipped");
  EXPECT_EQ(ToString(StepStatus::kError), "error");
}

TEST(ResultModelTest, DurationGivenOrComputed) {
  Json doc = Example();
  doc["duration_ms"] = 3000.5;
  doc["steps"][1]["duration_ms"] = 0;
  FieldErrors errors;
  auto r = ParseResult(doc, kNow, "", &errors);
  ASSERT_TRUE(r) << Describe(errors);
  EXPECT_EQ(r->duration_ms, 3000.5);
  EXPECT_EQ(r->steps[1].duration_ms, 0);
  EXPECT_EQ(r->steps[2].duration_ms, 1250);  // computed
}

TEST(ResultModelTest, MinimalSuccessAndOptionalFields) {
  Json doc = Example();
  for (const char* key : {"transaction_name", "location", "error", "attributes"}) doc.erase(key);
  doc["status"] = "success";
  doc["location"] = nullptr;     // null is the same as absent
  doc["transaction_name"] = "";  // "" is read as absent
  doc["steps"][2]["screenshot"] = "";
  doc["steps"][0]["index"] = 0.0;  // an integer written as a float
  doc["steps"][0]["http"]["status_code"] = 404.0;
  FieldErrors errors;
  auto r = ParseResult(doc, kNow, "", &errors);
  ASSERT_TRUE(r) << Describe(errors);
  EXPECT_EQ(r->status, RunStatus::kSuccess);
  EXPECT_FALSE(r->location.has_value());
  EXPECT_FALSE(r->transaction_name.has_value());
  EXPECT_FALSE(r->error.has_value());
  EXPECT_FALSE(r->steps[2].screenshot.has_value());
  EXPECT_EQ(r->steps[0].http->status_code, 404);
  EXPECT_TRUE(r->attributes.empty());
}

TEST(ResultModelTest, ErrorWithSuccessStatusIsKept) {
  Json doc = Example();
  doc["status"] = "success";
  doc["error"]["step_index"] = nullptr;
  FieldErrors errors;
  auto r = ParseResult(doc, kNow, "", &errors);
  ASSERT_TRUE(r) << Describe(errors);
  ASSERT_TRUE(r->error.has_value());
  EXPECT_FALSE(r->error->step_index.has_value());
  EXPECT_EQ(r->error->type, "assertion");
}

TEST(ResultModelTest, BrowserTimingsAssertionsAndDetails) {
  Json doc = Example();
  doc["steps"][1]["timings"] = {{"dom_content_loaded_ms", 800},
                                {"load_ms", 1200.5},
                                {"lcp_ms", 950},
                                {"cls", 0.02},
                                {"inp_ms", 40}};
  doc["steps"][1]["assertions"] = Json::parse(
      R"([{"type": "text", "passed": true}, {"type": "status", "passed": false, "message": "503"}])");
  doc["steps"][1]["details"] = {{"tls_days_left", 41}, {"http_version", "h2"}};
  FieldErrors errors;
  auto r = ParseResult(doc, kNow, "", &errors);
  ASSERT_TRUE(r) << Describe(errors);
  const ResultStep& s = r->steps[1];
  EXPECT_EQ(s.timings.dom_content_loaded_ms, 800);
  EXPECT_EQ(s.timings.load_ms, 1200.5);
  EXPECT_EQ(s.timings.cls, 0.02);
  EXPECT_EQ(s.timings.inp_ms, 40);
  ASSERT_EQ(s.assertions.size(), 2u);
  EXPECT_EQ(s.assertions[0].type, "text");
  EXPECT_TRUE(s.assertions[0].passed);
  EXPECT_EQ(s.assertions[0].message, "");
  EXPECT_FALSE(s.assertions[1].passed);
  EXPECT_EQ(s.assertions[1].message, "503");
  EXPECT_EQ(s.details, doc["steps"][1]["details"]);
}

TEST(ResultModelTest, TimestampForms) {
  Json doc = Example();
  doc["started_at"] = "2026-11-28T13:00:00+03:00";        // whole seconds, an offset
  doc["finished_at"] = "2026-11-28T10:00:03.250999999Z";  // nanoseconds, truncated
  doc["steps"][0]["started_at"] = "2026-11-28T10:00:00.000123Z";
  FieldErrors errors;
  auto r = ParseResult(doc, kNow, "", &errors);
  ASSERT_TRUE(r) << Describe(errors);
  EXPECT_EQ(r->started_at_ms, kStart);
  EXPECT_EQ(r->finished_at_ms, kFinish);
  EXPECT_EQ(r->steps[0].started_at_ms, kStart);
}

TEST(ResultModelTest, CodePointsNotBytesAreCounted) {
  Json doc = Example();
  doc["transaction_name"] = Repeat("ж", 256);  // 512 bytes, 256 characters
  doc["steps"][0]["name"] = Repeat("日", 256);
  FieldErrors errors;
  EXPECT_TRUE(ParseResult(doc, kNow, "", &errors)) << Describe(errors);
  doc["transaction_name"] = Repeat("ж", 257);
  EXPECT_EQ(Paths(ErrorsOf(doc)), std::set<std::string>{"transaction_name"});
}

TEST(ResultModelTest, StepToleranceOfOneSecondIsAccepted) {
  Json doc = Example();
  doc["steps"][0]["started_at"] = "2026-11-28T09:59:59.000Z";   // exactly 1 s early
  doc["steps"][2]["finished_at"] = "2026-11-28T10:00:04.250Z";  // exactly 1 s late
  FieldErrors errors;
  EXPECT_TRUE(ParseResult(doc, kNow, "", &errors)) << Describe(errors);
  // 24 h ahead of the server clock is still accepted; more is not (see RuleViolations).
  doc = Example();
  EXPECT_TRUE(ParseResult(doc, kFinish - kMaxFutureMs, "", &errors)) << Describe(errors);
}

TEST(ResultModelTest, StepsAreSortedByIndex) {
  Json doc = Example();
  std::swap(doc["steps"][0], doc["steps"][2]);  // the array holds 2, 1, 0
  FieldErrors errors;
  auto r = ParseResult(doc, kNow, "", &errors);
  ASSERT_TRUE(r) << Describe(errors);
  ASSERT_EQ(r->steps.size(), 3u);
  EXPECT_EQ(r->steps[0].index, 0);
  EXPECT_EQ(r->steps[0].position, 2u);
  EXPECT_EQ(r->steps[2].name, "Оплата");
  EXPECT_EQ(r->steps[2].position, 0u);
}

// Each case breaks one rule of the contract and must yield exactly one error, at `path`.
struct RuleCase {
  const char* what;
  std::function<void(Json&)> mutate;
  std::string path;
};

TEST(ResultModelTest, RuleViolations) {
  const std::string long_key = Repeat("k", 65);
  const std::vector<RuleCase> cases = {
      {"run_id missing", [](Json& d) { d.erase("run_id"); }, "run_id"},
      {"run_id null", [](Json& d) { d["run_id"] = nullptr; }, "run_id"},
      {"run_id empty", [](Json& d) { d["run_id"] = ""; }, "run_id"},
      {"run_id too long", [](Json& d) { d["run_id"] = Repeat("r", 129); }, "run_id"},
      {"run_id a number", [](Json& d) { d["run_id"] = 7; }, "run_id"},
      {"transaction_id missing", [](Json& d) { d.erase("transaction_id"); }, "transaction_id"},
      {"transaction_id charset", [](Json& d) { d["transaction_id"] = "shop checkout"; },
       "transaction_id"},
      {"transaction_id too long", [](Json& d) { d["transaction_id"] = Repeat("t", 129); },
       "transaction_id"},
      {"transaction_name bad UTF-8", [](Json& d) { d["transaction_name"] = "caf\xc3"; },
       "transaction_name"},
      {"robot_id missing", [](Json& d) { d.erase("robot_id"); }, "robot_id"},
      {"robot_id empty", [](Json& d) { d["robot_id"] = ""; }, "robot_id"},
      {"robot_id too long", [](Json& d) { d["robot_id"] = Repeat("x", 129); }, "robot_id"},
      {"location too long", [](Json& d) { d["location"] = Repeat("l", 129); }, "location"},
      {"location a number", [](Json& d) { d["location"] = 1; }, "location"},
      {"started_at missing", [](Json& d) { d.erase("started_at"); }, "started_at"},
      {"started_at without offset", [](Json& d) { d["started_at"] = "2026-11-28T10:00:00.000"; },
       "started_at"},
      {"started_at a number", [](Json& d) { d["started_at"] = 1795860000000; }, "started_at"},
      {"finished_at missing", [](Json& d) { d.erase("finished_at"); }, "finished_at"},
      {"finished before started", [](Json& d) { d["finished_at"] = "2026-11-28T09:59:59.999Z"; },
       "finished_at"},
      {"finished 25 h ahead",
       [](Json& d) { d["finished_at"] = FormatRfc3339Ms(kNow + 25 * 3600'000); }, "finished_at"},
      {"started 25 h ahead",
       [](Json& d) { d["started_at"] = FormatRfc3339Ms(kNow + 25 * 3600'000); }, "started_at"},
      {"duration negative", [](Json& d) { d["duration_ms"] = -1; }, "duration_ms"},
      {"duration a string", [](Json& d) { d["duration_ms"] = "3250"; }, "duration_ms"},
      {"duration infinite",
       [](Json& d) { d["duration_ms"] = std::numeric_limits<double>::infinity(); }, "duration_ms"},
      {"status missing", [](Json& d) { d.erase("status"); }, "status"},
      {"status unknown", [](Json& d) { d["status"] = "failed"; }, "status"},
      {"error missing", [](Json& d) { d.erase("error"); }, "error"},
      {"error null", [](Json& d) { d["error"] = nullptr; }, "error"},
      {"error a string", [](Json& d) { d["error"] = "boom"; }, "error"},
      {"error.step_index negative", [](Json& d) { d["error"]["step_index"] = -1; },
       "error.step_index"},
      {"error.step_index fractional", [](Json& d) { d["error"]["step_index"] = 1.5; },
       "error.step_index"},
      {"error.step_index no such step", [](Json& d) { d["error"]["step_index"] = 7; },
       "error.step_index"},
      {"error.type unknown", [](Json& d) { d["error"]["type"] = "crash"; }, "error.type"},
      {"error.type missing", [](Json& d) { d["error"].erase("type"); }, "error.type"},
      {"error.message missing", [](Json& d) { d["error"].erase("message"); }, "error.message"},
      {"error.message too long", [](Json& d) { d["error"]["message"] = Repeat("m", 4097); },
       "error.message"},
      {"steps missing", [](Json& d) { d.erase("steps"); }, "steps"},
      {"steps an object", [](Json& d) { d["steps"] = Json::object(); }, "steps"},
      {"steps empty", [](Json& d) { d["steps"] = Json::array(); }, "steps"},
      {"steps over 500",
       [](Json& d) {
         const Json step = d["steps"][1];
         for (int i = 3; i <= 500; ++i) d["steps"].push_back(step);
       },
       "steps"},
      {"step not an object", [](Json& d) { d["steps"][1] = 1; }, "steps[1]"},
      {"step index missing", [](Json& d) { d["steps"][1].erase("index"); }, "steps[1].index"},
      {"step index negative", [](Json& d) { d["steps"][1]["index"] = -1; }, "steps[1].index"},
      {"step index a string", [](Json& d) { d["steps"][1]["index"] = "1"; }, "steps[1].index"},
      {"step index fractional", [](Json& d) { d["steps"][1]["index"] = 1.5; }, "steps[1].index"},
      {"step index duplicate", [](Json& d) { d["steps"][2]["index"] = 0; }, "steps[2].index"},
      {"step name empty", [](Json& d) { d["steps"][1]["name"] = ""; }, "steps[1].name"},
      {"step name too long", [](Json& d) { d["steps"][1]["name"] = Repeat("я", 257); },
       "steps[1].name"},
      {"step started_at without offset",
       [](Json& d) { d["steps"][1]["started_at"] = "2026-11-28T10:00:01.100"; },
       "steps[1].started_at"},
      {"step finished before started",
       [](Json& d) { d["steps"][1]["finished_at"] = "2026-11-28T10:00:01.099Z"; },
       "steps[1].finished_at"},
      {"step starts before the run (beyond 1 s)",
       [](Json& d) { d["steps"][0]["started_at"] = "2026-11-28T09:59:58.999Z"; },
       "steps[0].started_at"},
      {"step ends after the run (beyond 1 s)",
       [](Json& d) { d["steps"][2]["finished_at"] = "2026-11-28T10:00:04.251Z"; },
       "steps[2].finished_at"},
      {"step duration negative", [](Json& d) { d["steps"][1]["duration_ms"] = -0.5; },
       "steps[1].duration_ms"},
      {"step status unknown", [](Json& d) { d["steps"][1]["status"] = "ok"; }, "steps[1].status"},
      {"step status missing", [](Json& d) { d["steps"][1].erase("status"); }, "steps[1].status"},
      {"step error_message too long",
       [](Json& d) { d["steps"][2]["error_message"] = Repeat("e", 4097); },
       "steps[2].error_message"},
      {"timings an array", [](Json& d) { d["steps"][0]["timings"] = Json::array(); },
       "steps[0].timings"},
      {"timing negative", [](Json& d) { d["steps"][0]["timings"]["dns_ms"] = -2.1; },
       "steps[0].timings.dns_ms"},
      {"timing a string", [](Json& d) { d["steps"][0]["timings"]["cls"] = "0.1"; },
       "steps[0].timings.cls"},
      {"http a string", [](Json& d) { d["steps"][0]["http"] = "GET /"; }, "steps[0].http"},
      {"http method a number", [](Json& d) { d["steps"][0]["http"]["method"] = 1; },
       "steps[0].http.method"},
      {"http url too long",
       [](Json& d) { d["steps"][0]["http"]["url"] = "https://x/" + Repeat("u", 2039); },
       "steps[0].http.url"},
      {"http status_code 99", [](Json& d) { d["steps"][0]["http"]["status_code"] = 99; },
       "steps[0].http.status_code"},
      {"http status_code 600", [](Json& d) { d["steps"][0]["http"]["status_code"] = 600; },
       "steps[0].http.status_code"},
      {"http status_code fractional", [](Json& d) { d["steps"][0]["http"]["status_code"] = 200.5; },
       "steps[0].http.status_code"},
      {"http response_bytes negative",
       [](Json& d) { d["steps"][0]["http"]["response_bytes"] = -1; },
       "steps[0].http.response_bytes"},
      {"screenshot too long", [](Json& d) { d["steps"][2]["screenshot"] = Repeat("s", 257); },
       "steps[2].screenshot"},
      {"screenshot a number", [](Json& d) { d["steps"][2]["screenshot"] = 2; },
       "steps[2].screenshot"},
      {"assertions an object", [](Json& d) { d["steps"][0]["assertions"] = Json::object(); },
       "steps[0].assertions"},
      {"assertions over 100",
       [](Json& d) {
         for (int i = 0; i <= 100; ++i) {
           d["steps"][0]["assertions"].push_back({{"type", "text"}, {"passed", true}});
         }
       },
       "steps[0].assertions"},
      {"assertion not an object", [](Json& d) { d["steps"][0]["assertions"] = {1}; },
       "steps[0].assertions[0]"},
      {"assertion type missing",
       [](Json& d) { d["steps"][0]["assertions"] = Json::parse(R"([{"passed": true}])"); },
       "steps[0].assertions[0].type"},
      {"assertion passed not a bool",
       [](Json& d) {
         d["steps"][0]["assertions"] = Json::parse(R"([{"type": "t", "passed": 1}])");
       },
       "steps[0].assertions[0].passed"},
      {"assertion message too long",
       [](Json& d) {
         d["steps"][0]["assertions"] = {
             {{"type", "t"}, {"passed", false}, {"message", Repeat("m", 1025)}}};
       },
       "steps[0].assertions[0].message"},
      {"details an array", [](Json& d) { d["steps"][0]["details"] = Json::array(); },
       "steps[0].details"},
      {"details over 32",
       [](Json& d) {
         for (int i = 0; i <= 32; ++i) d["steps"][0]["details"]["k" + std::to_string(i)] = i;
       },
       "steps[0].details"},
      {"details key too long", [&](Json& d) { d["steps"][0]["details"][long_key] = 1; },
       "steps[0].details." + long_key},
      {"details value a bool", [](Json& d) { d["steps"][0]["details"]["tls"] = true; },
       "steps[0].details.tls"},
      {"details value too long",
       [](Json& d) { d["steps"][0]["details"]["dns_answers"] = Repeat("a", 1025); },
       "steps[0].details.dns_answers"},
      {"attributes an array", [](Json& d) { d["attributes"] = Json::array(); }, "attributes"},
      {"attributes over 64",
       [](Json& d) {
         for (int i = 0; i < 63; ++i) d["attributes"]["a" + std::to_string(i)] = "v";
       },
       "attributes"},
      {"attribute value a number", [](Json& d) { d["attributes"]["browser"] = 5; },
       "attributes.browser"},
      {"attribute value too long", [](Json& d) { d["attributes"]["app"] = Repeat("v", 1025); },
       "attributes.app"},
      {"attribute key too long", [](Json& d) { d["attributes"][Repeat("k", 129)] = "v"; },
       "attributes." + Repeat("k", 129)},
  };
  for (const RuleCase& c : cases) {
    SCOPED_TRACE(c.what);
    Json doc = Example();
    c.mutate(doc);
    const FieldErrors errors = ErrorsOf(doc);
    ASSERT_EQ(errors.size(), 1u) << Describe(errors);
    EXPECT_EQ(errors[0].path, c.path) << errors[0].message;
    EXPECT_FALSE(errors[0].message.empty());
  }
}

TEST(ResultModelTest, MessagesSayWhatIsWrong) {
  Json doc = Example();
  doc.erase("robot_id");
  doc["steps"][0]["http"]["status_code"] = 700;
  doc["started_at"] = "2026-11-28T10:00:00";
  const FieldErrors errors = ErrorsOf(doc);
  ASSERT_EQ(errors.size(), 3u) << Describe(errors);
  EXPECT_EQ(errors[0], (FieldError{"robot_id", "is required"}));
  EXPECT_EQ(errors[1].path, "started_at");
  EXPECT_NE(errors[1].message.find("offset"), std::string::npos) << errors[1].message;
  EXPECT_EQ(errors[2], (FieldError{"steps[0].http.status_code", "must be between 100 and 599"}));
}

TEST(ResultModelTest, EveryProblemIsListed) {
  Json doc = Example();
  doc["run_id"] = "";
  doc["transaction_id"] = "bad id!";
  doc["status"] = "maybe";
  doc["steps"][0]["timings"]["ttfb_ms"] = -1;
  doc["steps"][1]["index"] = 0;  // duplicate of steps[0]
  doc["steps"][2]["http"] = {{"status_code", 42}};
  doc["attributes"]["browser"] = nullptr;
  const FieldErrors errors = ErrorsOf(doc);
  EXPECT_EQ(
      Paths(errors),
      (std::set<std::string>{"run_id", "transaction_id", "status", "steps[0].timings.ttfb_ms",
                             "steps[1].index", "steps[2].http.status_code", "attributes.browser"}))
      << Describe(errors);
}

TEST(ResultModelTest, ArrayElementPrefix) {
  Json doc = Example();
  doc["steps"][0]["timings"]["dns_ms"] = "fast";
  doc.erase("run_id");
  FieldErrors errors = {{"[0].run_id", "from an earlier element"}};
  EXPECT_FALSE(ParseResult(doc, kNow, "[3].", &errors));
  EXPECT_EQ(Paths(errors),
            (std::set<std::string>{"[0].run_id", "[3].run_id", "[3].steps[0].timings.dns_ms"}));

  errors.clear();
  EXPECT_FALSE(ParseResult(Json::array(), kNow, "[3].", &errors));
  EXPECT_EQ(errors, (FieldErrors{{"[3]", "must be a JSON object"}}));
  errors.clear();
  EXPECT_FALSE(ParseResult(Json("text"), kNow, "", &errors));
  EXPECT_EQ(errors, (FieldErrors{{"", "must be a JSON object"}}));

  // Errors already in the vector do not make a valid document fail.
  errors = {{"[0].run_id", "is required"}};
  EXPECT_TRUE(ParseResult(Example(), kNow, "[1].", &errors));
  EXPECT_EQ(errors.size(), 1u);
}

TEST(ResultModelTest, DuplicateIndexesReportEveryRepeat) {
  Json doc = Example();
  doc["steps"][0]["index"] = 1;  // 1, 1, 2 → steps[1] repeats steps[0]
  doc["steps"][2]["index"] = 1;  // 1, 1, 1 → steps[2] too
  const FieldErrors errors = ErrorsOf(doc);
  // error.step_index 2 names no step now, but that follows from the duplicates: not reported.
  EXPECT_EQ(Paths(errors), (std::set<std::string>{"steps[1].index", "steps[2].index"}))
      << Describe(errors);
}

TEST(ResultModelTest, BadTypeIsReportedOnceWithoutDerivedErrors) {
  Json doc = Example();
  doc["started_at"] = 17;            // steps cannot be checked against the run's interval
  doc["steps"][1]["index"] = "one";  // no duplicate or error.step_index check from it
  doc["error"]["step_index"] = 1;
  const FieldErrors errors = ErrorsOf(doc);
  EXPECT_EQ(Paths(errors), (std::set<std::string>{"started_at", "steps[1].index"}))
      << Describe(errors);
  EXPECT_EQ(errors.size(), 2u);
}

TEST(ResultModelTest, UnknownFieldsAreKept) {
  Json doc = Example();
  doc["robot_version"] = "2.4.1";
  doc["trace"] = {{"id", "abc"}};
  doc["steps"][1]["frames"] = {1, 2, 3};
  doc["steps"][0]["timings"]["fcp_ms"] = 120;  // a timing this server does not know yet
  doc["steps"][0]["http"]["protocol"] = "h3";
  FieldErrors errors;
  auto r = ParseResult(doc, kNow, "", &errors);
  ASSERT_TRUE(r) << Describe(errors);
  EXPECT_EQ(r->raw, doc);
  const Json stored = StoredResultJson(*r);
  EXPECT_EQ(stored["robot_version"], "2.4.1");
  EXPECT_EQ(stored["trace"]["id"], "abc");
  EXPECT_EQ(stored["steps"][1]["frames"], Json({1, 2, 3}));
  EXPECT_EQ(stored["steps"][0]["timings"]["fcp_ms"], 120);
  EXPECT_EQ(stored["steps"][0]["http"]["protocol"], "h3");
}

TEST(ResultModelTest, StoredJsonNormalises) {
  Json doc = Example();
  doc["started_at"] = "2026-11-28T13:00:00+03:00";
  doc["steps"][1]["duration_ms"] = 850.5;
  std::swap(doc["steps"][0], doc["steps"][2]);  // the screenshot step is first in the array
  FieldErrors errors;
  auto r = ParseResult(doc, kNow, "", &errors);
  ASSERT_TRUE(r) << Describe(errors);
  r->steps[2].screenshot = "art-7f3a";  // the upload handler stored the artifact
  Json stored = StoredResultJson(*r);   // not const: a missing key reads as null, not an abort
  EXPECT_EQ(stored["started_at"], "2026-11-28T13:00:00+03:00");  // as given
  EXPECT_EQ(stored["duration_ms"], 3250);                        // filled in
  EXPECT_EQ(stored["steps"][0]["index"], 2);
  EXPECT_EQ(stored["steps"][0]["screenshot"], "art-7f3a");
  EXPECT_EQ(stored["steps"][0]["duration_ms"], 1250);
  EXPECT_EQ(stored["steps"][1]["duration_ms"], 850.5);  // given: untouched
  EXPECT_EQ(stored["steps"][2]["duration_ms"], 1100);
  EXPECT_FALSE(stored["steps"][2].contains("screenshot"));
  EXPECT_EQ(r->raw, doc);  // raw itself is not changed

  r->steps[2].screenshot.reset();  // the artifact part was missing: no dangling file name
  EXPECT_FALSE(StoredResultJson(*r)["steps"][0].contains("screenshot"));
}

TEST(ResultModelTest, NeverThrowsOnHostileInput) {
  FieldErrors errors;
  for (
      const char* text :
      {"null", "[]", "{}", R"({"steps": [null, [], "x", {"index": {}}]})",
       R"({"run_id": {}, "steps": {"0": {}}, "error": [], "attributes": {"a": {"b": 1}}})",
       R"({"status": "error", "error": {"step_index": 1e300}, "steps": [{"index": 18446744073709551615}]})",
       R"({"started_at": "9999-12-31T23:59:59Z", "finished_at": "0000-01-01T00:00:00Z"})",
       // The parser quotes 64 bytes of the value: here that cuts a "ж" in half.
       R"({"started_at": "2026-11-28T10:00:00.000Z+жжжжжжжжжжжжжжжжжжжжжжжжжжжжжжжж"})"}) {
    SCOPED_TRACE(text);
    errors.clear();
    EXPECT_NO_THROW(EXPECT_FALSE(ParseResult(Json::parse(text), kNow, "", &errors)));
    // The errors must be sendable as JSON: valid UTF-8 throughout.
    for (const FieldError& e : errors) {
      EXPECT_TRUE(IsValidUtf8(e.path) && IsValidUtf8(e.message)) << e.path << ": " << e.message;
    }
  }
  Json doc = Example();
  doc["steps"][0]["index"] = std::nan("");
  EXPECT_EQ(Paths(ErrorsOf(doc)), std::set<std::string>{"steps[0].index"});
}

}  // namespace
}  // namespace pa::synth
