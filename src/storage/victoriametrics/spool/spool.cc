#include "storage/victoriametrics/spool/spool.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <system_error>

#include "storage/victoriametrics/spool/spool_format.h"

namespace pa::storage::victoriametrics {

using namespace spool_format;  // NOLINT: this file is the format's one user

namespace {

namespace fs = std::filesystem;

// One group commit writes at most this much (more waiting appenders form the next group).
constexpr int64_t kMaxGroupBytes = int64_t{16} << 20;

}  // namespace

struct Spool::State {
  SpoolOptions opt;
  Clock* clock = nullptr;
  int lock_fd = -1;

  struct Writer {
    const std::vector<std::string>* records;
    int64_t bytes;  // framed
    Status status;
    bool done = false;
    std::condition_variable cv;
  };

  mutable std::mutex mu;
  std::condition_variable data_cv;       // records appended, or Wake()
  std::condition_variable committed_cv;  // records committed
  std::deque<Writer*> writers;           // writers.front() leads the next group commit
  std::deque<Segment> segments;          // oldest first
  bool active = false;                   // segments.back() is open for appending
  bool rotate_next = false;              // the last write failed: start a fresh segment
  uint64_t next_seq = 1;
  int64_t read_offset = kHeaderBytes;   // the commit cursor, in segments.front()
  int64_t front_committed_records = 0;  // records of segments.front() before read_offset
  int64_t bytes = 0;
  int64_t appended = 0;
  int64_t committed = 0;
  std::deque<std::pair<int64_t, Clock::WallTime>> append_times;  // (appended after, when)
  bool wake = false;

  ~State() {
    for (auto& seg : segments) seg.Close();
    if (lock_fd >= 0) close(lock_fd);
  }

  // Deletes fully committed segments that writing has left. Caller holds mu.
  void DropCommittedFront() {
    while (!segments.empty() && read_offset >= segments.front().size &&
           !(active && segments.size() == 1)) {
      Segment& f = segments.front();
      f.Close();
      unlink(f.path.c_str());
      bytes -= f.size;
      segments.pop_front();
      read_offset = kHeaderBytes;
      front_committed_records = 0;
    }
  }

  void TrimAppendTimes() {
    while (!append_times.empty() && append_times.front().first <= committed) {
      append_times.pop_front();
    }
  }

