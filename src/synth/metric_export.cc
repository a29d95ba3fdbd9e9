#include "synth/metric_export.h"

#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <unordered_map>

#include "base/logging.h"

namespace pa::synth {
namespace {

using storage::Label;
using storage::Labels;
using storage::Sample;
using storage::SeriesSamples;
using storage::SqlValue;

constexpr int64_t kRoundLimit = 5000;  // results per round at most (read back from the database)
constexpr auto kRoundGather = std::chrono::milliseconds(2000);
constexpr size_t kRoundMaxQueued = 20000;

// The common labels, in name order (location < robot < transaction); empty values are absent.
struct Common {
  const RunRecord& r;
  void AddTo(Labels& l, std::string_view name) const {
    const std::string* v = name == "location"      ? &r.location
                           : name == "robot"       ? &r.robot_id
                           : name == "transaction" ? &r.transaction_id
                                                   : nullptr;
    if (v && !v->empty()) l.push_back({std::string(name), *v});
  }
};

// Builds a label set from (name, value) pairs given in name order, plus the common labels
// merged in their places.
Labels MakeLabels(std::string_view metric, const RunRecord& r,
                  std::initializer_list<std::pair<std::string_view, std::string_view>> extra) {
  Labels l;
  l.reserve(4 + extra.size());
  l.push_back({"__name__", std::string(metric)});
  static constexpr std::string_view kCommon[] = {"location", "robot", "transaction"};
  auto e = extra.begin();
  const Common common{r};
  for (std::string_view c : kCommon) {
    while (e != extra.end() && e->first < c) {
      if (!e->second.empty()) l.push_back({std::string(e->first), std::string(e->second)});
      ++e;
    }
    common.AddTo(l, c);
  }
  for (; e != extra.end(); ++e) {
    if (!e->second.empty()) l.push_back({std::string(e->first), std::string(e->second)});
  }
  return l;
}

std::string CounterKey(const RunRecord& r) {
  std::string key = r.transaction_id;
  for (const std::string* part : {&r.robot_id, &r.location}) {
    key += '\x1f';
    key += *part;
  }
  key += r.success ? "\x1fsuccess"
                   : "\x1f"
                     "error";
  return key;
}

}  // namespace

size_t MetricExporter::Slot(Labels labels) {
  series_.push_back({std::move(labels), {}});
  return series_.size() - 1;
}

std::vector<SeriesSamples> MetricExporter::Derive(const std::vector<RunRecord>& records,
                                                  std::map<std::string, CounterState>* counters) {
  // A bound on the cache: label sets of series that stopped reporting are dropped by starting
  // over (the next rounds rebuild what is still in use).
  constexpr size_t kMaxCachedSeries = 200'000;
  if (series_.size() > kMaxCachedSeries) {
    groups_.clear();
    series_.clear();
  }
  active_.clear();
  auto add = [&](size_t slot, int64_t t, double v) {
    std::vector<Sample>& samples = series_[slot].samples;
    if (samples.empty()) active_.push_back(slot);
    samples.push_back({t, v});
  };
  static constexpr std::string_view kPhases[5] = {"dns", "connect", "tls", "ttfb", "download"};
  std::string key;
  for (const RunRecord& r : records) {
    key.assign(r.transaction_id);
    key += '\x1f';
    key += r.robot_id;
    key += '\x1f';
    key += r.location;
    SeriesGroup& g = groups_[key];
    const std::string_view status = r.success ? "success" : "error";

    // Counters: one sample per series and storing time; a later result stored in the same
    // millisecond raises that sample instead of adding one.
    CounterState& c = (*counters)[CounterKey(r)];
    c.value += 1;
    size_t& runs = g.runs[r.success ? 1 : 0];
    if (runs == kNoSlot) {
      runs = Slot(MakeLabels("primoart_synthetic_runs_total", r, {{"status", status}}));
    }
    std::vector<Sample>& own = series_[runs].samples;
    if (own.empty()) active_.push_back(runs);
    if (r.received_at > c.last_ts) {
      c.last_ts = r.received_at;
    } else if (own.empty() || own.back().t != c.last_ts) {
      c.last_ts += 1;  // never rewrite a sample of an earlier round
    }
    if (!own.empty() && own.back().t == c.last_ts) {
      own.back().v = c.value;
    } else {
      own.push_back({c.last_ts, c.value});
    }
    if (g.duration == kNoSlot) {
      g.duration = Slot(MakeLabels("primoart_synthetic_duration_seconds", r, {}));
      g.success = Slot(MakeLabels("primoart_synthetic_success", r, {}));
    }
    add(g.duration, r.started_at, r.duration_ms / 1000);
    add(g.success, r.started_at, r.success ? 1 : 0);
    for (size_t k = 0; k < r.steps.size(); ++k) {
      const RunRecord::Step& s = r.steps[k];
      // Usually the same position as in the previous result of this group.
      StepSeries* ss = nullptr;
      if (k < g.steps.size() && g.steps[k].index == s.index && g.steps[k].name == s.name) {
        ss = &g.steps[k];
      } else {
        for (StepSeries& other : g.steps) {
          if (other.index == s.index && other.name == s.name) ss = &other;
        }
        if (!ss) ss = &g.steps.emplace_back(StepSeries{s.index, s.name});
      }
      const std::string step_index = std::to_string(s.index);
      if (ss->duration == kNoSlot) {
        ss->duration = Slot(MakeLabels("primoart_synthetic_step_duration_seconds", r,
                                       {{"step", s.name}, {"step_index", step_index}}));
      }
      add(ss->duration, s.started_at, s.duration_ms / 1000);
      const std::optional<double>* values[5] = {&s.dns_ms, &s.connect_ms, &s.tls_ms, &s.ttfb_ms,
                                                &s.download_ms};
      for (size_t p = 0; p < 5; ++p) {
        if (!*values[p]) continue;
        if (ss->phase[p] == kNoSlot) {
          ss->phase[p] = Slot(
              MakeLabels("primoart_synthetic_step_timing_seconds", r,
                         {{"phase", kPhases[p]}, {"step", s.name}, {"step_index", step_index}}));
        }
        add(ss->phase[p], s.started_at, **values[p] / 1000);
      }
    }
  }
  // The round's batch borrows the label sets; Restore gives them back after the append.
  std::vector<SeriesSamples> out;
  out.reserve(active_.size());
  for (size_t slot : active_) {
    SeriesSlot& ss = series_[slot];
    std::stable_sort(ss.samples.begin(), ss.samples.end(),
                     [](const Sample& a, const Sample& b) { return a.t < b.t; });
    out.push_back({std::move(ss.labels), std::move(ss.samples)});
    ss.samples.clear();
  }
  return out;
}

void MetricExporter::Restore(std::vector<SeriesSamples>& batch) {
  for (size_t i = 0; i < batch.size() && i < active_.size(); ++i) {
    series_[active_[i]].labels = std::move(batch[i].labels);
  }
  active_.clear();
}

MetricExporter::MetricExporter(storage::RelationalStore& db, storage::MetricStore& store,
                               Clock& clock, telemetry::Registry& metrics)
    : db_(db),
      store_(store),
      clock_(clock),
      exported_runs_(metrics
                         .AddCounter("primoart_synth_metric_exported_runs_total",
                                     "Results whose derived metrics were appended to the metric "
                                     "store.")
                         .With({})),
      failures_(metrics
                    .AddCounter("primoart_synth_metric_export_failures_total",
                                "Export rounds that failed (retried).")
                    .With({})),
      lag_(metrics
               .AddGauge("primoart_synth_metric_export_queued",
                         "Stored results waiting for their derived metrics.")
               .With({})) {}

MetricExporter::~MetricExporter() { Stop(); }

Status MetricExporter::Init() {
  PA_RETURN_IF_ERROR(db_.Exec("INSERT INTO synth_metric_export (id, exported_seq) VALUES (1, 0) "
                              "ON CONFLICT (id) DO NOTHING")
                         .status());
  return LoadState();
}

Status MetricExporter::LoadState() {
  PA_ASSIGN_OR_RETURN(storage::Rows cursor,
                      db_.Query("SELECT exported_seq FROM synth_metric_export WHERE id = 1"));
  PA_ASSIGN_OR_RETURN(storage::Rows rows,
                      db_.Query("SELECT series, value, last_ts FROM synth_counters"));
  std::map<std::string, CounterState> counters;
  for (size_t i = 0; i < rows.size(); ++i) {
    counters[rows.Text(i, 0)] = {rows.Double(i, 1), rows.Int(i, 2)};
  }
  std::lock_guard lock(mu_);
  exported_seq_ = cursor.empty() ? 0 : cursor.Int(0, 0);
  counters_ = std::move(counters);
  return Status::Ok();
}

void MetricExporter::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { Loop(); });
}

