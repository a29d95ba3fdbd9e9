// An in-memory storage::Querier for engine tests: series are added with Add() and selected
// with the same matcher semantics as the real stores (regexes fully anchored, an empty value
// meaning "label absent").
//
//   MemoryQuerier q;
//   q.Add({{"__name__", "up"}, {"job", "api"}}, {{0, 1}, {15000, 1}});
//   engine.Instant(q, "up", 15000, limits);
//
// Not thread-safe for Add; Select may run concurrently once loading is done.
#pragma once

#include <vector>

#include "storage/metric_store.h"

namespace pa::promql::testing {

class MemoryQuerier : public storage::Querier {
 public:
  // Merges samples into the series with exactly these labels (sorted by time, one per
  // timestamp, the later Add winning).
  void Add(storage::Labels labels, std::vector<storage::Sample> samples);
  void Clear() { series_.clear(); }
  // How many Select calls were made (tests check selectors are fetched once).
  int selects() const { return selects_; }

  Result<std::unique_ptr<storage::SeriesSet>> Select(const storage::MatcherSet& matchers,
                                                     int64_t mint, int64_t maxt) override;

 private:
  std::vector<storage::SeriesSamples> series_;  // sorted by labels
  int selects_ = 0;
};

}  // namespace pa::promql::testing