  void LeadGroup(std::unique_lock<std::mutex>& l);
};

// Called by the writer at writers.front() with mu held: writes a group of queued writers' records
// with one write and one fdatasync, then completes every writer it took.
void Spool::State::LeadGroup(std::unique_lock<std::mutex>& l) {
  Writer* leader = writers.front();
  const bool rotate = !active || rotate_next || segments.back().size >= opt.segment_bytes;
  // Starting a new segment frees the old one at once when it is fully committed.
  const int64_t freed =
      rotate && active && segments.size() == 1 && read_offset >= segments.back().size
          ? segments.back().size
          : 0;
  const int64_t base = bytes - freed + (rotate ? kHeaderBytes : 0);

  size_t prefix = 0;
  int64_t group_bytes = 0;
  int64_t group_records = 0;
  std::vector<Writer*> group;
  for (Writer* w : writers) {
    if (!group.empty() && group_bytes + w->bytes > kMaxGroupBytes) break;
    ++prefix;
    if (base + group_bytes + w->bytes > opt.max_bytes) {
      w->status = ResourceExhaustedError("metric spool full (" + std::to_string(bytes) + " of " +
                                         std::to_string(opt.max_bytes) + " bytes)");
      continue;
    }
    group.push_back(w);
    group_bytes += w->bytes;
    group_records += static_cast<int64_t>(w->records->size());
  }

  if (!group.empty()) {
    std::string buf;
    buf.reserve(static_cast<size_t>(group_bytes));
    for (Writer* w : group) {
      for (const auto& r : *w->records) {
        char frame[kFrameBytes];
        PutU32(frame, static_cast<uint32_t>(r.size()));
        PutU32(frame + 4, Crc(r.data(), r.size()));
        buf.append(frame, kFrameBytes);
        buf += r;
      }
    }
    const uint64_t seq = rotate ? next_seq++ : segments.back().seq;
    int fd = rotate ? -1 : segments.back().write_fd;
    const int64_t offset = rotate ? kHeaderBytes : segments.back().size;
    const std::string path = rotate ? opt.dir + "/" + SegmentName(seq) : segments.back().path;

    l.unlock();
    Status st;
    std::optional<Segment> fresh;
    if (rotate) {
      Result<Segment> created = CreateSegment(opt.dir, seq);
      if (created.ok()) {
        fresh = std::move(*created);
        fd = fresh->write_fd;
      } else {
        st = created.status();
      }
    }
    if (st.ok()) st = WriteAll(fd, buf.data(), buf.size(), offset, path);
    if (st.ok() && fdatasync(fd) != 0) st = IoError("fsync", path, errno);
    if (!st.ok() && fd >= 0 && ftruncate(fd, offset) != 0) {
      // The frames after `offset` are not acknowledged; recovery keeps whatever passes its CRC.
    }
    const Clock::WallTime now = clock->Now();
    l.lock();

    if (fresh) {
      if (active) {
        close(segments.back().write_fd);
        segments.back().write_fd = -1;
      }
      segments.push_back(std::move(*fresh));
      active = true;
      rotate_next = false;
      bytes += kHeaderBytes;
      DropCommittedFront();
    }
    if (st.ok()) {
      Segment& seg = segments.back();
      seg.size += static_cast<int64_t>(buf.size());
      seg.records += group_records;
      bytes += static_cast<int64_t>(buf.size());
      appended += group_records;
      append_times.emplace_back(appended, now);
      data_cv.notify_all();
    } else {
      rotate_next = true;
    }
    for (Writer* w : group) w->status = st;
  }

  for (size_t i = 0; i < prefix; ++i) {
    Writer* w = writers.front();
    writers.pop_front();
    w->done = true;
    if (w != leader) w->cv.notify_one();
  }
  if (!writers.empty()) writers.front()->cv.notify_one();
}

Spool::Spool(std::unique_ptr<State> state) : s_(std::move(state)) {}
Spool::~Spool() = default;

Result<std::unique_ptr<Spool>> Spool::Open(const SpoolOptions& options, SpoolRecovery* recovery) {
  auto s = std::make_unique<State>();
  s->opt = options;
  s->clock = options.clock ? options.clock : Clock::System();
  if (options.dir.empty()) return InvalidArgumentError("metric spool: no directory given");
  if (options.max_bytes < 4096) {
    return InvalidArgumentError("metric spool: spool_max_bytes must be at least 4096");
  }
  if (s->opt.segment_bytes <= 0) {
    s->opt.segment_bytes = std::clamp<int64_t>(options.max_bytes / 8, 64 << 10, 64 << 20);
  }
  const std::string& dir = options.dir;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return UnavailableError("metric spool: cannot create " + dir + ": " + ec.message());

  const std::string lock_path = dir + "/LOCK";
  s->lock_fd = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (s->lock_fd < 0) return IoError("open", lock_path, errno);
  if (flock(s->lock_fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      return FailedPreconditionError("metric spool directory " + dir +
                                     " is in use by another process");
    }
    return IoError("lock", lock_path, errno);
  }

  std::vector<uint64_t> seqs;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (auto seq = ParseSegmentName(entry.path().filename().string())) seqs.push_back(*seq);
  }
  if (ec) return UnavailableError("metric spool: cannot list " + dir + ": " + ec.message());
  std::sort(seqs.begin(), seqs.end());
  const std::optional<Marker> marker = ReadMarker(dir);
  s->next_seq = std::max(seqs.empty() ? 0 : seqs.back(), marker ? marker->segment : 0) + 1;

