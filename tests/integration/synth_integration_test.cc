// The synth role end to end over HTTP on the real binary, on SQLite and PostgreSQL: robots
// register and poll their configuration (ETag/304, secrets delivered only to them), results
// upload as JSON and gzip (a gzip bomb is refused), results and derived metrics become
// queryable, and every result acknowledged before a `kill -9` under load is there afterwards
// with metrics that match the stored results exactly.
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <mutex>
#include <set>
#include <thread>

#include "base/time_format.h"
#include "it_support.h"

namespace pa::testing {
namespace {

using namespace std::chrono_literals;

class SynthIT : public BackendTest {
 protected:
  std::string CreateToken(const Json& body) {
    auto resp = server_->Request("POST", "/api/v1/tokens", body.dump(), Bearer(admin_));
    EXPECT_TRUE(resp.ok());
    EXPECT_EQ(resp->status, 201) << resp->body;
    return ParseBody(*resp).value("token", "");
  }

  static Json Result(const std::string& run_id, const std::string& robot, int64_t t0,
                     bool success = true) {
    Json r = {{"run_id", run_id},
              {"transaction_id", "shop.checkout"},
              {"robot_id", robot},
              {"started_at", FormatRfc3339Ms(t0)},
              {"finished_at", FormatRfc3339Ms(t0 + 2500)},
              {"status", success ? "success" : "error"},
              {"steps",
               {{{"index", 0},
                 {"name", "Главная"},
                 {"started_at", FormatRfc3339Ms(t0)},
                 {"finished_at", FormatRfc3339Ms(t0 + 1000)},
                 {"status", "success"},
                 {"timings", {{"dns_ms", 2.0}, {"connect_ms", 5.0}, {"ttfb_ms", 120.5}}}},
                {{"index", 1},
                 {"name", "Корзина"},
                 {"started_at", FormatRfc3339Ms(t0 + 1000)},
                 {"finished_at", FormatRfc3339Ms(t0 + 2500)},
                 {"status", success ? "success" : "error"}}}}};
    if (!success) r["error"] = {{"step_index", 1}, {"type", "assertion"}, {"message", "no cart"}};
    return r;
  }

