// The VictoriaMetrics backend against the real VictoriaMetrics named by PRIMOART_TEST_VM_URL
// (scripts/vm-test-server). Every test writes metrics named after a random run id, so runs
// against the same server do not see each other's data.
#include "storage/victoriametrics/vm_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <limits>
#include <mutex>

#include "base/random.h"
#include "storage/victoriametrics/vm_test_support.h"

namespace pa::storage::victoriametrics {
namespace {

using namespace std::chrono_literals;
using testing::RefusingPort;
using testing::TempDir;

constexpr double kInf = std::numeric_limits<double>::infinity();

class VmStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    PA_VM_TEST_URL_OR_SKIP(url_);
    name_ = "pa_vm_test_" + std::to_string(FastRandom() % 1000000000);
    // Whole seconds, an hour back: inside any retention, away from "now" effects.
    now_ = Clock::System()->NowMs() / 1000 * 1000;
    t0_ = now_ - 3600 * 1000;
  }

  std::unique_ptr<MetricStore> OpenStore(Options o = {}) {
    if (o.insert_url.empty()) o.insert_url = url_;
    o.spool_dir = spool_.path();
    auto store = Open(o);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(*store) : nullptr;
  }

  Labels L(std::initializer_list<Label> extra = {}) {
    Labels l = {{"__name__", name_}};
    l.insert(l.end(), extra);
    return l;
  }

  std::string url_;
  std::string name_;
  int64_t now_ = 0;
  int64_t t0_ = 0;
  TempDir spool_;
};

TEST_F(VmStoreTest, PingAndDescription) {
  auto store = OpenStore();
  ASSERT_TRUE(store);
  EXPECT_EQ(store->backend(), "victoriametrics");
  EXPECT_NE(store->description().find(url_), std::string::npos) << store->description();
  EXPECT_TRUE(store->Ping().ok());
}

TEST_F(VmStoreTest, RoundTripsValuesIncludingInfinities) {
  auto store = OpenStore();
  ASSERT_TRUE(store);
  // One series per value: VictoriaMetrics shares one decimal exponent per block of a series.
  const std::vector<double> values = {0, 1.5, -2.25, 42, 1e-5, 123456789, 0.1, kInf, -kInf};
  std::vector<SeriesSamples> batch;
  for (size_t i = 0; i < values.size(); ++i) {
    batch.push_back({L({{"i", std::to_string(i)}}),
                     {{t0_, values[i]}, {t0_ + 1000, values[i] * 2}, {t0_ + 2000, values[i]}}});
  }
  auto r = store->Append(batch);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->accepted, static_cast<int64_t>(3 * values.size()));
  ASSERT_TRUE(store->Sync(30s).ok());

  auto range = store->QueryRange(name_, t0_, t0_ + 2000, 1000, {});
  ASSERT_TRUE(range.ok()) << range.status().ToString();
  EXPECT_EQ(range->type, ValueType::kMatrix);
  ASSERT_EQ(range->series.size(), values.size());
  for (const auto& s : range->series) {
    const size_t i = std::stoul(std::string(LabelValue(s.labels, "i")));
    EXPECT_EQ(LabelValue(s.labels, "__name__"), name_);
    ASSERT_EQ(s.points.size(), 3u) << i;
    EXPECT_EQ(s.points[0].t, t0_);
    EXPECT_EQ(s.points[0].v, values[i]) << i;
    EXPECT_EQ(s.points[1].v, values[i] * 2) << i;
    EXPECT_EQ(s.points[2].t, t0_ + 2000);
    EXPECT_EQ(s.points[2].v, values[i]) << i;
  }
}

TEST_F(VmStoreTest, StalenessMarkerEndsTheSeries) {
  auto store = OpenStore();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->Append({{L(), {{t0_, 1}, {t0_ + 10000, 2}, {t0_ + 20000, StaleNaN()}}}}).ok());
  ASSERT_TRUE(store->Sync(30s).ok());
  auto before = store->Query(name_, t0_ + 15000, {});
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  ASSERT_EQ(before->series.size(), 1u);
  EXPECT_EQ(before->series[0].points[0].v, 2);
  // Without the marker the 5-minute lookback would still find the value 2 here.
  auto after = store->Query(name_, t0_ + 25000, {});
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after->series.empty());
}

TEST_F(VmStoreTest, OrdinaryNaNIsDroppedByVictoriaMetrics) {
  // Documented in vm_store.h: VictoriaMetrics 1.79 does not store NaN other than the marker.
  auto store = OpenStore();
  ASSERT_TRUE(store);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  ASSERT_TRUE(store->Append({{L(), {{t0_, 7}, {t0_ + 10000, nan}}}}).ok());
  ASSERT_TRUE(store->Sync(30s).ok());
  auto v = store->Query(name_, t0_ + 10000, {});
  ASSERT_TRUE(v.ok());
  ASSERT_EQ(v->series.size(), 1u);
  EXPECT_EQ(v->series[0].points[0].v, 7);
}

