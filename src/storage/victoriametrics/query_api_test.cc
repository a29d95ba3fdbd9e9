// The pure pieces of QueryApi; the requests themselves are tested against VictoriaMetrics in
// vm_store_test.cc.
#include "storage/victoriametrics/query_api.h"

#include <gtest/gtest.h>

#include <cmath>

namespace pa::storage::victoriametrics {
namespace {

TEST(ClassifyExprTest, ScalarExpressions) {
  for (const char* q : {"1", "-1.5e3", "+Inf", "NaN", "0x1F", "1 + 2 * 3", "(1 + 2) / 4",
                        "scalar(up)", "time()", "pi()", "time() - scalar(sum(x))", "2 > bool 1",
                        "-(3)", "1 # comment\n + 1", ".5", "1e-3 - 2"}) {
    EXPECT_EQ(ClassifyExpr(q), ValueType::kScalar) << q;
  }
}

TEST(ClassifyExprTest, VectorExpressions) {
  for (const char* q :
       {"up", "up + 1", "1 + up", "vector(1)", "sum(x)", "sum by (a) (x)",
        "scalar(x) * on() group_left y", "rate(x[5m])", "x offset 5m", "time() + up{job=\"a\"}",
        "(1) and x", "count_values(\"v\", x)", "1 atan2 x", "max_over_time(vector(1)[5m:1m])", "(",
        "x[5m]", "\"a\" + 1"}) {
    EXPECT_EQ(ClassifyExpr(q), ValueType::kVector) << q;
  }
}

TEST(ClassifyExprTest, StringLiteralsAreUnquoted) {
  std::string v;
  EXPECT_EQ(ClassifyExpr("\"hello\"", &v), ValueType::kString);
  EXPECT_EQ(v, "hello");
  EXPECT_EQ(ClassifyExpr(R"( ("a\"b\n\x41\u00e9") )", &v), ValueType::kString);
  EXPECT_EQ(v, "a\"b\nA\xc3\xa9");
  EXPECT_EQ(ClassifyExpr("'single'", &v), ValueType::kString);
  EXPECT_EQ(v, "single");
  EXPECT_EQ(ClassifyExpr(R"(`raw\n`)", &v), ValueType::kString);
  EXPECT_EQ(v, "raw\\n");
}

TEST(ErrorFromResponseTest, MapsVictoriaMetricsErrors) {
  struct Case {
    int status;
    const char* body;
    StatusCode code;
  } cases[] = {
      {422,
       R"({"status":"error","errorType":"422","error":"error when executing query=\"sum(\" for (time=1, step=300000): unexpected token"})",
       StatusCode::kInvalidArgument},
      {400, R"({"status":"error","errorType":"400","error":"missing `query` arg"})",
       StatusCode::kInvalidArgument},
      {422,
       R"({"status":"error","errorType":"422","error":"cannot execute query: timeout exceeded during query execution: 0.001 seconds"})",
       StatusCode::kDeadlineExceeded},
      {422,
       R"({"status":"error","errorType":"422","error":"too many points: 100000001; cannot exceed -search.maxPointsPerTimeseries=30000"})",
       StatusCode::kResourceExhausted},
      {503,
       R"({"status":"error","errorType":"503","error":"cannot select more than -search.maxUniqueTimeseries=300000 time series"})",
       StatusCode::kResourceExhausted},
      {400, "unsupported path requested: /foo\n", StatusCode::kUnavailable},
      {401, "Unauthorized", StatusCode::kPermissionDenied},
      {503, "service unavailable", StatusCode::kUnavailable},
      {500, "<html>proxy error</html>", StatusCode::kUnavailable},
      {429, "too many requests", StatusCode::kUnavailable},
  };
  for (const auto& c : cases) {
    const Status st = ErrorFromResponse(c.status, c.body);
    EXPECT_EQ(st.code(), c.code) << c.status << " " << c.body << " → " << st.ToString();
  }
  // VictoriaMetrics' own text is what the user sees.
  EXPECT_NE(ErrorFromResponse(422, R"({"error":"unknown func \"foo\""})")
                .message()
                .find("unknown func \"foo\""),
            std::string::npos);
}

