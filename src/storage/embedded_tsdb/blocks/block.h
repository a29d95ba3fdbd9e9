// Blocks: the immutable on-disk part of the store. A block is a directory holding the samples
// of one time partition written at one time (by a head flush or a compaction):
//
//   meta.json  seq (unique id), order (write order: on equal timestamps the higher order wins;
//              a merge keeps the highest of its inputs), [mint, maxt], the aligned partition it
//              belongs to, counts;
//   index      the symbol table (every label string once, sorted) and the series in label order,
//              each with its labels as symbol ids and its chunks' [mint, maxt], length and
//              CRC32; the whole file is CRC-checked on open;
//   chunks     the BlockChunk-encoded chunks back to back, memory-mapped for reading; each
//              chunk's CRC is checked the first time it is read.
//
// Postings (label pair -> series) are rebuilt from the index when a block is opened, so only
// the series table is persisted. Blocks are written into tmp-<seq>/ and renamed into place
// after every file is fsynced, so a crash leaves either a whole block or none.
//
// Thread-safety: a Block is immutable after Open and may be read from any thread; a
// BlockWriter is used by one thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "storage/embedded_tsdb/index/index.h"
#include "storage/metric_store.h"

namespace pa::storage::embedded_tsdb {

struct BlockMeta {
  uint64_t seq = 0;    // unique, names the directory
  uint64_t order = 0;  // write order: on equal timestamps the block with the higher order wins
  int64_t mint = 0;
  int64_t maxt = 0;
  int64_t partition_start = 0;  // the aligned range [partition_start, partition_end) holding
  int64_t partition_end = 0;    // [mint, maxt]
  int64_t series = 0;
  int64_t samples = 0;
  int64_t chunks = 0;
  int64_t bytes = 0;  // index + chunks
};

class BlockWriter {
 public:
  // Block chunks hold up to this many samples: large enough for zstd to find the patterns,
  // small enough that a narrow query decodes little.
  static constexpr size_t kChunkSamples = 4096;

  // Starts a block in <blocks_dir>/tmp-<seq>.
  static Result<std::unique_ptr<BlockWriter>> Create(const std::string& blocks_dir, uint64_t seq,
                                                     uint64_t order, int64_t partition_start,
                                                     int64_t partition_end);
  ~BlockWriter();  // removes the unfinished block

  // Series come in strictly increasing label order; samples are sorted, unique, non-empty.
  Status Add(const Labels& labels, std::span<const Sample> samples);
  int64_t num_series() const { return static_cast<int64_t>(series_.size()); }
  // Writes the index and meta, fsyncs and renames the block into place.
  Result<BlockMeta> Finish();

 private:
  struct ChunkEntry {
    int64_t mint, maxt;
    uint32_t len, crc;
  };
  struct SeriesEntry {
    Labels labels;
    uint32_t first_chunk, num_chunks;
  };
  BlockWriter() = default;
  Status FlushChunks(bool final);

  std::string blocks_dir_, tmp_dir_;
  BlockMeta meta_;
  int chunks_fd_ = -1;
  std::string chunk_buffer_;
  std::vector<SeriesEntry> series_;
  std::vector<ChunkEntry> chunks_;
  bool finished_ = false;
};

class Block : public IndexView {
 public:
  struct ChunkRef {
    int64_t mint, maxt;
    uint64_t offset;
    uint32_t len, crc;
  };

  // kDataLoss when the block is damaged, kUnavailable when it cannot be read.
  static Result<std::shared_ptr<Block>> Open(const std::string& dir);
  ~Block() override;

  const BlockMeta& meta() const { return meta_; }
  const std::string& dir() const { return dir_; }
  uint32_t num_series() const { return static_cast<uint32_t>(series_label_off_.size() - 1); }
  Labels SeriesLabels(uint32_t series) const;
  std::span<const ChunkRef> SeriesChunks(uint32_t series) const;
  bool HasDataIn(uint32_t series, int64_t mint, int64_t maxt) const;
  // Appends the series' samples with mint <= t <= maxt, sorted, to `out`.
  Status Read(uint32_t series, int64_t mint, int64_t maxt, std::vector<Sample>* out) const;

  const PostingList& AllPostings() const override { return all_; }
  const PostingList* Postings(std::string_view name, std::string_view value) const override;
  void ForEachValue(
      std::string_view name,
      const std::function<void(std::string_view, const PostingList&)>& fn) const override;

  // Renames the directory aside now; it is deleted when the last user releases the block.
  Status MarkDeleted();

 private:
  Block() = default;
  Status ParseIndex();
  int64_t Symbol(std::string_view s) const;  // -1 when absent

  std::string dir_;
  BlockMeta meta_;
  std::string index_;  // the index file; symbols_ point into it
  std::vector<std::string_view> symbols_;
  std::vector<uint32_t> series_labels_;     // (name, value) symbol pairs
  std::vector<uint32_t> series_label_off_;  // per series, into series_labels_ (pairs)
  std::vector<ChunkRef> chunks_;
  std::vector<uint32_t> series_chunk_off_;  // per series, into chunks_
  // Per chunk: its CRC has matched. The chunks file is never written after the block is
  // finished, so a chunk is checked once per Open rather than on every read (where the CRC
  // pass was a visible share of a long range query). Relaxed atomics: the flag publishes no
  // data, and a racing reader at worst checks the same chunk twice.
  std::unique_ptr<std::atomic<bool>[]> chunk_verified_;
  std::map<uint32_t, std::map<uint32_t, PostingList>> postings_;
  PostingList all_;
  const char* map_ = nullptr;
  size_t map_size_ = 0;
  std::string deleted_dir_;
};

// Directory names.
std::string BlockDirName(uint64_t seq);
bool IsBlockDirName(std::string_view name);

}  // namespace pa::storage::embedded_tsdb
