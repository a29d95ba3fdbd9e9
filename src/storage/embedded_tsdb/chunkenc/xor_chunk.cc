#include "storage/embedded_tsdb/chunkenc/xor_chunk.h"

#include <bit>
#include <cassert>

namespace pa::storage::embedded_tsdb {
namespace {

// Delta-of-delta buckets: '0' for 0, then prefixes 10, 110, 1110 with 7, 14 and 20 payload bits
// (two's complement, range -(2^(n-1)-1) .. 2^(n-1)), and 1111 with all 64 bits.
constexpr int kBucketBits[] = {7, 14, 20};

bool Fits(int64_t dod, int bits) {
  const int64_t half = int64_t{1} << (bits - 1);
  return dod > -half && dod <= half;
}

int64_t ReadSigned(BitReader& r, int bits) {
  int64_t v = static_cast<int64_t>(r.Read(bits));
  if (v > (int64_t{1} << (bits - 1))) v -= int64_t{1} << bits;
  return v;
}

}  // namespace

double XorChunk::last_value() const { return std::bit_cast<double>(last_bits_); }

void XorChunk::Append(int64_t t, double v) {
  const uint64_t vbits = std::bit_cast<uint64_t>(v);
  if (count_ == 0) {
    bits_.Write(static_cast<uint64_t>(t), 64, data_);
    bits_.Write(vbits, 64, data_);
    mint_ = maxt_ = t;
    delta_ = 0;
    last_bits_ = vbits;
    count_ = 1;
    return;
  }
  assert(t > maxt_);
  const int64_t delta = t - maxt_;
  const int64_t dod = delta - delta_;
  if (dod == 0) {
    bits_.WriteBit(false, data_);
  } else if (Fits(dod, kBucketBits[0])) {
    bits_.Write(0b10, 2, data_);
    bits_.Write(static_cast<uint64_t>(dod), kBucketBits[0], data_);
  } else if (Fits(dod, kBucketBits[1])) {
    bits_.Write(0b110, 3, data_);
    bits_.Write(static_cast<uint64_t>(dod), kBucketBits[1], data_);
  } else if (Fits(dod, kBucketBits[2])) {
    bits_.Write(0b1110, 4, data_);
    bits_.Write(static_cast<uint64_t>(dod), kBucketBits[2], data_);
  } else {
    bits_.Write(0b1111, 4, data_);
    bits_.Write(static_cast<uint64_t>(dod), 64, data_);
  }
  delta_ = delta;
  maxt_ = t;

  const uint64_t x = vbits ^ last_bits_;
  if (x == 0) {
    bits_.WriteBit(false, data_);
  } else {
    bits_.WriteBit(true, data_);
    int lead = std::countl_zero(x);
    const int trail = std::countr_zero(x);
    if (lead > 31) lead = 31;
    if (leading_ != 0xff && lead >= leading_ && trail >= trailing_) {
      bits_.WriteBit(false, data_);
      const int sig = 64 - leading_ - trailing_;
      bits_.Write(x >> trailing_, sig, data_);
    } else {
      const int sig = 64 - lead - trail;
      bits_.WriteBit(true, data_);
      bits_.Write(static_cast<uint64_t>(lead), 5, data_);
      bits_.Write(static_cast<uint64_t>(sig == 64 ? 0 : sig), 6, data_);
      bits_.Write(x >> trail, sig, data_);
      leading_ = static_cast<uint8_t>(lead);
      trailing_ = static_cast<uint8_t>(trail);
    }
  }
  last_bits_ = vbits;
  ++count_;
}

void XorChunk::Decode(int64_t mint, int64_t maxt, std::vector<Sample>* out) const {
  if (count_ == 0 || maxt_ < mint || mint_ > maxt) return;
  BitReader r(data_.data(), data_.size());
  int64_t t = static_cast<int64_t>(r.Read(64));
  uint64_t vbits = r.Read(64);
  int64_t delta = 0;
  int leading = 0, trailing = 0;
  if (t >= mint) out->push_back({t, std::bit_cast<double>(vbits)});
  for (uint32_t i = 1; i < count_; ++i) {
    int64_t dod = 0;
    if (r.ReadBit()) {
      if (!r.ReadBit()) {
        dod = ReadSigned(r, kBucketBits[0]);
      } else if (!r.ReadBit()) {
        dod = ReadSigned(r, kBucketBits[1]);
      } else if (!r.ReadBit()) {
        dod = ReadSigned(r, kBucketBits[2]);
      } else {
        dod = static_cast<int64_t>(r.Read(64));
      }
    }
    delta += dod;
    t += delta;
    if (r.ReadBit()) {
      if (r.ReadBit()) {
        leading = static_cast<int>(r.Read(5));
        int sig = static_cast<int>(r.Read(6));
        if (sig == 0) sig = 64;
        trailing = 64 - leading - sig;
      }
      const int sig = 64 - leading - trailing;
      vbits ^= r.Read(sig) << trailing;
    }
    if (t > maxt) break;
    if (t >= mint) out->push_back({t, std::bit_cast<double>(vbits)});
  }
  assert(r.ok());
}

std::vector<XorChunk> XorChunk::Encode(std::span<const Sample> samples) {
  std::vector<XorChunk> chunks;
  if (samples.empty()) return chunks;
  const size_t n = samples.size();
  const size_t nchunks = (n + kMaxSamples - 1) / kMaxSamples;
  chunks.resize(nchunks);
  size_t pos = 0;
  for (size_t c = 0; c < nchunks; ++c) {
    const size_t end = n * (c + 1) / nchunks;
    for (; pos < end; ++pos) chunks[c].Append(samples[pos].t, samples[pos].v);
    chunks[c].Seal();
  }
  return chunks;
}

}  // namespace pa::storage::embedded_tsdb