  static int64_t NowMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  // A PromQL instant query's single value, or -1.
  double Metric(ServerProcess& server, const std::string& token, const std::string& promql) {
    auto resp = server.Request("POST", "/prometheus/api/v1/query", "query=" + promql,
                               {{"Authorization", "Bearer " + token},
                                {"Content-Type", "application/x-www-form-urlencoded"}});
    if (!resp.ok() || resp->status != 200) return -1;
    const Json r = ParseBody(*resp)["data"]["result"];
    if (!r.is_array() || r.empty()) return -1;
    return std::stod(r[0]["value"][1].get<std::string>());
  }
};

const char* kDefinitionYaml = R"(
id: shop.checkout
name: Оформление заказа
interval_s: 60
locations: [msk]
variables: {base: "https://shop.example"}
secrets: {card: "4111-1111-1111-1111"}
steps:
  - name: Главная
    type: http
    request: {url: "{{base}}/"}
    assert: [{type: status, in: [200]}]
  - name: Корзина
    type: http
    request: {url: "{{base}}/cart", headers: {X-Card: "{{card}}"}}
)";

TEST_P(SynthIT, RobotsRegisterAndGetTheirTransactionsWithSecrets) {
  if (!StartServer()) return;
  const std::string msk =
      CreateToken({{"name", "msk"}, {"scopes", {"robot"}}, {"robot_id", "robot-msk"}});
  const std::string spb =
      CreateToken({{"name", "spb"}, {"scopes", {"robot"}}, {"robot_id", "robot-spb"}});
  for (const auto& [token, location] : {std::pair{msk, "msk"}, std::pair{spb, "spb"}}) {
    auto reg = server_->Request("POST", "/api/v1/robots/register",
                                Json{{"name", location},
                                     {"location", location},
                                     {"labels", {{"env", "prod"}}},
                                     {"version", "1.0.0"}}
                                    .dump(),
                                Bearer(token));
    ASSERT_EQ(reg->status, 200) << reg->body;
  }
  auto created = server_->Request(
      "POST", "/api/v1/transactions", kDefinitionYaml,
      {{"Authorization", "Bearer " + admin_}, {"Content-Type", "application/yaml"}});
  ASSERT_EQ(created->status, 201) << created->body;
  EXPECT_EQ(created->body.find("4111"), std::string::npos);  // write-only
  EXPECT_EQ(ParseBody(*created)["secret_names"], Json({"card"}));
  EXPECT_EQ(ParseBody(*created)["version"], 1);

  auto config = server_->Get("/api/v1/robots/robot-msk/config", Bearer(msk));
  ASSERT_EQ(config->status, 200) << config->body;
  const Json c = ParseBody(*config);
  ASSERT_EQ(c["transactions"].size(), 1u);
  EXPECT_EQ(c["transactions"][0]["secrets"]["card"], "4111-1111-1111-1111");
  EXPECT_EQ(c["transactions"][0]["version"], 1);
  const std::string etag = config->Header("etag").value_or("");
  ASSERT_FALSE(etag.empty());
  auto cached = server_->Get("/api/v1/robots/robot-msk/config",
                             {{"Authorization", "Bearer " + msk}, {"If-None-Match", etag}});
  EXPECT_EQ(cached->status, 304);
  // The spb robot is not in the transaction's locations.
  auto other = server_->Get("/api/v1/robots/robot-spb/config", Bearer(spb));
  ASSERT_EQ(other->status, 200);
  EXPECT_TRUE(ParseBody(*other)["transactions"].empty());

  // A change is a new version; the configuration's ETag changes with it.
  std::string v2 = kDefinitionYaml;
  v2.replace(v2.find("interval_s: 60"), 14, "interval_s: 120");
  auto put = server_->Request("PUT", "/api/v1/transactions/shop.checkout", v2,
                              {{"Authorization", "Bearer " + admin_},
                               {"Content-Type", "application/yaml"},
                               {"If-Match", "1"}});
  ASSERT_EQ(put->status, 200) << put->body;
  EXPECT_EQ(ParseBody(*put)["version"], 2);
  auto stale = server_->Request("PUT", "/api/v1/transactions/shop.checkout", v2,
                                {{"Authorization", "Bearer " + admin_},
                                 {"Content-Type", "application/yaml"},
                                 {"If-Match", "1"}});
  EXPECT_EQ(stale->status, 412);
  auto fresh = server_->Get("/api/v1/robots/robot-msk/config",
                            {{"Authorization", "Bearer " + msk}, {"If-None-Match", etag}});
  EXPECT_EQ(fresh->status, 200);
  EXPECT_EQ(ParseBody(*fresh)["transactions"][0]["interval_s"], 120);

  // Validation errors carry the spec's paths.
  auto bad = server_->Request("POST", "/api/v1/transactions/validate",
                              Json{{"id", "x"},
                                   {"name", "x"},
                                   {"steps",
                                    {{{"name", "s"},
                                      {"type", "http"},
                                      {"request", {{"url", "https://a/"}}},
                                      {"assert", {{{"type", "status"}, {"in", "200"}}}}}}}}
                                  .dump(),
                              Bearer(admin_));
  ASSERT_EQ(bad->status, 422) << bad->body;
  EXPECT_EQ(ParseBody(*bad)["details"][0]["path"], "steps[0].assert[0].in");

  auto robots = server_->Get("/api/v1/robots", Bearer(admin_));
  ASSERT_EQ(robots->status, 200);
  EXPECT_EQ(ParseBody(*robots)["robots"][0]["status"], "online");
  auto beat = server_->Request("POST", "/api/v1/robots/robot-msk/heartbeat",
                               Json{{"version", "1.0.1"}}.dump(), Bearer(msk));
  EXPECT_EQ(beat->status, 200) << beat->body;
  // Nothing the API answers holds the secret; the database holds it sealed only.
  for (const char* path : {"/api/v1/transactions", "/api/v1/transactions/shop.checkout",
                           "/api/v1/transactions/shop.checkout/versions"}) {
    auto r = server_->Get(path, Bearer(admin_));
    ASSERT_EQ(r->status, 200) << path;
    EXPECT_EQ(r->body.find("4111"), std::string::npos) << path;
  }
}

TEST_P(SynthIT, UploadsAsJsonAndGzipAreQueryableAndBombsAreRefused) {
  if (!StartServer()) return;
  const std::string robot =
      CreateToken({{"name", "r"}, {"scopes", {"robot"}}, {"robot_id", "robot-1"}});
  const int64_t t0 = NowMs() - 600000;
  Json batch = Json::array();
  for (int i = 0; i < 20; ++i)
    batch.push_back(Result("run-" + std::to_string(i), "robot-1", t0 + i * 10000, i % 4 != 0));
  auto up = server_->Request("POST", "/api/v1/transactions/results/upload", Gzip(batch.dump()),
                             {{"Authorization", "Bearer " + robot},
                              {"Content-Type", "application/json"},
                              {"Content-Encoding", "gzip"}});
  ASSERT_EQ(up->status, 200) << up->body;
  EXPECT_EQ(ParseBody(*up)["accepted"], 20);
  // Another robot's id with this token: 403, nothing stored.
  auto foreign = server_->Request(
      "POST", "/api/v1/transactions/results/upload", Result("run-x", "robot-2", t0).dump(),
      {{"Authorization", "Bearer " + robot}, {"Content-Type", "application/json"}});
  EXPECT_EQ(foreign->status, 403);
  // 64 MiB of zeros in ~64 KiB: decompression stops at the route's limit.
  std::string zeros(64 << 20, '\0');
  auto bomb = server_->Request("POST", "/api/v1/transactions/results/upload", Gzip(zeros),
                               {{"Authorization", "Bearer " + robot},
                                {"Content-Type", "application/json"},
                                {"Content-Encoding", "gzip"}});
  EXPECT_EQ(bomb->status, 413) << bomb->body;

  auto list = server_->Get("/api/v1/transactions/shop.checkout/results?limit=5", Bearer(admin_));
  ASSERT_EQ(list->status, 200) << list->body;
  EXPECT_EQ(ParseBody(*list)["results"].size(), 5u);
  EXPECT_EQ(ParseBody(*list)["results"][0]["run_id"], "run-19");  // newest first
  auto one = server_->Get("/api/v1/results/run-4", Bearer(admin_));
  ASSERT_EQ(one->status, 200) << one->body;
  EXPECT_EQ(ParseBody(*one)["steps"][1]["name"], "Корзина");
  EXPECT_EQ(server_->Get("/api/v1/results/run-x", Bearer(admin_))->status, 404);
  // A single result is stored as the text received when it needs no normalisation: unknown
  // fields kept, and the version a robot says it ran recorded.
  Json single = Result("run-single", "robot-1", t0 + 300000, true);
  single["duration_ms"] = 2500;
  for (Json& step : single["steps"]) step["duration_ms"] = 1000;
  single["transaction_version"] = 5;
  single["vendor_extension"] = {{"k", "v"}};
  auto up_single = server_->Request(
      "POST", "/api/v1/transactions/results/upload", single.dump(2),
      {{"Authorization", "Bearer " + robot}, {"Content-Type", "application/json"}});
  ASSERT_EQ(up_single->status, 200) << up_single->body;
  auto stored = server_->Get("/api/v1/results/run-single", Bearer(admin_));
  ASSERT_EQ(stored->status, 200) << stored->body;
  EXPECT_EQ(ParseBody(*stored)["tx_version"], 5);
  EXPECT_EQ(ParseBody(*stored)["vendor_extension"]["k"], "v");
  EXPECT_EQ(ParseBody(*stored)["steps"][1]["duration_ms"], 1000);  // as sent

  // Derived metrics: 16 successes (with run-single), 5 errors.
  bool exported = false;
  for (int i = 0; i < 100 && !exported; ++i) {
    exported = Metric(*server_, admin_, "sum(primoart_synthetic_runs_total)") == 21;
    if (!exported) std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(exported);
  EXPECT_EQ(Metric(*server_, admin_, "sum(primoart_synthetic_runs_total{status=\"error\"})"), 5);
  EXPECT_EQ(
      Metric(*server_, admin_,
             "count(count_over_time(primoart_synthetic_step_timing_seconds{phase=\"ttfb\"}[1h]))"),
      1);
}

TEST_P(SynthIT, ScreenshotsOfAMultipartUploadAreStoredOnS3AndServed) {
  const char* url = std::getenv("PRIMOART_TEST_S3_URL");
  if (!url || !*url) {
    const char* require = std::getenv("PRIMOART_TEST_REQUIRE_SERVERS");
    if (require && std::string(require) == "1") FAIL() << "PRIMOART_TEST_S3_URL is not set";
    GTEST_SKIP() << "PRIMOART_TEST_S3_URL is not set (scripts/s3-test-server)";
  }
  // A prefix of its own in the shared test bucket: s3://bucket/<prefix>?...
  std::string artifacts = url;
  artifacts.insert(artifacts.find('?'), "/synth-it-" + std::to_string(NowMs()));
  if (!StartServer({{"PRIMOART_ARTIFACTS_URL", artifacts},
                    {"PRIMOART_S3_ACCESS_KEY", std::getenv("PRIMOART_TEST_S3_ACCESS_KEY")},
                    {"PRIMOART_S3_SECRET_KEY", std::getenv("PRIMOART_TEST_S3_SECRET_KEY")}})) {
    return;
  }
  const std::string robot =
      CreateToken({{"name", "r"}, {"scopes", {"robot"}}, {"robot_id", "robot-1"}});
  Json result = Result("shot-1", "robot-1", NowMs() - 60000, false);
  result["steps"][1]["screenshot"] = "cart.png";
  std::string png = std::string("\x89PNG\r\n\x1a\n", 8);
  for (int i = 0; i < 5000; ++i) png.push_back(static_cast<char>(i * 7));
  const std::string body =
      "--b0undary\r\nContent-Disposition: form-data; name=\"result\"\r\n"
      "Content-Type: application/json\r\n\r\n" +
      result.dump() +
      "\r\n--b0undary\r\nContent-Disposition: form-data; name=\"artifact\"; "
      "filename=\"cart.png\"\r\nContent-Type: image/png\r\n\r\n" +
      png + "\r\n--b0undary--\r\n";
  auto up = server_->Request("POST", "/api/v1/transactions/results/upload", body,
                             {{"Authorization", "Bearer " + robot},
                              {"Content-Type", "multipart/form-data; boundary=b0undary"}});
  ASSERT_EQ(up->status, 200) << up->body;
  auto detail = server_->Get("/api/v1/results/shot-1", Bearer(admin_));
  ASSERT_EQ(detail->status, 200) << detail->body;
  const Json d = ParseBody(*detail);
  ASSERT_EQ(d["artifacts"].size(), 1u) << d.dump();
  EXPECT_EQ(d["artifacts"][0]["step_index"], 1);
  const std::string link = d["steps"][1]["screenshot_url"];
  auto image = server_->Get(link, Bearer(admin_));
  ASSERT_EQ(image->status, 200) << image->body;
  EXPECT_EQ(image->Header("content-type").value_or(""), "image/png");
  EXPECT_EQ(image->body, png);
  // Deleting the transaction deletes its artifacts.
  auto del = server_->Request("DELETE", "/api/v1/transactions/shop.checkout", "", Bearer(admin_));
  EXPECT_EQ(del->status, 204) << del->body;
  EXPECT_EQ(server_->Get(link, Bearer(admin_))->status, 404);
}

TEST_P(SynthIT, EveryAcknowledgedResultSurvivesKill9UnderLoad) {
  if (!StartServer()) return;
  const std::string robot =
      CreateToken({{"name", "r"}, {"scopes", {"robot"}}, {"robot_id", "robot-1"}});
  std::mutex mu;
  std::set<std::string> acknowledged;
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  const int64_t t0 = NowMs() - 3600000;
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&, c] {
      HttpClient client;
      for (int i = 0; !stop; ++i) {
        Json batch = Json::array();
        std::vector<std::string> ids;
        for (int k = 0; k < 5; ++k) {
          ids.push_back("k" + std::to_string(c) + "-" + std::to_string(i) + "-" +
                        std::to_string(k));
          batch.push_back(
              Result(ids.back(), "robot-1", t0 + (c * 100000 + i * 10 + k) * 7, k != 0));
        }
        auto resp = client.Do({.method = "POST",
                               .url = server_->base_url() + "/api/v1/transactions/results/upload",
                               .headers = {{"Authorization", "Bearer " + robot},
                                           {"Content-Type", "application/json"}},
                               .body = batch.dump(),
                               .timeout = 5s});
        if (resp.ok() && resp->status == 200) {
          std::lock_guard lock(mu);
          acknowledged.insert(ids.begin(), ids.end());
        }
      }
    });
  }
  for (int i = 0; i < 100; ++i) {
    {
      std::lock_guard lock(mu);
      if (acknowledged.size() >= 200) break;
    }
    std::this_thread::sleep_for(20ms);
  }
  server_->Kill9();
  stop = true;
  for (auto& t : clients) t.join();
  ASSERT_GE(acknowledged.size(), 50u);

  ServerProcess again({.env = env_, .data_dir = server_->data_dir()});
  ASSERT_TRUE(again.Start().ok());
  const std::string admin = Login(again, "admin", kAdminPassword);
  // Every acknowledged result is there with its steps.
  std::set<std::string> stored;
  std::string cursor;
  const std::string range = "from=" + std::to_string(t0 - 1000) + "&to=" + std::to_string(NowMs());
  for (;;) {
    auto page = again.Get("/api/v1/transactions/shop.checkout/results?limit=1000&" + range +
                              (cursor.empty() ? "" : "&cursor=" + cursor),
                          Bearer(admin));
    ASSERT_EQ(page->status, 200) << page->body;
    const Json p = ParseBody(*page);
    for (const Json& r : p["results"]) stored.insert(r["run_id"].get<std::string>());
    if (p["next_cursor"].is_null()) break;
    cursor = p["next_cursor"];
  }
  for (const std::string& id : acknowledged) EXPECT_TRUE(stored.count(id)) << id << " was lost";
  auto detail = again.Get("/api/v1/results/" + *acknowledged.begin(), Bearer(admin));
  ASSERT_EQ(detail->status, 200);
  EXPECT_EQ(ParseBody(*detail)["steps"].size(), 2u);
  // The derived metrics match the stored results exactly: not one lost, not one twice.
  const double want = static_cast<double>(stored.size());
  double got = -1;
  for (int i = 0; i < 200 && got != want; ++i) {
    got = Metric(again, admin, "sum(primoart_synthetic_runs_total)");
    if (got != want) std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(got, want);
  EXPECT_EQ(Metric(again, admin, "count(count_over_time(primoart_synthetic_duration_seconds[2h]))"),
            1);
  EXPECT_EQ(Metric(again, admin, "sum(count_over_time(primoart_synthetic_duration_seconds[2h]))"),
            want);
  RecordProperty("acknowledged", static_cast<int>(acknowledged.size()));
}

INSTANTIATE_TEST_SUITE_P(Backends, SynthIT, ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         BackendName);

}  // namespace
}  // namespace pa::testing
