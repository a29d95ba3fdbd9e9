// The metric store over HTTP against the real binary: import in Prometheus text format, the
// Prometheus-compatible query API in the shapes Grafana's Prometheus data source expects, its
// error format, access rules, and durability of acknowledged imports across kill -9.
#include <gtest/gtest.h>

#include <cmath>
#include <csignal>
#include <cstdlib>
#include <thread>

#include "base/clock.h"
#include "base/random.h"
#include "it_support.h"

namespace pa::testing {
namespace {

enum class MetricsBackend { kEmbedded, kVictoriaMetrics };

std::string MetricsBackendName(const ::testing::TestParamInfo<MetricsBackend>& info) {
  return info.param == MetricsBackend::kEmbedded ? "embedded" : "vm";
}

// Runs on the embedded store and on the test VictoriaMetrics. VictoriaMetrics is shared by every
// test, so each test's series carry a unique `run` label and are only ever looked up with it.
class MetricsIT : public ::testing::TestWithParam<MetricsBackend> {
 protected:
  bool StartServer(std::map<std::string, std::string> extra = {}) {
    env_["PRIMOART_ADMIN_PASSWORD"] = kAdminPassword;
    for (auto& [k, v] : extra) env_[k] = v;
    if (GetParam() == MetricsBackend::kVictoriaMetrics) {
      const char* url = std::getenv("PRIMOART_TEST_VM_URL");
      if (!url || !*url) {
        const char* require = std::getenv("PRIMOART_TEST_REQUIRE_SERVERS");
        if (require && std::string(require) == "1") {
          ADD_FAILURE() << "PRIMOART_TEST_VM_URL is not set";
        } else {
          [] { GTEST_SKIP() << "PRIMOART_TEST_VM_URL is not set"; }();
        }
        return false;
      }
      env_["PRIMOART_METRICS_URL"] = std::string("victoriametrics+") + url;
    }
    server_ = std::make_unique<ServerProcess>(ServerOptions{.env = env_});
    Status st = server_->Start();
    EXPECT_TRUE(st.ok()) << st.ToString();
    if (!st.ok()) return false;
    admin_ = Login(*server_, "admin", kAdminPassword);
    return !admin_.empty();
  }

  // VictoriaMetrics sees a write after it is shipped from the spool: wait for it there.
  template <typename Fn>
  void Eventually(Fn fn) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!fn() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

