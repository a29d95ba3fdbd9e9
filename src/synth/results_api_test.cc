// ResultsApi over a real SQLite database and filesystem artifact store, with results stored by
// the ResultWriter as uploads store them: pagination, filters, validation, result detail and
// artifacts, statistics against an independent computation, the overview; and retention.
#include "synth/results_api.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>

#include "synth/result_query.h"
#include "synth/results_test_fixture.h"
#include "synth/retention.h"

namespace pa::synth {
namespace {

using testing::kNowMs;
using testing::RunSpec;

constexpr int64_t kMinute = 60'000;
constexpr int64_t kHour = 60 * kMinute;

class ResultsApiTest : public testing::ResultsFixture {
 protected:
  // Walks every page of `query` with `limit`; returns the run ids in order.
  std::vector<std::string> WalkPages(const std::string& tx, const std::string& query, int limit,
                                     int* pages) {
    std::vector<std::string> ids;
    std::string cursor;
    *pages = 0;
    for (int guard = 0; guard < 1000; ++guard) {
      std::string q = query + (query.empty() ? "" : "&") + "limit=" + std::to_string(limit);
      if (!cursor.empty()) q += "&cursor=" + cursor;
      const Json page = Body(Get("/api/v1/transactions/" + tx + "/results", q));
      ++*pages;
      EXPECT_LE(page["results"].size(), static_cast<size_t>(limit));
      for (const Json& r : page["results"]) ids.push_back(r["run_id"].get<std::string>());
      if (page["next_cursor"].is_null()) return ids;
      cursor = page["next_cursor"].get<std::string>();
    }
    ADD_FAILURE() << "pagination does not end";
    return ids;
  }
};

TEST(ResultQueryTest, CursorRoundTripsAndRefusesGarbage) {
  for (const ResultCursor& c : {ResultCursor{kNowMs, "run-1"}, ResultCursor{-5, "a:b:ü"},
                                ResultCursor{0, std::string(128, 'x')}}) {
    const std::string text = EncodeCursor(c);
    EXPECT_EQ(text.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                     "0123456789-_"),
              std::string::npos);
    const auto back = DecodeCursor(text);
    ASSERT_TRUE(back.has_value()) << text;
    EXPECT_EQ(back->started_at, c.started_at);
    EXPECT_EQ(back->run_id, c.run_id);
  }
  for (const char* bad : {"", "!!!!", "a", "bm9jb2xvbg", "MTIzOg", "eHg6eXk", "MTIz"}) {
    EXPECT_FALSE(DecodeCursor(bad).has_value()) << bad;  // "nocolon", "123:", "xx:yy", "123"
  }
}

TEST(ResultQueryTest, PercentileInterpolatesBetweenClosestRanks) {
  // numpy.percentile([10, 20, 30, 40], [50, 90, 99]) == [25, 37, 39.7]
  const std::vector<double> v = {10, 20, 30, 40};
  EXPECT_DOUBLE_EQ(*Percentile(v, 0.5), 25);
  EXPECT_DOUBLE_EQ(*Percentile(v, 0.9), 37);
  EXPECT_DOUBLE_EQ(*Percentile(v, 0.99), 39.7);
  EXPECT_DOUBLE_EQ(*Percentile(v, 0), 10);
  EXPECT_DOUBLE_EQ(*Percentile(v, 1), 40);
  EXPECT_DOUBLE_EQ(*Percentile({7}, 0.9), 7);
  EXPECT_FALSE(Percentile({}, 0.5).has_value());
}

TEST_P(ResultsApiTest, PagesWalkEveryResultOnceNewestFirst) {
  Define("shop");
  // 23 results; started_at repeats in groups of three, so pages split groups of equal times.
  std::vector<RunSpec> specs;
  for (int i = 0; i < 23; ++i) {
    specs.push_back({.run_id = "run-" + std::to_string(100 + i * 7 % 23),
                     .transaction_id = "shop",
                     .started_at = kNowMs - kHour + (i / 3) * kMinute});
  }
  StoreRuns(specs);
  std::sort(specs.begin(), specs.end(), [](const RunSpec& a, const RunSpec& b) {
    return a.started_at != b.started_at ? a.started_at > b.started_at : a.run_id > b.run_id;
  });
  std::vector<std::string> expected;
  for (const RunSpec& s : specs) expected.push_back(s.run_id);

  for (int limit : {1, 2, 4, 5, 23, 100}) {
    int pages = 0;
    EXPECT_EQ(WalkPages("shop", "", limit, &pages), expected) << "limit " << limit;
    EXPECT_EQ(pages, (23 + limit - 1) / limit) << "limit " << limit;
  }
  // A page's summary fields.
  const Json first = Body(Get("/api/v1/transactions/shop/results", "limit=1"))["results"][0];
  EXPECT_EQ(first["run_id"], expected[0]);
  EXPECT_EQ(first["transaction_id"], "shop");
  EXPECT_EQ(first["tx_version"], 3);
  EXPECT_EQ(first["robot_id"], "robot-1");
  EXPECT_EQ(first["location"], "loc-a");
  EXPECT_EQ(first["started_at"], FormatRfc3339Ms(specs[0].started_at));
  EXPECT_EQ(first["finished_at"], FormatRfc3339Ms(specs[0].started_at + 1001));
  EXPECT_EQ(first["duration_ms"], 1000.0);
  EXPECT_EQ(first["status"], "success");
  EXPECT_TRUE(first["error"].is_null());
  EXPECT_EQ(first["received_at"], FormatRfc3339Ms(kNowMs));
}

TEST_P(ResultsApiTest, FiltersAndTimeRange) {
  Define("shop");
  Define("other");
  StoreRuns({
      {.run_id = "a",
       .transaction_id = "shop",
       .robot = "r1",
       .location = "msk",
       .started_at = kNowMs - 2 * kHour},
      {.run_id = "b",
       .transaction_id = "shop",
       .robot = "r2",
       .location = "spb",
       .started_at = kNowMs - 3 * kHour,
       .error = true},
      {.run_id = "c",
       .transaction_id = "shop",
       .robot = "r1",
       .location = "spb",
       .started_at = kNowMs - 4 * kHour,
       .error = true},
      {.run_id = "d",
       .transaction_id = "shop",
       .robot = "r1",
       .location = "msk",
       .started_at = kNowMs - 30 * kHour},  // outside the default 24 h
      {.run_id = "e", .transaction_id = "other", .started_at = kNowMs - kHour},
  });
  auto ids = [&](const std::string& query) {
    std::vector<std::string> out;
    const Json body = Body(Get("/api/v1/transactions/shop/results", query));
    for (const Json& r : body["results"]) out.push_back(r["run_id"].get<std::string>());
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(ids(""), (V{"a", "b", "c"}));
  EXPECT_EQ(ids("status=error"), (V{"b", "c"}));
  EXPECT_EQ(ids("status=success"), (V{"a"}));
  EXPECT_EQ(ids("robot=r1"), (V{"a", "c"}));
  EXPECT_EQ(ids("location=spb"), (V{"b", "c"}));
  EXPECT_EQ(ids("location=spb&robot=r1&status=error"), (V{"c"}));
  EXPECT_EQ(ids("robot=nobody"), V{});
  EXPECT_EQ(ids("status=&robot=&location=&from=&to=&cursor="), (V{"a", "b", "c"}));  // empty
  // from/to: RFC 3339 with any offset, or Unix ms; both ends included.
  EXPECT_EQ(ids("from=" + std::to_string(kNowMs - 48 * kHour)), (V{"a", "b", "c", "d"}));
  EXPECT_EQ(ids("from=" + FormatRfc3339Ms(kNowMs - 3 * kHour) +
                "&to=" + FormatRfc3339Ms(kNowMs - 2 * kHour)),
            (V{"a", "b"}));
  EXPECT_EQ(ids("from=2026-11-28T12:00:00%2B04:00&to=2026-11-28T09:00:00Z"), (V{"b", "c"}));
  EXPECT_EQ(ids("to=" + std::to_string(kNowMs - 20 * kHour)), (V{"d"}));  // from = to - 24 h
  const Json b = Body(Get("/api/v1/transactions/shop/results", "status=error"))["results"][0];
  EXPECT_EQ(b["error"], (Json{{"type", "assertion"}, {"message", "boom b"}}));
}

TEST_P(ResultsApiTest, BadParametersAre422WithTheirName) {
  Define("shop");
  const std::string path = "/api/v1/transactions/shop/results";
  for (const char* q : {"limit=0", "limit=1001", "limit=ten", "limit=5x", "limit=-1"}) {
    EXPECT_EQ(ErrorPath(Get(path, q)), "limit") << q;
  }
  EXPECT_EQ(Get(path, "limit=1000").status, 200);
  EXPECT_EQ(Get(path, "limit=1").status, 200);
  for (const char* q : {"cursor=%21%21", "cursor=bm9jb2xvbg", "cursor=MTIzOg"}) {
    EXPECT_EQ(ErrorPath(Get(path, q)), "cursor") << q;
  }
  EXPECT_EQ(ErrorPath(Get(path, "status=failed")), "status");
  EXPECT_EQ(ErrorPath(Get(path, "from=yesterday")), "from");
  EXPECT_EQ(ErrorPath(Get(path, "to=2026-13-01T00:00:00Z")), "to");
  EXPECT_EQ(ErrorPath(Get(path, "from=2000&to=1000")), "from");
  EXPECT_EQ(ErrorPath(Get("/api/v1/transactions/shop/stats", "to=soon")), "to");
  // Every problem is listed.
  EXPECT_EQ(Body(Get(path, "limit=0&status=x&from=y"), 422)["details"].size(), 3u);

  EXPECT_EQ(Body(Get("/api/v1/transactions/nope/results"), 404)["error"], "not_found");
  EXPECT_EQ(Body(Get("/api/v1/transactions/nope/stats"), 404)["error"], "not_found");
  EXPECT_EQ(Body(Get("/api/v1/results/nope"), 404)["error"], "not_found");
  EXPECT_EQ(Body(Get("/api/v1/artifacts/nope"), 404)["error"], "not_found");
}

TEST_P(ResultsApiTest, ResultDetailLinksScreenshotsAndArtifactsDownload) {
  Define("shop", true, 7);
  const std::string png = std::string("\x89PNG\r\n\x1a\n", 8) + std::string(300, '\0') + "end";
  const StoredArtifact shot = PutArtifact("01SHOT", 1, "Скриншот \"2\".png", "image/png", png);
  const StoredArtifact har =
      PutArtifact("01XHAR", std::nullopt, "run.har", "application/json", "{\"log\": {}}");
  RunSpec spec{.run_id = "run-1",
               .transaction_id = "shop",
               .location = "msk",
               .started_at = kNowMs - kMinute,
               .error = true,
               .steps = {{"home", 100, "success", std::nullopt},
                         {"pay", 200, "error", shot.id},
                         {"done", 0, "skipped", "never-uploaded.png"}}};
  Store({Item(spec, {shot, har})});

  const Json doc = Body(Get("/api/v1/results/run-1"));
  EXPECT_EQ(doc["run_id"], "run-1");
  EXPECT_EQ(doc["status"], "error");
  EXPECT_EQ(doc["received_at"], FormatRfc3339Ms(kNowMs));
  EXPECT_EQ(doc["tx_version"], 7);
  EXPECT_EQ(doc["location"], "msk");
  EXPECT_EQ(doc["error"]["message"], "boom run-1");
  ASSERT_EQ(doc["steps"].size(), 3u);
  EXPECT_FALSE(doc["steps"][0].contains("screenshot_url"));
  EXPECT_EQ(doc["steps"][1]["screenshot"], "01SHOT");
  EXPECT_EQ(doc["steps"][1]["screenshot_url"], "/api/v1/artifacts/01SHOT");
  EXPECT_FALSE(doc["steps"][2].contains("screenshot_url"));  // not an artifact of this run
  const Json expected_artifacts = Json::parse(R"([
    {"id": "01SHOT", "filename": "Скриншот \"2\".png", "content_type": "image/png",
     "size": 311, "step_index": 1, "url": "/api/v1/artifacts/01SHOT"},
    {"id": "01XHAR", "filename": "run.har", "content_type": "application/json",
     "size": 11, "step_index": null, "url": "/api/v1/artifacts/01XHAR"}])");
  EXPECT_EQ(doc["artifacts"], expected_artifacts);

  const gateway::Response file = Get("/api/v1/artifacts/01SHOT");
  EXPECT_EQ(file.status, 200);
  EXPECT_EQ(file.content_type, "image/png");
  EXPECT_EQ(file.body, png);
  EXPECT_EQ(file.headers.Get("Content-Disposition").value_or(""),
            "inline; filename=\"__________________2_.png\"; filename*=UTF-8''"
            "%D0%A1%D0%BA%D1%80%D0%B8%D0%BD%D1%88%D0%BE%D1%82%20%222%22.png");
  EXPECT_EQ(file.headers.Get("X-Content-Type-Options").value_or(""), "nosniff");
  EXPECT_EQ(file.headers.Get("Cache-Control").value_or(""), "private, max-age=86400");
  const gateway::Response log = Get("/api/v1/artifacts/01XHAR");
  EXPECT_EQ(log.content_type, "application/json");
  EXPECT_EQ(log.body, "{\"log\": {}}");
  EXPECT_EQ(log.headers.Get("Content-Disposition").value_or(""), "inline; filename=\"run.har\"");

  // The row without its object (deleted behind our back): 404, not 500.
  ASSERT_TRUE(artifacts_->Delete(har.storage_key).ok());
  EXPECT_EQ(Get("/api/v1/artifacts/01XHAR").status, 404);
}

// The statistics the API must give, computed here independently from the specs.
struct Expected {
  std::vector<double> durations;
  int64_t successes = 0;
};
double Quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const double pos = q * static_cast<double>(v.size() - 1);
  const size_t below = static_cast<size_t>(pos);
  const size_t above = std::min(below + 1, v.size() - 1);
  return v[below] * (1 - (pos - static_cast<double>(below))) +
         v[above] * (pos - static_cast<double>(below));
}
void ExpectQuantiles(const Json& got, const std::vector<double>& v, const std::string& what) {
  const std::pair<const char*, double> kQuantiles[] = {{"p50", 0.5}, {"p90", 0.9}, {"p99", 0.99}};
  for (const auto& [name, q] : kQuantiles) {
    ASSERT_TRUE(got[name].is_number()) << what << " " << name << ": " << got;
    EXPECT_NEAR(got[name].get<double>(), Quantile(v, q), 1e-6) << what << " " << name;
  }
}

