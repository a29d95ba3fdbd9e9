// The write path of results on real stores (SQLite, files, the embedded metric store): the upload
// handler's answers for every kind of input, group commit, idempotency, all-or-nothing requests,
// and derived metrics that are exported exactly once even when an export is interrupted.
#include <gtest/gtest.h>

#include <filesystem>
#include <future>
#include <list>
#include <random>

#include "base/clock.h"
#include "base/json.h"
#include "base/telemetry.h"
#include "base/time_format.h"
#include "gateway/router.h"
#include "storage/stores.h"
#include "synth/metric_export.h"
#include "synth/result_writer.h"
#include "synth/synth_schema.h"
#include "synth/test_database.h"
#include "synth/upload.h"

namespace pa::synth {
namespace {

using gateway::Request;
using gateway::Response;

class SynthStoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("pa-synth-test-" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(dir_);
    clock_.SetWall(std::chrono::system_clock::now());
    db_ = testing::OpenTestDatabase(GetParam(), dir_);
    if (!db_) {
      if (!IsSkipped()) FAIL() << "no database to test on";
      return;
    }
    auto artifacts =
        storage::OpenArtifactStore({.url = "file://" + (dir_ / "artifacts").string()}, nullptr);
    ASSERT_TRUE(artifacts.ok());
    artifacts_ = std::move(*artifacts);
    OpenMetrics();
    writer_ = std::make_unique<ResultWriter>(*db_, clock_, registry_, ResultWriter::Options{});
    writer_->set_on_commit([this](std::vector<RunRecord> r) {
      if (exporter_) exporter_->Enqueue(std::move(r));
    });
    writer_->Start();
    upload_ = std::make_unique<UploadHandler>(*writer_, *artifacts_, *db_, clock_,
                                              UploadHandler::Options{.artifact_max_bytes = 1024});
  }
  void TearDown() override {
    writer_.reset();
    exporter_.reset();
    metrics_.reset();
    std::filesystem::remove_all(dir_);
  }
  void OpenMetrics() {
    exporter_.reset();
    metrics_.reset();
    auto m =
        storage::OpenMetricStore({.url = "embedded://" + (dir_ / "metrics").string()}, nullptr);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    metrics_ = std::move(*m);
    exporter_ =
        std::make_unique<MetricExporter>(*db_, *metrics_, clock_, registries_.emplace_back());
    ASSERT_TRUE(exporter_->Init().ok());
  }

  // A valid result with `steps` steps, started `ago_ms` before now.
  Json Result(const std::string& run_id, bool success = true, int steps = 3, int64_t ago_ms = 60000,
              const std::string& robot = "robot-1") {
    const int64_t t0 = clock_.NowMs() - ago_ms;
    Json r = {{"run_id", run_id},
              {"transaction_id", "shop.checkout"},
              {"transaction_name", "Оформление заказа"},
              {"robot_id", robot},
              {"location", "msk"},
              {"started_at", FormatRfc3339Ms(t0)},
              {"finished_at", FormatRfc3339Ms(t0 + steps * 1000)},
              {"status", success ? "success" : "error"},
              {"steps", Json::array()}};
    if (!success)
      r["error"] = {{"step_index", steps - 1}, {"type", "assertion"}, {"message", "no"}};
    for (int i = 0; i < steps; ++i) {
      r["steps"].push_back({{"index", i},
                            {"name", "Шаг " + std::to_string(i)},
                            {"started_at", FormatRfc3339Ms(t0 + i * 1000)},
                            {"finished_at", FormatRfc3339Ms(t0 + i * 1000 + 900)},
                            {"status", success || i < steps - 1 ? "success" : "error"},
                            {"timings", {{"dns_ms", 1.5}, {"ttfb_ms", 100 + i}}}});
    }
    return r;
  }

  // Calls the upload handler as the gateway would and waits for its answer.
  Response Upload(std::string body, std::string content_type = "application/json",
                  std::string token_robot = "") {
    Request req;
    req.method = gateway::Method::kPost;
    req.body = std::move(body);
    req.headers.Add("Content-Type", content_type);
    req.principal.kind = "token";
    req.principal.robot_id = token_robot;
    req.principal.scopes = {token_robot.empty() ? "write" : "robot"};
    std::promise<Response> answer;
    upload_->Handle(req, [&](Response r) { answer.set_value(std::move(r)); });
    return answer.get_future().get();
  }

  int64_t Count(const std::string& table) {
    auto rows = db_->Query("SELECT COUNT(*) FROM " + table);
    EXPECT_TRUE(rows.ok());
    return rows.ok() ? rows->Int(0, 0) : -1;
  }

