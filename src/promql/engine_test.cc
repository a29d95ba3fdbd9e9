// The Engine API: result shapes of instant and range queries, limits, errors, and that a range
// query gives at every step what an instant query at that time gives.
#include "promql/engine.h"

#include <cmath>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "promql/syntax/ast.h"
#include "promql/testing/memory_querier.h"

namespace pa::promql {
namespace {

using storage::Labels;
using storage::QueryLimits;
using storage::QueryValue;
using storage::Sample;
using storage::ValueType;
using testing::MemoryQuerier;

constexpr int64_t kMinute = 60000;

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Two counters scraped every 15 s for an hour, one gauge with a gap and a staleness marker.
    for (int job = 0; job < 2; ++job) {
      std::vector<Sample> samples;
      for (int64_t t = 0; t <= 60 * kMinute; t += 15000) {
        samples.push_back({t, static_cast<double>(t / 1000 * (job + 1))});
      }
      q_.Add({{"__name__", "requests_total"}, {"job", job == 0 ? "a" : "b"}}, samples);
    }
    q_.Add({{"__name__", "temp"}, {"room", "x"}}, {{0, 20},
                                                   {kMinute, 21},
                                                   {2 * kMinute, 22},
                                                   {3 * kMinute, storage::StaleNaN()},
                                                   {20 * kMinute, 25}});
  }

  Result<QueryValue> Instant(std::string_view q, int64_t t) {
    return engine_.Instant(q_, q, t, limits_);
  }
  Result<QueryValue> Range(std::string_view q, int64_t start, int64_t end, int64_t step) {
    return engine_.Range(q_, q, start, end, step, limits_);
  }

  MemoryQuerier q_;
  Engine engine_;
  QueryLimits limits_;
};

TEST_F(EngineTest, InstantVectorIsSortedByLabelsAtTheEvaluationTime) {
  auto r = Instant("requests_total", 10 * kMinute + 7000);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->type, ValueType::kVector);
  ASSERT_EQ(r->series.size(), 2u);
  EXPECT_EQ(r->series[0].labels, (Labels{{"__name__", "requests_total"}, {"job", "a"}}));
  EXPECT_EQ(r->series[1].labels, (Labels{{"__name__", "requests_total"}, {"job", "b"}}));
  ASSERT_EQ(r->series[0].points.size(), 1u);
  EXPECT_EQ(r->series[0].points[0].t, 10 * kMinute + 7000);  // not the sample's time
  EXPECT_EQ(r->series[0].points[0].v, 600);
}

TEST_F(EngineTest, InstantScalarStringAndMatrix) {
  auto s = Instant("1 + 2", 5000);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->type, ValueType::kScalar);
  EXPECT_EQ(s->scalar.t, 5000);
  EXPECT_EQ(s->scalar.v, 3);

  auto str = Instant("\"hello\"", 5000);
  ASSERT_TRUE(str.ok());
  EXPECT_EQ(str->type, ValueType::kString);
  EXPECT_EQ(str->string_value, "hello");
  EXPECT_EQ(str->scalar.t, 5000);

  auto m = Instant("temp[2m]", 2 * kMinute);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->type, ValueType::kMatrix);
  ASSERT_EQ(m->series.size(), 1u);
  EXPECT_EQ(m->series[0].labels, (Labels{{"__name__", "temp"}, {"room", "x"}}));
  // Both ends of the range are included in 2.42; samples keep their own timestamps.
  ASSERT_EQ(m->series[0].points.size(), 3u);
  EXPECT_EQ(m->series[0].points[0].t, 0);
  EXPECT_EQ(m->series[0].points[2].t, 2 * kMinute);

  auto sub = Instant("temp[2m:1m]", 2 * kMinute + 30000);
  ASSERT_TRUE(sub.ok());
  EXPECT_EQ(sub->type, ValueType::kMatrix);
  ASSERT_EQ(sub->series.size(), 1u);
  ASSERT_EQ(sub->series[0].points.size(), 2u);  // steps at 1m and 2m (aligned to the epoch)
  EXPECT_EQ(sub->series[0].points[0].t, kMinute);
  EXPECT_EQ(sub->series[0].points[1].v, 22);
}

TEST_F(EngineTest, StalenessMarkerEndsTheSeriesAndLookbackIsFiveMinutes) {
  auto before = Instant("temp", 3 * kMinute - 1);
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(before->series.size(), 1u);
  auto at = Instant("temp", 3 * kMinute);
  ASSERT_TRUE(at.ok());
  EXPECT_TRUE(at->series.empty());
  auto later = Instant("requests_total", 65 * kMinute);  // last sample 5 m ago: still there
  ASSERT_TRUE(later.ok());
  EXPECT_EQ(later->series.size(), 2u);
  auto gone = Instant("requests_total", 65 * kMinute + 1);
  ASSERT_TRUE(gone.ok());
  EXPECT_TRUE(gone->series.empty());
}

