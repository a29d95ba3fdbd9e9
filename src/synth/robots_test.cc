// Robots on fake time: which transactions a robot's configuration holds (locations, label
// selectors, enabled, external), its ETag, the online/stale/offline states, and the missed-run
// job — marked after 3 x the interval without a result while an online robot is assigned,
// cleared by the next result.
#include "synth/robots.h"

#include <gtest/gtest.h>

#include <future>

#include "base/clock.h"
#include "base/json.h"
#include "base/random.h"
#include "base/telemetry.h"
#include "base/time_format.h"
#include "synth/result_writer.h"
#include "synth/test_database.h"

namespace pa::synth {
namespace {

using gateway::Method;
using gateway::Request;
using gateway::Response;

class RobotsTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("pa-robots-" + NewRequestId().substr(0, 10));
    db_ = testing::OpenTestDatabase(GetParam(), dir_);
    if (!db_) {
      if (!IsSkipped()) FAIL() << "no database to test on";
      return;
    }
    auto box = SecretBox::FromKey(std::string(32, 'k'));
    ASSERT_TRUE(box.ok());
    box_ = std::make_unique<SecretBox>(std::move(*box));
    robots_ = std::make_unique<RobotsApi>(*db_, clock_, *box_,
                                          RobotOptions{.stale_after = std::chrono::seconds(90),
                                                       .offline_after = std::chrono::minutes(5)});
    ASSERT_TRUE(robots_->Register(router_).ok());
  }
  void TearDown() override {
    robots_.reset();
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  Response Call(Method m, const std::string& path, const std::string& robot, Json body = nullptr,
                std::vector<std::pair<std::string, std::string>> headers = {}) {
    auto match = router_.Match(m, path);
    EXPECT_NE(match.route, nullptr) << path;
    if (!match.route) return Response::Empty(404);
    Request req;
    req.method = m;
    req.path = path;
    req.params = match.params;
    req.principal = {.kind = "token", .scopes = {"robot"}, .robot_id = robot};
    if (!body.is_null()) {
      req.body = body.dump();
      req.headers.Add("Content-Type", "application/json");
    }
    for (auto& [k, v] : headers) req.headers.Add(k, v);
    return match.route->handler(req);
  }
  void RegisterRobot(const std::string& id, const std::string& location, Json labels) {
    Response r = Call(Method::kPost, "/api/v1/robots/register", id,
                      {{"name", id}, {"location", location}, {"labels", labels}});
    ASSERT_EQ(r.status, 200) << r.body;
  }
  // A defined transaction, stored as the API stores it (its shown form).
  void Define(const std::string& id, Json extra) {
    Json def = {{"id", id}, {"name", id}, {"enabled", true}, {"interval_s", 60}};
    if (extra.is_object()) def.update(extra);
    const int64_t now = clock_.NowMs();
    ASSERT_TRUE(db_->Exec("INSERT INTO synth_transactions (id, name, enabled, external, "
                          "interval_s, timeout_s, version, definition, created_at, updated_at) "
                          "VALUES ($1, $1, $2, 0, 60, 30, 1, $3, $4, $4)",
                          {id, int64_t{def.value("enabled", true) ? 1 : 0}, def.dump(), now})
                    .ok());
  }
  std::vector<std::string> Assigned(const std::string& robot) {
    Response r = Call(Method::kGet, "/api/v1/robots/" + robot + "/config", robot);
    EXPECT_EQ(r.status, 200) << r.body;
    std::vector<std::string> ids;
    const Json config = Json::parse(r.body);
    for (const Json& t : config["transactions"]) ids.push_back(t["id"]);
    return ids;
  }
  std::optional<int64_t> MissedSince(const std::string& id) {
    auto rows = db_->Query("SELECT missed_since FROM synth_transactions WHERE id = $1", {id});
    EXPECT_TRUE(rows.ok());
    if (!rows.ok() || rows->empty() || rows->IsNull(0, 0)) return std::nullopt;
    return rows->Int(0, 0);
  }

  std::filesystem::path dir_;
  FakeClock clock_;
  std::unique_ptr<storage::RelationalStore> db_;
  std::unique_ptr<SecretBox> box_;
  gateway::Router router_;
  std::unique_ptr<RobotsApi> robots_;
};

TEST_P(RobotsTest, ConfigurationHoldsWhatLocationsAndSelectorsAssign) {
  RegisterRobot("msk-prod", "msk", {{"env", "prod"}, {"browser", "yes"}});
  RegisterRobot("spb-test", "spb", {{"env", "test"}});
  Define("everywhere", {});
  Define("msk-only", {{"locations", {"msk"}}});
  Define("prod-browser", {{"robot_selector", {{"env", "prod"}, {"browser", "yes"}}}});
  Define("test-in-msk", {{"locations", {"msk"}}, {"robot_selector", {{"env", "test"}}}});
  Define("disabled", {{"enabled", false}});
  ASSERT_TRUE(db_->Exec("INSERT INTO synth_transactions (id, name, enabled, external, interval_s, "
                        "timeout_s, version, created_at, updated_at) "
                        "VALUES ('ext', 'ext', 1, 1, 0, 0, 0, 0, 0)")
                  .ok());
  EXPECT_EQ(Assigned("msk-prod"),
            (std::vector<std::string>{"everywhere", "msk-only", "prod-browser"}));
  EXPECT_EQ(Assigned("spb-test"), std::vector<std::string>{"everywhere"});
  // Unregistered robots are told to register.
  EXPECT_EQ(Call(Method::kGet, "/api/v1/robots/ghost/config", "ghost").status, 404);
}

TEST_P(RobotsTest, ETagChangesWithTheConfigurationOnly) {
  RegisterRobot("r1", "msk", Json::object());
  Define("a", {});
  Response first = Call(Method::kGet, "/api/v1/robots/r1/config", "r1");
  const std::string etag(first.headers.Get("ETag").value_or(""));
  ASSERT_FALSE(etag.empty());
  EXPECT_EQ(Call(Method::kGet, "/api/v1/robots/r1/config", "r1", nullptr, {{"If-None-Match", etag}})
                .status,
            304);
  ASSERT_TRUE(db_->Exec("UPDATE synth_transactions SET run_requested_at = 5 WHERE id = 'a'").ok());
  Response changed =
      Call(Method::kGet, "/api/v1/robots/r1/config", "r1", nullptr, {{"If-None-Match", etag}});
  EXPECT_EQ(changed.status, 200);
  EXPECT_NE(changed.headers.Get("ETag").value_or(""), etag);
}

TEST_P(RobotsTest, StatusFollowsHeartbeats) {
  EXPECT_EQ(robots_->StatusOf(0, clock_.NowMs()), "offline");
  const int64_t now = clock_.NowMs();
  EXPECT_EQ(robots_->StatusOf(now - 89'000, now), "online");
  EXPECT_EQ(robots_->StatusOf(now - 91'000, now), "stale");
  EXPECT_EQ(robots_->StatusOf(now - 301'000, now), "offline");
  EXPECT_EQ(Call(Method::kPost, "/api/v1/robots/nobody/heartbeat", "nobody", Json::object()).status,
            404);
}

TEST_P(RobotsTest, MissedAfterThreeIntervalsWhileAnOnlineRobotIsAssignedClearedByAResult) {
  RegisterRobot("r1", "msk", Json::object());
  Define("t", {{"locations", {"msk"}}});
  Define("elsewhere", {{"locations", {"nsk"}}});  // no robot there: never missed
  clock_.Advance(std::chrono::seconds(170));
  ASSERT_EQ(Call(Method::kPost, "/api/v1/robots/r1/heartbeat", "r1", Json::object()).status, 200);
  ASSERT_TRUE(robots_->DetectMissedRuns().ok());
  EXPECT_FALSE(MissedSince("t"));  // 170 s < 3 x 60 s
  clock_.Advance(std::chrono::seconds(20));
  ASSERT_TRUE(robots_->DetectMissedRuns().ok());
  ASSERT_TRUE(MissedSince("t"));
  EXPECT_FALSE(MissedSince("elsewhere"));
  // A result ends the state (the writer clears it in the same transaction).
  telemetry::Registry registry;
  ResultWriter writer(*db_, clock_, registry, {});
  writer.Start();
  const int64_t t0 = clock_.NowMs() - 5000;
  FieldErrors errors;
  auto result = ParseResult(Json{{"run_id", "x"},
                                 {"transaction_id", "t"},
                                 {"robot_id", "r1"},
                                 {"started_at", FormatRfc3339Ms(t0)},
                                 {"finished_at", FormatRfc3339Ms(t0 + 1000)},
                                 {"status", "success"},
                                 {"steps",
                                  {{{"index", 0},
                                    {"name", "s"},
                                    {"started_at", FormatRfc3339Ms(t0)},
                                    {"finished_at", FormatRfc3339Ms(t0 + 1000)},
                                    {"status", "success"}}}}},
                            clock_.NowMs(), "", &errors);
  ASSERT_TRUE(result) << errors.size();
  std::vector<UploadItem> items(1);
  items[0].doc = StoredResultJson(*result).dump();
  items[0].result = std::move(*result);
  std::promise<bool> done;
  writer.Submit(std::move(items), [&](Result<std::vector<bool>> r) { done.set_value(r.ok()); });
  ASSERT_TRUE(done.get_future().get());
  writer.Stop();
  EXPECT_FALSE(MissedSince("t"));
  // The robot's last result is the one it just uploaded.
  auto robot =
      db_->Query("SELECT last_result_at, last_result_status FROM synth_robots WHERE id = 'r1'", {});
  ASSERT_TRUE(robot.ok()) << robot.status().ToString();
  ASSERT_EQ(robot->size(), 1u);
  EXPECT_EQ(robot->Int(0, 0), t0 + 1000);
  EXPECT_EQ(robot->Text(0, 1), "success");
  // With the robot gone offline, a silent transaction is not missed (nobody could run it).
  clock_.Advance(std::chrono::minutes(10));
  ASSERT_TRUE(robots_->DetectMissedRuns().ok());
  EXPECT_FALSE(MissedSince("t"));
}

INSTANTIATE_TEST_SUITE_P(Backends, RobotsTest, testing::kBackends, testing::BackendName);

}  // namespace
}  // namespace pa::synth
