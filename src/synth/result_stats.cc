// ResultsApi's aggregates: /api/v1/transactions/{id}/stats and /api/v1/overview. SQL only selects
// the rows; counting and percentiles happen here, the same on SQLite and PostgreSQL.
#include <algorithm>
#include <map>
#include <numeric>
#include <string>
#include <vector>

#include "base/json.h"
#include "base/time_format.h"
#include "gateway/api.h"
#include "synth/result_query.h"
#include "synth/results_api.h"

namespace pa::synth {
namespace {

using gateway::Request;
using gateway::Response;
using gateway::ValidationErrors;
using storage::Rows;

// Runs of one group (a transaction, a location): counts and durations.
struct RunGroup {
  int64_t runs = 0;
  int64_t successes = 0;
  std::vector<double> durations;  // sorted by Finish()

  void Add(bool success, double duration_ms) {
    ++runs;
    if (success) ++successes;
    durations.push_back(duration_ms);
  }
  void Finish() { std::sort(durations.begin(), durations.end()); }
};

struct StepGroup {
  std::string name;
  int64_t name_at = INT64_MIN;  // started_at of the run the name comes from
  int64_t runs = 0;
  int64_t failures = 0;
  int64_t skipped = 0;
  std::vector<double> durations;  // of the runs that were not skipped
};

Json DurationSummary(const std::vector<double>& sorted) {
  Json out = PercentilesJson(sorted);
  if (sorted.empty()) {
    out["avg"] = out["min"] = out["max"] = nullptr;
    return out;
  }
  out["avg"] =
      std::accumulate(sorted.begin(), sorted.end(), 0.0) / static_cast<double>(sorted.size());
  out["min"] = sorted.front();
  out["max"] = sorted.back();
  return out;
}

Json StepsJson(std::map<int64_t, StepGroup>& steps) {
  Json out = Json::array();
  for (auto& [index, s] : steps) {
    std::sort(s.durations.begin(), s.durations.end());
    Json step = Json::object();
    step["index"] = index;
    step["name"] = s.name;
    step["runs"] = s.runs;
    step["failures"] = s.failures;
    step["skipped"] = s.skipped;
    step["duration_ms"] = PercentilesJson(s.durations);
    out.push_back(std::move(step));
  }
  return out;
}

Json LocationsJson(std::map<std::string, RunGroup>& locations) {
  Json out = Json::array();
  for (auto& [name, g] : locations) {
    g.Finish();
    Json loc = Json::object();
    loc["location"] = name;
    loc["runs"] = g.runs;
    loc["availability_pct"] = AvailabilityJson(g.successes, g.runs);
    loc["duration_ms"] = PercentilesJson(g.durations);
    out.push_back(std::move(loc));
  }
  return out;
}

std::string_view StateOf(bool enabled, bool missed, const std::optional<std::string>& last_status) {
  if (!enabled) return "disabled";
  if (missed) return "missed";
  if (!last_status) return "no_data";
  if (*last_status == "error") return "failing";
  return "ok";
}

}  // namespace

Response ResultsApi::Stats(Request& req) {
  const std::string id(req.Param("id"));
  ValidationErrors errors;
  const std::optional<TimeRange> range = ReadTimeRange(req, clock_.NowMs(), errors);
  if (!errors.empty()) return errors.ToResponse();
  if (auto missing = RequireTransaction(id)) return *missing;

  auto runs = db_.Query(
      "SELECT location, status, duration_ms FROM synth_results "
      "WHERE transaction_id = $1 AND started_at >= $2 AND started_at <= $3",
      {id, range->from, range->to});
  if (!runs.ok()) return Response::FromStatus(runs.status());
  // By the run's started_at (not the step's), so that steps and runs cover the same results.
  auto step_rows = db_.Query(
      "SELECT s.idx, s.name, s.status, s.duration_ms, r.started_at FROM synth_steps s "
      "JOIN synth_results r ON r.seq = s.seq "
      "WHERE r.transaction_id = $1 AND r.started_at >= $2 AND r.started_at <= $3",
      {id, range->from, range->to});
  if (!step_rows.ok()) return Response::FromStatus(step_rows.status());

  RunGroup all;
  std::map<std::string, RunGroup> locations;
  for (size_t r = 0; r < runs->size(); ++r) {
    const bool success = runs->Text(r, 1) == "success";
    const double duration = runs->Double(r, 2);
    all.Add(success, duration);
    locations[runs->Text(r, 0)].Add(success, duration);
  }
  all.Finish();

  std::map<int64_t, StepGroup> steps;
  for (size_t r = 0; r < step_rows->size(); ++r) {
    StepGroup& s = steps[step_rows->Int(r, 0)];
    const std::string& name = step_rows->Text(r, 1);
    const std::string& status = step_rows->Text(r, 2);
    const int64_t run_started = step_rows->Int(r, 4);
    // The newest run's name; equal times decided by the name, so the answer is deterministic.
    if (run_started > s.name_at || (run_started == s.name_at && name > s.name)) {
      s.name = name;
      s.name_at = run_started;
    }
    ++s.runs;
    if (status == "error") ++s.failures;
    if (status == "skipped") {
      ++s.skipped;
    } else {
      s.durations.push_back(step_rows->Double(r, 3));
    }
  }

  Json out = Json::object();
  out["transaction_id"] = id;
  out["from"] = FormatRfc3339Ms(range->from);
  out["to"] = FormatRfc3339Ms(range->to);
  out["runs"] = all.runs;
  out["successes"] = all.successes;
  out["failures"] = all.runs - all.successes;
  out["availability_pct"] = AvailabilityJson(all.successes, all.runs);
  out["duration_ms"] = DurationSummary(all.durations);
  out["steps"] = StepsJson(steps);
  out["locations"] = LocationsJson(locations);
  return Response::Json(200, out);
}

Response ResultsApi::Overview(Request&) {
  const int64_t now = clock_.NowMs();
  // The newest result of each transaction through a correlated subquery: one index probe per
  // transaction on (transaction_id, started_at), not a scan of all results.
  auto transactions = db_.Query(
      "SELECT t.id, t.name, t.application, t.enabled, t.external, t.interval_s, t.version, "
      "t.missed_since, lr.status, lr.started_at FROM synth_transactions t "
      "LEFT JOIN synth_results lr ON lr.run_id = (SELECT r.run_id FROM synth_results r "
      "WHERE r.transaction_id = t.id ORDER BY r.started_at DESC, r.run_id DESC LIMIT 1) "
      "ORDER BY t.id");
  if (!transactions.ok()) return Response::FromStatus(transactions.status());
  auto window = db_.Query(
      "SELECT transaction_id, status, duration_ms FROM synth_results "
      "WHERE started_at >= $1 AND started_at <= $2",
      {now - kDayMs, now});
  if (!window.ok()) return Response::FromStatus(window.status());

  std::map<std::string, RunGroup> day;
  for (size_t r = 0; r < window->size(); ++r) {
    day[window->Text(r, 0)].Add(window->Text(r, 1) == "success", window->Double(r, 2));
  }

  const Rows& t = *transactions;
  Json list = Json::array();
  for (size_t r = 0; r < t.size(); ++r) {
    const std::string& id = t.Text(r, 0);
    const std::optional<int64_t> missed_since = t.OptInt(r, 7);
    const std::optional<std::string> last_status = t.OptText(r, 8);
    const bool enabled = t.Int(r, 3) != 0;
    RunGroup g;
    if (auto it = day.find(id); it != day.end()) g = std::move(it->second);
    g.Finish();
    const std::optional<double> p90 = Percentile(g.durations, 0.9);

    Json tx = Json::object();
    tx["id"] = id;
    tx["name"] = t.Text(r, 1);
    tx["application"] = t.IsNull(r, 2) ? Json(nullptr) : Json(t.Text(r, 2));
    tx["enabled"] = enabled;
    tx["external"] = t.Int(r, 4) != 0;
    tx["interval_s"] = t.Int(r, 5);
    tx["version"] = t.Int(r, 6);
    tx["last_status"] = last_status ? Json(*last_status) : Json(nullptr);
    tx["last_run_at"] = TimeJson(t.OptInt(r, 9));
    tx["runs_24h"] = g.runs;
    tx["availability_24h_pct"] = AvailabilityJson(g.successes, g.runs);
    tx["p90_ms_24h"] = p90 ? Json(*p90) : Json(nullptr);
    tx["state"] = std::string(StateOf(enabled, missed_since.has_value(), last_status));
    tx["missed_since"] = TimeJson(missed_since);
    list.push_back(std::move(tx));
  }
  Json out = Json::object();
  out["transactions"] = std::move(list);
  return Response::Json(200, out);
}

}  // namespace pa::synth
