// Tests of the differential suite's own parts — the comparison, the reading of Prometheus's
// answers, the in-memory querier and the data set — so that "no mismatch" means agreement and
// not a harness that cannot see differences.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "data_set.h"
#include "memory_querier.h"
#include "prometheus_server.h"
#include "queries.h"
#include "remote_write.h"
#include "result_compare.h"

namespace pa::differential {
namespace {

using storage::LabelMatcher;
using storage::QueryValue;
using storage::ValueType;

QueryValue Vector(std::vector<std::pair<std::string, double>> series) {
  QueryValue v;
  for (auto& [job, value] : series) v.series.push_back({{{"job", job}}, {{1000, value}}});
  return v;
}

TEST(SameFloat, ToleratesRoundingOnlyAndMatchesNaNAndInfinities) {
  const CompareOptions o;
  EXPECT_TRUE(SameFloat(1.0, 1.0 + 1e-12, o));
  EXPECT_FALSE(SameFloat(1.0, 1.0 + 1e-8, o));
  EXPECT_TRUE(SameFloat(1e6, 1e6 * (1 + 5e-10), o));
  EXPECT_FALSE(SameFloat(0.0, 1e-6, o));
  EXPECT_TRUE(SameFloat(0.0, 1e-16, o));
  EXPECT_TRUE(SameFloat(std::nan(""), -std::nan(""), o));
  EXPECT_FALSE(SameFloat(std::nan(""), 0.0, o));
  EXPECT_FALSE(SameFloat(0.0, std::nan(""), o));
  EXPECT_TRUE(SameFloat(HUGE_VAL, HUGE_VAL, o));
  EXPECT_FALSE(SameFloat(HUGE_VAL, -HUGE_VAL, o));
  EXPECT_FALSE(SameFloat(HUGE_VAL, 1e308, o));
}

TEST(CompareValues, IgnoresSeriesOrderUnlessOrdered) {
  const QueryValue a = Vector({{"a", 1}, {"b", 2}});
  const QueryValue b = Vector({{"b", 2}, {"a", 1}});
  EXPECT_EQ(CompareValues(a, b, {}), "");
  EXPECT_NE(CompareValues(a, b, {.ordered = true}), "");
  // Under sort(), ties may swap labels: only the sequence of values counts.
  EXPECT_EQ(
      CompareValues(Vector({{"a", 1}, {"b", 1}}), Vector({{"b", 1}, {"a", 1}}), {.ordered = true}),
      "");
}

TEST(CompareValues, ReportsMissingExtraAndDifferentSeries) {
  const QueryValue want = Vector({{"a", 1}, {"b", 2}});
  EXPECT_NE(CompareValues(want, Vector({{"a", 1}}), {}).find("missing in ours"), std::string::npos);
  EXPECT_NE(CompareValues(want, Vector({{"a", 1}, {"b", 2}, {"c", 3}}), {}).find("extra"),
            std::string::npos);
  EXPECT_NE(CompareValues(want, Vector({{"a", 1}, {"b", 2.5}}), {}).find("2.5"), std::string::npos);
  QueryValue other_time = want;
  other_time.series[0].points[0].t = 2000;
  EXPECT_NE(CompareValues(want, other_time, {}), "");
  QueryValue matrix = want;
  matrix.type = ValueType::kMatrix;
  EXPECT_NE(CompareValues(want, matrix, {}).find("result type"), std::string::npos);
  QueryValue more_points = want;
  more_points.series[0].points.push_back({2000, 1});
  EXPECT_NE(CompareValues(want, more_points, {}), "");
}

TEST(CompareValues, Scalars) {
  QueryValue a{.type = ValueType::kScalar, .scalar = {1000, 1.5}};
  QueryValue b = a;
  EXPECT_EQ(CompareValues(a, b, {}), "");
  b.scalar.v = 2;
  EXPECT_NE(CompareValues(a, b, {}), "");
  b = a;
  b.scalar.t = 2000;
  EXPECT_NE(CompareValues(a, b, {}), "");
}

TEST(ParseQueryResponse, ReadsEveryResultType) {
  auto v = ParseQueryResponse(200, R"({"status":"success","data":{"resultType":"vector",
      "result":[{"metric":{"job":"a","__name__":"up"},"value":[1704067200.123,"NaN"]}]}})");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  ASSERT_EQ(v->type, ValueType::kVector);
  ASSERT_EQ(v->series.size(), 1u);
  EXPECT_EQ(storage::LabelsToString(v->series[0].labels), "up{job=\"a\"}");
  EXPECT_EQ(v->series[0].points[0].t, 1704067200123);
  EXPECT_TRUE(std::isnan(v->series[0].points[0].v));

