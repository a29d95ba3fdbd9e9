#include "storage/embedded_tsdb/blocks/compact.h"

#include <algorithm>
#include <map>

namespace pa::storage::embedded_tsdb {
namespace {

constexpr int64_t kHourMs = 3600 * 1000;

int64_t AlignDown(int64_t t, int64_t size) {
  int64_t q = t / size;
  if (t % size != 0 && t < 0) --q;
  return q * size;
}

bool Closed(int64_t window_end, int64_t size, int64_t now) { return window_end + size / 2 <= now; }

void DropBefore(std::vector<Sample>& samples, int64_t cutoff) {
  const auto it = std::lower_bound(samples.begin(), samples.end(), cutoff,
                                   [](const Sample& s, int64_t t) { return s.t < t; });
  samples.erase(samples.begin(), it);
}

}  // namespace

void MergeSampleRuns(std::vector<std::vector<Sample>>& runs, std::vector<Sample>* out) {
  std::erase_if(runs, [](const std::vector<Sample>& r) { return r.empty(); });
  if (runs.empty()) return;
  if (runs.size() == 1) {
    out->insert(out->end(), runs[0].begin(), runs[0].end());
    return;
  }
  // Common case: runs from blocks of different partitions, disjoint in time.
  std::vector<size_t> by_start(runs.size());
  for (size_t i = 0; i < runs.size(); ++i) by_start[i] = i;
  std::sort(by_start.begin(), by_start.end(),
            [&](size_t a, size_t b) { return runs[a].front().t < runs[b].front().t; });
  bool disjoint = true;
  for (size_t i = 1; i < by_start.size() && disjoint; ++i) {
    disjoint = runs[by_start[i - 1]].back().t < runs[by_start[i]].front().t;
  }
  if (disjoint) {
    for (size_t i : by_start) out->insert(out->end(), runs[i].begin(), runs[i].end());
    return;
  }
  struct Tagged {
    int64_t t;
    uint32_t run;
    double v;
  };
  std::vector<Tagged> all;
  for (uint32_t r = 0; r < runs.size(); ++r) {
    for (const Sample& s : runs[r]) all.push_back({s.t, r, s.v});
  }
  std::sort(all.begin(), all.end(), [](const Tagged& a, const Tagged& b) {
    return a.t != b.t ? a.t < b.t : a.run < b.run;
  });
  for (size_t i = 0; i < all.size(); ++i) {
    if (i + 1 < all.size() && all[i + 1].t == all[i].t) continue;  // a later run has it
    out->push_back({all[i].t, all[i].v});
  }
}

std::vector<int64_t> BlockRanges(int64_t retention_ms) {
  std::vector<int64_t> ranges = {2 * kHourMs};
  for (int64_t r : {12 * kHourMs, 48 * kHourMs}) {
    if (r <= retention_ms / 10) ranges.push_back(r);
  }
  return ranges;
}

std::pair<int64_t, int64_t> PartitionFor(int64_t t, int64_t now,
                                         const std::vector<int64_t>& ranges) {
  for (size_t i = ranges.size(); i-- > 1;) {
    const int64_t start = AlignDown(t, ranges[i]);
    if (Closed(start + ranges[i], ranges[i], now)) return {start, start + ranges[i]};
  }
  const int64_t start = AlignDown(t, ranges[0]);
  return {start, start + ranges[0]};
}

Result<std::vector<std::shared_ptr<Block>>> WriteFrozenHead(const FrozenHead& frozen,
                                                            const BlockWriteContext& ctx) {
  std::map<int64_t, std::unique_ptr<BlockWriter>> writers;  // by partition start
  std::vector<Sample> samples;
  for (const auto& series : frozen.series) {
    const MemSeries::ChunkList chunks = series->frozen();
    if (!chunks) continue;
    samples.clear();
    for (const XorChunk& c : *chunks) c.DecodeAll(&samples);
    DropBefore(samples, ctx.cutoff);
    size_t pos = 0;
    while (pos < samples.size()) {
      const auto [start, end] = PartitionFor(samples[pos].t, ctx.now, ctx.ranges);
      size_t stop = pos;
      while (stop < samples.size() && samples[stop].t < end &&
             PartitionFor(samples[stop].t, ctx.now, ctx.ranges).first == start) {
        ++stop;
      }
      auto& w = writers[start];
      if (!w) {
        const uint64_t seq = ctx.next_seq->fetch_add(1);
        PA_ASSIGN_OR_RETURN(w, BlockWriter::Create(ctx.blocks_dir, seq, seq, start, end));
      }
      PA_RETURN_IF_ERROR(w->Add(series->labels(), std::span(samples).subspan(pos, stop - pos)));
      pos = stop;
    }
  }
  std::vector<std::shared_ptr<Block>> blocks;
  for (auto& [start, w] : writers) {
    PA_ASSIGN_OR_RETURN(BlockMeta meta, w->Finish());
    PA_ASSIGN_OR_RETURN(auto block, Block::Open(ctx.blocks_dir + "/" + BlockDirName(meta.seq)));
    blocks.push_back(std::move(block));
  }
  return blocks;
}

std::optional<CompactionPlan> PlanCompaction(const std::vector<std::shared_ptr<Block>>& blocks,
                                             const std::vector<int64_t>& ranges, int64_t now,
                                             bool full) {
  for (const int64_t range : ranges) {
    std::map<int64_t, std::vector<std::shared_ptr<Block>>> windows;
    std::vector<const BlockMeta*> larger;
    for (const auto& b : blocks) {
      const BlockMeta& m = b->meta();
      const int64_t start = AlignDown(m.partition_start, range);
      if (m.partition_end - m.partition_start <= range && m.partition_end <= start + range) {
        windows[start].push_back(b);
      } else {
        larger.push_back(&m);
      }
    }
    for (auto& [start, group] : windows) {
      if (group.size() < 2) continue;
      if (!full && !Closed(start + range, range, now)) continue;
      const int64_t end = start + range;
      const bool covered = std::any_of(larger.begin(), larger.end(), [&](const BlockMeta* m) {
        return m->partition_start < end && m->partition_end > start;
      });
      if (covered) continue;  // merged at the level of the larger block
      std::sort(group.begin(), group.end(),
                [](const auto& a, const auto& b) { return a->meta().order < b->meta().order; });
      return CompactionPlan{std::move(group), start, end};
    }
  }
  return std::nullopt;
}

Result<std::shared_ptr<Block>> MergeBlocks(const CompactionPlan& plan,
                                           const BlockWriteContext& ctx) {
  struct Cursor {
    const Block* block;
    uint32_t series = 0;
    Labels labels;
    bool Valid() const { return series < block->num_series(); }
    void Load() {
      if (Valid()) labels = block->SeriesLabels(series);
    }
  };
  std::vector<Cursor> cursors;
  uint64_t order = 0;
  for (const auto& b : plan.inputs) {
    cursors.push_back({b.get()});
    cursors.back().Load();
    order = std::max(order, b->meta().order);
  }
  const uint64_t seq = ctx.next_seq->fetch_add(1);
  PA_ASSIGN_OR_RETURN(auto writer,
                      BlockWriter::Create(ctx.blocks_dir, seq, order, plan.start, plan.end));
  std::vector<std::vector<Sample>> runs;
  std::vector<Sample> merged;
  for (;;) {
    const Labels* min = nullptr;
    for (const Cursor& c : cursors) {
      if (c.Valid() && (!min || c.labels < *min)) min = &c.labels;
    }
    if (!min) break;
    const Labels labels = *min;
    runs.clear();
    for (Cursor& c : cursors) {  // ascending order: later inputs win
      if (!c.Valid() || c.labels != labels) continue;
      runs.emplace_back();
      PA_RETURN_IF_ERROR(c.block->Read(c.series, INT64_MIN, INT64_MAX, &runs.back()));
      ++c.series;
      c.Load();
    }
    merged.clear();
    MergeSampleRuns(runs, &merged);
    DropBefore(merged, ctx.cutoff);
    if (!merged.empty()) PA_RETURN_IF_ERROR(writer->Add(labels, merged));
  }
  if (writer->num_series() == 0) return std::shared_ptr<Block>();
  PA_ASSIGN_OR_RETURN(BlockMeta meta, writer->Finish());
  return Block::Open(ctx.blocks_dir + "/" + BlockDirName(meta.seq));
}

}  // namespace pa::storage::embedded_tsdb
