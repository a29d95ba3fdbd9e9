// The head: the in-memory, writable part of the store. Every series seen recently has a
// MemSeries holding its samples as Gorilla chunks (sorted, non-overlapping, the last one open
// for appends) plus a small sorted buffer of out-of-order samples. When that buffer fills up it
// is merged into the chunks by re-encoding only the chunks its time range touches, so the head
// never holds two versions of a timestamp and a read decodes each chunk once.
//
// Memory per series is bounded: chunks hold at most XorChunk::kMaxSamples samples, and when a
// series exceeds the store's chunk limit the store cuts the head and writes it to blocks. A cut
// (Freeze) moves each series' chunks aside into its `frozen` data, atomically per series, so a
// reader always sees a series' samples either frozen or active, never neither. The frozen data
// is written to blocks in the background and dropped (DropFrozen) once the blocks are visible
// and every reader that started before had finished. Series without samples for a whole head
// period are dropped at the next cut.
//
// Thread-safety: GetOrCreate/CreateWithRef/Freeze are called by one writer at a time (the
// store's append lock); MemSeries methods lock the series; the IndexView methods and
// SeriesByRef may be used from any thread holding index_mu() shared.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <unordered_map>
#include <vector>

#include "storage/embedded_tsdb/chunkenc/xor_chunk.h"
#include "storage/embedded_tsdb/index/index.h"
#include "storage/metric_store.h"

namespace pa::storage::embedded_tsdb {

using SeriesRef = uint64_t;

class MemSeries {
 public:
  MemSeries(SeriesRef ref, Labels labels, uint64_t hash)
      : ref_(ref), labels_(std::move(labels)), hash_(hash) {}

  SeriesRef ref() const { return ref_; }
  const Labels& labels() const { return labels_; }
  uint64_t hash() const { return hash_; }

  struct AppendCounts {
    int64_t accepted = 0;
    int64_t duplicates = 0;
  };
  // Appends samples in any order; the last write of a timestamp wins. A sample identical to
  // the stored one is a duplicate and changes nothing. If `written` is given, the samples that
  // changed something are appended to it (for the WAL).
  AppendCounts Append(std::span<const Sample> samples, std::vector<Sample>* written);

  // Appends the samples with mint <= t <= maxt, sorted and unique, to `out`.
  void Read(int64_t mint, int64_t maxt, std::vector<Sample>* out) const;
  bool HasDataIn(int64_t mint, int64_t maxt) const;
  bool empty() const;
  size_t num_chunks() const { return num_chunks_.load(std::memory_order_relaxed); }

  using ChunkList = std::shared_ptr<const std::vector<XorChunk>>;
  // The head cut: moves the active samples (as sorted chunks) into the frozen data and returns
  // them; nullptr when the series had none. There must be no frozen data yet.
  ChunkList Freeze();
  ChunkList frozen() const;
  void DropFrozen();
  // Head periods (cuts) this series has seen without a sample.
  int idle_periods() const { return idle_periods_; }

 private:
  bool AppendOne(int64_t t, double v);
  // The stored value bits at t, if any (the chunks only; ooo_ is checked by the caller).
  bool StoredBits(int64_t t, uint64_t* bits);
  // Forgets the decoded chunk (the chunks were rewritten or moved).
  void DropDecoded() {
    decoded_chunk_ = SIZE_MAX;
    decoded_.clear();
    decoded_.shrink_to_fit();
  }
  void MergeOutOfOrder();
  void UpdateStats();

  const SeriesRef ref_;
  const Labels labels_;
  const uint64_t hash_;

  mutable std::mutex mu_;
  std::vector<XorChunk> chunks_;  // sorted by time, non-overlapping; the last one is open
  std::vector<Sample> ooo_;       // sorted, unique; newer than anything in chunks_
  ChunkList frozen_;              // older than chunks_ and ooo_
  std::atomic<size_t> num_chunks_{0};
  int idle_periods_ = 0;  // written by the cut only
  // One chunk decoded, kept across appends: a sample that arrives a little late (behind the
  // open chunk's last one) must be compared with what is stored there, and decoding the chunk
  // again for each such sample made late-heavy series (several robots reporting the same
  // transaction) cost most of the append time. Appends to the open chunk keep it current. Only
  // series that receive late samples hold one (up to 120 samples).
  std::vector<Sample> decoded_;
  size_t decoded_chunk_ = SIZE_MAX;
};

// What a head cut produced: the series with frozen samples, sorted by labels.
struct FrozenHead {
  std::vector<std::shared_ptr<MemSeries>> series;
  int64_t samples = 0;
};

class Head : public IndexView {
 public:
  Head() = default;

  // Writer side (one thread at a time).
  // The series with these (normalised) labels, created if new; `created` says which.
  MemSeries* GetOrCreate(const Labels& labels, bool* created);
  // Creates a series with a given id (WAL replay); returns the existing one if the id is known.
  MemSeries* CreateWithRef(SeriesRef ref, const Labels& labels);
  MemSeries* FindByRef(SeriesRef ref) const;
  // The head cut: see the file comment. Drops series idle for two periods.
  FrozenHead Freeze();
  // Every series, for the WAL checkpoint written after a cut.
  std::vector<std::shared_ptr<MemSeries>> AllSeries() const;
  void AddSamples(int64_t n) { samples_.fetch_add(n, std::memory_order_relaxed); }

  // Reader side: hold index_mu() shared while using the IndexView methods and SeriesByRef.
  std::shared_mutex& index_mu() const { return index_mu_; }
  std::shared_ptr<MemSeries> SeriesByRef(SeriesRef ref) const;
  const PostingList& AllPostings() const override { return all_; }
  const PostingList* Postings(std::string_view name, std::string_view value) const override;
  void ForEachValue(
      std::string_view name,
      const std::function<void(std::string_view, const PostingList&)>& fn) const override;

  // Statistics (any thread).
  int64_t num_series() const { return num_series_.load(std::memory_order_relaxed); }
  int64_t num_samples() const { return samples_.load(std::memory_order_relaxed); }
  int64_t num_chunks() const;
  size_t max_chunks_per_series() const;
  SeriesRef next_ref() const { return next_ref_; }

 private:
  MemSeries* Insert(SeriesRef ref, const Labels& labels, uint64_t hash);
  void IndexLocked(const MemSeries& s);

  mutable std::shared_mutex index_mu_;
  // Guarded by index_mu_ for writes; the writer reads them without it.
  std::unordered_multimap<uint64_t, MemSeries*> by_hash_;
  std::unordered_map<SeriesRef, std::shared_ptr<MemSeries>> by_ref_;
  std::map<std::string, std::map<std::string, PostingList, std::less<>>, std::less<>> postings_;
  PostingList all_;
  SeriesRef next_ref_ = 1;
  std::atomic<int64_t> num_series_{0};
  std::atomic<int64_t> samples_{0};
};

}  // namespace pa::storage::embedded_tsdb
