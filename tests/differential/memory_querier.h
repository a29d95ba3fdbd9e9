// MemoryQuerier: a storage::Querier over series held in memory, for running promql::Engine
// without any storage engine. The differential suite uses it (PRIMOART_DIFF_STORAGE=memory) to
// tell engine bugs from storage bugs: a query that fails against the embedded store but passes
// here points at the store.
//
//   MemoryQuerier querier(AllSeries(data));
//   PA_ASSIGN_OR_RETURN(auto v, engine.Instant(querier, "up", t, limits));
//
// Regex matchers are fully anchored ECMAScript regexes over code points (the suite's queries
// use the common subset of RE2 and ECMAScript, plus a leading (?i)). Thread-safety: Select may run
// concurrently; the series must not change while the querier is in use.
#pragma once

#include <memory>
#include <vector>

#include "data_set.h"
#include "storage/metric_store.h"

namespace pa::differential {

// Every series of the data set, `series` and `live`.
std::vector<const storage::SeriesSamples*> AllSeries(const DataSet& data);

class MemoryQuerier : public storage::Querier {
 public:
  // `series`: samples sorted by time, labels normalised and unique; not owned, must outlive
  // the querier.
  explicit MemoryQuerier(std::vector<const storage::SeriesSamples*> series);

  Result<std::unique_ptr<storage::SeriesSet>> Select(const storage::MatcherSet& matchers,
                                                     int64_t mint, int64_t maxt) override;

 private:
  std::vector<const storage::SeriesSamples*> series_;  // in label order
};

}  // namespace pa::differential