TEST(ParseQueryDataTest, VectorMatrixScalarString) {
  auto vec = ParseQueryData(Json::parse(R"({"resultType":"vector","result":[
      {"metric":{"__name__":"b","x":""},"value":[1795833392.123,"+Inf"]},
      {"metric":{"__name__":"a","z":"1"},"value":[1795833392.123,"NaN"]}]})"));
  ASSERT_TRUE(vec.ok()) << vec.status().ToString();
  EXPECT_EQ(vec->type, ValueType::kVector);
  ASSERT_EQ(vec->series.size(), 2u);
  EXPECT_EQ(vec->series[0].labels, (Labels{{"__name__", "a"}, {"z", "1"}}));  // sorted
  EXPECT_EQ(vec->series[1].labels, (Labels{{"__name__", "b"}}));              // empty value dropped
  EXPECT_EQ(vec->series[1].points[0].t, 1795833392123);
  EXPECT_TRUE(std::isinf(vec->series[1].points[0].v));
  EXPECT_TRUE(std::isnan(vec->series[0].points[0].v));

  auto mat = ParseQueryData(Json::parse(R"({"resultType":"matrix","result":[
      {"metric":{},"values":[[1,"-Inf"],[2.5,"0.25"],[3,"-1e-300"]]}]})"));
  ASSERT_TRUE(mat.ok());
  EXPECT_EQ(mat->type, ValueType::kMatrix);
  ASSERT_EQ(mat->series[0].points.size(), 3u);
  EXPECT_EQ(mat->series[0].points[1].t, 2500);
  EXPECT_EQ(mat->series[0].points[1].v, 0.25);
  EXPECT_EQ(mat->series[0].points[2].v, -1e-300);

  auto sc = ParseQueryData(Json::parse(R"({"resultType":"scalar","result":[10,"7"]})"));
  ASSERT_TRUE(sc.ok());
  EXPECT_EQ(sc->type, ValueType::kScalar);
  EXPECT_EQ(sc->scalar.t, 10000);
  EXPECT_EQ(sc->scalar.v, 7);

  auto str = ParseQueryData(Json::parse(R"({"resultType":"string","result":[10,"hi"]})"));
  ASSERT_TRUE(str.ok());
  EXPECT_EQ(str->string_value, "hi");
}

TEST(ParseQueryDataTest, MalformedAnswersAreInternalErrors) {
  for (const char* j : {R"({})", R"({"resultType":"vector","result":{}})",
                        R"({"resultType":"vector","result":[{"metric":{}}]})",
                        R"({"resultType":"matrix","result":[{"metric":{},"values":[[1,2]]}]})",
                        R"({"resultType":"vector","result":[{"metric":{},"value":[1,"x"]}]})",
                        R"({"resultType":"weird","result":[]})"}) {
    auto v = ParseQueryData(Json::parse(j));
    ASSERT_FALSE(v.ok()) << j;
    EXPECT_EQ(v.status().code(), StatusCode::kInternal) << j;
  }
}

TEST(SelectorTest, EscapesValues) {
  MatcherSet m = {{LabelMatcher::Op::kEqual, "__name__", "up"},
                  {LabelMatcher::Op::kNotEqual, "a", "q\"uo\\te\n"},
                  {LabelMatcher::Op::kRegexMatch, "b", "x.*"},
                  {LabelMatcher::Op::kRegexNoMatch, "c", ""}};
  EXPECT_EQ(MatchersToSelector(m), R"({__name__="up",a!="q\"uo\\te\n",b=~"x.*",c!~""})");
}

TEST(FormatSecondsTest, Milliseconds) {
  EXPECT_EQ(FormatSeconds(1795833392123), "1795833392.123");
  EXPECT_EQ(FormatSeconds(5), "0.005");
  EXPECT_EQ(FormatSeconds(0), "0.000");
  EXPECT_EQ(FormatSeconds(-1500), "-1.500");
}

}  // namespace
}  // namespace pa::storage::victoriametrics