TEST_P(ResultsApiTest, StatsEqualAnIndependentComputation) {
  Define("shop");
  std::mt19937_64 rng(20261128);
  std::uniform_real_distribution<double> duration(50, 4000);
  const std::vector<std::string> locations = {"msk", "spb", "nsk"};
  Expected all;
  std::map<std::string, Expected> by_location;
  struct StepExpected {
    std::vector<double> durations;  // of the steps that ran
    int64_t runs = 0, failures = 0, skipped = 0;
  };
  std::map<int, StepExpected> by_step;
  std::vector<UploadItem> items;
  for (int i = 0; i < 210; ++i) {
    RunSpec s{.run_id = "run-" + std::to_string(i),
              .transaction_id = "shop",
              .location = locations[rng() % 3],
              .started_at = kNowMs - static_cast<int64_t>(rng() % (23 * kHour))};
    const bool outside = i >= 200;  // 10 results before the range
    if (outside) s.started_at = kNowMs - 25 * kHour - i;
    const int failing_step = rng() % 6 == 0 ? static_cast<int>(rng() % 4) : -1;
    s.error = failing_step >= 0;
    s.duration_ms = std::round(duration(rng) * 1000) / 1000;
    for (int k = 0; k < 4; ++k) {
      const std::string status = failing_step < 0 || k < failing_step ? "success"
                                 : k == failing_step                  ? "error"
                                                                      : "skipped";
      const double d = status == "skipped" ? 0 : std::round(duration(rng) / 4 * 1000) / 1000;
      s.steps.push_back({"step " + std::to_string(k), d, status, std::nullopt});
      if (outside) continue;
      ++by_step[k].runs;
      if (status == "error") ++by_step[k].failures;
      if (status == "skipped") ++by_step[k].skipped;
      if (status != "skipped") by_step[k].durations.push_back(d);
    }
    if (!outside) {
      for (Expected* e : {&all, &by_location[s.location]}) {
        e->durations.push_back(s.duration_ms);
        if (!s.error) ++e->successes;
      }
    }
    items.push_back(Item(s));
    if (items.size() == 50) {
      Store(std::move(items));
      items.clear();
    }
  }
  Store(std::move(items));

  const Json stats = Body(Get("/api/v1/transactions/shop/stats"));
  const int64_t runs = static_cast<int64_t>(all.durations.size());
  ASSERT_EQ(runs, 200);
  EXPECT_EQ(stats["transaction_id"], "shop");
  EXPECT_EQ(stats["from"], FormatRfc3339Ms(kNowMs - 24 * kHour));
  EXPECT_EQ(stats["to"], FormatRfc3339Ms(kNowMs));
  EXPECT_EQ(stats["runs"], runs);
  EXPECT_EQ(stats["successes"], all.successes);
  EXPECT_EQ(stats["failures"], runs - all.successes);
  EXPECT_GT(runs - all.successes, 10);  // the seed gives both kinds
  EXPECT_NEAR(stats["availability_pct"].get<double>(), 100.0 * all.successes / runs, 1e-9);
  ExpectQuantiles(stats["duration_ms"], all.durations, "transaction");
  double sum = 0;
  for (double d : all.durations) sum += d;
  EXPECT_NEAR(stats["duration_ms"]["avg"].get<double>(), sum / runs, 1e-6);
  EXPECT_EQ(stats["duration_ms"]["min"],
            *std::min_element(all.durations.begin(), all.durations.end()));
  EXPECT_EQ(stats["duration_ms"]["max"],
            *std::max_element(all.durations.begin(), all.durations.end()));

  ASSERT_EQ(stats["locations"].size(), 3u);
  for (const Json& loc : stats["locations"]) {
    const std::string name = loc["location"].get<std::string>();
    const Expected& e = by_location[name];
    const int64_t n = static_cast<int64_t>(e.durations.size());
    EXPECT_EQ(loc["runs"], n);
    EXPECT_NEAR(loc["availability_pct"].get<double>(), 100.0 * e.successes / n, 1e-9);
    ExpectQuantiles(loc["duration_ms"], e.durations, name);
  }
  EXPECT_EQ(stats["locations"][0]["location"], "msk");  // sorted by name
  ASSERT_EQ(stats["steps"].size(), 4u);
  for (int k = 0; k < 4; ++k) {
    const Json& step = stats["steps"][k];
    EXPECT_EQ(step["index"], k);
    EXPECT_EQ(step["name"], "step " + std::to_string(k));
    EXPECT_EQ(step["runs"], by_step[k].runs);
    EXPECT_EQ(step["failures"], by_step[k].failures);
    EXPECT_EQ(step["skipped"], by_step[k].skipped);
    ExpectQuantiles(step["duration_ms"], by_step[k].durations, "step " + std::to_string(k));
  }

  // An explicit range over nothing: zero runs, nulls.
  const Json empty = Body(Get("/api/v1/transactions/shop/stats", "from=0&to=1000"));
  EXPECT_EQ(empty["runs"], 0);
  EXPECT_TRUE(empty["availability_pct"].is_null());
  EXPECT_TRUE(empty["duration_ms"]["p90"].is_null());
  EXPECT_TRUE(empty["duration_ms"]["avg"].is_null());
  EXPECT_EQ(empty["steps"], Json::array());
  EXPECT_EQ(empty["locations"], Json::array());
}

