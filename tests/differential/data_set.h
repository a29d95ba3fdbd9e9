// The differential suite's data set: 1 063 series, 8.2 M samples over 7 days, generated
// deterministically from a seed, and loaded unchanged into both the real Prometheus (as
// OpenMetrics text for `promtool tsdb create-blocks-from openmetrics`, plus a remote write for
// the staleness series) and our embedded store (as SeriesSamples).
//
//   DataSet data = GenerateDataSet(kDefaultSeed);
//   PA_RETURN_IF_ERROR(WriteOpenMetrics(data, dir + "/data.om"));  // data.series only
//   store->Append(data.series);
//   store->Append(data.live);
//
// What it holds, chosen to exercise PromQL's corner cases (the times are members of `DataTimes`
// so the test can evaluate right at them):
// - counters with resets (http_requests_total, cpu_seconds_total), scrape jitter, missed scrapes;
// - classic histograms (request_duration_seconds_bucket/_sum/_count) sharing their counters'
//   restarts;
// - gauges with negative values, explicit NaN samples, and one site whose values are all NaN;
// - gaps longer than the 5 m lookback (a target down for 2 h, a sensor outage for everyone,
//   per-series outages, hourly series), series that start or stop mid-range;
// - series at 15 s, 60 s, 120 s, 300 s (exactly the lookback) and 1 h intervals;
// - label values with non-ASCII characters, quotes, backslashes and a newline;
// - staleness markers, in `live`: OpenMetrics text cannot carry them (a NaN there is an ordinary
//   NaN), so these series follow the week, in Prometheus's head, sent by remote write.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "storage/metric_store.h"

namespace pa::differential {

inline constexpr uint64_t kDefaultSeed = 20240101;

// Instants the generator builds features around (Unix ms).
struct DataTimes {
  static constexpr int64_t kMinute = 60 * 1000;
  static constexpr int64_t kHour = 60 * kMinute;
  static constexpr int64_t kDay = 24 * kHour;
  // 2024-01-01T00:00:00Z: samples lie in [kStart, kEnd).
  static constexpr int64_t kStart = 1704067200000;
  static constexpr int64_t kEnd = kStart + 7 * kDay;
  // Target api/host-07 is down (no samples; its counters restart from 0 afterwards).
  static constexpr int64_t kApiDownStart = kStart + 5 * kDay;
  static constexpr int64_t kApiDownEnd = kApiDownStart + 2 * kHour;
  // Target web/host-09 appears, target api/host-08 disappears for good.
  static constexpr int64_t kWebNewStart = kStart + 1 * kDay + 7 * kHour + 13 * kMinute;
  static constexpr int64_t kApiGoneAt = kStart + 6 * kDay + 3 * kHour;
  // No sensor_reading sample from any site.
  static constexpr int64_t kSensorGapStart = kStart + 2 * kDay + 10 * kHour;
  static constexpr int64_t kSensorGapEnd = kSensorGapStart + 20 * kMinute;
  // host-03 reboots: cpu_seconds_total restarts.
  static constexpr int64_t kRebootAt = kStart + 2 * kDay + 5 * kHour;
  // shard_load: shards 40-44 stop here, shards 50-59 start at kShardsNewStart.
  static constexpr int64_t kShardsGoneAt = kStart + 2 * kDay;
  static constexpr int64_t kShardsNewStart = kStart + 3 * kDay + 12 * kHour;
  // The `live` series (staleness markers) lie in [kEnd, kLiveEnd).
  static constexpr int64_t kLiveEnd = kEnd + 50 * kMinute;
};

// One metric family as OpenMetrics groups it: series[first, first + count).
struct Family {
  std::string name;  // e.g. "http_requests" for http_requests_total
  std::string type;  // counter | gauge | histogram
  size_t first = 0;
  size_t count = 0;
};

struct DataSet {
  std::vector<storage::SeriesSamples> series;  // grouped by family, samples in time order
  std::vector<Family> families;
  // Series with staleness markers, after `series` in time: remote-written into Prometheus.
  std::vector<storage::SeriesSamples> live;
  // Every sample of `series` and `live`, staleness markers included.
  int64_t SampleCount() const;
};

DataSet GenerateDataSet(uint64_t seed);

// Writes `data` as one OpenMetrics document (TYPE lines, `<value> <seconds.millis>`, `# EOF`),
// each series' samples in time order, as promtool's backfill wants them.
Status WriteOpenMetrics(const DataSet& data, const std::string& path);

}  // namespace pa::differential
