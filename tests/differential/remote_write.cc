#include "remote_write.h"

#include <algorithm>
#include <bit>
#include <cstdint>

namespace pa::differential {
namespace {

void Varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out += static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
}

// A length-delimited field (wire type 2).
void Bytes(std::string& out, int field, const std::string& data) {
  Varint(out, static_cast<uint64_t>(field) << 3 | 2);
  Varint(out, data.size());
  out += data;
}

}  // namespace

std::string EncodeWriteRequest(const std::vector<storage::SeriesSamples>& series) {
  // WriteRequest{1: repeated TimeSeries}; TimeSeries{1: repeated Label, 2: repeated Sample};
  // Label{1: name, 2: value}; Sample{1: double value, 2: int64 timestamp}.
  std::string request;
  for (const auto& s : series) {
    std::string ts;
    for (const auto& l : s.labels) {
      std::string label;
      Bytes(label, 1, l.name);
      Bytes(label, 2, l.value);
      Bytes(ts, 1, label);
    }
    for (const auto& p : s.samples) {
      std::string sample;
      sample += static_cast<char>(1 << 3 | 1);  // fixed64
      const uint64_t bits = std::bit_cast<uint64_t>(p.v);
      for (int i = 0; i < 8; ++i) sample += static_cast<char>(bits >> (8 * i));
      sample += static_cast<char>(2 << 3 | 0);  // varint
      Varint(sample, static_cast<uint64_t>(p.t));
      Bytes(ts, 2, sample);
    }
    Bytes(request, 1, ts);
  }
  return request;
}

std::string SnappyLiteralBlock(const std::string& data) {
  std::string out;
  Varint(out, data.size());
  for (size_t pos = 0; pos < data.size();) {
    const size_t n = std::min<size_t>(65536, data.size() - pos);
    const size_t m = n - 1;
    if (m < 60) {
      out += static_cast<char>(m << 2);
    } else if (m < 256) {
      out += static_cast<char>(60 << 2);
      out += static_cast<char>(m);
    } else {
      out += static_cast<char>(61 << 2);
      out += static_cast<char>(m & 0xff);
      out += static_cast<char>(m >> 8);
    }
    out.append(data, pos, n);
    pos += n;
  }
  return out;
}

std::string EncodeRemoteWrite(const std::vector<storage::SeriesSamples>& series) {
  return SnappyLiteralBlock(EncodeWriteRequest(series));
}

std::vector<std::pair<std::string, std::string>> RemoteWriteHeaders() {
  return {{"Content-Type", "application/x-protobuf"},
          {"Content-Encoding", "snappy"},
          {"X-Prometheus-Remote-Write-Version", "0.1.0"}};
}

}  // namespace pa::differential