TEST_F(EngineTest, RangeQueryStepsAndScalarSeries) {
  auto r = Range("temp", 0, 4 * kMinute, kMinute);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->type, ValueType::kMatrix);
  ASSERT_EQ(r->series.size(), 1u);
  ASSERT_EQ(r->series[0].points.size(), 3u);  // stale from 3m on
  EXPECT_EQ(r->series[0].points[2].t, 2 * kMinute);
  EXPECT_EQ(r->series[0].points[2].v, 22);

  auto s = Range("time() * 2", 10000, 70000, 30000);
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s->series.size(), 1u);
  EXPECT_TRUE(s->series[0].labels.empty());
  ASSERT_EQ(s->series[0].points.size(), 3u);  // 10s, 40s, 70s: the end is included
  EXPECT_EQ(s->series[0].points[2].t, 70000);
  EXPECT_EQ(s->series[0].points[2].v, 140);
}

TEST_F(EngineTest, RangeQueryAgreesWithInstantQueriesAtEveryStep) {
  const char* queries[] = {
      "rate(requests_total[5m])",
      "sum by (job) (increase(requests_total[3m] offset 1m))",
      "irate(requests_total[1m]) > bool 1.5",
      "max_over_time(rate(requests_total[2m])[10m:1m])",
      "avg_over_time(temp[7m])",
      "absent_over_time(temp[1m])",
      "absent(temp)",
      "requests_total / on() group_left temp",
      "topk(1, requests_total) or vector(time())",
      "label_replace(requests_total, \"j\", \"$1$1\", \"job\", \"(.)\")",
      "timestamp(temp)",
      "count_values(\"v\", temp)",
      "histogram_quantile(0.9, label_replace(requests_total, \"le\", \"+Inf\", \"\", \"\"))",
      "quantile_over_time(0.3, temp[10m:2m])",
      "deriv(requests_total[10m]) - predict_linear(requests_total[10m], 60)",
      "requests_total @ 600 + time()",
      "changes(temp[20m]) + on() group_right resets(requests_total[20m])",
  };
  for (const char* query : queries) {
    SCOPED_TRACE(query);
    const int64_t start = 3 * kMinute + 500;
    const int64_t step = 70000;
    const int64_t end = 30 * kMinute;
    auto range = Range(query, start, end, step);
    ASSERT_TRUE(range.ok()) << range.status().ToString();
    int checked = 0;
    for (int64_t t = start; t <= end; t += step) {
      auto instant = Instant(query, t);
      ASSERT_TRUE(instant.ok()) << instant.status().ToString();
      std::vector<std::pair<Labels, double>> want;
      if (instant->type == ValueType::kScalar) {
        want.push_back({{}, instant->scalar.v});
      } else {
        for (const auto& s : instant->series) want.push_back({s.labels, s.points[0].v});
      }
      std::vector<std::pair<Labels, double>> got;
      for (const auto& s : range->series) {
        for (const auto& p : s.points) {
          if (p.t == t) got.push_back({s.labels, p.v});
        }
      }
      ASSERT_EQ(got.size(), want.size()) << "at " << t;
      for (size_t i = 0; i < got.size(); ++i) {
        EXPECT_EQ(got[i].first, want[i].first) << "at " << t;
        if (!(std::isnan(got[i].second) && std::isnan(want[i].second))) {
          EXPECT_DOUBLE_EQ(got[i].second, want[i].second) << "at " << t;
        }
        ++checked;
      }
    }
    EXPECT_GT(checked, 0) << "no points: the query does not test anything";
  }
}

TEST_F(EngineTest, AtStartAndEndRefertoTheRangeQuery) {
  auto r = Range("requests_total{job=\"a\"} @ end() - requests_total{job=\"a\"} @ start()", 0,
                 10 * kMinute, 5 * kMinute);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->series.size(), 1u);
  ASSERT_EQ(r->series[0].points.size(), 3u);
  for (const auto& p : r->series[0].points) EXPECT_EQ(p.v, 600);
}

TEST_F(EngineTest, SortKeepsItsOrderInInstantQueries) {
  auto r = Instant("sort_desc(requests_total)", 10 * kMinute);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->series.size(), 2u);
  EXPECT_EQ(storage::LabelValue(r->series[0].labels, "job"), "b");
  EXPECT_EQ(storage::LabelValue(r->series[1].labels, "job"), "a");
}

TEST_F(EngineTest, SelectsEachSelectorOnceForAWholeRangeQuery) {
  const int before = q_.selects();
  auto r = Range("rate(requests_total[5m]) + on(job) requests_total", 0, 60 * kMinute, 15000);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(q_.selects() - before, 2);
}