  double QueryScalar(const std::string& promql) {
    EXPECT_TRUE(metrics_->Sync(std::chrono::seconds(5)).ok());
    auto v = metrics_->Query(promql, clock_.NowMs(), storage::QueryLimits{});
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    if (!v.ok() || v->series.empty() || v->series[0].points.empty()) return -1;
    return v->series[0].points[0].v;
  }

  static Json Body(const Response& r) { return ParseJson(r.body, nullptr).value_or(Json()); }

  std::filesystem::path dir_;
  FakeClock clock_;
  telemetry::Registry registry_;
  std::list<telemetry::Registry> registries_;  // one per exporter: families register once
  std::unique_ptr<storage::RelationalStore> db_;
  std::unique_ptr<storage::ArtifactStore> artifacts_;
  std::unique_ptr<storage::MetricStore> metrics_;
  std::unique_ptr<MetricExporter> exporter_;
  std::unique_ptr<ResultWriter> writer_;
  std::unique_ptr<UploadHandler> upload_;
};

TEST_P(SynthStoreTest, OneResultIsStoredWithItsStepsAndAnExternalTransaction) {
  Response r = Upload(Result("run-1").dump());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r), Json::parse(R"({"accepted": 1, "duplicates": 0,
      "results": [{"run_id": "run-1", "status": "created"}]})"));
  EXPECT_EQ(Count("synth_results"), 1);
  EXPECT_EQ(Count("synth_steps"), 3);
  auto tx = db_->Query("SELECT external, name FROM synth_transactions WHERE id = 'shop.checkout'");
  ASSERT_TRUE(tx.ok());
  ASSERT_EQ(tx->size(), 1u);
  EXPECT_EQ(tx->Int(0, 0), 1);
  EXPECT_EQ(tx->Text(0, 1), "Оформление заказа");
}

TEST_P(SynthStoreTest, ReuploadingStoresNothingNewAndReportsDuplicates) {
  Json batch = Json::array();
  for (int i = 0; i < 100; ++i) batch.push_back(Result("dup-" + std::to_string(i), i % 7 != 0));
  Response first = Upload(batch.dump());
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(Body(first)["accepted"], 100);
  Response again = Upload(batch.dump());
  ASSERT_EQ(again.status, 200);
  EXPECT_EQ(Body(again)["accepted"], 0);
  EXPECT_EQ(Body(again)["duplicates"], 100);
  EXPECT_EQ(Body(again)["results"][42]["status"], "duplicate");
  EXPECT_EQ(Count("synth_results"), 100);
  EXPECT_EQ(Count("synth_steps"), 300);
  // The same run_id twice in one request: the second is a duplicate.
  Response twice = Upload(Json::array({Result("x"), Result("x")}).dump());
  EXPECT_EQ(Body(twice)["accepted"], 1);
  EXPECT_EQ(Body(twice)["results"][1]["status"], "duplicate");
}

TEST_P(SynthStoreTest, EveryProblemIsListedAndNothingOfTheRequestIsStored) {
  Json good = Result("good");
  Json bad = Result("bad");
  bad["status"] = "maybe";
  bad["steps"][1].erase("name");
  bad["steps"][2]["started_at"] = "yesterday";
  bad.erase("robot_id");
  Response r = Upload(Json::array({good, bad}).dump());
  ASSERT_EQ(r.status, 422) << r.body;
  const Json body = Body(r);
  EXPECT_EQ(body["error"], "validation");
  std::set<std::string> paths;
  for (const Json& d : body["details"]) paths.insert(d["path"].get<std::string>());
  for (const char* want :
       {"[1].status", "[1].steps[1].name", "[1].steps[2].started_at", "[1].robot_id"}) {
    EXPECT_TRUE(paths.count(want)) << want << " missing from " << body.dump();
  }
  EXPECT_EQ(Count("synth_results"), 0);
  EXPECT_EQ(Count("synth_transactions"), 0);
}

TEST_P(SynthStoreTest, BadBodiesAreAnsweredByTheSpec) {
  EXPECT_EQ(Upload("{not json").status, 400);
  EXPECT_EQ(Upload(Result("a").dump(), "text/plain").status, 415);
  EXPECT_EQ(Upload("[]").status, 422);
  Json many = Json::array();
  for (int i = 0; i < 1001; ++i) many.push_back(Json::object());
  EXPECT_EQ(Upload(many.dump()).status, 422);
  // A robot token uploads for its own robot only.
  EXPECT_EQ(
      Upload(Result("r", true, 1, 1000, "robot-2").dump(), "application/json", "robot-1").status,
      403);
  EXPECT_EQ(
      Upload(Result("r", true, 1, 1000, "robot-1").dump(), "application/json", "robot-1").status,
      200);
  // A screenshot must name an artifact part of a multipart upload.
  Json shot = Result("shot");
  shot["steps"][0]["screenshot"] = "step-0.png";
  Response r = Upload(shot.dump());
  ASSERT_EQ(r.status, 422);
  EXPECT_EQ(Body(r)["details"][0]["path"], "steps[0].screenshot");
  EXPECT_EQ(Count("synth_results"), 1);
}

