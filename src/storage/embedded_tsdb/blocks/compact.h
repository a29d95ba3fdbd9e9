// Compaction: turning the head into blocks and small blocks into large ones.
//
// Time is divided into aligned partitions of a few sizes ("levels", by default 2 h, 12 h and
// 2 d, capped at a tenth of the retention so that retention can drop whole blocks). A head flush
// writes each sample into a partition by its age: recent samples into 2 h partitions, samples
// whose larger partition is already closed (out-of-order arrivals into old data) straight into
// that larger one. A window of size R is closed when its end is R/2 behind the clock.
//
// Blocks may overlap — several flushes into one partition, out-of-order samples into compacted
// ranges — and queries merge them (the higher `order` wins on equal timestamps). The planner
// merges all blocks inside a closed window into one block of that window, lowest level first;
// a window is only merged with every block overlapping it, so write order stays meaningful.
//
// Thread-safety: free functions over immutable blocks; the store runs one compaction at a time.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "storage/embedded_tsdb/blocks/block.h"
#include "storage/embedded_tsdb/head.h"

namespace pa::storage::embedded_tsdb {

// Merges sorted, unique runs into `out`; a later run wins over an earlier one on equal
// timestamps. Consumes `runs`.
void MergeSampleRuns(std::vector<std::vector<Sample>>& runs, std::vector<Sample>* out);

// Partition sizes in ms, ascending, each dividing the next.
std::vector<int64_t> BlockRanges(int64_t retention_ms);

// The aligned partition [start, end) a sample at `t` is flushed into at time `now`.
std::pair<int64_t, int64_t> PartitionFor(int64_t t, int64_t now,
                                         const std::vector<int64_t>& ranges);

struct BlockWriteContext {
  std::string blocks_dir;
  std::vector<int64_t> ranges;
  int64_t now = 0;
  int64_t cutoff = 0;  // samples before it (beyond retention) are dropped
  std::atomic<uint64_t>* next_seq = nullptr;
};

// Writes the frozen samples of a head cut into one block per partition touched.
Result<std::vector<std::shared_ptr<Block>>> WriteFrozenHead(const FrozenHead& frozen,
                                                            const BlockWriteContext& ctx);

struct CompactionPlan {
  std::vector<std::shared_ptr<Block>> inputs;  // ascending order
  int64_t start = 0, end = 0;                  // the output partition
};

// The next merge to do, or nullopt. `full` ignores whether windows are closed (used by an
// explicit Compact()).
std::optional<CompactionPlan> PlanCompaction(const std::vector<std::shared_ptr<Block>>& blocks,
                                             const std::vector<int64_t>& ranges, int64_t now,
                                             bool full);

// Executes a plan; the result is nullptr when retention dropped every sample.
Result<std::shared_ptr<Block>> MergeBlocks(const CompactionPlan& plan,
                                           const BlockWriteContext& ctx);

}  // namespace pa::storage::embedded_tsdb