TEST_P(ResultsApiTest, StatsOfKnownDurations) {
  Define("shop");
  std::vector<RunSpec> specs;
  for (int i = 0; i < 4; ++i) {
    specs.push_back({.run_id = "r" + std::to_string(i),
                     .transaction_id = "shop",
                     .started_at = kNowMs - (i + 1) * kMinute,
                     .duration_ms = 10.0 * (4 - i),
                     .error = i == 0});
  }
  StoreRuns(specs);
  const Json s = Body(Get("/api/v1/transactions/shop/stats"));
  const std::pair<const char*, double> kExpected[] = {{"p50", 25}, {"p90", 37}, {"p99", 39.7},
                                                      {"avg", 25}, {"min", 10}, {"max", 40}};
  for (const auto& [name, value] : kExpected) {
    ASSERT_TRUE(s["duration_ms"][name].is_number()) << name;
    EXPECT_NEAR(s["duration_ms"][name].get<double>(), value, 1e-9) << name;
  }
  EXPECT_EQ(s["availability_pct"], 75.0);
}

TEST_P(ResultsApiTest, OverviewStates) {
  for (const char* id : {"a.ok", "b.failing", "c.nodata", "e.missed"}) Define(id);
  Define("d.disabled", false);
  std::vector<RunSpec> specs;
  for (int i = 0; i < 10; ++i) {  // a.ok: 10 runs in 24 h, one failed early on
    specs.push_back({.run_id = "ok-" + std::to_string(i),
                     .transaction_id = "a.ok",
                     .started_at = kNowMs - (i + 1) * kHour,
                     .duration_ms = 100.0 * (i + 1),
                     .error = i == 9});
  }
  specs.push_back(
      {.run_id = "ok-old", .transaction_id = "a.ok", .started_at = kNowMs - 30 * kHour});
  specs.push_back(
      {.run_id = "f-1", .transaction_id = "b.failing", .started_at = kNowMs - 2 * kHour});
  specs.push_back({.run_id = "f-2",
                   .transaction_id = "b.failing",
                   .started_at = kNowMs - kHour,
                   .error = true});
  specs.push_back({.run_id = "d-1",
                   .transaction_id = "d.disabled",
                   .started_at = kNowMs - kHour,
                   .error = true});
  specs.push_back(
      {.run_id = "m-1", .transaction_id = "e.missed", .started_at = kNowMs - 40 * kHour});
  specs.push_back(
      {.run_id = "x-1", .transaction_id = "f.external", .started_at = kNowMs - kMinute});
  StoreRuns(specs);
  ASSERT_TRUE(db_->Exec("UPDATE synth_transactions SET missed_since = $1 WHERE id = 'e.missed'",
                        {kNowMs - 5 * kMinute})
                  .ok());

  const Json list = Body(Get("/api/v1/overview"))["transactions"];
  std::map<std::string, Json> by_id;
  for (const Json& t : list) by_id[t["id"].get<std::string>()] = t;
  ASSERT_EQ(list.size(), 6u);
  EXPECT_EQ(list[0]["id"], "a.ok");
  EXPECT_EQ(by_id["a.ok"]["state"], "ok");
  EXPECT_EQ(by_id["b.failing"]["state"], "failing");
  EXPECT_EQ(by_id["c.nodata"]["state"], "no_data");
  EXPECT_EQ(by_id["d.disabled"]["state"], "disabled");
  EXPECT_EQ(by_id["e.missed"]["state"], "missed");
  EXPECT_EQ(by_id["f.external"]["state"], "ok");

  const Json& ok = by_id["a.ok"];
  EXPECT_EQ(ok["name"], "Name of a.ok");
  EXPECT_EQ(ok["application"], "shop");
  EXPECT_EQ(ok["enabled"], true);
  EXPECT_EQ(ok["external"], false);
  EXPECT_EQ(ok["interval_s"], 60);
  EXPECT_EQ(ok["version"], 3);
  EXPECT_EQ(ok["last_status"], "success");
  EXPECT_EQ(ok["last_run_at"], FormatRfc3339Ms(kNowMs - kHour));
  EXPECT_EQ(ok["runs_24h"], 10);
  EXPECT_EQ(ok["availability_24h_pct"], 90.0);
  EXPECT_NEAR(ok["p90_ms_24h"].get<double>(), 910.0, 1e-9);  // 100..1000: h = 8.1
  EXPECT_TRUE(ok["missed_since"].is_null());

  const Json& none = by_id["c.nodata"];
  EXPECT_TRUE(none["last_status"].is_null());
  EXPECT_TRUE(none["last_run_at"].is_null());
  EXPECT_EQ(none["runs_24h"], 0);
  EXPECT_TRUE(none["availability_24h_pct"].is_null());
  EXPECT_TRUE(none["p90_ms_24h"].is_null());
  EXPECT_EQ(by_id["b.failing"]["availability_24h_pct"], 50.0);
  EXPECT_EQ(by_id["d.disabled"]["enabled"], false);
  EXPECT_EQ(by_id["e.missed"]["missed_since"], FormatRfc3339Ms(kNowMs - 5 * kMinute));
  EXPECT_EQ(by_id["e.missed"]["runs_24h"], 0);             // its only run is 40 h old...
  EXPECT_EQ(by_id["e.missed"]["last_status"], "success");  // ...but still the last one
  EXPECT_EQ(by_id["f.external"]["external"], true);
  EXPECT_TRUE(by_id["f.external"]["application"].is_null());
}

