// The pieces of the results API that are plain computation, kept apart from the handlers so that
// they read (and are tested) on their own: the query's time range, the page cursor, and the
// percentile every statistic of the API uses.
//
// Internal to src/synth (results_api.cc, result_stats.cc). Pure functions; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/json.h"
#include "gateway/api.h"
#include "gateway/http.h"

namespace pa::synth {

inline constexpr int64_t kDayMs = 24 * 3600 * 1000;

// [from, to] in Unix ms, both ends included.
struct TimeRange {
  int64_t from = 0;
  int64_t to = 0;
};

// Reads `from` and `to` from the query string: each RFC 3339 (any offset) or an integer of Unix
// milliseconds. Defaults (also for an empty value): to = now, from = to - 24 h. A malformed
// value, or from > to, is added to `errors` with the parameter's name as its path; nullopt then.
std::optional<TimeRange> ReadTimeRange(const gateway::Request& req, int64_t now_ms,
                                       gateway::ValidationErrors& errors);

// A position in the newest-first order (started_at DESC, run_id DESC): the last result of a page.
struct ResultCursor {
  int64_t started_at = 0;
  std::string run_id;
};

// Opaque to clients: base64url (no padding) of "<started_at>:<run_id>".
std::string EncodeCursor(const ResultCursor& cursor);
// nullopt for anything EncodeCursor cannot have produced.
std::optional<ResultCursor> DecodeCursor(std::string_view text);

// The q-quantile (0 <= q <= 1) of `sorted` (ascending), by linear interpolation between the
// closest ranks — numpy.percentile's default ("linear", Hyndman & Fan type 7), as Prometheus'
// quantile_over_time: with n values x[0] <= ... <= x[n-1], h = q * (n - 1), k = floor(h),
//   Q(q) = x[k] + (h - k) * (x[k+1] - x[k])      (= x[n-1] when k = n - 1).
// So Q(0) is the minimum, Q(1) the maximum, Q(0.5) the usual median. nullopt when n = 0.
std::optional<double> Percentile(const std::vector<double>& sorted, double q);

// {"p50": .., "p90": .., "p99": ..} of `sorted` (ascending); each null when it is empty.
Json PercentilesJson(const std::vector<double>& sorted);

// 100 * successes / runs, or null without runs.
Json AvailabilityJson(int64_t successes, int64_t runs);

// A timestamp (Unix ms) as RFC 3339 with milliseconds, or null.
Json TimeJson(std::optional<int64_t> unix_ms);

}  // namespace pa::synth
