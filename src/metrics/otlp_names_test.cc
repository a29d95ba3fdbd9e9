#include "metrics/otlp_names.h"

#include <gtest/gtest.h>

namespace pa::metrics {
namespace {

TEST(OtlpNamesTest, MetricNamesFollowTheCompatibilitySpec) {
  EXPECT_EQ(OtlpMetricName("http.server.request.duration", "s", OtlpKind::kHistogram),
            "http_server_request_duration_seconds");
  EXPECT_EQ(OtlpMetricName("system.network.io", "By", OtlpKind::kMonotonicSum),
            "system_network_io_bytes_total");
  EXPECT_EQ(OtlpMetricName("system.memory.utilization", "1", OtlpKind::kGauge),
            "system_memory_utilization_ratio");
  EXPECT_EQ(OtlpMetricName("queue.size", "{items}", OtlpKind::kGauge), "queue_size");
  EXPECT_EQ(OtlpMetricName("transfer.rate", "By/s", OtlpKind::kGauge),
            "transfer_rate_bytes_per_second");
  EXPECT_EQ(OtlpMetricName("packets", "{packets}/s", OtlpKind::kGauge), "packets_per_second");
  EXPECT_EQ(OtlpMetricName("system.network.dropped", "packets", OtlpKind::kMonotonicSum),
            "system_network_dropped_packets_total");
  // Already suffixed names are not doubled; _total always ends a counter's name.
  EXPECT_EQ(OtlpMetricName("request_duration_seconds", "s", OtlpKind::kHistogram),
            "request_duration_seconds");
  EXPECT_EQ(OtlpMetricName("requests_total", "", OtlpKind::kMonotonicSum), "requests_total");
  EXPECT_EQ(OtlpMetricName("io.total", "By", OtlpKind::kMonotonicSum), "io_bytes_total");
  // Illegal characters and redundant underscores disappear; a leading digit is escaped.
  EXPECT_EQ(OtlpMetricName("(lambda).function.executions(#)", "", OtlpKind::kGauge),
            "lambda_function_executions");
  EXPECT_EQ(OtlpMetricName("2xx.responses", "", OtlpKind::kMonotonicSum), "_2xx_responses_total");
  EXPECT_EQ(OtlpMetricName("cpu.time", "ms", OtlpKind::kMonotonicSum),
            "cpu_time_milliseconds_total");
  // "1" is a ratio only for gauges.
  EXPECT_EQ(OtlpMetricName("hits", "1", OtlpKind::kMonotonicSum), "hits_total");
}

TEST(OtlpNamesTest, LabelNames) {
  EXPECT_EQ(OtlpLabelName("http.route"), "http_route");
  EXPECT_EQ(OtlpLabelName("service.name"), "service_name");
  EXPECT_EQ(OtlpLabelName("0day"), "key_0day");
  EXPECT_EQ(OtlpLabelName("_private"), "key_private");
  EXPECT_EQ(OtlpLabelName("__reserved"), "__reserved");
  EXPECT_EQ(OtlpLabelName("ключ"), "________");
}

}  // namespace
}  // namespace pa::metrics
