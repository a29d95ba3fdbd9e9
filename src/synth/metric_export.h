// MetricExporter: derives the synthetic metrics of every stored result and appends them to the
// metric store — exactly once in effect, whatever crashes in between.
//
// Metrics (names fixed by the result spec), labels transaction, robot, location:
//   primoart_synthetic_runs_total{status}             counter, at the time the result was stored
//   primoart_synthetic_duration_seconds               one sample per run, at its started_at
//   primoart_synthetic_success                        1 or 0 per run, at its started_at
//   primoart_synthetic_step_duration_seconds{step, step_index}          per step, at its start
//   primoart_synthetic_step_timing_seconds{step, step_index, phase} dns|connect|tls|ttfb|download
//
// The results table is the outbox: results are numbered (seq) in commit order, and
// synth_metric_export.exported_seq says how far the metrics have been appended, together with the
// counters' running totals as of there (synth_counters). A round takes the results after the
// cursor (handed over in memory by the ResultWriter, or read back from the database after a
// restart), derives their samples, appends them, then advances the cursor and the totals in one
// transaction. A crash between the append and that transaction re-derives the very same samples
// (same series, timestamps and values) — the metric store keeps them once — so nothing is lost
// or counted twice. Counter samples get the storing time, moved 1 ms past the series' previous
// sample when needed, so each counter series only grows.
//
// Several instances may run it (PostgreSQL): the cursor moves by compare-and-set; the loser of a
// race reloads and finds its samples already there.
//
// Thread-safety: Enqueue from any thread (the writer's); Start/Stop/ExportPending from the owner.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "base/telemetry.h"
#include "storage/metric_store.h"
#include "storage/relational_store.h"
#include "synth/run_record.h"

namespace pa::synth {

class MetricExporter {
 public:
  MetricExporter(storage::RelationalStore& db, storage::MetricStore& store, Clock& clock,
                 telemetry::Registry& metrics);
  ~MetricExporter();

  // Loads the cursor and the counters. Call before Start.
  Status Init();
  void Start();
  void Stop();

  // Records of freshly committed results, in seq order.
  void Enqueue(std::vector<RunRecord> records);

  // Exports everything stored so far, on the calling thread (tests, and Stop).
  Status ExportPending();

  int64_t exported_seq() const;

  struct CounterState {
    double value = 0;
    int64_t last_ts = 0;
  };

 private:
  // The series of one (transaction, robot, location): slots in series_, created on first use.
  struct StepSeries {
    int64_t index = 0;
    std::string name;
    size_t duration = kNoSlot;
    size_t phase[5] = {kNoSlot, kNoSlot, kNoSlot, kNoSlot, kNoSlot};  // dns .. download
  };
  struct SeriesGroup {
    size_t runs[2] = {kNoSlot, kNoSlot};  // runs_total{status="error"}, {status="success"}
    size_t duration = kNoSlot, success = kNoSlot;
    std::vector<StepSeries> steps;
  };
  struct SeriesSlot {
    storage::Labels labels;
    std::vector<storage::Sample> samples;  // this round's
  };
  static constexpr size_t kNoSlot = static_cast<size_t>(-1);

  // The samples of `records` (in seq order), advancing `counters` (key -> {value, last_ts}).
  // Label sets are built once per series and kept across rounds (series_), so a sample costs
  // one look-up per result and a few comparisons, not a label set. Called under round_mu_.
  std::vector<storage::SeriesSamples> Derive(const std::vector<RunRecord>& records,
                                             std::map<std::string, CounterState>* counters);
  // Gives the label sets of a Derive batch back to their slots.
  void Restore(std::vector<storage::SeriesSamples>& batch);
  size_t Slot(storage::Labels labels);

  Status LoadState();
  // One round: returns true when it exported something.
  Result<bool> Round();
  Result<std::vector<RunRecord>> ReadFromDatabase(int64_t after, int64_t limit);
  void Loop();

  storage::RelationalStore& db_;
  storage::MetricStore& store_;
  Clock& clock_;
  telemetry::Counter& exported_runs_;
  telemetry::Counter& failures_;
  telemetry::Gauge& lag_;

  mutable std::mutex mu_;  // guards the queue and the state below
  std::condition_variable cv_;
  std::vector<RunRecord> queue_;
  bool stopping_ = false;
  int64_t exported_seq_ = 0;
  std::map<std::string, CounterState> counters_;

  std::mutex round_mu_;  // one round at a time; guards the series cache below
  std::unordered_map<std::string, SeriesGroup> groups_;  // "transaction\x1frobot\x1flocation"
  std::vector<SeriesSlot> series_;
  std::vector<size_t> active_;  // slots with samples in the current round
  std::thread thread_;
};

}  // namespace pa::synth