TEST_F(VmStoreTest, CountsTooNewAndTooOld) {
  FakeClock clock;
  clock.SetWall(Clock::WallTime(std::chrono::milliseconds(now_)));
  auto store = OpenStore({.retention = 1h, .max_future = 10min, .clock = &clock});
  ASSERT_TRUE(store);
  auto r = store->Append({{L(),
                           {{now_ - 2 * 3600 * 1000, 1},
                            {now_ - 1000, 2},
                            {now_ + 9 * 60 * 1000, 3},
                            {now_ + 11 * 60 * 1000, 4}}}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->accepted, 2);
  EXPECT_EQ(r->too_old, 1);
  EXPECT_EQ(r->too_new, 1);
  EXPECT_EQ(r->duplicates, 0);
  ASSERT_TRUE(store->Sync(30s).ok());
  auto v = store->Query("count_over_time(" + name_ + "[1d])", now_ + 20 * 60 * 1000, {});
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  ASSERT_EQ(v->series.size(), 1u);
  EXPECT_EQ(v->series[0].points[0].v, 2);
}

TEST_F(VmStoreTest, MalformedLabelsFailTheWholeCall) {
  auto store = OpenStore();
  ASSERT_TRUE(store);
  const SeriesSamples good{L({{"ok", "1"}}), {{t0_, 1}}};
  Labels many = L();
  for (int i = 0; i < 30; ++i) many.push_back({"l" + std::to_string(i), "v"});
  const std::vector<SeriesSamples> bad = {
      {L({{"bad-name", "x"}}), {{t0_, 1}}},
      {L({{"__reserved", "x"}}), {{t0_, 1}}},
      {many, {{t0_, 1}}},
      {L({{"long", std::string(16385, 'x')}}), {{t0_, 1}}},
      {{{"job", ""}}, {{t0_, 1}}},  // no labels left
  };
  for (const auto& b : bad) {
    auto r = store->Append({good, b});
    ASSERT_FALSE(r.ok()) << LabelsToString(b.labels);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  }
  ASSERT_TRUE(store->Sync(30s).ok());
  auto v = store->Query(name_, t0_, {});
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->series.empty());  // not even the good series of those calls
}

