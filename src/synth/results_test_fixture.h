// Test-only: the world the results API and retention tests run in — a real SQLite database
// migrated with the synth schema, a filesystem artifact store in a temp dir, a fake clock, the
// ResultWriter that stores results as uploads do, and the router with ResultsApi's routes.
// Results are described by RunSpec and built into documents that ParseResult accepts;
// FailingDeletes injects failed object deletes.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/json.h"
#include "base/random.h"
#include "base/telemetry.h"
#include "base/time_format.h"
#include "gateway/router.h"
#include "storage/artifact_store.h"
#include "storage/fs/fs_store.h"
#include "synth/result_model.h"
#include "synth/result_writer.h"
#include "synth/results_api.h"
#include "synth/synth_schema.h"
#include "synth/test_database.h"

namespace pa::synth::testing {

// 2026-11-28T12:00:00Z: the server clock of every test.
inline const int64_t kNowMs = *ParseRfc3339Ms("2026-11-28T12:00:00Z");

struct StepSpec {
  std::string name;
  double duration_ms = 0;
  std::string status = "success";  // success | error | skipped
  std::optional<std::string> screenshot;
};

struct RunSpec {
  std::string run_id;
  std::string transaction_id;
  std::string robot = "robot-1";
  std::string location = "loc-a";
  int64_t started_at = 0;  // Unix ms
  double duration_ms = 1000;
  bool error = false;
  std::vector<StepSpec> steps;  // index = position; one success step when empty
};

// The upload document of `spec`: steps share the run's interval; durations are given explicitly.
inline Json ResultDoc(const RunSpec& spec) {
  const int64_t finished = spec.started_at + static_cast<int64_t>(spec.duration_ms) + 1;
  Json doc = {{"run_id", spec.run_id},
              {"transaction_id", spec.transaction_id},
              {"robot_id", spec.robot},
              {"location", spec.location},
              {"started_at", FormatRfc3339Ms(spec.started_at)},
              {"finished_at", FormatRfc3339Ms(finished)},
              {"duration_ms", spec.duration_ms},
              {"status", spec.error ? "error" : "success"}};
  if (spec.error) doc["error"] = {{"type", "assertion"}, {"message", "boom " + spec.run_id}};
  std::vector<StepSpec> steps = spec.steps;
  if (steps.empty()) steps.push_back({"only", spec.duration_ms, "success", std::nullopt});
  doc["steps"] = Json::array();
  for (size_t i = 0; i < steps.size(); ++i) {
    Json step = {{"index", i},
                 {"name", steps[i].name},
                 {"started_at", FormatRfc3339Ms(spec.started_at)},
                 {"finished_at", FormatRfc3339Ms(finished)},
                 {"duration_ms", steps[i].duration_ms},
                 {"status", steps[i].status}};
    if (steps[i].screenshot) step["screenshot"] = *steps[i].screenshot;
    doc["steps"].push_back(std::move(step));
  }
  return doc;
}

class ResultsFixture : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("pa-results-" + NewRequestId().substr(0, 10));
    db_ = OpenTestDatabase(GetParam(), dir_);
    if (!db_) {
      if (!IsSkipped()) FAIL() << "no database to test on";
      return;
    }
    auto artifacts = storage::fs::Open({.root = (dir_ / "artifacts").string()});
    ASSERT_TRUE(artifacts.ok()) << artifacts.status().ToString();
    artifacts_ = std::move(artifacts).value();
    clock_.SetWall(Clock::WallTime(std::chrono::milliseconds(kNowMs)));
    writer_ = std::make_unique<ResultWriter>(*db_, clock_, registry_, ResultWriter::Options{});
    writer_->Start();
    api_ = std::make_unique<ResultsApi>(*db_, *artifacts_, clock_);
    ASSERT_TRUE(api_->Register(router_).ok());
  }

  void TearDown() override {
    if (writer_) writer_->Stop();
    writer_.reset();
    api_.reset();
    artifacts_.reset();
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  // A defined transaction, as the transactions API would create it.
  void Define(const std::string& id, bool enabled = true, int64_t version = 3) {
    auto st = db_->Exec(
        "INSERT INTO synth_transactions (id, name, application, enabled, external, interval_s, "
        "timeout_s, version, created_at, updated_at) VALUES ($1, $2, 'shop', $3, 0, 60, 30, $4, "
        "$5, $5)",
        {id, "Name of " + id, int64_t{enabled ? 1 : 0}, version, kNowMs});
    ASSERT_TRUE(st.ok()) << st.status().ToString();
  }

  UploadItem Item(const RunSpec& spec, std::vector<StoredArtifact> artifacts = {}) {
    FieldErrors errors;
    auto result = ParseResult(ResultDoc(spec), clock_.NowMs(), "", &errors);
    EXPECT_TRUE(result.has_value())
        << (errors.empty() ? "" : errors[0].path + ": " + errors[0].message);
    UploadItem item;
    if (!result) return item;
    item.doc = StoredResultJson(*result).dump();
    item.result = std::move(*result);
    item.artifacts = std::move(artifacts);
    return item;
  }

  // Stores `items` as one upload and waits until they are durable.
  void Store(std::vector<UploadItem> items) {
    std::promise<Result<std::vector<bool>>> done;
    auto future = done.get_future();
    writer_->Submit(std::move(items),
                    [&done](Result<std::vector<bool>> r) { done.set_value(std::move(r)); });
    const auto stored = future.get();
    ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  }

  void StoreRuns(const std::vector<RunSpec>& specs) {
    std::vector<UploadItem> items;
    for (const RunSpec& s : specs) items.push_back(Item(s));
    Store(std::move(items));
  }

  // An artifact object put in the store, described as the upload handler would.
  StoredArtifact PutArtifact(const std::string& id, std::optional<int64_t> step_index,
                             const std::string& filename, const std::string& content_type,
                             const std::string& bytes) {
    StoredArtifact a{id,
                     step_index,
                     filename,
                     content_type,
                     static_cast<int64_t>(bytes.size()),
                     "synth/2026/11/28/" + id + ".bin"};
    EXPECT_TRUE(artifacts_->Put(a.storage_key, bytes).ok());
    return a;
  }

  // Calls the route for GET `path`?`query` as the server would (authorisation aside).
  gateway::Response Get(const std::string& path, const std::string& query = "") {
    const gateway::RouteMatch match = router_.Match(gateway::Method::kGet, path);
    if (match.route == nullptr) {
      ADD_FAILURE() << "no route for " << path;
      return gateway::Response::Empty(599);
    }
    EXPECT_TRUE(match.route->access.Allows(gateway::Permission::kRead)) << path;
    EXPECT_EQ(match.route->owner, "synth");
    gateway::Request req;
    req.path = path;
    req.query_string = query;
    req.target = query.empty() ? path : path + "?" + query;
    req.route = match.route->pattern;
    req.params = match.params;
    return match.route->handler(req);
  }

  // The JSON body of a response with status `status`.
  static Json Body(const gateway::Response& resp, int status = 200) {
    EXPECT_EQ(resp.status, status) << resp.body;
    std::string error;
    auto json = ParseJson(resp.body, &error);
    EXPECT_TRUE(json.has_value()) << error << ": " << resp.body;
    return json ? *json : Json();
  }

  // The `path` of the first detail of a 422 answer.
  static std::string ErrorPath(const gateway::Response& resp) {
    const Json body = Body(resp, 422);
    if (!body.contains("details") || body["details"].empty()) return "<none>";
    return body["details"][0].value("path", "<none>");
  }

  int64_t Count(const std::string& sql, const storage::Params& params = {}) {
    auto rows = db_->Query(sql, params);
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    return rows.ok() ? rows->Int(0, 0) : -1;
  }

  std::filesystem::path dir_;
  FakeClock clock_;
  telemetry::Registry registry_;
  std::unique_ptr<storage::RelationalStore> db_;
  std::unique_ptr<storage::ArtifactStore> artifacts_;
  std::unique_ptr<ResultWriter> writer_;
  std::unique_ptr<ResultsApi> api_;
  gateway::Router router_;
};