std::string Multipart(const std::string& result,
                      const std::vector<std::pair<std::string, std::string>>& files,
                      const std::string& type = "image/png") {
  std::string body;
  body +=
      "--XyZ\r\nContent-Disposition: form-data; name=\"result\"\r\n"
      "Content-Type: application/json\r\n\r\n" +
      result + "\r\n";
  for (const auto& [name, bytes] : files) {
    body += "--XyZ\r\nContent-Disposition: form-data; name=\"artifact\"; filename=\"" + name +
            "\"\r\nContent-Type: " + type + "\r\n\r\n" + bytes + "\r\n";
  }
  return body + "--XyZ--\r\n";
}

TEST_P(SynthStoreTest, MultipartStoresScreenshotsAndLinksThemToSteps) {
  Json r = Result("mp-1", false);
  r["steps"][2]["screenshot"] = "step-2.png";
  const std::string png = std::string("\x89PNG\r\n\x1a\n", 8) + "--XyZ not a boundary";
  Response answer =
      Upload(Multipart(r.dump(), {{"step-2.png", png}}), "multipart/form-data; boundary=XyZ");
  ASSERT_EQ(answer.status, 200) << answer.body;
  auto rows =
      db_->Query("SELECT id, step_index, content_type, storage_key, size FROM synth_artifacts");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ(rows->Int(0, 1), 2);
  EXPECT_EQ(rows->Text(0, 2), "image/png");
  auto bytes = artifacts_->Get(rows->Text(0, 3));
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(*bytes, png);
  auto doc = db_->Query("SELECT doc FROM synth_results WHERE run_id = 'mp-1'");
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(Json::parse(doc->Text(0, 0))["steps"][2]["screenshot"], rows->Text(0, 0));
  // Re-uploading it stores no second artifact.
  answer = Upload(Multipart(r.dump(), {{"step-2.png", png}}), "multipart/form-data; boundary=XyZ");
  EXPECT_EQ(Body(answer)["duplicates"], 1);
  EXPECT_EQ(Count("synth_artifacts"), 1);
  auto listed = artifacts_->List("synth/");
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), 1u);
}

TEST_P(SynthStoreTest, MultipartRefusalsStoreNothing) {
  Json r = Result("mp-2");
  r["steps"][0]["screenshot"] = "missing.png";
  Response a =
      Upload(Multipart(r.dump(), {{"other.png", "x"}}), "multipart/form-data; boundary=XyZ");
  EXPECT_EQ(a.status, 422);
  Response too_big = Upload(Multipart(Result("mp-3").dump(), {{"big.png", std::string(2048, 'x')}}),
                            "multipart/form-data; boundary=XyZ");
  EXPECT_EQ(too_big.status, 413);
  Response html = Upload(Multipart(Result("mp-4").dump(), {{"x.html", "<script>"}}, "text/html"),
                         "multipart/form-data; boundary=XyZ");
  EXPECT_EQ(html.status, 422);
  Response no_result = Upload(
      "--XyZ\r\nContent-Disposition: form-data; name=\"artifact\"; "
      "filename=\"a.png\"\r\n\r\nx\r\n--XyZ--\r\n",
      "multipart/form-data; boundary=XyZ");
  EXPECT_EQ(no_result.status, 422);
  EXPECT_EQ(Upload("garbage", "multipart/form-data; boundary=XyZ").status, 400);
  EXPECT_EQ(Count("synth_results"), 0);
  EXPECT_EQ(Count("synth_artifacts"), 0);
  auto listed = artifacts_->List("");
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());
}

TEST_P(SynthStoreTest, ConcurrentUploadsShareCommitsAndGetContiguousSeq) {
  std::vector<std::future<Response>> answers;
  for (int c = 0; c < 8; ++c) {
    answers.push_back(std::async(std::launch::async, [this, c] {
      Json batch = Json::array();
      for (int i = 0; i < 25; ++i)
        batch.push_back(Result("c" + std::to_string(c) + "-" + std::to_string(i)));
      return Upload(batch.dump());
    }));
  }
  for (auto& a : answers) EXPECT_EQ(a.get().status, 200);
  auto rows = db_->Query("SELECT MIN(seq), MAX(seq), COUNT(*) FROM synth_results");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->Int(0, 0), 1);
  EXPECT_EQ(rows->Int(0, 1), 200);
  EXPECT_EQ(rows->Int(0, 2), 200);
}