// ---- retention ----

class RetentionTest : public testing::ResultsFixture {
 protected:
  // `n` results of `tx` started at `at` - i ms, each with two steps and an artifact object.
  std::vector<std::string> StoreWithArtifacts(const std::string& tx, const std::string& prefix,
                                              int n, int64_t at) {
    std::vector<std::string> ids;
    std::vector<UploadItem> items;
    for (int i = 0; i < n; ++i) {
      const std::string run = prefix + std::to_string(i);
      const StoredArtifact a = PutArtifact("art-" + run, 1, "s.png", "image/png", "png " + run);
      items.push_back(
          Item({.run_id = run,
                .transaction_id = tx,
                .started_at = at - i,
                .steps = {{"one", 1, "success", std::nullopt}, {"two", 2, "success", a.id}}},
               {a}));
      ids.push_back(run);
    }
    Store(std::move(items));
    return ids;
  }

  bool ObjectExists(const std::string& run) {
    return artifacts_->Get("synth/2026/11/28/art-" + run + ".bin").ok();
  }

  // Checks that exactly `kept` of `all` remain, rows and objects.
  void ExpectKept(const std::vector<std::string>& all, const std::set<std::string>& kept) {
    for (const std::string& run : all) {
      const int64_t want = kept.contains(run) ? 1 : 0;
      EXPECT_EQ(Count("SELECT COUNT(*) FROM synth_results WHERE run_id = $1", {run}), want) << run;
      EXPECT_EQ(Count("SELECT COUNT(*) FROM synth_steps WHERE run_id = $1", {run}), 2 * want)
          << run;
      EXPECT_EQ(Count("SELECT COUNT(*) FROM synth_artifacts WHERE run_id = $1", {run}), want)
          << run;
      EXPECT_EQ(ObjectExists(run), want == 1) << run;
    }
  }
};