  v = ParseQueryResponse(200, R"({"status":"success","data":{"resultType":"matrix",
      "result":[{"metric":{},"values":[[1.5,"+Inf"],[2,"-0.25"]]}]}})");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  ASSERT_EQ(v->type, ValueType::kMatrix);
  ASSERT_EQ(v->series[0].points.size(), 2u);
  EXPECT_EQ(v->series[0].points[0].t, 1500);
  EXPECT_EQ(v->series[0].points[0].v, HUGE_VAL);
  EXPECT_EQ(v->series[0].points[1].v, -0.25);

  v = ParseQueryResponse(200, R"({"status":"success","data":{"resultType":"scalar",
      "result":[3,"0.1"]}})");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->type, ValueType::kScalar);
  EXPECT_EQ(v->scalar.t, 3000);
  EXPECT_EQ(v->scalar.v, 0.1);

  v = ParseQueryResponse(200, R"({"status":"success","data":{"resultType":"string",
      "result":[3,"hi"]}})");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->type, ValueType::kString);
  EXPECT_EQ(v->string_value, "hi");
}

TEST(ParseQueryResponse, RejectionsAreInvalidArgumentOtherFailuresAreNot) {
  auto v = ParseQueryResponse(
      400, R"({"status":"error","errorType":"bad_data","error":"1:5: parse error"})");
  EXPECT_EQ(v.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(v.status().message().find("parse error"), std::string::npos);
  v = ParseQueryResponse(422,
                         R"({"status":"error","errorType":"execution","error":"many-to-many"})");
  EXPECT_EQ(v.status().code(), StatusCode::kInvalidArgument);
  v = ParseQueryResponse(503, R"({"status":"error","errorType":"unavailable","error":"x"})");
  EXPECT_EQ(v.status().code(), StatusCode::kInternal);
  v = ParseQueryResponse(200, "<html>");
  EXPECT_EQ(v.status().code(), StatusCode::kInternal);
}

TEST(FormatSeconds, MillisecondsAsPrometheusTimes) {
  EXPECT_EQ(FormatSeconds(1704067200123), "1704067200.123");
  EXPECT_EQ(FormatSeconds(5), "0.005");
  EXPECT_EQ(FormatSeconds(-1500), "-1.500");
}

TEST(RemoteWrite, EncodesProtobufAndSnappyFraming) {
  const std::vector<storage::SeriesSamples> series = {
      {{{"__name__", "a"}}, {{300, storage::StaleNaN()}}}};
  const std::string pb = EncodeWriteRequest(series);
  // TimeSeries{Label{"__name__", "a"}, Sample{StaleNaN, 300}}
  const std::string want = std::string(
                               "\x0a\x1d\x0a\x0d\x0a\x08__name__\x12\x01"
                               "a",
                               17) +
                           std::string("\x12\x0c\x09\x02\0\0\0\0\0\xf0\x7f\x10\xac\x02", 14);
  EXPECT_EQ(pb, want);
  const std::string block = SnappyLiteralBlock(pb);
  EXPECT_EQ(block.substr(0, 2), std::string("\x1f\x78", 2));  // length 31; literal of 31
  EXPECT_EQ(block.substr(2), pb);
  const std::string big(70000, 'x');
  const std::string framed = SnappyLiteralBlock(big);
  EXPECT_EQ(framed.size(), 3 + 3 + 65536 + 3 + (70000 - 65536));
}

TEST(MemoryQuerier, SelectsByAllMatcherTypesAndTime) {
  std::vector<storage::SeriesSamples> series = {
      {{{"__name__", "m"}, {"job", "api"}}, {{10, 1}, {20, 2}}},
      {{{"__name__", "m"}, {"job", "web"}}, {{30, 3}}},
      {{{"__name__", "n"}, {"job", "api"}}, {{10, 4}}},
  };
  auto pointers = [](const std::vector<storage::SeriesSamples>& v) {
    std::vector<const storage::SeriesSamples*> out;
    for (const auto& s : v) out.push_back(&s);
    return out;
  };
  MemoryQuerier q(pointers(series));
  auto count = [&](storage::MatcherSet m, int64_t mint, int64_t maxt) {
    auto set = q.Select(m, mint, maxt);
    EXPECT_TRUE(set.ok());
    int n = 0;
    while ((*set)->Next()) ++n;
    return n;
  };
  using Op = LabelMatcher::Op;
  EXPECT_EQ(count({{Op::kEqual, "__name__", "m"}}, 0, 100), 2);
  EXPECT_EQ(count({{Op::kNotEqual, "job", "api"}}, 0, 100), 1);
  EXPECT_EQ(count({{Op::kRegexMatch, "job", "a.*|w"}}, 0, 100), 2);  // anchored: "w" != "web"
  EXPECT_EQ(count({{Op::kRegexNoMatch, "__name__", "m"}}, 0, 100), 1);
  EXPECT_EQ(count({{Op::kRegexMatch, "job", "(?i)API"}}, 0, 100), 2);
  EXPECT_EQ(count({{Op::kEqual, "__name__", "m"}}, 21, 29), 0);
  EXPECT_EQ(count({{Op::kEqual, "__name__", "m"}}, 20, 30), 2);  // both ends inclusive

  // `.` is one character, as in Go, not one byte.
  const std::vector<storage::SeriesSamples> rooms = {
      {{{"__name__", "u"}, {"room", "K\u00fcche"}}, {{10, 1}}}};
  MemoryQuerier unicode(pointers(rooms));
  auto set = unicode.Select({{Op::kRegexMatch, "room", "K.che"}}, 0, 100);
  ASSERT_TRUE(set.ok());
  EXPECT_TRUE((*set)->Next());

  set = q.Select({{Op::kEqual, "job", "api"}}, 15, 100);
  ASSERT_TRUE(set.ok());
  ASSERT_TRUE((*set)->Next());
  EXPECT_EQ(storage::LabelValue((*set)->labels(), "__name__"), "m");
  std::vector<storage::Sample> samples;
  ASSERT_TRUE((*set)->ReadSamples(&samples).ok());
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(samples[0].t, 20);
  EXPECT_FALSE((*set)->Next());  // n{job="api"} has no sample in [15, 100]
}

TEST(DataSet, MeetsTheSuitesBar) {
  const DataSet data = GenerateDataSet(kDefaultSeed);
  EXPECT_GE(data.series.size(), 1000u);
  int64_t min_t = INT64_MAX, max_t = INT64_MIN, nan = 0, negative = 0, resets = 0, gaps = 0;
  std::set<storage::Labels> distinct;
  for (const auto& s : data.series) {
    EXPECT_TRUE(distinct.insert(s.labels).second) << storage::LabelsToString(s.labels);
    for (size_t i = 0; i < s.samples.size(); ++i) {
      const auto& p = s.samples[i];
      min_t = std::min(min_t, p.t);
      max_t = std::max(max_t, p.t);
      if (std::isnan(p.v)) {
        ++nan;
        EXPECT_FALSE(storage::IsStaleNaN(p.v));
      }
      if (p.v < 0) ++negative;
      if (i == 0) continue;
      ASSERT_GT(p.t, s.samples[i - 1].t) << storage::LabelsToString(s.labels);
      if (p.t - s.samples[i - 1].t > 5 * DataTimes::kMinute) ++gaps;
      if (storage::LabelValue(s.labels, "__name__") == "http_requests_total" &&
          p.v < s.samples[i - 1].v) {
        ++resets;
      }
    }
  }
  EXPECT_GE(max_t - min_t, 7 * DataTimes::kDay - 10 * DataTimes::kMinute);
  EXPECT_GE(min_t, DataTimes::kStart);
  EXPECT_LT(max_t, DataTimes::kEnd);
  EXPECT_GT(nan, 1000);
  EXPECT_GT(negative, 1000);
  EXPECT_GT(resets, 100);
  EXPECT_GT(gaps, 100);
  // Deterministic: the same seed gives the same data.
  const DataSet again = GenerateDataSet(kDefaultSeed);
  ASSERT_EQ(again.SampleCount(), data.SampleCount());
  EXPECT_EQ(again.series.back().samples.back().v, data.series.back().samples.back().v);
}

TEST(QueryTable, IsLargeEnoughAndCoversEveryDeclaredFunction) {
  EXPECT_GE(QueryTable().size(), 150u);
  // Every function engine.h lists appears in at least one query.
  for (const char* fn : {"rate(",
                         "irate(",
                         "increase(",
                         "delta(",
                         "idelta(",
                         "resets(",
                         "changes(",
                         "avg_over_time(",
                         "min_over_time(",
                         "max_over_time(",
                         "sum_over_time(",
                         "count_over_time(",
                         "last_over_time(",
                         "quantile_over_time(",
                         "stddev_over_time(",
                         "stdvar_over_time(",
                         "present_over_time(",
                         "histogram_quantile(",
                         "abs(",
                         "ceil(",
                         "floor(",
                         "round(",
                         "clamp(",
                         "clamp_min(",
                         "clamp_max(",
                         "absent(",
                         "absent_over_time(",
                         "time(",
                         "timestamp(",
                         "vector(",
                         "scalar(",
                         "label_replace(",
                         "label_join(",
                         "sort(",
                         "sort_desc(",
                         "exp(",
                         "ln(",
                         "log2(",
                         "log10(",
                         "sqrt(",
                         "sgn(",
                         "sum ",
                         "avg ",
                         "min ",
                         "max ",
                         "count ",
                         "group ",
                         "stddev ",
                         "stdvar(",
                         "quantile ",
                         "topk",
                         "bottomk",
                         "count_values",
                         "group_left",
                         "group_right",
                         " on (",
                         " ignoring (",
                         " bool ",
                         " and ",
                         " or ",
                         " unless ",
                         "offset",
                         "=~",
                         "!~",
                         "!=",
                         ":]",
                         ":5m]"}) {
    bool found = false;
    for (const auto& q : QueryTable()) found = found || q.expr.find(fn) != std::string_view::npos;
    EXPECT_TRUE(found) << fn;
  }
}

}  // namespace
}  // namespace pa::differential
