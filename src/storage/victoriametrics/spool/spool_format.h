// The spool's on-disk format (see spool.h): segment files of CRC-framed records, the delivery
// marker, and the file operations on them. Internal to the spool.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/status.h"

namespace pa::storage::victoriametrics::spool_format {

inline constexpr char kMagic[8] = {'P', 'A', 'V', 'M', 'S', 'P', 'L', '1'};
inline constexpr int64_t kHeaderBytes = sizeof(kMagic);
inline constexpr int64_t kFrameBytes = 8;  // u32 length, u32 CRC32
inline constexpr uint32_t kMaxRecordBytes = uint32_t{256} << 20;

Status IoError(const std::string& what, const std::string& path, int err);
uint32_t Crc(const char* data, size_t n);
void PutU32(char* p, uint32_t v);
uint32_t GetU32(const char* p);

// "00000000000000000042.seg" and back.
std::string SegmentName(uint64_t seq);
std::optional<uint64_t> ParseSegmentName(std::string_view name);

Status WriteAll(int fd, const char* data, size_t n, off_t offset, const std::string& path);
Status ReadAll(int fd, char* data, size_t n, off_t offset, const std::string& path);
Status SyncDir(const std::string& dir);

// Records before `offset` in segment `segment` are delivered (file `shipped`, best effort).
struct Marker {
  uint64_t segment = 0;
  int64_t offset = 0;
};
std::optional<Marker> ReadMarker(const std::string& dir);
void WriteMarker(const std::string& dir, const Marker& m);

struct Segment {
  uint64_t seq = 0;
  std::string path;
  int64_t size = 0;     // durable bytes, header included
  int64_t records = 0;  // records in [header, size)
  int write_fd = -1;    // the active segment only
  int read_fd = -1;     // opened by the consumer
  void Close();
};

// A new, empty segment (header written and synced, directory synced), open for appending.
Result<Segment> CreateSegment(const std::string& dir, uint64_t seq);

// What recovery found in one segment file. A torn or corrupt tail has been cut off already.
struct SegmentScan {
  enum class Kind { kSegment, kEmpty, kForeign } kind = Kind::kSegment;
  int64_t valid_end = 0;  // bytes kept
  int64_t records = 0;
  int64_t cut_bytes = 0;
  std::optional<int64_t> records_before_offset;  // when `offset` is a record boundary
  Clock::WallTime modified;
};
// Reads `path`; `offset` (the marker's, if it names this segment) is looked up among the record
// boundaries. kEmpty: shorter than the header (a crash while creating it); kForeign: not a
// segment. Cuts what follows the last valid record.
Result<SegmentScan> ScanSegment(const std::string& path, std::optional<int64_t> offset);

}  // namespace pa::storage::victoriametrics::spool_format