TEST_P(SynthStoreTest, OverloadIs429AndAStoppedWriterIs503WithRetryAfter) {
  // A writer that is not draining yet and holds at most one result: the second request finds
  // the queue full.
  ResultWriter slow(*db_, clock_, registries_.emplace_back(), {.max_queued_results = 1});
  UploadHandler handler(slow, *artifacts_, *db_, clock_, {});
  auto call = [&](const Json& body, std::promise<Response>* answer) {
    Request req;
    req.body = body.dump();
    req.headers.Add("Content-Type", "application/json");
    req.principal = {.kind = "token", .scopes = {"write"}};
    handler.Handle(req, [answer](Response r) { answer->set_value(std::move(r)); });
  };
  std::promise<Response> first, second;
  call(Json::array({Result("q-1"), Result("q-2")}), &first);  // queued: the queue was empty
  call(Result("q-3"), &second);
  Response busy = second.get_future().get();
  EXPECT_EQ(busy.status, 429) << busy.body;
  EXPECT_EQ(busy.headers.Get("Retry-After").value_or(""), "1");
  slow.Start();
  EXPECT_EQ(first.get_future().get().status, 200);
  slow.Stop();
  // Once stopped, uploads are refused as unavailable, and nothing is stored.
  std::promise<Response> late;
  call(Result("q-4"), &late);
  Response unavailable = late.get_future().get();
  EXPECT_EQ(unavailable.status, 503) << unavailable.body;
  EXPECT_FALSE(unavailable.headers.Get("Retry-After").value_or("").empty());
  auto rows = db_->Query("SELECT run_id FROM synth_results ORDER BY run_id");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ(rows->Text(1, 0), "q-2");
}

TEST_P(SynthStoreTest, DerivedMetricsMatchTheStoredResults) {
  Json batch = Json::array();
  for (int i = 0; i < 30; ++i)
    batch.push_back(Result("m-" + std::to_string(i), i % 3 != 0, 2, 60000 + i * 1000));
  ASSERT_EQ(Upload(batch.dump()).status, 200);
  ASSERT_TRUE(exporter_->ExportPending().ok());
  EXPECT_EQ(exporter_->exported_seq(), 30);
  EXPECT_EQ(QueryScalar("sum(primoart_synthetic_runs_total{status=\"success\"})"), 20);
  EXPECT_EQ(QueryScalar("sum(primoart_synthetic_runs_total{status=\"error\"})"), 10);
  EXPECT_EQ(QueryScalar("count_over_time(primoart_synthetic_duration_seconds{transaction=\"shop."
                        "checkout\",robot=\"robot-1\",location=\"msk\"}[1h])"),
            30);
  EXPECT_NEAR(QueryScalar("avg_over_time(primoart_synthetic_success[1h])"), 20.0 / 30, 1e-12);
  EXPECT_EQ(QueryScalar(
                "count_over_time(primoart_synthetic_step_duration_seconds{step_index=\"1\"}[1h])"),
            30);
  EXPECT_EQ(
      QueryScalar(
          "count(count_over_time(primoart_synthetic_step_timing_seconds{phase=\"ttfb\"}[1h]))"),
      2);
}

TEST_P(SynthStoreTest, AnInterruptedExportIsNotCountedTwice) {
  Json batch = Json::array();
  for (int i = 0; i < 10; ++i)
    batch.push_back(Result("i-" + std::to_string(i), true, 3, 60000 + i * 1000));
  ASSERT_EQ(Upload(batch.dump()).status, 200);
  // A first export appends the samples and moves the cursor. Then the cursor and counters are
  // rewound as if that export had crashed after its append and before its commit; a fresh
  // exporter (the restart) reads the results back from the database and derives the very same
  // samples, which the metric store keeps once.
  exporter_ = std::make_unique<MetricExporter>(*db_, *metrics_, clock_, registries_.emplace_back());
  ASSERT_TRUE(exporter_->Init().ok());
  ASSERT_TRUE(exporter_->ExportPending().ok());  // first complete export
  // Rewind the cursor and the counters as if the first one had crashed before committing them.
  ASSERT_TRUE(db_->Exec("UPDATE synth_metric_export SET exported_seq = 0").ok());
  ASSERT_TRUE(db_->Exec("DELETE FROM synth_counters").ok());
  exporter_ = std::make_unique<MetricExporter>(*db_, *metrics_, clock_, registries_.emplace_back());
  ASSERT_TRUE(exporter_->Init().ok());
  ASSERT_TRUE(exporter_->ExportPending().ok());
  EXPECT_EQ(exporter_->exported_seq(), 10);
  EXPECT_EQ(QueryScalar("sum(primoart_synthetic_runs_total)"), 10);
  EXPECT_EQ(QueryScalar("count_over_time(primoart_synthetic_duration_seconds[1h])"), 10);
}

INSTANTIATE_TEST_SUITE_P(Backends, SynthStoreTest, testing::kBackends, testing::BackendName);

}  // namespace
}  // namespace pa::synth