void MetricExporter::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void MetricExporter::Enqueue(std::vector<RunRecord> records) {
  {
    std::lock_guard lock(mu_);
    for (RunRecord& r : records) queue_.push_back(std::move(r));
    lag_.Set(static_cast<double>(queue_.size()));
  }
  cv_.notify_all();
}

int64_t MetricExporter::exported_seq() const {
  std::lock_guard lock(mu_);
  return exported_seq_;
}

Status MetricExporter::ExportPending() {
  for (;;) {
    PA_ASSIGN_OR_RETURN(bool exported, Round());
    if (!exported) return Status::Ok();
  }
}

Result<std::vector<RunRecord>> MetricExporter::ReadFromDatabase(int64_t after, int64_t limit) {
  PA_ASSIGN_OR_RETURN(
      storage::Rows rows,
      db_.Query("SELECT seq, received_at, transaction_id, robot_id, location, status, "
                "started_at, duration_ms, run_id FROM synth_results WHERE seq > $1 "
                "ORDER BY seq LIMIT $2",
                {after, limit}));
  std::vector<RunRecord> records;
  std::map<std::string, size_t> by_run;
  for (size_t i = 0; i < rows.size(); ++i) {
    records.push_back({rows.Int(i, 0),
                       rows.Int(i, 1),
                       rows.Text(i, 2),
                       rows.Text(i, 3),
                       rows.Text(i, 4),
                       rows.Text(i, 5) == "success",
                       rows.Int(i, 6),
                       rows.Double(i, 7),
                       {}});
    by_run[rows.Text(i, 8)] = i;
  }
  if (records.empty()) return records;
  PA_ASSIGN_OR_RETURN(
      storage::Rows steps,
      db_.Query("SELECT run_id, idx, name, started_at, duration_ms, dns_ms, connect_ms, tls_ms, "
                "ttfb_ms, download_ms FROM synth_steps WHERE seq > $1 AND seq <= $2 "
                "ORDER BY seq, idx",
                {after, records.back().seq}));
  auto opt = [&](size_t i, size_t c) {
    return steps.IsNull(i, c) ? std::nullopt : std::optional<double>(steps.Double(i, c));
  };
  for (size_t i = 0; i < steps.size(); ++i) {
    const auto it = by_run.find(steps.Text(i, 0));
    if (it == by_run.end()) continue;
    records[it->second].steps.push_back({steps.Int(i, 1), steps.Text(i, 2), steps.Int(i, 3),
                                         steps.Double(i, 4), opt(i, 5), opt(i, 6), opt(i, 7),
                                         opt(i, 8), opt(i, 9)});
  }
  return records;
}

