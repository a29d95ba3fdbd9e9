// The protobuf wire format of prometheus.WriteRequest, written by hand: four messages, three
// field types — smaller than generated code and a protoc step in the build.
//
//   WriteRequest { repeated TimeSeries timeseries = 1; }
//   TimeSeries   { repeated Label labels = 1; repeated Sample samples = 2; }
//   Label        { string name = 1; string value = 2; }
//   Sample       { double value = 1; int64 timestamp = 2; }
#include "storage/victoriametrics/remote_write.h"

#include <snappy.h>

#include <bit>
#include <cstring>

namespace pa::storage::victoriametrics {
namespace {

constexpr uint8_t kLen = 2;     // wire type: length-delimited
constexpr uint8_t kVarint = 0;  // wire type: varint
constexpr uint8_t kFixed64 = 1;

void PutVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

size_t VarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

void PutTag(std::string& out, int field, uint8_t wire_type) {
  out.push_back(static_cast<char>((field << 3) | wire_type));
}

size_t LabelSize(const Label& l) {
  return 1 + VarintSize(l.name.size()) + l.name.size() + 1 + VarintSize(l.value.size()) +
         l.value.size();
}

size_t SampleSize(const Sample& s) { return 1 + 8 + 1 + VarintSize(static_cast<uint64_t>(s.t)); }

// One TimeSeries message (field 1 of WriteRequest) with samples [begin, end).
void PutTimeSeries(std::string& out, const Labels& labels, const Sample* begin, const Sample* end) {
  size_t body = 0;
  for (const auto& l : labels) {
    const size_t n = LabelSize(l);
    body += 1 + VarintSize(n) + n;
  }
  for (const Sample* s = begin; s != end; ++s) {
    const size_t n = SampleSize(*s);
    body += 1 + VarintSize(n) + n;
  }
  PutTag(out, 1, kLen);
  PutVarint(out, body);
  for (const auto& l : labels) {
    PutTag(out, 1, kLen);
    PutVarint(out, LabelSize(l));
    PutTag(out, 1, kLen);
    PutVarint(out, l.name.size());
    out += l.name;
    PutTag(out, 2, kLen);
    PutVarint(out, l.value.size());
    out += l.value;
  }
  for (const Sample* s = begin; s != end; ++s) {
    PutTag(out, 2, kLen);
    PutVarint(out, SampleSize(*s));
    PutTag(out, 1, kFixed64);
    const uint64_t bits = std::bit_cast<uint64_t>(s->v);
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(bits >> (8 * i)));
    PutTag(out, 2, kVarint);
    PutVarint(out, static_cast<uint64_t>(s->t));
  }
}

void PutFixed32(std::string& out, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) out[at + i] = static_cast<char>(v >> (8 * i));
}

