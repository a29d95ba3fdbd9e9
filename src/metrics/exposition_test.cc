#include "metrics/exposition.h"

#include <gtest/gtest.h>

#include <cmath>

namespace pa::metrics {
namespace {

TEST(ExpositionTest, ParsesFamiliesLabelsValuesAndTimestamps) {
  const char* text =
      "# HELP http_requests_total Requests served.\n"
      "# TYPE http_requests_total counter\n"
      "http_requests_total{method=\"GET\",code=\"200\"} 1027 1795860000000\n"
      "http_requests_total{code=\"200\", method=\"GET\"} 1030 1795860015000\n"
      "\n"
      "temperature_celsius 21.5\n"
      "weird{path=\"C:\\\\dir\",quote=\"say \\\"hi\\\"\",nl=\"a\\nb\"} -Inf\n"
      "nan_metric NaN 5\r\n";
  auto parsed = ParseExposition(text, /*default_time=*/42);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->series.size(), 4u);
  EXPECT_EQ(parsed->samples, 5);
  const auto& first = parsed->series[0];
  EXPECT_EQ(storage::LabelsToString(first.labels),
            "http_requests_total{code=\"200\",method=\"GET\"}");
  ASSERT_EQ(first.samples.size(), 2u);  // label order does not make another series
  EXPECT_EQ(first.samples[1].t, 1795860015000);
  EXPECT_EQ(first.samples[1].v, 1030);
  EXPECT_EQ(parsed->series[1].samples[0].t, 42);  // no timestamp: the default
  const auto& weird = parsed->series[2];
  EXPECT_EQ(storage::LabelValue(weird.labels, "path"), "C:\\dir");
  EXPECT_EQ(storage::LabelValue(weird.labels, "quote"), "say \"hi\"");
  EXPECT_EQ(storage::LabelValue(weird.labels, "nl"), "a\nb");
  EXPECT_TRUE(std::isinf(weird.samples[0].v) && weird.samples[0].v < 0);
  EXPECT_TRUE(std::isnan(parsed->series[3].samples[0].v));
}

TEST(ExpositionTest, ErrorsNameTheLine) {
  struct Case {
    const char* text;
    const char* expected;
  } cases[] = {
      {"ok 1\nbad{a=\"1\" 2\n", "line 2: expected ',' or '}'"},
      {"x 1\n\ny notanumber\n", "line 3: 'notanumber' is not a number"},
      {"x{a=\"unterminated} 1\n", "line 1: unterminated value"},
      {"x 1 12.5\n", "line 1: '12.5' is not a timestamp"},
      {"x{a=\"1\",a=\"2\"} 1\n", "line 1: label 'a' appears twice"},
      {"x{__reserved=\"1\"} 1\n", "line 1: label name '__reserved' is reserved"},
      {"{a=\"1\"} 1\n", "line 1: expected a metric name"},
      {"x 1 2 3\n", "line 1: unexpected text"},
      {"x{a=\"\\q\"} 1\n", "line 1: invalid escape"},
      {"x\n", "line 1: metric 'x' has no value"},
  };
  for (const auto& c : cases) {
    auto r = ParseExposition(c.text, 0);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(c.expected), std::string::npos)
        << c.text << " → " << r.status().message();
  }
}

}  // namespace
}  // namespace pa::metrics
