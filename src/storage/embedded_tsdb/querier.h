// Reading the store: a Querier over a snapshot of the blocks plus the live head.
//
// Select evaluates the matchers against each block's index and the head's, keeps the series
// with chunks overlapping [mint, maxt], and groups them by labels. SeriesSet::ReadSamples then
// decodes only the current series' chunks — a query never materialises more than a few series at
// a time (with 4+ series, a helper thread decodes up to 4 ahead of the consumer so that decoding
// overlaps with evaluation) — and merges its sources, the newest winning on equal timestamps
// (blocks by write order, then the head).
//
// A snapshot registers with the ReaderRegistry: once a head flush has made its blocks visible
// it waits for the readers that started before (they cannot see those blocks) before dropping
// the flushed samples from memory.
//
// Thread-safety: a Querier may be used by one thread at a time; many may exist at once. It must
// not outlive the store.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "storage/embedded_tsdb/blocks/block.h"
#include "storage/embedded_tsdb/head.h"
#include "storage/metric_store.h"

namespace pa::storage::embedded_tsdb {

class ReaderRegistry {
 public:
  // Registers a reader at the current generation, which it returns.
  uint64_t Enter();
  void Leave(uint64_t generation);
  // Starts a new generation and returns it.
  uint64_t Advance();
  // Blocks until every reader registered before generation `generation` has left.
  void WaitForReadersBefore(uint64_t generation);

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t generation_ = 1;
  std::map<uint64_t, int64_t> readers_;  // generation -> count
};

struct Snapshot {
  std::vector<std::shared_ptr<Block>> blocks;  // ascending order
  Head* head = nullptr;
  ReaderRegistry* registry = nullptr;
  uint64_t generation = 0;
  Snapshot() = default;
  Snapshot(const Snapshot&) = delete;
  Snapshot& operator=(const Snapshot&) = delete;
  ~Snapshot() {
    if (registry) registry->Leave(generation);
  }
};

class DbQuerier final : public Querier {
 public:
  explicit DbQuerier(std::shared_ptr<const Snapshot> snapshot) : snap_(std::move(snapshot)) {}

  Result<std::unique_ptr<SeriesSet>> Select(const MatcherSet& matchers, int64_t mint,
                                            int64_t maxt) override;

  // The labels of the series matching any of `match` (all series when empty) with data in
  // [mint, maxt], sorted and unique, at most `limit` (0: no limit).
  Result<std::vector<Labels>> MatchingSeries(const std::vector<MatcherSet>& match, int64_t mint,
                                             int64_t maxt, int64_t limit);

  struct Source {
    const Block* block = nullptr;  // or
    uint32_t series = 0;
    std::shared_ptr<MemSeries> mem;
  };
  struct Entry {
    Labels labels;
    std::vector<Source> sources;  // oldest first
  };

 private:
  Result<std::vector<Entry>> Collect(const MatcherSet& matchers, int64_t mint, int64_t maxt);

  std::shared_ptr<const Snapshot> snap_;
};

}  // namespace pa::storage::embedded_tsdb
