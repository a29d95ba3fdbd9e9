#include "storage/victoriametrics/spool/spool_format.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <system_error>

namespace pa::storage::victoriametrics::spool_format {

namespace {

constexpr const char* kMarkerFile = "shipped";

std::string ErrnoText(int err) { return std::error_code(err, std::generic_category()).message(); }

}  // namespace

Status IoError(const std::string& what, const std::string& path, int err) {
  return UnavailableError("metric spool: cannot " + what + " " + path + ": " + ErrnoText(err));
}

uint32_t Crc(const char* data, size_t n) {
  return static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(data), n));
}

void PutU32(char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>(v >> (8 * i));
}

uint32_t GetU32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= uint32_t{static_cast<uint8_t>(p[i])} << (8 * i);
  return v;
}

std::string SegmentName(uint64_t seq) {
  std::string digits = std::to_string(seq);
  return std::string(20 - std::min<size_t>(20, digits.size()), '0') + digits + ".seg";
}

std::optional<uint64_t> ParseSegmentName(std::string_view name) {
  if (name.size() != 24 || !name.ends_with(".seg")) return std::nullopt;
  uint64_t seq = 0;
  auto [p, ec] = std::from_chars(name.data(), name.data() + 20, seq);
  if (ec != std::errc() || p != name.data() + 20) return std::nullopt;
  return seq;
}

Status WriteAll(int fd, const char* data, size_t n, off_t offset, const std::string& path) {
  while (n > 0) {
    const ssize_t w = pwrite(fd, data, n, offset);
    if (w < 0) {
      if (errno == EINTR) continue;
      return IoError("write", path, errno);
    }
    data += w;
    n -= static_cast<size_t>(w);
    offset += w;
  }
  return Status::Ok();
}

Status ReadAll(int fd, char* data, size_t n, off_t offset, const std::string& path) {
  while (n > 0) {
    const ssize_t r = pread(fd, data, n, offset);
    if (r < 0) {
      if (errno == EINTR) continue;
      return IoError("read", path, errno);
    }
    if (r == 0) return DataLossError("metric spool: " + path + " is shorter than expected");
    data += r;
    n -= static_cast<size_t>(r);
    offset += r;
  }
  return Status::Ok();
}

Status SyncDir(const std::string& dir) {
  const int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return IoError("open", dir, errno);
  const int rc = fsync(fd);
  const int err = errno;
  close(fd);
  return rc == 0 ? Status::Ok() : IoError("fsync", dir, err);
}

std::optional<Marker> ReadMarker(const std::string& dir) {
  const std::string path = dir + "/" + kMarkerFile;
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  char buf[64];
  const ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n <= 0) return std::nullopt;
  std::string_view text(buf, static_cast<size_t>(n));
  Marker m;
  const size_t space = text.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  auto r1 = std::from_chars(text.data(), text.data() + space, m.segment);
  auto r2 = std::from_chars(text.data() + space + 1, text.data() + text.size(), m.offset);
  if (r1.ec != std::errc() || r2.ec != std::errc() || r2.ptr == text.data() + text.size() ||
      *r2.ptr != '\n') {
    return std::nullopt;
  }
  return m;
}

// Best effort: a lost marker only means records are delivered again.
void WriteMarker(const std::string& dir, const Marker& m) {
  const std::string path = dir + "/" + kMarkerFile;
  const std::string tmp = path + ".tmp";
  const std::string text = std::to_string(m.segment) + " " + std::to_string(m.offset) + "\n";
  const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  const bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  close(fd);
  if (ok) rename(tmp.c_str(), path.c_str());
}

void Segment::Close() {
  if (write_fd >= 0) close(write_fd);
  if (read_fd >= 0) close(read_fd);
  write_fd = read_fd = -1;
}

Result<Segment> CreateSegment(const std::string& dir, uint64_t seq) {
  Segment seg;
  seg.seq = seq;
  seg.path = dir + "/" + SegmentName(seq);
  seg.write_fd = open(seg.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (seg.write_fd < 0) return IoError("create", seg.path, errno);
  Status st = WriteAll(seg.write_fd, kMagic, kHeaderBytes, 0, seg.path);
  if (st.ok() && fdatasync(seg.write_fd) != 0) st = IoError("fsync", seg.path, errno);
  if (st.ok()) st = SyncDir(dir);
  if (!st.ok()) {
    seg.Close();
    unlink(seg.path.c_str());
    return st;
  }
  seg.size = kHeaderBytes;
  return seg;
}

Result<SegmentScan> ScanSegment(const std::string& path, std::optional<int64_t> offset) {
  SegmentScan scan;
  const int fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return IoError("open", path, errno);
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    const int err = errno;
    close(fd);
    return IoError("stat", path, err);
  }
  scan.modified = Clock::WallTime(std::chrono::duration_cast<Clock::WallTime::duration>(
      std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec)));
  std::string data(static_cast<size_t>(st.st_size), '\0');
  Status read = ReadAll(fd, data.data(), data.size(), 0, path);
  if (!read.ok()) {
    close(fd);
    return read;
  }
  const auto size = static_cast<int64_t>(data.size());
  if (size < kHeaderBytes) {
    close(fd);
    scan.kind = SegmentScan::Kind::kEmpty;
    return scan;
  }
  if (!std::equal(kMagic, kMagic + kHeaderBytes, data.data())) {
    close(fd);
    scan.kind = SegmentScan::Kind::kForeign;
    return scan;
  }
  int64_t pos = kHeaderBytes;
  while (true) {
    if (offset && pos == *offset) scan.records_before_offset = scan.records;
    if (pos + kFrameBytes > size) break;
    const uint32_t len = GetU32(data.data() + pos);
    if (len > kMaxRecordBytes || pos + kFrameBytes + len > size ||
        Crc(data.data() + pos + kFrameBytes, len) != GetU32(data.data() + pos + 4)) {
      break;
    }
    pos += kFrameBytes + len;
    ++scan.records;
  }
  scan.valid_end = pos;
  if (pos < size) {
    scan.cut_bytes = size - pos;
    if (ftruncate(fd, pos) != 0 || fdatasync(fd) != 0) {
      const int err = errno;
      close(fd);
      return IoError("truncate", path, err);
    }
  }
  close(fd);
  return scan;
}

}  // namespace pa::storage::victoriametrics::spool_format
