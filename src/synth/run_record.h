// RunRecord: what the derived metrics need of one stored result — built by the writer from the
// upload it just committed, or read back from synth_results/synth_steps by the exporter after a
// restart (metric_export.h). Both paths give equal records, so a replay re-derives equal samples.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace pa::synth {

struct RunRecord {
  struct Step {
    int64_t index = 0;
    std::string name;
    int64_t started_at = 0;  // Unix ms
    double duration_ms = 0;
    std::optional<double> dns_ms, connect_ms, tls_ms, ttfb_ms, download_ms;
  };
  int64_t seq = 0;          // commit order (synth_results.seq)
  int64_t received_at = 0;  // Unix ms, when the server stored it
  std::string transaction_id;
  std::string robot_id;
  std::string location;
  bool success = false;
  int64_t started_at = 0;
  double duration_ms = 0;
  std::vector<Step> steps;
};

}  // namespace pa::synth
