// The Prometheus text exposition format (version 0.0.4), as users push it to
// POST /api/v1/import/prometheus:
//
//   # HELP http_requests_total Requests served.
//   # TYPE http_requests_total counter
//   http_requests_total{method="GET",code="200"} 1027 1795860000000
//   temperature_celsius 21.5
//
// Values are floats (NaN, +Inf, -Inf allowed); the optional timestamp is Unix milliseconds —
// samples without one take `default_time`. Label values may escape \\, \" and \n. Comments and
// blank lines are skipped. The parser is strict: the first malformed line ends parsing with
// kInvalidArgument "line N: <what is wrong>", so a request is stored whole or not at all.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "storage/metric_store.h"

namespace pa::metrics {

struct ParsedExposition {
  std::vector<storage::SeriesSamples> series;  // one entry per distinct label set, in input order
  int64_t samples = 0;
};

// Parses `text`; labels are normalised (storage::NormalizeLabels) and every problem names its line.
Result<ParsedExposition> ParseExposition(std::string_view text, int64_t default_time);

}  // namespace pa::metrics