  SpoolRecovery rec;
  for (uint64_t seq : seqs) {
    const std::string path = dir + "/" + SegmentName(seq);
    if (marker && seq < marker->segment) {  // delivered; its deletion did not happen or persist
      unlink(path.c_str());
      continue;
    }
    std::optional<int64_t> offset;
    if (marker && seq == marker->segment) offset = marker->offset;
    PA_ASSIGN_OR_RETURN(SegmentScan scan, ScanSegment(path, offset));
    if (scan.kind == SegmentScan::Kind::kEmpty) {  // a crash while creating it
      unlink(path.c_str());
      continue;
    }
    if (scan.kind == SegmentScan::Kind::kForeign) {
      const std::string bad = path + ".bad";
      rename(path.c_str(), bad.c_str());
      rec.problems.push_back(path + " is not a spool segment; renamed to " + bad);
      continue;
    }
    if (scan.cut_bytes > 0) {
      rec.truncated_bytes += scan.cut_bytes;
      rec.problems.push_back(path + ": cut " + std::to_string(scan.cut_bytes) +
                             " bytes of torn or corrupt data at offset " +
                             std::to_string(scan.valid_end));
    }
    // Only the oldest segment can be partly delivered: older ones are deleted above.
    if (s->segments.empty() && scan.records_before_offset) {
      s->read_offset = *offset;
      s->front_committed_records = *scan.records_before_offset;
      s->committed = *scan.records_before_offset;
    }
    Segment seg;
    seg.seq = seq;
    seg.path = path;
    seg.size = scan.valid_end;
    seg.records = scan.records;
    s->appended += scan.records;
    s->bytes += scan.valid_end;
    s->segments.push_back(std::move(seg));
    s->append_times.emplace_back(s->appended, scan.modified);
  }
  s->DropCommittedFront();
  s->TrimAppendTimes();
  rec.records = s->appended - s->committed;
  rec.bytes = s->bytes;
  if (recovery) *recovery = std::move(rec);
  return std::unique_ptr<Spool>(new Spool(std::move(s)));
}

Status Spool::Append(std::vector<std::string> records) {
  if (records.empty()) return Status::Ok();
  int64_t bytes = 0;
  for (const auto& r : records) {
    if (r.size() > kMaxRecordBytes) {
      return InvalidArgumentError("metric spool: a record of " + std::to_string(r.size()) +
                                  " bytes is larger than the limit of " +
                                  std::to_string(kMaxRecordBytes));
    }
    bytes += kFrameBytes + static_cast<int64_t>(r.size());
  }
  if (bytes + kHeaderBytes > s_->opt.max_bytes) {
    return InvalidArgumentError("metric spool: a batch of " + std::to_string(bytes) +
                                " bytes can never fit in spool_max_bytes (" +
                                std::to_string(s_->opt.max_bytes) + ")");
  }
  State::Writer w{.records = &records, .bytes = bytes};
  std::unique_lock l(s_->mu);
  s_->writers.push_back(&w);
  while (!w.done && s_->writers.front() != &w) w.cv.wait(l);
  if (!w.done) s_->LeadGroup(l);
  return w.status;
}