  std::string Token(const std::string& scopes_csv) {
    Json scopes = Json::array();
    size_t start = 0;
    while (start <= scopes_csv.size()) {
      const size_t comma = scopes_csv.find(',', start);
      scopes.push_back(scopes_csv.substr(start, comma - start));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    auto resp = server_->Request("POST", "/api/v1/tokens",
                                 Json{{"name", "t-" + scopes_csv}, {"scopes", scopes}}.dump(),
                                 Bearer(admin_));
    EXPECT_EQ(resp->status, 201) << resp->body;
    return ParseBody(*resp).value("token", "");
  }

  HttpResponse Import(const std::string& token, const std::string& text) {
    auto resp = server_->Request(
        "POST", "/api/v1/import/prometheus", text,
        {{"Authorization", "Bearer " + token}, {"Content-Type", "text/plain; version=0.0.4"}});
    EXPECT_TRUE(resp.ok()) << resp.status().ToString();
    return resp.ok() ? *resp : HttpResponse{};
  }

  // A POST with a form body, the way Grafana sends queries.
  HttpResponse Form(const std::string& path, const std::string& form, const std::string& token) {
    auto resp = server_->Request("POST", path, form,
                                 {{"Authorization", "Bearer " + token},
                                  {"Content-Type", "application/x-www-form-urlencoded"}});
    EXPECT_TRUE(resp.ok()) << resp.status().ToString();
    return resp.ok() ? *resp : HttpResponse{};
  }

  std::unique_ptr<ServerProcess> server_;
  std::map<std::string, std::string> env_;
  std::string admin_;
  const std::string run_ = "r" + NewRequestId().substr(0, 10);
};

TEST_P(MetricsIT, ImportThenQueryLikeGrafana) {
  if (!StartServer()) return;
  const std::string ingest = Token("ingest");
  const std::string reader = Token("read");
  // Two minutes of samples ending now, every 15 s, for two series. Times are multiples of the
  // step, as Grafana's are: VictoriaMetrics aligns range queries to the step. "Now" is at least
  // 2 s ago: VictoriaMetrics' query_range replaces points of the last second (at least
  // -search.latencyOffset, which it never lets go below 1 s) by the point before them.
  const int64_t now = ((Clock::System()->NowMs() - 2000) / 15000) * 15000;
  std::string text = "# TYPE checkout_requests_total counter\n";
  for (int i = 0; i < 8; ++i) {
    const int64_t t = now - (7 - i) * 15000;
    text += "checkout_requests_total{run=\"" + run_ + "\",shop=\"msk\",code=\"200\"} " +
            std::to_string(10 * i) + " " + std::to_string(t) + "\n";
    text += "checkout_requests_total{run=\"" + run_ + "\",shop=\"spb\",code=\"500\"} " +
            std::to_string(i) + " " + std::to_string(t) + "\n";
  }
  auto imported = Import(ingest, text);
  ASSERT_EQ(imported.status, 200) << imported.body;
  EXPECT_EQ(ParseBody(imported)["accepted"], 16);

  // Grafana's "Save & test": buildinfo, then an instant query.
  auto build = server_->Get("/prometheus/api/v1/status/buildinfo", Bearer(reader));
  ASSERT_EQ(build->status, 200) << build->body;
  Json b = ParseBody(*build);
  EXPECT_EQ(b["status"], "success");
  EXPECT_TRUE(b["data"]["version"].is_string());

  const std::string now_s = std::to_string(now / 1000);
  const std::string sel = "checkout_requests_total%7Brun%3D%22" + run_ + "%22";  // {run="…"
  HttpResponse instant;
  Eventually([&] {
    instant = Form("/prometheus/api/v1/query", "query=sum+by+(shop)+(" + sel + "%7D)&time=" + now_s,
                   reader);
    return ParseBody(instant)["data"]["result"].size() == 2;
  });
  ASSERT_EQ(instant.status, 200) << instant.body;
  Json iv = ParseBody(instant);
  EXPECT_EQ(iv["status"], "success");
  EXPECT_EQ(iv["data"]["resultType"], "vector");
  ASSERT_EQ(iv["data"]["result"].size(), 2u);
  std::map<std::string, std::string> by_shop;
  for (const auto& r : iv["data"]["result"]) {
    ASSERT_TRUE(r["value"].is_array() && r["value"].size() == 2);
    EXPECT_TRUE(r["value"][0].is_number());
    by_shop[r["metric"]["shop"]] = r["value"][1];  // values are strings
  }
  EXPECT_EQ(by_shop, (std::map<std::string, std::string>{{"msk", "70"}, {"spb", "7"}}));

  // Panels: query_range with start/end/step in seconds.
  auto range =
      Form("/prometheus/api/v1/query_range",
           "query=" + sel + "%2Cshop%3D%22msk%22%7D&start=" + std::to_string(now / 1000 - 105) +
               "&end=" + now_s + "&step=15",
           reader);
  ASSERT_EQ(range.status, 200) << range.body;
  Json rv = ParseBody(range);
  EXPECT_EQ(rv["data"]["resultType"], "matrix");
  ASSERT_EQ(rv["data"]["result"].size(), 1u);
  const Json& values = rv["data"]["result"][0]["values"];
  ASSERT_EQ(values.size(), 8u);
  EXPECT_EQ(values[0][1], "0");
  EXPECT_EQ(values[7][1], "70");
  EXPECT_EQ(rv["data"]["result"][0]["metric"]["__name__"], "checkout_requests_total");

  // The query editor: label names, label values, series.
  const std::string match = "match%5B%5D=%7Brun%3D%22" + run_ + "%22%7D";  // match[]={run="…"}
  auto labels = server_->Get("/prometheus/api/v1/labels?" + match +
                                 "&start=" + std::to_string(now / 1000 - 3600) + "&end=" + now_s,
                             Bearer(reader));
  ASSERT_EQ(labels->status, 200) << labels->body;
  EXPECT_EQ(ParseBody(*labels)["data"], Json({"__name__", "code", "run", "shop"}));
  auto values_resp = server_->Get("/prometheus/api/v1/label/shop/values?" + match, Bearer(reader));
  ASSERT_EQ(values_resp->status, 200);
  EXPECT_EQ(ParseBody(*values_resp)["data"], Json({"msk", "spb"}));
  auto series =
      Form("/prometheus/api/v1/series", "match%5B%5D=" + sel + "%2Ccode%3D%22500%22%7D", reader);
  ASSERT_EQ(series.status, 200) << series.body;
  EXPECT_EQ(ParseBody(series)["data"],
            Json::parse(R"([{"__name__":"checkout_requests_total","code":"500","run":")" + run_ +
                        R"(","shop":"spb"}])"));
}

TEST_P(MetricsIT, ErrorsAndAccessArePrometheusShaped) {
  if (!StartServer()) return;
  const std::string reader = Token("read");
  const std::string ingest = Token("ingest");
  auto bad = server_->Get("/prometheus/api/v1/query?query=sum(", Bearer(reader));
  ASSERT_EQ(bad->status, 400);
  Json e = ParseBody(*bad);
  EXPECT_EQ(e["status"], "error");
  EXPECT_EQ(e["errorType"], "bad_data");
  EXPECT_FALSE(e["error"].get<std::string>().empty());
  auto no_step =
      server_->Get("/prometheus/api/v1/query_range?query=up&start=1&end=2", Bearer(reader));
  EXPECT_EQ(no_step->status, 400);
  EXPECT_NE(no_step->body.find("step"), std::string::npos);
  auto limited = server_->Get("/prometheus/api/v1/series", Bearer(reader));
  EXPECT_EQ(limited->status, 400);  // match[] is required

  // Import: a malformed line names its number and stores nothing of the request.
  auto rejected = Import(ingest, "ok_metric{run=\"" + run_ + "\"} 1\nbroken{ 2\n");
  EXPECT_EQ(rejected.status, 400);
  EXPECT_NE(rejected.body.find("line 2"), std::string::npos) << rejected.body;
  auto after = server_->Get(
      "/prometheus/api/v1/query?query=ok_metric%7Brun%3D%22" + run_ + "%22%7D", Bearer(reader));
  EXPECT_EQ(ParseBody(*after)["data"]["result"].size(), 0u);

  // Scopes: reading needs read, writing needs ingest.
  EXPECT_EQ(server_->Get("/prometheus/api/v1/query?query=1", Bearer(ingest))->status, 403);
  EXPECT_EQ(Import(reader, "x 1\n").status, 403);
  EXPECT_EQ(server_->Get("/prometheus/api/v1/query?query=1")->status, 401);
}

TEST_P(MetricsIT, AcknowledgedImportsSurviveKill9) {
  if (!StartServer()) return;
  const std::string ingest = Token("ingest");
  const int64_t now = (Clock::System()->NowMs() / 1000) * 1000;
  for (int batch = 0; batch < 20; ++batch) {
    std::string text;
    for (int s = 0; s < 50; ++s) {
      text += "durable_gauge{run=\"" + run_ + "\",series=\"s" + std::to_string(s) + "\"} " +
              std::to_string(batch) + " " + std::to_string(now - (20 - batch) * 1000) + "\n";
    }
    ASSERT_EQ(Import(ingest, text).status, 200);
  }
  server_->Kill9();
  ServerProcess again(ServerOptions{.env = env_, .data_dir = server_->data_dir()});
  ASSERT_TRUE(again.Start().ok());
  const std::string token = Login(again, "admin", kAdminPassword);
  Json result;
  Eventually([&] {
    auto count =
        again.Get("/prometheus/api/v1/query?query=count_over_time(durable_gauge%7Brun%3D%22" +
                      run_ + "%22%7D%5B1h%5D)&time=" + std::to_string(now / 1000),
                  Bearer(token));
    result = count.ok() ? ParseBody(*count)["data"]["result"] : Json();
    if (result.size() != 50u) return false;
    for (const auto& r : result) {
      if (r["value"][1] != "20") return false;
    }
    return true;
  });
  ASSERT_EQ(result.size(), 50u);
  for (const auto& r : result) EXPECT_EQ(r["value"][1], "20") << r.dump();
}

TEST_P(MetricsIT, QueryLimitsAnswer422NamingTheLimit) {
  if (!StartServer({{"PRIMOART_METRICS_QUERY_MAX_SERIES", "2"}})) return;
  const std::string ingest = Token("ingest");
  const std::string reader = Token("read");
  const int64_t now = (Clock::System()->NowMs() / 1000) * 1000;
  std::string text;
  for (int s = 0; s < 3; ++s) {
    text += "limited{run=\"" + run_ + "\",s=\"" + std::to_string(s) + "\"} 1 " +
            std::to_string(now) + "\n";
  }
  ASSERT_EQ(Import(ingest, text).status, 200);
  const std::string base = "/prometheus/api/v1/query?time=" + std::to_string(now / 1000) +
                           "&query=limited%7Brun%3D%22" + run_;
  HttpResponse two, three;
  Eventually([&] {
    two = *server_->Get(base + "%22%2Cs%21%3D%222%22%7D", Bearer(reader));  // two series: fine
    return ParseBody(two)["data"]["result"].size() == 2;
  });
  EXPECT_EQ(two.status, 200) << two.body;
  three = *server_->Get(base + "%22%7D", Bearer(reader));  // three series: over the limit
  EXPECT_EQ(three.status, 422) << three.body;
  Json e = ParseBody(three);
  EXPECT_EQ(e["errorType"], "execution");
  EXPECT_NE(e["error"].get<std::string>().find("series"), std::string::npos) << three.body;
}

INSTANTIATE_TEST_SUITE_P(Stores, MetricsIT,
                         ::testing::Values(MetricsBackend::kEmbedded,
                                           MetricsBackend::kVictoriaMetrics),
                         MetricsBackendName);

}  // namespace
}  // namespace pa::testing