TEST_P(RetentionTest, DeletesExactlyTheOldResultsInBatches) {
  Define("shop");
  const int64_t cutoff = kNowMs - 7 * 24 * kHour;
  // 230 old ones (batches of 120 = IN lists of 100 + 20), in two transactions; 15 newer ones.
  auto old_shop = StoreWithArtifacts("shop", "old-", 130, cutoff - 1);
  auto old_ext = StoreWithArtifacts("ext", "ext-", 100, cutoff - kHour);
  auto fresh = StoreWithArtifacts("shop", "new-", 15, cutoff + 15);  // cutoff+1 .. cutoff+15
  std::vector<std::string> all = old_shop;
  all.insert(all.end(), old_ext.begin(), old_ext.end());
  all.insert(all.end(), fresh.begin(), fresh.end());

  int64_t deleted = -1;
  ASSERT_TRUE(DeleteResultsBefore(*db_, *artifacts_, cutoff, 120, &deleted).ok());
  EXPECT_EQ(deleted, 230);
  ExpectKept(all, std::set<std::string>(fresh.begin(), fresh.end()));
  EXPECT_EQ(Count("SELECT COUNT(*) FROM synth_steps"), 30);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM synth_artifacts"), 15);
  EXPECT_EQ(Body(Get("/api/v1/transactions/shop/stats"))["runs"], 0);  // 7 days ago: not in 24 h

  // Nothing more to do: a second run deletes nothing.
  ASSERT_TRUE(DeleteResultsBefore(*db_, *artifacts_, cutoff, 120, &deleted).ok());
  EXPECT_EQ(deleted, 0);
  EXPECT_EQ(DeleteResultsBefore(*db_, *artifacts_, cutoff, 0).code(), StatusCode::kInvalidArgument);
}

