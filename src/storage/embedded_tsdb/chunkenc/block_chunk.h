// BlockChunk: the encoding of immutable on-disk chunks, written once by compaction and read by
// every query, so it spends CPU at write time for density without slowing reads:
//
//   timestamps  delta-of-delta, zigzag varints (regular intervals cost one zero byte each,
//               which zstd then folds away);
//   values      when they are decimals of at most 15 significant digits (the common case:
//               counters, latencies in ms, ratios), as integers m with v = m / 10^k for one k per
//               chunk, stored as zigzag varint deltas or delta-of-deltas (whichever is smaller);
//               values that do not fit (NaN, ±Inf, staleness markers, -0.0, long fractions) go
//               to an exception list with their exact bits. Chunks with many such values store
//               raw 8-byte XORs with the previous value instead;
//   the whole   compressed with zstd when that makes it at least 40% smaller (below that the
//               decompression costs queries more than the disk it saves).
//
// Decoding reproduces every value bit for bit. Comparable to what VictoriaMetrics does, and
// typically 2-4x smaller than Gorilla XOR on realistic data.
//
// Layout: [flags u8][raw length varint if zstd][payload]; payload = [n varint][t0 zigzag]
// [n-1 dod zigzag][value kind u8][values...].
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "storage/metric_store.h"

namespace pa::storage::embedded_tsdb {

// Appends the encoding of `samples` (sorted by time, unique timestamps, non-empty) to `out`.
void EncodeBlockChunk(std::span<const Sample> samples, std::string* out);

// Appends the samples with mint <= t <= maxt to `out`, in time order. kDataLoss when `data` is
// not a valid chunk.
Status DecodeBlockChunk(std::string_view data, int64_t mint, int64_t maxt,
                        std::vector<Sample>* out);

}  // namespace pa::storage::embedded_tsdb
