#include "storage/embedded_tsdb/chunkenc/block_chunk.h"

#include <zstd.h>

#include <algorithm>
#include <bit>
#include <cassert>
#include <cmath>
#include <cstring>
#include <memory>

#include "storage/embedded_tsdb/chunkenc/bits.h"

namespace pa::storage::embedded_tsdb {
namespace {

constexpr uint8_t kFlagZstd = 1;
constexpr int kZstdLevel = 6;
// Below this many payload bytes zstd's frame overhead outweighs what it saves.
constexpr size_t kMinCompressBytes = 48;
// zstd is kept only when it at least shrinks the payload to this fraction. Decompression costs
// about as much as decoding the varints after it, so a modest saving is not worth it: on
// jittered scrapes (delta-of-delta timestamps of 1-2 bytes, small value deltas) zstd saves ~25%
// of the disk but made a 7-day query over 1000 series ~1.5x slower (bench/metrics). Regular or
// repetitive chunks still compress by far more than this and keep it.
constexpr double kMaxZstdRatio = 0.6;

enum ValueKind : uint8_t { kXor = 0, kDecimalDelta = 1, kDecimalDoubleDelta = 2 };

constexpr int kMaxExponent = 15;
constexpr double kPow10[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                             1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
constexpr int64_t kIntPow10[] = {1,
                                 10,
                                 100,
                                 1000,
                                 10000,
                                 100000,
                                 1000000,
                                 10000000,
                                 100000000,
                                 1000000000,
                                 10000000000,
                                 100000000000,
                                 1000000000000,
                                 10000000000000,
                                 100000000000000,
                                 1000000000000000};
constexpr int64_t kMaxMantissa = int64_t{1} << 53;  // exact in a double

// The smallest k such that v == m / 10^k exactly for an integer |m| <= 2^53, or -1.
int DecimalExponent(double v, int64_t* mantissa) {
  if (!std::isfinite(v) || (v == 0 && std::signbit(v))) return -1;
  for (int k = 0; k <= kMaxExponent; ++k) {
    const double scaled = v * kPow10[k];
    if (std::fabs(scaled) > static_cast<double>(kMaxMantissa)) return -1;
    const double r = std::nearbyint(scaled);
    const int64_t m = static_cast<int64_t>(r);
    if (static_cast<double>(m) / kPow10[k] == v) {
      *mantissa = m;
      return k;
    }
  }
  return -1;
}

struct Exception {
  uint32_t index;
  uint64_t bits;
};

// Tries the decimal representation; false when too many values do not fit.
bool EncodeDecimal(std::span<const Sample> samples, std::string& out) {
  const size_t n = samples.size();
  std::vector<int64_t> m(n);
  std::vector<int8_t> k(n);
  int common = 0;
  size_t misses = 0;
  for (size_t i = 0; i < n; ++i) {
    k[i] = static_cast<int8_t>(DecimalExponent(samples[i].v, &m[i]));
    if (k[i] < 0) {
      ++misses;
    } else if (k[i] > common) {
      common = k[i];
    }
  }
  if (misses * 4 > n) return false;
  std::vector<Exception> exceptions;
  int64_t prev = 0;
  for (size_t i = 0; i < n; ++i) {
    bool fits = k[i] >= 0;
    if (fits) {
      const int64_t scale = kIntPow10[common - k[i]];
      if (m[i] > kMaxMantissa / scale || m[i] < -kMaxMantissa / scale) {
        fits = false;
      } else {
        m[i] *= scale;
        fits = static_cast<double>(m[i]) / kPow10[common] == samples[i].v;
      }
    }
    if (!fits) {
      exceptions.push_back({static_cast<uint32_t>(i), std::bit_cast<uint64_t>(samples[i].v)});
      m[i] = prev;  // keeps the integer stream smooth
    }
    prev = m[i];
  }
  if (exceptions.size() * 4 > n) return false;

  // Deltas suit gauges, delta-of-deltas counters growing at a steady rate.
  size_t delta_bytes = 0, dod_bytes = 0;
  for (size_t i = 1; i < n; ++i) {
    const int64_t d = m[i] - m[i - 1];
    delta_bytes += VarintLength(ZigZag(d));
    const int64_t pd = i >= 2 ? m[i - 1] - m[i - 2] : 0;
    dod_bytes += VarintLength(ZigZag(d - pd));
  }
  const bool dod = dod_bytes < delta_bytes;
  out.push_back(static_cast<char>(dod ? kDecimalDoubleDelta : kDecimalDelta));
  out.push_back(static_cast<char>(common));
  PutSignedVarint(out, m[0]);
  int64_t prev_delta = 0;
  for (size_t i = 1; i < n; ++i) {
    const int64_t d = m[i] - m[i - 1];
    PutSignedVarint(out, dod ? d - prev_delta : d);
    prev_delta = d;
  }
  PutVarint(out, exceptions.size());
  uint32_t last = 0;
  for (const Exception& e : exceptions) {
    PutVarint(out, e.index - last);
    last = e.index;
    PutFixed64(out, e.bits);
  }
  return true;
}

void EncodePayload(std::span<const Sample> samples, std::string& out) {
  const size_t n = samples.size();
  PutVarint(out, n);
  PutSignedVarint(out, samples[0].t);
  int64_t prev_delta = 0;
  for (size_t i = 1; i < n; ++i) {
    const int64_t d = samples[i].t - samples[i - 1].t;
    PutSignedVarint(out, d - prev_delta);
    prev_delta = d;
  }
  const size_t mark = out.size();
  if (EncodeDecimal(samples, out)) return;
  out.resize(mark);
  out.push_back(static_cast<char>(kXor));
  uint64_t prev = 0;
  for (const Sample& s : samples) {
    const uint64_t b = std::bit_cast<uint64_t>(s.v);
    PutFixed64(out, b ^ prev);
    prev = b;
  }
}

struct CCtxFree {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct DCtxFree {
  void operator()(ZSTD_DCtx* c) const { ZSTD_freeDCtx(c); }
};

// Wrapping addition: corrupt input must not be undefined behaviour.
int64_t Add(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}

Status Corrupt(const char* what) {
  return DataLossError(std::string("metrics block chunk is corrupt: ") + what);
}

// Decoding runs for every sample a query reads, so it works on raw pointers with the common
// one-byte varint inline, and writes samples straight into `out`: all timestamps first (they
// strictly increase, so the samples inside [mint, maxt] form one run), then the values in place,
// then the run is cut out. Values outside the run must be decoded anyway (each depends on the
// previous one); timestamps outside it cost little.

// LEB128 as ByteReader::Varint: at most 10 bytes; false when truncated or longer.
bool ReadVarintSlow(const uint8_t*& p, const uint8_t* end, uint64_t* v) {
  uint64_t x = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (p >= end) return false;
    const uint8_t b = *p++;
    x |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (b < 0x80) {
      *v = x;
      return true;
    }
  }
  return false;
}

inline bool ReadVarint(const uint8_t*& p, const uint8_t* end, uint64_t* v) {
  if (p < end && *p < 0x80) [[likely]] {
    *v = *p++;
    return true;
  }
  return ReadVarintSlow(p, end, v);
}

// The mantissa stream of the decimal kinds into s[0, n).v; false when truncated. Templated so
// the per-sample loop has no branch on the kind, and skips the division when k == 0 (counters,
// where m / 1.0 == m exactly).
template <bool kDoubleDelta, bool kScaled>
bool DecodeMantissas(const uint8_t*& p, const uint8_t* end, double scale, Sample* s, uint64_t n) {
  uint64_t z = 0;
  if (!ReadVarint(p, end, &z)) return false;
  int64_t m = UnZigZag(z);
  int64_t d = 0;
  s[0].v = kScaled ? static_cast<double>(m) / scale : static_cast<double>(m);
  for (uint64_t i = 1; i < n; ++i) {
    if (!ReadVarint(p, end, &z)) return false;
    d = kDoubleDelta ? Add(d, UnZigZag(z)) : UnZigZag(z);
    m = Add(m, d);
    s[i].v = kScaled ? static_cast<double>(m) / scale : static_cast<double>(m);
  }
  return true;
}

// Appends all n samples of the payload to `out` (capacity reserved; push_back rather than
// resize, which would zero the memory first); `n` has been read already.
Status DecodeAll(const uint8_t* p, const uint8_t* end, uint64_t n, std::vector<Sample>* out) {
  const size_t base = out->size();
  uint64_t z = 0;
  if (!ReadVarint(p, end, &z)) return Corrupt("truncated timestamps");
  int64_t t = UnZigZag(z);
  int64_t delta = 0;
  out->push_back({t, 0});
  for (uint64_t i = 1; i < n; ++i) {
    if (!ReadVarint(p, end, &z)) return Corrupt("truncated timestamps");
    delta = Add(delta, UnZigZag(z));
    if (delta <= 0) return Corrupt("timestamps out of order");
    const int64_t next = Add(t, delta);
    if (next < t) return Corrupt("timestamp overflow");
    t = next;
    out->push_back({t, 0});
  }
  Sample* const s = out->data() + base;
  if (p >= end) return Corrupt("truncated values");
  const uint8_t kind = *p++;
  if (kind == kXor) {
    if (static_cast<uint64_t>(end - p) < n * 8) return Corrupt("truncated values");
    uint64_t prev = 0;
    for (uint64_t i = 0; i < n; ++i) {
      uint64_t x;
      std::memcpy(&x, p + 8 * i, 8);
      prev ^= x;
      s[i].v = std::bit_cast<double>(prev);
    }
    return Status::Ok();
  }
  if (kind != kDecimalDelta && kind != kDecimalDoubleDelta) return Corrupt("unknown value kind");
  if (p >= end) return Corrupt("truncated values");
  const int k = *p++;
  if (k > kMaxExponent) return Corrupt("bad exponent");
  const double scale = kPow10[k];
  const bool dod = kind == kDecimalDoubleDelta;
  const bool ok = dod ? (k == 0 ? DecodeMantissas<true, false>(p, end, scale, s, n)
                                : DecodeMantissas<true, true>(p, end, scale, s, n))
                      : (k == 0 ? DecodeMantissas<false, false>(p, end, scale, s, n)
                                : DecodeMantissas<false, true>(p, end, scale, s, n));
  if (!ok) return Corrupt("truncated values");
  uint64_t nexc = 0;
  if (!ReadVarint(p, end, &nexc) || nexc > n) return Corrupt("bad exception count");
  uint64_t idx = 0;
  for (uint64_t e = 0; e < nexc; ++e) {
    uint64_t gap = 0;
    if (!ReadVarint(p, end, &gap)) return Corrupt("bad exception");
    idx += gap;
    if (end - p < 8 || idx >= n) return Corrupt("bad exception");
    uint64_t bits;
    std::memcpy(&bits, p, 8);
    p += 8;
    s[idx].v = std::bit_cast<double>(bits);
  }
  return Status::Ok();
}

Status DecodePayload(std::string_view payload, int64_t mint, int64_t maxt,
                     std::vector<Sample>* out) {
  const auto* p = reinterpret_cast<const uint8_t*>(payload.data());
  const uint8_t* const end = p + payload.size();
  uint64_t n = 0;
  if (!ReadVarint(p, end, &n) || n == 0 || n > payload.size()) return Corrupt("bad sample count");
  const size_t base = out->size();
  // Geometric growth: a series' chunks are appended one after the other.
  if (out->capacity() < base + n) out->reserve(std::max(base + n, 2 * out->capacity()));
  if (Status st = DecodeAll(p, end, n, out); !st.ok()) {
    out->resize(base);
    return st;
  }
  Sample* const s = out->data() + base;
  const Sample* b = s;
  const Sample* e = s + n;
  if (b->t < mint) {
    b = std::lower_bound(b, e, mint, [](const Sample& x, int64_t t) { return x.t < t; });
  }
  if (b != e && (e - 1)->t > maxt) {
    e = std::upper_bound(b, e, maxt, [](int64_t t, const Sample& x) { return t < x.t; });
  }
  if (b != s) std::copy(b, e, s);
  out->resize(base + static_cast<size_t>(e - b));
  return Status::Ok();
}

}  // namespace

void EncodeBlockChunk(std::span<const Sample> samples, std::string* out) {
  assert(!samples.empty());
  std::string payload;
  payload.reserve(samples.size() * 3 + 16);
  EncodePayload(samples, payload);
  if (payload.size() >= kMinCompressBytes) {
    thread_local std::unique_ptr<ZSTD_CCtx, CCtxFree> cctx(ZSTD_createCCtx());
    std::string compressed(ZSTD_compressBound(payload.size()), '\0');
    const size_t z = ZSTD_compressCCtx(cctx.get(), compressed.data(), compressed.size(),
                                       payload.data(), payload.size(), kZstdLevel);
    if (!ZSTD_isError(z) && static_cast<double>(z + VarintLength(payload.size())) <=
                                kMaxZstdRatio * static_cast<double>(payload.size())) {
      out->push_back(static_cast<char>(kFlagZstd));
      PutVarint(*out, payload.size());
      out->append(compressed.data(), z);
      return;
    }
  }
  out->push_back(0);
  out->append(payload);
}

Status DecodeBlockChunk(std::string_view data, int64_t mint, int64_t maxt,
                        std::vector<Sample>* out) {
  ByteReader r(data);
  const uint8_t flags = r.Byte();
  if (!r.ok() || (flags & ~kFlagZstd) != 0) return Corrupt("bad flags");
  if (!(flags & kFlagZstd)) {
    return DecodePayload(data.substr(1), mint, maxt, out);
  }
  const uint64_t raw = r.Varint();
  if (!r.ok() || raw > (uint64_t{1} << 31)) return Corrupt("bad length");
  thread_local std::unique_ptr<ZSTD_DCtx, DCtxFree> dctx(ZSTD_createDCtx());
  // Grown only, never zero-filled: zstd writes every byte it reports.
  thread_local std::unique_ptr<char[]> buffer;
  thread_local size_t capacity = 0;
  if (capacity < raw) {
    capacity = std::max<size_t>(raw, 2 * capacity);
    buffer.reset(new char[capacity]);
  }
  const size_t got =
      ZSTD_decompressDCtx(dctx.get(), buffer.get(), raw, r.position(), r.remaining());
  if (ZSTD_isError(got) || got != raw) return Corrupt("zstd");
  return DecodePayload(std::string_view(buffer.get(), raw), mint, maxt, out);
}

}  // namespace pa::storage::embedded_tsdb