TEST_P(RetentionTest, AFailedObjectDeleteKeepsTheRowsForARetry) {
  Define("shop");
  auto runs = StoreWithArtifacts("shop", "old-", 5, kNowMs - 10 * kHour);
  StoreWithArtifacts("shop", "newest-", 1, kNowMs);
  testing::FailingDeletes failing(*artifacts_, "art-old-3");
  const Status st = DeleteResultsBefore(*db_, failing, kNowMs - kHour, 1000);
  EXPECT_EQ(st.code(), StatusCode::kUnavailable) << st.ToString();
  EXPECT_EQ(Count("SELECT COUNT(*) FROM synth_results"), 6);  // every row kept
  EXPECT_EQ(Count("SELECT COUNT(*) FROM synth_artifacts"), 6);
  // The retry finds them; objects already deleted are kNotFound, which is fine.
  ASSERT_TRUE(DeleteResultsBefore(*db_, *artifacts_, kNowMs - kHour).ok());
  ExpectKept(runs, {});
  EXPECT_EQ(Count("SELECT COUNT(*) FROM synth_results"), 1);
}

TEST_P(RetentionTest, KeepsTheNewestSeqAndUnexportedResults) {
  Define("shop");
  auto runs = StoreWithArtifacts("shop", "r", 6, kNowMs - 10 * kHour);  // seq 1..6, all old
  // Without an exporter cursor only the newest by seq is kept: the writer numbers after it.
  ASSERT_TRUE(DeleteResultsBefore(*db_, *artifacts_, kNowMs).ok());
  ExpectKept(runs, {"r5"});
  // With a cursor at seq 8, results 9.. are not deleted before they are exported.
  auto more = StoreWithArtifacts("shop", "s", 6, kNowMs - 9 * kHour);  // seq 7..12
  ASSERT_TRUE(db_->Exec("INSERT INTO synth_metric_export (id, exported_seq) VALUES (1, 8)").ok());
  ASSERT_TRUE(DeleteResultsBefore(*db_, *artifacts_, kNowMs).ok());
  ExpectKept(more, {"s2", "s3", "s4", "s5"});  // s0 = seq 7, s1 = seq 8
}

TEST_P(RetentionTest, DeleteTransactionDataRemovesOnlyThatTransaction) {
  Define("shop");
  Define("blog");
  auto shop = StoreWithArtifacts("shop", "shop-", 12, kNowMs - kHour);
  auto blog = StoreWithArtifacts("blog", "blog-", 4, kNowMs - 2 * kHour);
  int64_t deleted = 0;
  ASSERT_TRUE(DeleteTransactionData(*db_, *artifacts_, "shop", 5, &deleted).ok());
  EXPECT_EQ(deleted, 12);
  ExpectKept(shop, {});
  ExpectKept(blog, std::set<std::string>(blog.begin(), blog.end()));
  EXPECT_EQ(Body(Get("/api/v1/transactions/shop/results"))["results"], Json::array());
  EXPECT_EQ(Body(Get("/api/v1/transactions/blog/results"))["results"].size(), 4u);
}

INSTANTIATE_TEST_SUITE_P(Backends, ResultsApiTest, testing::kBackends, testing::BackendName);
INSTANTIATE_TEST_SUITE_P(Backends, RetentionTest, testing::kBackends, testing::BackendName);

}  // namespace
}  // namespace pa::synth