// A store whose Delete fails for keys containing `fail_on` (the rest goes to the real store).
class FailingDeletes : public storage::ArtifactStore {
 public:
  FailingDeletes(storage::ArtifactStore& inner, std::string fail_on)
      : inner_(inner), fail_on_(std::move(fail_on)) {}
  std::string_view backend() const override { return inner_.backend(); }
  std::string description() const override { return inner_.description(); }
  Status Put(std::string_view k, std::string_view d) override { return inner_.Put(k, d); }
  Status PutStream(std::string_view k, int64_t n, const storage::ReadChunk& r) override {
    return inner_.PutStream(k, n, r);
  }
  Result<std::string> Get(std::string_view k) override { return inner_.Get(k); }
  Status GetStream(std::string_view k, const storage::WriteChunk& w) override {
    return inner_.GetStream(k, w);
  }
  Result<storage::ObjectInfo> Stat(std::string_view k) override { return inner_.Stat(k); }
  Status Delete(std::string_view k) override {
    if (k.find(fail_on_) != std::string_view::npos) return UnavailableError("disk on fire");
    return inner_.Delete(k);
  }
  Result<std::vector<storage::ObjectInfo>> List(std::string_view p) override {
    return inner_.List(p);
  }
  Status Ping() override { return inner_.Ping(); }

 private:
  storage::ArtifactStore& inner_;
  std::string fail_on_;
};

}  // namespace pa::synth::testing
