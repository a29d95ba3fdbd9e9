// XorChunk: the in-memory ("head") chunk — Gorilla compression as in Facebook's paper and
// Prometheus: delta-of-delta timestamps in variable bit buckets and values XOR-ed with their
// predecessor, written bit by bit as samples arrive, so the append path encodes directly and the
// head holds ~1.5–3 bytes per sample instead of 16.
//
// A chunk holds strictly increasing timestamps and is appended only at its end; out-of-order
// samples are merged by re-encoding (see head.h). Immutable on-disk chunks use the denser
// BlockChunk encoding instead (block_chunk.h).
//
// Thread-safety: none; the owner (a head series) locks.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "storage/embedded_tsdb/chunkenc/bits.h"
#include "storage/metric_store.h"

namespace pa::storage::embedded_tsdb {

class XorChunk {
 public:
  // Head chunks are cut at this many samples: small enough that a point lookup decodes little,
  // large enough that the per-chunk overhead (~60 bytes) stays below half a byte per sample.
  static constexpr uint32_t kMaxSamples = 120;

  // `t` must be greater than maxt() unless the chunk is empty.
  void Append(int64_t t, double v);

  uint32_t count() const { return count_; }
  bool empty() const { return count_ == 0; }
  bool full() const { return count_ >= kMaxSamples; }
  int64_t mint() const { return mint_; }
  int64_t maxt() const { return maxt_; }
  // The value of the last sample (valid when not empty).
  double last_value() const;

  // Releases spare capacity once no more samples are expected.
  void Seal() { data_.shrink_to_fit(); }
  size_t MemoryBytes() const { return sizeof(*this) + data_.capacity(); }
  size_t encoded_bytes() const { return data_.size(); }

  // Appends the samples with mint <= t <= maxt to `out`, in time order.
  void Decode(int64_t mint, int64_t maxt, std::vector<Sample>* out) const;
  void DecodeAll(std::vector<Sample>* out) const { Decode(INT64_MIN, INT64_MAX, out); }

  // Encodes sorted, unique samples into chunks of at most kMaxSamples, spread evenly.
  static std::vector<XorChunk> Encode(std::span<const Sample> samples);

 private:
  std::vector<uint8_t> data_;
  int64_t mint_ = 0;
  int64_t maxt_ = 0;
  int64_t delta_ = 0;
  uint64_t last_bits_ = 0;
  uint32_t count_ = 0;
  uint8_t leading_ = 0xff;  // 0xff: no XOR window yet
  uint8_t trailing_ = 0;
  BitWriter bits_;
};

}  // namespace pa::storage::embedded_tsdb
