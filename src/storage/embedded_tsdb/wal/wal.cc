#include "storage/embedded_tsdb/wal/wal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "base/logging.h"
#include "storage/embedded_tsdb/chunkenc/bits.h"

namespace pa::storage::embedded_tsdb {
namespace {

namespace fs = std::filesystem;
constexpr uint32_t kMaxRecord = 1u << 30;

std::string SegmentName(uint64_t n) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "%016llu", static_cast<unsigned long long>(n));
  return buf;
}

Status IoError(const std::string& what, const std::string& path, int err) {
  return UnavailableError("metrics WAL: " + what + " " + path + ": " + std::strerror(err));
}

uint32_t Crc(std::string_view data) {
  return static_cast<uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size())));
}

Status SyncDir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return IoError("open directory", dir, errno);
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  return rc == 0 ? Status::Ok() : IoError("fsync directory", dir, err);
}

// Segment numbers present in `dir`, ascending.
Result<std::vector<uint64_t>> ListSegments(const std::string& dir) {
  std::vector<uint64_t> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.size() != 16 || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    out.push_back(std::stoull(name));
  }
  if (ec) return UnavailableError("metrics WAL: cannot list " + dir + ": " + ec.message());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

Result<std::unique_ptr<Wal>> Wal::Open(const Options& options, const ReplayFn& replay,
                                       ReplayStats* stats) {
  auto log = pa::log::Get("tsdb");
  std::error_code ec;
  fs::create_directories(options.dir, ec);
  if (ec)
    return UnavailableError("metrics WAL: cannot create " + options.dir + ": " + ec.message());
  PA_ASSIGN_OR_RETURN(std::vector<uint64_t> segments, ListSegments(options.dir));
  ReplayStats local;
  if (!stats) stats = &local;
  for (size_t i = 0; i < segments.size(); ++i) {
    const std::string path = options.dir + "/" + SegmentName(segments[i]);
    std::ifstream in(path, std::ios::binary);
    if (!in) return IoError("open", path, errno);
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    size_t pos = 0;
    std::string problem;
    while (pos < data.size()) {
      if (data.size() - pos < 8) {
        problem = "a record header cut short";
        break;
      }
      ByteReader header(std::string_view(data).substr(pos, 8));
      const uint32_t len = header.Fixed32();
      const uint32_t crc = header.Fixed32();
      if (len > kMaxRecord || len > data.size() - pos - 8) {
        problem = "a record cut short";
        break;
      }
      const std::string_view payload(data.data() + pos + 8, len);
      if (Crc(payload) != crc) {
        problem = "a record failing its checksum";
        break;
      }
      PA_RETURN_IF_ERROR(replay(payload).WithContext("metrics WAL " + path));
      ++stats->records;
      pos += 8 + len;
    }
    if (pos == data.size()) continue;
    const int64_t dropped = static_cast<int64_t>(data.size() - pos);
    const bool last = i + 1 == segments.size();
    if (last) {
      stats->torn_bytes += dropped;
      log->warn(
          "metrics WAL: segment {} ends with {} (torn write from a crash); truncated it at "
          "byte {}, dropping {} bytes that were never acknowledged",
          path, problem, pos, dropped);
    } else {
      stats->corrupt_bytes += dropped;
      log->error(
          "metrics WAL: segment {} has {} at byte {} (disk corruption?); skipping the "
          "remaining {} bytes of that segment",
          path, problem, pos, dropped);
    }
    if (::truncate(path.c_str(), static_cast<off_t>(pos)) != 0) {
      return IoError("truncate", path, errno);
    }
  }
  auto wal = std::unique_ptr<Wal>(new Wal(options));
  PA_RETURN_IF_ERROR(wal->OpenSegment(segments.empty() ? 1 : segments.back() + 1));
  return wal;
}

Wal::~Wal() {
  if (fd_ >= 0) ::close(fd_);
}

Status Wal::OpenSegment(uint64_t n) {
  const std::string path = options_.dir + "/" + SegmentName(n);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return IoError("create", path, errno);
  if (::fdatasync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    return IoError("fsync", path, err);
  }
  PA_RETURN_IF_ERROR(SyncDir(options_.dir));
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
  segment_ = n;
  segment_size_ = 0;
  return Status::Ok();
}

uint64_t Wal::Add(std::string_view payload) {
  std::string header;
  PutFixed32(header, static_cast<uint32_t>(payload.size()));
  PutFixed32(header, Crc(payload));
  std::lock_guard lock(mu_);
  pending_ += header;
  pending_.append(payload);
  added_ += header.size() + payload.size();
  return added_;
}

Status Wal::WriteAndSync(const std::string& data) {
  const std::string path = options_.dir + "/" + SegmentName(segment_);
  size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::write(fd_, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError("write", path, errno);
    }
    off += static_cast<size_t>(n);
  }
  const auto start = std::chrono::steady_clock::now();
  if (::fdatasync(fd_) != 0) return IoError("fsync", path, errno);
  if (options_.fsync_seconds) {
    options_.fsync_seconds->Observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  segment_size_ += static_cast<int64_t>(data.size());
  if (segment_size_ >= options_.segment_bytes) return OpenSegment(segment_ + 1);
  return Status::Ok();
}

Status Wal::FlushLocked(std::unique_lock<std::mutex>& lock) {
  cv_.wait(lock, [&] { return !io_busy_; });
  if (!error_.ok()) return error_;
  io_busy_ = true;
  std::string data;
  data.swap(pending_);
  const uint64_t upto = added_;
  lock.unlock();
  Status s = data.empty() ? Status::Ok() : WriteAndSync(data);
  lock.lock();
  io_busy_ = false;
  if (s.ok()) {
    synced_ = std::max(synced_, upto);
  } else {
    error_ = s;
  }
  cv_.notify_all();
  return s;
}

Status Wal::Sync(uint64_t position) {
  std::unique_lock lock(mu_);
  while (synced_ < position) {
    if (!error_.ok()) return error_;
    if (io_busy_) {
      cv_.wait(lock);
      continue;
    }
    PA_RETURN_IF_ERROR(FlushLocked(lock));
  }
  return Status::Ok();
}

Result<uint64_t> Wal::Cut() {
  std::unique_lock lock(mu_);
  PA_RETURN_IF_ERROR(FlushLocked(lock));
  cv_.wait(lock, [&] { return !io_busy_; });
  io_busy_ = true;
  lock.unlock();
  Status s = OpenSegment(segment_ + 1);
  const uint64_t segment = segment_;
  lock.lock();
  io_busy_ = false;
  if (!s.ok()) error_ = s;
  cv_.notify_all();
  if (!s.ok()) return s;
  return segment;
}

Status Wal::RemoveBefore(uint64_t segment) {
  PA_ASSIGN_OR_RETURN(std::vector<uint64_t> segments, ListSegments(options_.dir));
  for (uint64_t n : segments) {
    if (n >= segment) break;
    const std::string path = options_.dir + "/" + SegmentName(n);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return IoError("delete", path, errno);
  }
  return Status::Ok();
}

int64_t Wal::num_segments() const {
  auto segments = ListSegments(options_.dir);
  return segments.ok() ? static_cast<int64_t>(segments->size()) : 0;
}

Status Wal::status() const {
  std::lock_guard lock(mu_);
  return error_;
}

uint64_t Wal::current_segment() const { return segment_; }

}  // namespace pa::storage::embedded_tsdb
