// Metric and label names from OpenTelemetry, translated the way the OpenTelemetry
// "Prometheus and OpenMetrics compatibility" specification describes (and the collector's
// prometheus translator implements), so OTLP metrics land under the names Prometheus users
// expect:
//
//   http.server.request.duration, unit "s", histogram   → http_server_request_duration_seconds
//   system.network.io, unit "By", monotonic sum          → system_network_io_bytes_total
//   system.memory.utilization, unit "1", gauge           → system_memory_utilization_ratio
//   queue.size, unit "{items}", gauge                    → queue_size
//   transfer.rate, unit "By/s", gauge                    → transfer_rate_bytes_per_second
//
// Names are split into words on every character outside [a-zA-Z0-9], joined with '_'; the unit
// word(s) and `_total` are appended unless the name already ends with them.
#pragma once

#include <string>
#include <string_view>

namespace pa::metrics {

enum class OtlpKind {
  kGauge,
  kMonotonicSum,     // a counter: gets `_total`
  kNonMonotonicSum,  // an up-down counter: a gauge in Prometheus
  kHistogram,
  kSummary,
};

std::string OtlpMetricName(std::string_view name, std::string_view unit, OtlpKind kind);

// An attribute key as a label name: invalid characters become '_', a leading digit gets "key_",
// a leading single '_' gets "key" ("_foo" → "key_foo"); "__" prefixes are kept as Prometheus
// reserves them.
std::string OtlpLabelName(std::string_view key);

// The Prometheus words for a UCUM unit ("ms" → "milliseconds", "By/s" → "bytes_per_second",
// "{packets}" → ""), as used above.
std::string OtlpUnitSuffix(std::string_view unit, OtlpKind kind);

}  // namespace pa::metrics
