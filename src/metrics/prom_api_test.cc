#include "metrics/prom_api.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace pa::metrics {
namespace {

TEST(PromApiTest, TimesAndDurations) {
  EXPECT_EQ(*ParseApiTime("1700000000"), 1700000000000);
  EXPECT_EQ(*ParseApiTime("1700000000.123"), 1700000000123);
  EXPECT_EQ(*ParseApiTime("2026-11-28T10:00:00.5Z"), *ParseApiTime("1795860000.5"));
  EXPECT_FALSE(ParseApiTime("yesterday").ok());
  EXPECT_EQ(*ParseApiDuration("15"), 15000);
  EXPECT_EQ(*ParseApiDuration("0.5"), 500);
  EXPECT_EQ(*ParseApiDuration("1h30m"), 5400000);
  EXPECT_EQ(*ParseApiDuration("250ms"), 250);
  EXPECT_FALSE(ParseApiDuration("5 parsecs").ok());
}

TEST(PromApiTest, Selectors) {
  auto m = ParseSeriesSelector(R"(http_requests_total{job="api", code=~"5..",path!='/x\'y'})");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ASSERT_EQ(m->size(), 4u);
  EXPECT_EQ((*m)[0].name, "__name__");
  EXPECT_EQ((*m)[0].value, "http_requests_total");
  EXPECT_EQ((*m)[2].op, storage::LabelMatcher::Op::kRegexMatch);
  EXPECT_EQ((*m)[3].op, storage::LabelMatcher::Op::kNotEqual);
  EXPECT_EQ((*m)[3].value, "/x'y");
  EXPECT_TRUE(ParseSeriesSelector("{__name__=~\"up|down\"}").ok());
  EXPECT_FALSE(ParseSeriesSelector("{job=~\".*\"}").ok());  // matches everything
  EXPECT_FALSE(ParseSeriesSelector("up{job=}").ok());
  EXPECT_FALSE(ParseSeriesSelector("up{job=\"x\"").ok());
  EXPECT_FALSE(ParseSeriesSelector("").ok());
}

TEST(PromApiTest, NumbersLikePrometheus) {
  auto fmt = [](double v) {
    std::string s;
    AppendPromValue(s, v);
    return s;
  };
  EXPECT_EQ(fmt(1.5), "1.5");
  EXPECT_EQ(fmt(1e-7), "0.0000001");
  EXPECT_EQ(fmt(1e21), "1000000000000000000000");
  EXPECT_EQ(fmt(std::numeric_limits<double>::quiet_NaN()), "NaN");
  EXPECT_EQ(fmt(-std::numeric_limits<double>::infinity()), "-Inf");
  std::string t;
  AppendPromTime(t, 1700000000120);
  EXPECT_EQ(t, "1700000000.12");
  t.clear();
  AppendPromTime(t, 1700000000000);
  EXPECT_EQ(t, "1700000000");
}

TEST(PromApiTest, RenderShapes) {
  storage::QueryValue v;
  v.type = storage::ValueType::kVector;
  v.series.push_back({{{"__name__", "up"}, {"job", "a"}}, {{1700000000000, 1}}});
  EXPECT_EQ(RenderQueryValue(v),
            R"({"status":"success","data":{"resultType":"vector","result":[)"
            R"({"metric":{"__name__":"up","job":"a"},"value":[1700000000,"1"]}]}})");
  v.type = storage::ValueType::kMatrix;
  v.series[0].points.push_back({1700000060000, 2});
  EXPECT_EQ(
      RenderQueryValue(v),
      R"({"status":"success","data":{"resultType":"matrix","result":[)"
      R"({"metric":{"__name__":"up","job":"a"},"values":[[1700000000,"1"],[1700000060,"2"]]}]}})");
  storage::QueryValue s;
  s.type = storage::ValueType::kScalar;
  s.scalar = {1000, 2};
  EXPECT_EQ(RenderQueryValue(s),
            R"({"status":"success","data":{"resultType":"scalar","result":[1,"2"]}})");
  EXPECT_EQ(PromErrorFromStatus(ResourceExhaustedError("query selected too many series")).status,
            422);
  EXPECT_EQ(PromError(400, "bad_data", "x").body,
            R"({"status":"error","errorType":"bad_data","error":"x"})");
}

TEST(PromApiTest, ParamsFromQueryAndForm) {
  gateway::Request req;
  req.method = gateway::Method::kPost;
  req.query_string = "match%5B%5D=up&start=1";
  req.headers.Add("Content-Type", "application/x-www-form-urlencoded");
  req.body = "match[]=down%7Bjob%3D%22a%22%7D&query=sum+by+(job)+(x)";
  auto p = ApiParams::From(req);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->All("match[]"), (std::vector<std::string>{"up", "down{job=\"a\"}"}));
  EXPECT_EQ(p->Get("query"), "sum by (job) (x)");
  EXPECT_EQ(p->Get("start"), "1");
  req.headers = {};
  req.headers.Add("Content-Type", "application/json");
  EXPECT_FALSE(ApiParams::From(req).ok());
}

}  // namespace
}  // namespace pa::metrics
