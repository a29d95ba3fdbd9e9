// Byte- and bit-level primitives shared by the chunk encodings, the WAL and the block index:
// LEB128 varints, zigzag, little-endian fixed-width integers, and a bit stream for the
// Gorilla-style head chunks.
//
// Readers never read past the end of their input: a truncated or corrupt buffer makes the
// reader report failure (ok() == false) instead of reading garbage.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace pa::storage::embedded_tsdb {

inline uint64_t ZigZag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
inline int64_t UnZigZag(uint64_t v) { return static_cast<int64_t>((v >> 1) ^ (0 - (v & 1))); }

inline void PutVarint(std::string& out, uint64_t v) {
  char buf[10];
  int n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  out.append(buf, n);
}
inline void PutSignedVarint(std::string& out, int64_t v) { PutVarint(out, ZigZag(v)); }
inline int VarintLength(uint64_t v) {
  int n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

inline void PutFixed32(std::string& out, uint32_t v) {
  char buf[4];
  std::memcpy(buf, &v, 4);  // little-endian hosts only (x86-64, arm64)
  out.append(buf, 4);
}
inline void PutFixed64(std::string& out, uint64_t v) {
  char buf[8];
  std::memcpy(buf, &v, 8);
  out.append(buf, 8);
}
inline void PutString(std::string& out, std::string_view s) {
  PutVarint(out, s.size());
  out.append(s);
}

// Sequential reader over a byte buffer.
class ByteReader {
 public:
  explicit ByteReader(std::string_view data) : p_(data.data()), end_(data.data() + data.size()) {}

  bool ok() const { return ok_; }
  bool done() const { return p_ >= end_; }
  size_t remaining() const { return static_cast<size_t>(end_ - p_); }
  const char* position() const { return p_; }

  uint64_t Varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ >= end_) return Fail();
      const uint8_t b = static_cast<uint8_t>(*p_++);
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (b < 0x80) return v;
    }
    return Fail();
  }
  int64_t SignedVarint() { return UnZigZag(Varint()); }
  uint8_t Byte() {
    if (p_ >= end_) return static_cast<uint8_t>(Fail());
    return static_cast<uint8_t>(*p_++);
  }
  uint32_t Fixed32() {
    uint32_t v = 0;
    if (remaining() < 4) return static_cast<uint32_t>(Fail());
    std::memcpy(&v, p_, 4);
    p_ += 4;
    return v;
  }
  uint64_t Fixed64() {
    uint64_t v = 0;
    if (remaining() < 8) return Fail();
    std::memcpy(&v, p_, 8);
    p_ += 8;
    return v;
  }
  std::string_view String() {
    const uint64_t n = Varint();
    if (!ok_ || n > remaining()) {
      Fail();
      return {};
    }
    std::string_view s(p_, n);
    p_ += n;
    return s;
  }
  std::string_view Bytes(size_t n) {
    if (n > remaining()) {
      Fail();
      return {};
    }
    std::string_view s(p_, n);
    p_ += n;
    return s;
  }

 private:
  uint64_t Fail() {
    ok_ = false;
    p_ = end_;
    return 0;
  }
  const char* p_;
  const char* end_;
  bool ok_ = true;
};

// Appends bits most-significant first to a byte vector; the last byte may be partial.
class BitWriter {
 public:
  // `bits` ≤ 64; the low `bits` bits of `v` are written.
  void Write(uint64_t v, int bits, std::vector<uint8_t>& out) {
    while (bits > 0) {
      if (free_ == 0) {
        out.push_back(0);
        free_ = 8;
      }
      const int n = bits < free_ ? bits : free_;
      const uint64_t chunk = (v >> (bits - n)) & ((1ULL << n) - 1);
      out.back() |= static_cast<uint8_t>(chunk << (free_ - n));
      free_ -= n;
      bits -= n;
    }
  }
  void WriteBit(bool b, std::vector<uint8_t>& out) { Write(b ? 1 : 0, 1, out); }
  int free_bits() const { return free_; }
  void set_free_bits(int f) { free_ = f; }

 private:
  int free_ = 0;  // unused low bits of out.back()
};

// Reads bits most-significant first.
class BitReader {
 public:
  BitReader(const uint8_t* data, size_t size) : p_(data), end_(data + size) {}

  bool ok() const { return ok_; }

  uint64_t Read(int bits) {
    uint64_t v = 0;
    while (bits > 0) {
      if (avail_ == 0) {
        if (p_ >= end_) {
          ok_ = false;
          return 0;
        }
        cur_ = *p_++;
        avail_ = 8;
      }
      const int n = bits < avail_ ? bits : avail_;
      v = (n == 64 ? 0 : v << n) | ((cur_ >> (avail_ - n)) & ((1u << n) - 1));
      avail_ -= n;
      bits -= n;
    }
    return v;
  }
  bool ReadBit() {
    if (avail_ == 0) {
      if (p_ >= end_) {
        ok_ = false;
        return false;
      }
      cur_ = *p_++;
      avail_ = 8;
    }
    --avail_;
    return (cur_ >> avail_) & 1;
  }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
  uint32_t cur_ = 0;
  int avail_ = 0;
  bool ok_ = true;
};

}  // namespace pa::storage::embedded_tsdb