Result<bool> MetricExporter::Round() {
  std::lock_guard round(round_mu_);
  int64_t from = 0;
  std::map<std::string, CounterState> counters;
  std::vector<RunRecord> records;
  {
    std::lock_guard lock(mu_);
    from = exported_seq_;
    counters = counters_;
    std::erase_if(queue_, [&](const RunRecord& r) { return r.seq <= from; });
    records.swap(queue_);
    lag_.Set(0);
  }
  bool contiguous = !records.empty();
  for (size_t i = 0; contiguous && i < records.size(); ++i) {
    contiguous = records[i].seq == from + 1 + static_cast<int64_t>(i);
  }
  if (!contiguous) {
    // After a restart, or results stored by another instance: the database has them all.
    std::vector<RunRecord> queued = std::move(records);
    PA_ASSIGN_OR_RETURN(records, ReadFromDatabase(from, kRoundLimit));
    const int64_t through = records.empty() ? from : records.back().seq;
    std::erase_if(queued, [&](const RunRecord& r) { return r.seq <= through; });
    if (!queued.empty()) {
      std::lock_guard lock(mu_);
      queue_.insert(queue_.begin(), std::make_move_iterator(queued.begin()),
                    std::make_move_iterator(queued.end()));
    }
  }
  if (records.empty()) return false;
  const int64_t to = records.back().seq;
  std::map<std::string, CounterState> before = counters;
  std::vector<SeriesSamples> samples = Derive(records, &counters);
  const Status appended = store_.Append(samples).status();
  Restore(samples);
  PA_RETURN_IF_ERROR(appended);

  PA_ASSIGN_OR_RETURN(auto tx, db_.Begin());
  PA_ASSIGN_OR_RETURN(int64_t moved, tx->Exec("UPDATE synth_metric_export SET exported_seq = $2 "
                                              "WHERE id = 1 AND exported_seq = $1",
                                              {from, to}));
  if (moved == 0) {
    // Another instance got there first; its samples equal ours.
    tx.reset();
    PA_RETURN_IF_ERROR(LoadState());
    return true;
  }
  for (const auto& [key, state] : counters) {
    const auto it = before.find(key);
    if (it != before.end() && it->second.value == state.value) continue;
    PA_RETURN_IF_ERROR(tx->Exec("INSERT INTO synth_counters (series, value, last_ts) "
                                "VALUES ($1, $2, $3) ON CONFLICT (series) DO UPDATE SET "
                                "value = excluded.value, last_ts = excluded.last_ts",
                                {key, state.value, state.last_ts})
                           .status());
  }
  PA_RETURN_IF_ERROR(tx->Commit());
  {
    std::lock_guard lock(mu_);
    exported_seq_ = to;
    counters_ = std::move(counters);
  }
  exported_runs_.Inc(static_cast<double>(records.size()));
  return true;
}