// A minimal protobuf reader for the decoder (tests and diagnostics only).
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  bool done() const { return pos_ >= data_.size(); }
  bool Varint(uint64_t* v) {
    *v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= data_.size()) return false;
      const uint8_t b = static_cast<uint8_t>(data_[pos_++]);
      *v |= uint64_t{b & 0x7fu} << shift;
      if (!(b & 0x80)) return true;
    }
    return false;
  }
  bool Bytes(std::string_view* out) {
    uint64_t n;
    if (!Varint(&n) || n > data_.size() - pos_) return false;
    *out = data_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  bool Fixed64(uint64_t* v) {
    if (data_.size() - pos_ < 8) return false;
    *v = 0;
    for (int i = 0; i < 8; ++i) *v |= uint64_t{static_cast<uint8_t>(data_[pos_ + i])} << (8 * i);
    pos_ += 8;
    return true;
  }
  // Skips a field of an unexpected type; false when malformed.
  bool Skip(uint8_t wire_type) {
    uint64_t v;
    std::string_view s;
    switch (wire_type) {
      case kVarint:
        return Varint(&v);
      case kFixed64:
        return Fixed64(&v);
      case kLen:
        return Bytes(&s);
      case 5:
        if (data_.size() - pos_ < 4) return false;
        pos_ += 4;
        return true;
      default:
        return false;
    }
  }

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

bool DecodeLabel(std::string_view data, Label* label) {
  Reader r(data);
  while (!r.done()) {
    uint64_t tag;
    std::string_view s;
    if (!r.Varint(&tag)) return false;
    if ((tag & 7) != kLen) {
      if (!r.Skip(tag & 7)) return false;
      continue;
    }
    if (!r.Bytes(&s)) return false;
    if ((tag >> 3) == 1) label->name = std::string(s);
    if ((tag >> 3) == 2) label->value = std::string(s);
  }
  return true;
}

bool DecodeSample(std::string_view data, Sample* sample) {
  Reader r(data);
  while (!r.done()) {
    uint64_t tag, v;
    if (!r.Varint(&tag)) return false;
    if ((tag >> 3) == 1 && (tag & 7) == kFixed64) {
      if (!r.Fixed64(&v)) return false;
      sample->v = std::bit_cast<double>(v);
    } else if ((tag >> 3) == 2 && (tag & 7) == kVarint) {
      if (!r.Varint(&v)) return false;
      sample->t = static_cast<int64_t>(v);
    } else if (!r.Skip(tag & 7)) {
      return false;
    }
  }
  return true;
}

bool DecodeTimeSeries(std::string_view data, SeriesSamples* series) {
  Reader r(data);
  while (!r.done()) {
    uint64_t tag;
    std::string_view s;
    if (!r.Varint(&tag)) return false;
    if ((tag & 7) != kLen) {
      if (!r.Skip(tag & 7)) return false;
      continue;
    }
    if (!r.Bytes(&s)) return false;
    if ((tag >> 3) == 1) {
      if (!DecodeLabel(s, &series->labels.emplace_back())) return false;
    } else if ((tag >> 3) == 2) {
      if (!DecodeSample(s, &series->samples.emplace_back())) return false;
    }
  }
  return true;
}

}  // namespace

std::vector<std::string> EncodeRecords(const std::vector<SeriesSamples>& batch, size_t target_bytes,
                                       size_t max_samples_per_series) {
  std::vector<std::string> records;
  std::string current;
  uint32_t samples = 0;
  auto start = [&] {
    current.assign(4, '\0');
    samples = 0;
  };
  auto finish = [&] {
    if (samples == 0) return;
    PutFixed32(current, 0, samples);
    records.push_back(std::move(current));
  };
  start();
  for (const auto& series : batch) {
    const Sample* p = series.samples.data();
    const Sample* end = p + series.samples.size();
    while (p != end) {
      const size_t n = std::min<size_t>(end - p, max_samples_per_series);
      PutTimeSeries(current, series.labels, p, p + n);
      samples += static_cast<uint32_t>(n);
      p += n;
      if (current.size() >= target_bytes) {
        finish();
        start();
      }
    }
  }
  finish();
  return records;
}

bool SplitRecord(std::string_view record, uint32_t* samples, std::string_view* fragment) {
  if (record.size() < 4) return false;
  uint32_t n = 0;
  for (int i = 0; i < 4; ++i) n |= uint32_t{static_cast<uint8_t>(record[i])} << (8 * i);
  *samples = n;
  *fragment = record.substr(4);
  return true;
}

std::string CompressBody(std::string_view write_request) {
  std::string out;
  snappy::Compress(write_request.data(), write_request.size(), &out);
  return out;
}

Result<std::string> DecompressBody(std::string_view body) {
  std::string out;
  if (!snappy::Uncompress(body.data(), body.size(), &out)) {
    return InvalidArgumentError("not a valid snappy block");
  }
  return out;
}

Result<std::vector<SeriesSamples>> DecodeWriteRequest(std::string_view write_request) {
  std::vector<SeriesSamples> out;
  Reader r(write_request);
  while (!r.done()) {
    uint64_t tag;
    std::string_view s;
    if (!r.Varint(&tag)) return InvalidArgumentError("malformed WriteRequest: bad tag");
    if (tag != ((1 << 3) | kLen)) {
      if (!r.Skip(tag & 7)) return InvalidArgumentError("malformed WriteRequest: bad field");
      continue;
    }
    if (!r.Bytes(&s) || !DecodeTimeSeries(s, &out.emplace_back())) {
      return InvalidArgumentError("malformed WriteRequest: bad TimeSeries");
    }
  }
  return out;
}

}  // namespace pa::storage::victoriametrics
