#include "synth/result_query.h"

#include <charconv>
#include <cmath>

#include "base/digest.h"
#include "base/time_format.h"

namespace pa::synth {
namespace {

std::optional<int64_t> ParseInt(std::string_view text) {
  int64_t v = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size() || text.empty()) return std::nullopt;
  return v;
}

// One of `from`/`to`: absent → nullopt without error; malformed → error.
std::optional<int64_t> ReadTime(const gateway::Request& req, const char* name, bool* bad,
                                gateway::ValidationErrors& errors) {
  const std::optional<std::string> text = req.Query(name);
  if (!text || text->empty()) return std::nullopt;  // `from=`: an empty form field
  if (auto ms = ParseInt(*text)) return ms;
  auto parsed = ParseRfc3339Ms(*text);
  if (parsed.ok()) return *parsed;
  *bad = true;
  errors.Add(name, "must be an RFC 3339 timestamp (2026-11-28T10:00:00Z) or Unix milliseconds");
  return std::nullopt;
}

}  // namespace

std::optional<TimeRange> ReadTimeRange(const gateway::Request& req, int64_t now_ms,
                                       gateway::ValidationErrors& errors) {
  bool bad = false;
  const std::optional<int64_t> from = ReadTime(req, "from", &bad, errors);
  const std::optional<int64_t> to = ReadTime(req, "to", &bad, errors);
  if (bad) return std::nullopt;
  TimeRange range;
  range.to = to.value_or(now_ms);
  range.from = from.value_or(range.to - kDayMs);
  if (range.from > range.to) {
    errors.Add("from", "must not be after 'to'");
    return std::nullopt;
  }
  return range;
}

std::string EncodeCursor(const ResultCursor& cursor) {
  return Base64UrlEncode(std::to_string(cursor.started_at) + ":" + cursor.run_id);
}

std::optional<ResultCursor> DecodeCursor(std::string_view text) {
  const std::optional<std::string> raw = Base64UrlDecode(text);
  if (!raw) return std::nullopt;
  const size_t colon = raw->find(':');
  if (colon == std::string::npos || colon + 1 == raw->size()) return std::nullopt;
  const std::optional<int64_t> started_at = ParseInt(std::string_view(*raw).substr(0, colon));
  if (!started_at) return std::nullopt;
  return ResultCursor{*started_at, raw->substr(colon + 1)};
}

std::optional<double> Percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return std::nullopt;
  const double h = q * static_cast<double>(sorted.size() - 1);
  const double k = std::floor(h);
  const size_t lo = static_cast<size_t>(k);
  if (lo + 1 >= sorted.size()) return sorted.back();
  return sorted[lo] + (h - k) * (sorted[lo + 1] - sorted[lo]);
}

Json PercentilesJson(const std::vector<double>& sorted) {
  Json out = Json::object();
  const std::pair<const char*, double> kQuantiles[] = {{"p50", 0.5}, {"p90", 0.9}, {"p99", 0.99}};
  for (const auto& [name, q] : kQuantiles) {
    const std::optional<double> v = Percentile(sorted, q);
    out[name] = v ? Json(*v) : Json(nullptr);
  }
  return out;
}

Json AvailabilityJson(int64_t successes, int64_t runs) {
  if (runs == 0) return nullptr;
  return 100.0 * static_cast<double>(successes) / static_cast<double>(runs);
}

Json TimeJson(std::optional<int64_t> unix_ms) {
  return unix_ms ? Json(FormatRfc3339Ms(*unix_ms)) : Json(nullptr);
}

}  // namespace pa::synth