TEST_F(EngineTest, SeriesLimitIsResourceExhaustedNamingTheLimit) {
  limits_.max_series = 2;
  EXPECT_TRUE(Instant("requests_total", kMinute).ok());
  auto r = Instant("requests_total + on() group_left temp", kMinute);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
  EXPECT_THAT(r.status().message(), ::testing::HasSubstr("max_series=2"));
}

TEST_F(EngineTest, SampleLimitIsResourceExhaustedNamingTheLimit) {
  limits_.max_samples = 1000;
  EXPECT_TRUE(Instant("rate(requests_total[5m])", 30 * kMinute).ok());
  auto r = Range("requests_total", 0, 60 * kMinute, 1000);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
  EXPECT_THAT(r.status().message(), ::testing::HasSubstr("max_samples=1000"));
  auto sub = Instant("max_over_time(requests_total[1h:1s])", 60 * kMinute);
  ASSERT_FALSE(sub.ok());
  EXPECT_EQ(sub.status().code(), StatusCode::kResourceExhausted);
}

TEST_F(EngineTest, TimeoutIsDeadlineExceeded) {
  limits_.timeout = std::chrono::milliseconds(0);
  auto r = Range("sum(rate(requests_total[5m]))", 0, 60 * kMinute, 1000);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDeadlineExceeded);
}

TEST_F(EngineTest, RangeQueryRejectsBadArguments) {
  EXPECT_EQ(Range("temp", 0, 10, 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Range("temp", 10, 0, 1).status().code(), StatusCode::kInvalidArgument);
  auto matrix = Range("temp[5m]", 0, 10, 1);
  EXPECT_EQ(matrix.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(matrix.status().message(), ::testing::HasSubstr("range vector"));
  EXPECT_EQ(Range("\"s\"", 0, 10, 1).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(EngineTest, EvaluationErrorsAreInvalidArgument) {
  auto dup = Instant("label_replace(requests_total, \"job\", \"x\", \"\", \"\")", kMinute);
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.status().code(), StatusCode::kInvalidArgument);
  auto many = Instant("requests_total + on() requests_total", kMinute);
  ASSERT_FALSE(many.ok());
  EXPECT_THAT(many.status().message(), ::testing::HasSubstr("many-to-many"));
}

TEST_F(EngineTest, UnsupportedConstructIsUnimplementedNamingIt) {
  // Prometheus 2.42 slides the window of an @-modified predict_linear argument with the steps;
  // for a subquery argument that is not reproduced, so it is refused rather than answered.
  const char* query = "predict_linear(requests_total[10m:1m] @ 600, 60)";
  EXPECT_TRUE(Instant(query, kMinute).ok());
  auto r = Range(query, 0, 10 * kMinute, kMinute);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnimplemented);
  EXPECT_THAT(r.status().message(), ::testing::HasSubstr("predict_linear()"));
  auto sub = Instant("max_over_time(predict_linear(requests_total[10m:1m] @ 600, 60)[5m:1m])",
                     20 * kMinute);
  EXPECT_EQ(sub.status().code(), StatusCode::kUnimplemented);
}

TEST_F(EngineTest, DeepestAllowedQueryEvaluates) {
  std::string chain = "temp";
  for (int i = 0; i < kMaxExprHeight - 1; ++i) chain = "abs(" + chain + ")";
  auto r = Range(chain, 0, 2 * kMinute, kMinute);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->series.size(), 1u);
}

TEST_F(EngineTest, CheckParsesOnly) {
  EXPECT_TRUE(engine_.Check("sum by (job) (rate(x[5m]))").ok());
  const Status bad = engine_.Check("sum by (job) (rate(x[5m])");
  EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.message(), ::testing::StartsWith("1:"));
}

TEST_F(EngineTest, StorageErrorsPassThrough) {
  class FailingQuerier : public storage::Querier {
   public:
    Result<std::unique_ptr<storage::SeriesSet>> Select(const storage::MatcherSet&, int64_t,
                                                       int64_t) override {
      return UnavailableError("store down");
    }
  } failing;
  auto r = engine_.Instant(failing, "up", 0, limits_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(r.status().message(), "store down");
}

TEST_F(EngineTest, OptionsChangeLookbackAndSubqueryStep) {
  EngineOptions options;
  options.lookback_delta = std::chrono::minutes(1);
  options.default_subquery_step = std::chrono::minutes(2);
  Engine engine(options);
  auto r = engine.Instant(q_, "requests_total", 61 * kMinute + 1, limits_);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->series.empty());
  auto sub =
      engine.Instant(q_, "count_over_time(requests_total{job=\"a\"}[10m:])", 30 * kMinute, limits_);
  ASSERT_TRUE(sub.ok());
  ASSERT_EQ(sub->series.size(), 1u);
  EXPECT_EQ(sub->series[0].points[0].v, 6);  // 20m, 22m, ..., 30m
}

}  // namespace
}  // namespace pa::promql