void MetricExporter::Loop() {
  pthread_setname_np(pthread_self(), "synth-export");
  // Background work: requests waiting for their group commit go first (Linux applies a nice
  // value to the calling thread only).
  setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 10);
  auto backoff = std::chrono::milliseconds(0);
  for (;;) {
    {
      std::unique_lock lock(mu_);
      // Without news, look at the database now and then: results of other instances.
      const auto wait = backoff.count() > 0 ? backoff : std::chrono::milliseconds(1000);
      cv_.wait_for(lock, wait,
                   [&] { return stopping_ || (backoff.count() == 0 && !queue_.empty()); });
      if (stopping_) break;
      // Under load, let a round gather results for a moment: each series' label set is built
      // and looked up once per round, so fuller rounds cost much less per result. Metrics
      // still show within about kRoundGather of their result.
      if (backoff.count() == 0 && queue_.size() < kRoundMaxQueued) {
        cv_.wait_for(lock, kRoundGather,
                     [&] { return stopping_ || queue_.size() >= kRoundMaxQueued; });
      }
    }
    auto r = Round();
    if (r.ok()) {
      backoff = std::chrono::milliseconds(0);
      continue;
    }
    failures_.Inc();
    backoff =
        std::clamp(backoff * 2, std::chrono::milliseconds(500), std::chrono::milliseconds(30000));
    log::Get("synth")->warn("exporting synthetic metrics failed (retry in {} ms): {}",
                            backoff.count(), r.status().ToString());
  }
  // Best effort on the way out; whatever is left is exported at the next start.
  if (Status st = ExportPending(); !st.ok()) {
    log::Get("synth")->warn("exporting synthetic metrics at shutdown failed: {}", st.ToString());
  }
}

}  // namespace pa::synth
