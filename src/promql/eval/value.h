// Values the evaluator passes between nodes. Label sets are interned per query in a LabelPool
// so that series carry a 32-bit id: comparing, hashing and copying labels is free, which
// matters because every step of a range query handles every series.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>
#include <vector>

#include "storage/metric_store.h"

namespace pa::promql {

using LabelsId = uint32_t;

// Interned label sets of one query. Not thread-safe (one query, one thread).
class LabelPool {
 public:
  LabelPool();

  LabelsId Intern(const storage::Labels& labels);
  const storage::Labels& Get(LabelsId id) const { return labels_[id]; }
  size_t size() const { return labels_.size(); }
  static constexpr LabelsId kEmpty = 0;  // {}

  // Cached: the set without __name__.
  LabelsId DropMetricName(LabelsId id);

 private:
  std::deque<storage::Labels> labels_;  // deque: references stay valid while interning
  std::unordered_map<std::string, LabelsId> index_;
  std::vector<LabelsId> drop_name_;  // kUnset until computed
  std::string key_;                  // scratch
};

// A value at a time; the same layout as storage samples so selected data needs no copy.
using Point = storage::Sample;

struct Series {
  LabelsId labels;
  std::vector<Point> points;  // ascending t
};
using Matrix = std::vector<Series>;

// One element of an instant vector at one step. `series` indexes the input matrix the sample
// came from, so per-series precomputation (matching signatures, groups) can be looked up.
struct Sample {
  LabelsId labels;
  double v;
  int64_t t;
  uint32_t series;
};
using Vector = std::vector<Sample>;

}  // namespace pa::promql