TEST_F(VmStoreTest, SeriesAndLabelsAreExactForTheRange) {
  auto store = OpenStore();
  ASSERT_TRUE(store);
  const int64_t a = t0_ - 3 * 3600 * 1000;  // three hours apart, usually the same day
  const int64_t b = t0_;
  ASSERT_TRUE(store
                  ->Append({{L({{"job", "a"}, {"only_a", "yes"}}), {{a, 1}}},
                            {L({{"job", "b"}}), {{b, 1}}},
                            {{{"__name__", name_ + "_other"}, {"job", "c"}}, {{b, 1}}}})
                  .ok());
  ASSERT_TRUE(store->Sync(30s).ok());
  const std::vector<MatcherSet> m = {{{LabelMatcher::Op::kEqual, "__name__", name_}}};

  auto late = store->Series(m, b - 1000, b + 1000, 0);
  ASSERT_TRUE(late.ok()) << late.status().ToString();
  EXPECT_EQ(*late, (std::vector<Labels>{L({{"job", "b"}})}));
  auto early = store->Series(m, a, a, 0);  // both ends inclusive
  ASSERT_TRUE(early.ok());
  EXPECT_EQ(*early, (std::vector<Labels>{L({{"job", "a"}, {"only_a", "yes"}})}));
  auto both = store->Series(m, a, b, 0);
  ASSERT_TRUE(both.ok());
  EXPECT_EQ(both->size(), 2u);
  auto limited = store->Series(m, a, b, 1);
  ASSERT_TRUE(limited.ok());
  EXPECT_EQ(*limited, *early);  // the first in label order
  auto none = store->Series(m, a + 1, b - 1, 0);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());

  // Several matcher sets are OR-ed.
  const std::vector<MatcherSet> two = {
      {{LabelMatcher::Op::kEqual, "__name__", name_}, {LabelMatcher::Op::kEqual, "job", "b"}},
      {{LabelMatcher::Op::kRegexMatch, "__name__", name_ + "_oth.*"}}};
  auto ored = store->Series(two, a, b, 0);
  ASSERT_TRUE(ored.ok());
  EXPECT_EQ(ored->size(), 2u);

  auto names = store->LabelNames(m, b - 1000, b + 1000);
  ASSERT_TRUE(names.ok()) << names.status().ToString();
  EXPECT_EQ(*names, (std::vector<std::string>{"__name__", "job"}));
  auto all_names = store->LabelNames(m, a, b);
  ASSERT_TRUE(all_names.ok());
  EXPECT_EQ(*all_names, (std::vector<std::string>{"__name__", "job", "only_a"}));
  auto jobs = store->LabelValues("job", m, a, b);
  ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();
  EXPECT_EQ(*jobs, (std::vector<std::string>{"a", "b"}));
  auto late_jobs = store->LabelValues("job", m, b, b);
  ASSERT_TRUE(late_jobs.ok());
  EXPECT_EQ(*late_jobs, (std::vector<std::string>{"b"}));
  const std::vector<MatcherSet> by_job = {
      {{LabelMatcher::Op::kRegexMatch, "job", "[bc]"},
       {LabelMatcher::Op::kRegexMatch, "__name__", name_ + ".*"}}};
  auto metric_names = store->LabelValues("__name__", by_job, a, b);
  ASSERT_TRUE(metric_names.ok());
  EXPECT_EQ(*metric_names, (std::vector<std::string>{name_, name_ + "_other"}));
  EXPECT_EQ(store->LabelValues("bad name", m, a, b).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(VmStoreTest, QueryResultTypesFollowPrometheus) {
  auto store = OpenStore();
  ASSERT_TRUE(store);
  auto scalar = store->Query("1 + 1", t0_, {});
  ASSERT_TRUE(scalar.ok()) << scalar.status().ToString();
  EXPECT_EQ(scalar->type, ValueType::kScalar);
  EXPECT_EQ(scalar->scalar.t, t0_);
  EXPECT_EQ(scalar->scalar.v, 2);
  auto nan_scalar = store->Query("scalar(" + name_ + ")", t0_, {});  // no such series: NaN
  ASSERT_TRUE(nan_scalar.ok());
  EXPECT_EQ(nan_scalar->type, ValueType::kScalar);
  EXPECT_TRUE(std::isnan(nan_scalar->scalar.v));
  auto str = store->Query("\"hello\"", t0_, {});
  ASSERT_TRUE(str.ok());
  EXPECT_EQ(str->type, ValueType::kString);
  EXPECT_EQ(str->string_value, "hello");
  auto vec = store->Query("vector(3)", t0_ + 123, {});
  ASSERT_TRUE(vec.ok());
  EXPECT_EQ(vec->type, ValueType::kVector);
  ASSERT_EQ(vec->series.size(), 1u);
  EXPECT_EQ(vec->series[0].points[0].t, t0_ + 123);
  EXPECT_EQ(vec->series[0].points[0].v, 3);
  auto range = store->QueryRange("time()", t0_, t0_ + 1500, 500, {});
  ASSERT_TRUE(range.ok()) << range.status().ToString();
  EXPECT_EQ(range->type, ValueType::kMatrix);
  ASSERT_EQ(range->series.size(), 1u);
  ASSERT_EQ(range->series[0].points.size(), 4u);
  EXPECT_EQ(range->series[0].points[3].t, t0_ + 1500);
  EXPECT_EQ(range->series[0].points[3].v, (t0_ + 1500) / 1000.0);
}

TEST_F(VmStoreTest, QueryErrors) {
  auto store = OpenStore();
  ASSERT_TRUE(store);
  auto syntax = store->Query("sum(", t0_, {});
  ASSERT_FALSE(syntax.ok());
  EXPECT_EQ(syntax.status().code(), StatusCode::kInvalidArgument) << syntax.status().ToString();
  EXPECT_EQ(store->Query("no_such_function(x)", t0_, {}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store->QueryRange("1", t0_, t0_ + 1000, 0, {}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store->QueryRange("1", t0_, t0_ - 1000, 1000, {}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store->QueryRange("\"s\"", t0_, t0_ + 1000, 1000, {}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store->QueryRange("1", t0_, t0_ + 100000000, 1000, {}).status().code(),
            StatusCode::kInvalidArgument);  // more than 11,000 points, as Prometheus says

  ASSERT_TRUE(store->Append({{L({{"i", "1"}}), {{t0_, 1}}}, {L({{"i", "2"}}), {{t0_, 1}}}}).ok());
  ASSERT_TRUE(store->Sync(30s).ok());
  QueryLimits one_series;
  one_series.max_series = 1;
  auto limited = store->Query(name_, t0_, one_series);
  ASSERT_FALSE(limited.ok());
  EXPECT_EQ(limited.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(limited.status().message().find("max_series"), std::string::npos);
  QueryLimits few_samples;
  few_samples.max_samples = 3;
  EXPECT_EQ(store->QueryRange(name_, t0_, t0_ + 1000, 1000, few_samples).status().code(),
            StatusCode::kResourceExhausted);
}

TEST_F(VmStoreTest, UnreachableVictoriaMetrics) {
  RefusingPort dead;
  auto store = OpenStore({.insert_url = dead.url(), .retry_max = 200ms});
  ASSERT_TRUE(store);
  EXPECT_EQ(store->Ping().code(), StatusCode::kUnavailable);
  EXPECT_EQ(store->Query("up", t0_, {}).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(store->QueryRange("up", t0_, t0_, 1000, {}).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(store->Series({}, t0_, t0_, 0).status().code(), StatusCode::kUnavailable);
  // Writes still succeed: they wait in the spool.
  ASSERT_TRUE(store->Append({{L(), {{t0_, 1}}}}).ok());
  const Status st = store->Sync(300ms);
  EXPECT_EQ(st.code(), StatusCode::kDeadlineExceeded);
  EXPECT_NE(st.message().find("unreachable since"), std::string::npos) << st.message();
}

TEST_F(VmStoreTest, SelfMetrics) {
  telemetry::Registry registry;
  auto store = OpenStore({.metrics = &registry});
  ASSERT_TRUE(store);
  ASSERT_TRUE(store
                  ->Append({{L({{"i", "1"}}), {{t0_, 1}, {t0_ + 1, 2}, {t0_ + 2, 3}}},
                            {L({{"i", "2"}}), {{t0_, 1}, {t0_ + 1, 2}, {t0_ + 2, 3}}}})
                  .ok());
  ASSERT_TRUE(store->Sync(30s).ok());
  const std::string text = registry.Expose();
  EXPECT_NE(text.find("primoart_vm_appended_samples_total 6\n"), std::string::npos) << text;
  EXPECT_NE(text.find("primoart_vm_shipped_samples_total 6\n"), std::string::npos) << text;
  EXPECT_NE(text.find("primoart_vm_send_errors_total 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("primoart_vm_oldest_unsent_seconds"), std::string::npos) << text;
}

// The cluster form end to end against a stand-in (Debian has no cluster binaries): writes go to
// /insert/<tenant>/..., reads to /select/<tenant>/..., Sync flushes the named vmstorage nodes.
TEST(VmClusterTest, RequestsUseTheTenantPathsAndFlushUrls) {
  std::mutex mu;
  std::vector<std::string> paths;
  testing::FakeVm vm([&](const testing::FakeVm::Request& r) {
    std::lock_guard l(mu);
    paths.push_back(r.method + " " + r.path);
    if (r.path.find("/api/v1/query") != std::string::npos) {
      return testing::FakeVm::Reply{
          200, R"({"status":"success","data":{"resultType":"vector","result":[]}})"};
    }
    return testing::FakeVm::Reply{r.path.ends_with("/health") ? 200 : 204, "OK"};
  });
  TempDir spool;
  auto o = OptionsFromUrl("victoriametrics+" + vm.url() + "?select=" + vm.url() +
                          "/sel&tenant=5:2&flush=" + vm.url() + "/storage1");
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  o->spool_dir = spool.path();
  auto store = Open(*o);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_NE((*store)->description().find("tenant 5:2"), std::string::npos);
  ASSERT_TRUE((*store)->Append({{{{"__name__", "m"}}, {{Clock::System()->NowMs(), 1}}}}).ok());
  ASSERT_TRUE((*store)->Sync(10s).ok());
  ASSERT_TRUE((*store)->Query("m", Clock::System()->NowMs(), {}).ok());
  ASSERT_TRUE((*store)->Ping().ok());
  std::lock_guard l(mu);
  EXPECT_EQ(paths,
            (std::vector<std::string>{
                "POST /insert/5:2/prometheus/api/v1/write", "GET /storage1/internal/force_flush",
                "POST /sel/select/5:2/prometheus/api/v1/query", "GET /health", "GET /sel/health"}));
}

// (It waits visibility_delay instead.)
TEST(VmClusterTest, WithoutFlushUrlsSyncCallsNoForceFlush) {
  std::atomic<int> writes{0};
  testing::FakeVm vm([&](const testing::FakeVm::Request& r) {
    EXPECT_EQ(r.path, "/insert/0/prometheus/api/v1/write");  // nothing else, no force_flush
    ++writes;
    return testing::FakeVm::Reply{204, ""};
  });
  TempDir spool;
  auto store = Open({.insert_url = vm.url(),
                     .tenant = "0",
                     .visibility_delay = 200ms,
                     .spool_dir = spool.path()});
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->Append({{{{"__name__", "m"}}, {{Clock::System()->NowMs(), 1}}}}).ok());
  ASSERT_TRUE((*store)->Sync(10s).ok());
  EXPECT_EQ(writes, 1);
}

}  // namespace
}  // namespace pa::storage::victoriametrics