Result<SpoolBatch> Spool::Next(size_t max_bytes, std::chrono::milliseconds wait) {
  State& s = *s_;
  std::unique_lock l(s.mu);
  auto has_data = [&] { return !s.segments.empty() && s.read_offset < s.segments.front().size; };
  s.data_cv.wait_for(l, wait, [&] { return has_data() || s.wake; });
  s.wake = false;
  if (!has_data()) return SpoolBatch{};
  Segment& seg = s.segments.front();
  if (seg.read_fd < 0) {
    seg.read_fd = open(seg.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (seg.read_fd < 0) return IoError("open", seg.path, errno);
  }
  // The segment cannot go away while this runs: only fully committed segments are deleted.
  const int fd = seg.read_fd;
  const std::string path = seg.path;
  SpoolBatch batch;
  batch.segment = seg.seq;
  batch.begin = s.read_offset;
  const int64_t end = seg.size;
  l.unlock();

  const int64_t chunk =
      std::min<int64_t>(end - batch.begin, static_cast<int64_t>(max_bytes) + (64 << 10));
  std::string buf(static_cast<size_t>(chunk), '\0');
  PA_RETURN_IF_ERROR(ReadAll(fd, buf.data(), buf.size(), batch.begin, path));
  int64_t pos = 0;
  auto corrupt = [&](const std::string& why) {
    return DataLossError("metric spool: " + path + " offset " + std::to_string(batch.begin + pos) +
                         ": " + why);
  };
  while (batch.begin + pos < end) {
    if (pos + kFrameBytes > chunk) break;  // more than max_bytes already
    const uint32_t len = GetU32(buf.data() + pos);
    const uint32_t crc = GetU32(buf.data() + pos + 4);
    if (batch.begin + pos + kFrameBytes + len > end) return corrupt("record runs past the end");
    if (!batch.records.empty() && batch.payload_bytes + len > static_cast<int64_t>(max_bytes)) {
      break;
    }
    std::string record;
    if (pos + kFrameBytes + len <= chunk) {
      record.assign(buf.data() + pos + kFrameBytes, len);
    } else if (batch.records.empty()) {
      record.resize(len);
      PA_RETURN_IF_ERROR(ReadAll(fd, record.data(), len, batch.begin + pos + kFrameBytes, path));
    } else {
      break;
    }
    if (Crc(record.data(), record.size()) != crc) return corrupt("record fails its CRC");
    batch.payload_bytes += len;
    batch.records.push_back(std::move(record));
    pos += kFrameBytes + len;
    if (max_bytes == 0) break;
  }
  batch.end = batch.begin + pos;
  return batch;
}

Status Spool::Commit(const SpoolBatch& batch) {
  State& s = *s_;
  std::optional<Marker> marker;
  {
    std::lock_guard l(s.mu);
    if (s.segments.empty() || s.segments.front().seq != batch.segment ||
        s.read_offset != batch.begin) {
      return InternalError("metric spool: commit of a batch that is not at the head");
    }
    const auto n = static_cast<int64_t>(batch.records.size());
    s.read_offset = batch.end;
    s.front_committed_records += n;
    s.committed += n;
    s.TrimAppendTimes();
    s.DropCommittedFront();
    if (!s.segments.empty()) marker = Marker{s.segments.front().seq, s.read_offset};
  }
  s.committed_cv.notify_all();
  if (marker) WriteMarker(s.opt.dir, *marker);
  return Status::Ok();
}

int64_t Spool::SkipCorrupt() {
  State& s = *s_;
  int64_t dropped = 0;
  {
    std::lock_guard l(s.mu);
    if (s.segments.empty()) return 0;
    Segment& f = s.segments.front();
    dropped = f.records - s.front_committed_records;
    s.committed += dropped;
    s.front_committed_records = f.records;
    s.read_offset = f.size;
    if (s.active && s.segments.size() == 1) s.rotate_next = true;
    s.TrimAppendTimes();
    s.DropCommittedFront();
  }
  s.committed_cv.notify_all();
  return dropped;
}

void Spool::Wake() {
  {
    std::lock_guard l(s_->mu);
    s_->wake = true;
  }
  s_->data_cv.notify_all();
}

bool Spool::WaitCommitted(int64_t target, std::chrono::steady_clock::time_point deadline) {
  std::unique_lock l(s_->mu);
  return s_->committed_cv.wait_until(l, deadline, [&] { return s_->committed >= target; });
}

SpoolStats Spool::Stats() const {
  std::lock_guard l(s_->mu);
  SpoolStats st;
  st.bytes = s_->bytes;
  st.max_bytes = s_->opt.max_bytes;
  st.appended_records = s_->appended;
  st.committed_records = s_->committed;
  st.pending_records = s_->appended - s_->committed;
  if (!s_->append_times.empty()) st.oldest_pending = s_->append_times.front().second;
  return st;
}

}  // namespace pa::storage::victoriametrics
