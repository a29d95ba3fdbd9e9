#include "storage/embedded_tsdb/db.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "base/json.h"
#include "base/logging.h"
#include "base/units.h"
#include "storage/embedded_tsdb/blocks/compact.h"
#include "storage/embedded_tsdb/chunkenc/bits.h"
#include "storage/embedded_tsdb/db_metrics.h"

namespace pa::storage::embedded_tsdb {
namespace {

namespace fs = std::filesystem;

enum RecordType : uint8_t { kSeriesRecord = 1, kSamplesRecord = 2 };

bool ValidName(std::string_view n, bool metric) {
  if (n.empty()) return false;
  for (size_t i = 0; i < n.size(); ++i) {
    const char c = n[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                    (metric && c == ':') || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

// True when NormalizeLabels would accept `labels` unchanged: the fast path that spares a copy.
bool IsNormalized(const Labels& labels) {
  for (size_t i = 0; i < labels.size(); ++i) {
    const Label& l = labels[i];
    if (l.value.empty() || (i > 0 && !(labels[i - 1].name < l.name))) return false;
    if (l.name == kMetricNameLabel) {
      if (!ValidName(l.value, true)) return false;
    } else if (!ValidName(l.name, false) || l.name.starts_with("__")) {
      return false;
    }
    if (!IsValidUtf8(l.value)) return false;
  }
  return true;
}

void EncodeSeries(std::string& rec, const MemSeries& s) {
  PutVarint(rec, s.ref());
  PutVarint(rec, s.labels().size());
  for (const Label& l : s.labels()) {
    PutString(rec, l.name);
    PutString(rec, l.value);
  }
}

void EncodeSamples(std::string& rec, SeriesRef ref, std::span<const Sample> samples) {
  PutVarint(rec, ref);
  PutVarint(rec, samples.size());
  int64_t prev = 0;
  for (const Sample& s : samples) {
    PutSignedVarint(rec, s.t - prev);
    prev = s.t;
  }
  for (const Sample& s : samples) PutFixed64(rec, std::bit_cast<uint64_t>(s.v));
}

}  // namespace

Db::Db(const Options& options)
    : options_(options), clock_(options.clock ? options.clock : Clock::System()) {}

Result<std::unique_ptr<Db>> Db::Open(const Options& options) {
  if (options.dir.empty()) return InvalidArgumentError("metrics store: no directory given");
  if (options.retention.count() <= 0) {
    return InvalidArgumentError("metrics store: retention must be positive");
  }
  auto db = std::unique_ptr<Db>(new Db(options));
  PA_RETURN_IF_ERROR(db->Init());
  return db;
}

Status Db::Init() {
  auto log = pa::log::Get("tsdb");
  wal_dir_ = options_.dir + "/wal";
  blocks_dir_ = options_.dir + "/blocks";
  std::error_code ec;
  fs::create_directories(blocks_dir_, ec);
  if (ec) {
    return UnavailableError("metrics store: cannot create " + blocks_dir_ + ": " + ec.message());
  }
  const std::string lock_path = options_.dir + "/LOCK";
  lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd_ < 0) {
    return UnavailableError("metrics store: cannot open " + lock_path + ": " +
                            std::strerror(errno));
  }
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    return FailedPreconditionError("metrics store: " + options_.dir +
                                   " is in use by another process (" + lock_path + " is locked)");
  }
  if (options_.metrics) metrics_ = std::make_unique<DbMetrics>(*options_.metrics);
  ranges_ = BlockRanges(options_.retention.count());

  // Blocks: leftovers of interrupted writes and deletions go; damaged blocks are set aside.
  uint64_t max_seq = 0;
  for (const auto& e : fs::directory_iterator(blocks_dir_, ec)) {
    const std::string name = e.path().filename().string();
    const std::string path = e.path().string();
    if (name.starts_with("tmp-") || name.ends_with(".deleted")) {
      fs::remove_all(path, ec);
      continue;
    }
    if (!IsBlockDirName(name)) continue;
    auto block = Block::Open(path);
    if (!block.ok()) {
      log->error("{}; moving it aside to {}.damaged", block.status().message(), path);
      fs::rename(path, path + ".damaged", ec);
      continue;
    }
    max_seq = std::max(max_seq, (*block)->meta().seq);
    blocks_.push_back(std::move(*block));
  }
  if (ec)
    return UnavailableError("metrics store: cannot list " + blocks_dir_ + ": " + ec.message());
  std::sort(blocks_.begin(), blocks_.end(),
            [](const auto& a, const auto& b) { return a->meta().order < b->meta().order; });
  next_seq_ = max_seq + 1;

  Wal::ReplayStats replay;
  PA_ASSIGN_OR_RETURN(wal_,
                      Wal::Open(
                          {.dir = wal_dir_, .fsync_seconds = metrics_ ? metrics_->fsync : nullptr},
                          [this](std::string_view rec) { return Replay(rec); }, &replay));
  if (metrics_ && replay.torn_bytes > 0) metrics_->wal_truncations->Inc();
  if (replay_skipped_ > 0 || replay_bad_records_ > 0) {
    log->error(
        "metrics WAL {}: skipped {} malformed records and {} samples of series whose "
        "record was lost",
        wal_dir_, replay_bad_records_, replay_skipped_);
  }
  if (head_.num_samples() > 0) head_start_ms_ = clock_->NowMs();
  if (replay.records > 0) {
    log->info("metrics store {}: {} blocks; {} series and {} samples recovered from {} WAL records",
              options_.dir, blocks_.size(), head_.num_series(), head_.num_samples(),
              replay.records);
  }
  PublishGauges();
  bg_ = std::thread([this] { BackgroundLoop(); });
  return Status::Ok();
}

Db::~Db() {
  if (bg_.joinable()) {
    stopping_ = true;
    {
      std::lock_guard lock(bg_mu_);
      kicked_ = true;
    }
    bg_cv_.notify_all();
    bg_.join();
  }
  if (wal_ && options_.flush_on_close) {
    std::lock_guard maint(maint_mu_);
    Status s = FlushFrozen();
    if (s.ok()) {
      std::lock_guard lock(append_mu_);
      s = CutLocked();
    }
    if (s.ok()) s = FlushFrozen();
    if (!s.ok()) {
      pa::log::Get("tsdb")->error(
          "metrics store {}: writing the head on close failed ({}); the "
          "WAL will be replayed at the next start",
          options_.dir, s.message());
    }
  }
  wal_.reset();
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

Status Db::Replay(std::string_view record) {
  ByteReader r(record);
  const uint8_t type = r.Byte();
  const int64_t cutoff = clock_->NowMs() - options_.retention.count();
  if (type == kSeriesRecord) {
    while (r.ok() && !r.done()) {
      const SeriesRef ref = r.Varint();
      const uint64_t n = r.Varint();
      if (!r.ok() || n > r.remaining()) break;
      Labels labels(n);
      for (Label& l : labels) {
        l.name = std::string(r.String());
        l.value = std::string(r.String());
      }
      if (r.ok()) head_.CreateWithRef(ref, labels);
    }
  } else if (type == kSamplesRecord) {
    std::vector<Sample> samples;
    while (r.ok() && !r.done()) {
      const SeriesRef ref = r.Varint();
      const uint64_t n = r.Varint();
      if (!r.ok() || n > r.remaining()) break;
      samples.resize(n);
      int64_t t = 0;
      for (Sample& s : samples) s.t = t += r.SignedVarint();
      for (Sample& s : samples) s.v = std::bit_cast<double>(r.Fixed64());
      if (!r.ok()) break;
      std::erase_if(samples, [&](const Sample& s) { return s.t < cutoff; });
      MemSeries* series = head_.FindByRef(ref);
      if (!series) {
        replay_skipped_ += static_cast<int64_t>(samples.size());
        continue;
      }
      head_.AddSamples(series->Append(samples, nullptr).accepted);
    }
  } else {
    ++replay_bad_records_;
    return Status::Ok();
  }
  if (!r.ok()) ++replay_bad_records_;
  return Status::Ok();
}

Result<AppendResult> Db::Append(const std::vector<SeriesSamples>& batch) {
  // Validate everything first: a malformed series fails the call with nothing stored.
  std::vector<const Labels*> labels(batch.size());
  std::vector<Labels> normalized;
  std::vector<size_t> normalized_index;
  for (size_t i = 0; i < batch.size(); ++i) {
    if (IsNormalized(batch[i].labels) && !batch[i].labels.empty()) {
      labels[i] = &batch[i].labels;
      continue;
    }
    Labels copy = batch[i].labels;
    PA_RETURN_IF_ERROR(NormalizeLabels(copy).WithContext("series " + std::to_string(i + 1)));
    if (copy.empty()) {
      return InvalidArgumentError("series " + std::to_string(i + 1) + ": no labels");
    }
    normalized.push_back(std::move(copy));
    normalized_index.push_back(i);
  }
  for (size_t k = 0; k < normalized.size(); ++k) labels[normalized_index[k]] = &normalized[k];

  AppendResult result;
  uint64_t wal_position = 0;
  {
    std::unique_lock lock(append_mu_);
    const int64_t budget = options_.max_head_samples;
    // Back-pressure: the head may not grow further until the previous cut is on disk. The wait
    // releases the append lock, which the background flush needs on its way (Maintain).
    const auto deadline = std::chrono::steady_clock::now() + options_.max_backpressure_wait;
    while (head_.num_samples() >= 2 * budget || over_budget_) {
      if (!FrozenPending()) {
        PA_RETURN_IF_ERROR(CutLocked());
        continue;
      }
      lock.unlock();
      bool flushed = false;
      Status flush_error;
      {
        std::unique_lock flock(frozen_mu_);
        flushed = frozen_cv_.wait_until(flock, deadline, [&] { return !frozen_; });
        flush_error = last_flush_error_;
      }
      lock.lock();
      if (!flushed) {
        return UnavailableError(
            "metrics store: the in-memory head is full and writing it to disk has not finished "
            "within " +
            FormatDuration(options_.max_backpressure_wait) +
            (flush_error.ok() ? std::string() : " (" + flush_error.message() + ")"));
      }
    }
    const int64_t now = clock_->NowMs();
    const int64_t lo = now - options_.retention.count();
    const int64_t hi = now + options_.max_future.count();
    std::string series_rec(1, static_cast<char>(kSeriesRecord));
    std::string samples_rec(1, static_cast<char>(kSamplesRecord));
    std::vector<Sample> in_range, written;
    bool want_cut = false;
    for (size_t i = 0; i < batch.size(); ++i) {
      in_range.clear();
      for (const Sample& s : batch[i].samples) {
        if (s.t < lo) {
          ++result.too_old;
        } else if (s.t > hi) {
          ++result.too_new;
        } else {
          in_range.push_back(s);
        }
      }
      if (in_range.empty()) continue;
      bool created = false;
      MemSeries* series = head_.GetOrCreate(*labels[i], &created);
      if (created) EncodeSeries(series_rec, *series);
      written.clear();
      const MemSeries::AppendCounts counts = series->Append(in_range, &written);
      result.accepted += counts.accepted;
      result.duplicates += counts.duplicates;
      if (!written.empty()) EncodeSamples(samples_rec, series->ref(), written);
      const int64_t chunks = static_cast<int64_t>(series->num_chunks());
      if (chunks > options_.max_head_chunks_per_series) {
        want_cut = true;
        if (chunks > 2 * options_.max_head_chunks_per_series) over_budget_ = true;
      }
    }
    head_.AddSamples(result.accepted);
    if (result.accepted > 0 && head_start_ms_ == 0) head_start_ms_ = now;
    if (series_rec.size() > 1) wal_position = wal_->Add(series_rec);
    if (samples_rec.size() > 1) wal_position = wal_->Add(samples_rec);
    if ((want_cut || head_.num_samples() >= budget) && !FrozenPending()) {
      PA_RETURN_IF_ERROR(CutLocked());
    }
  }
  if (wal_position > 0) PA_RETURN_IF_ERROR(wal_->Sync(wal_position));
  if (metrics_) {
    metrics_->appended->Inc(static_cast<double>(result.accepted));
    if (result.too_old) metrics_->too_old->Inc(static_cast<double>(result.too_old));
    if (result.too_new) metrics_->too_new->Inc(static_cast<double>(result.too_new));
    if (result.duplicates) metrics_->duplicates->Inc(static_cast<double>(result.duplicates));
    metrics_->head_series->Set(static_cast<double>(head_.num_series()));
    metrics_->head_samples->Set(static_cast<double>(head_.num_samples()));
  }
  return result;
}

Status Db::CutLocked() {
  if (FrozenPending()) return Status::Ok();
  FrozenHead frozen = head_.Freeze();
  head_start_ms_ = 0;
  over_budget_ = false;
  if (frozen.series.empty()) return Status::Ok();
  Result<uint64_t> segment = wal_->Cut();
  {
    std::lock_guard lock(frozen_mu_);
    frozen_ = std::make_shared<FrozenHead>(std::move(frozen));
    // Without a new segment the old ones must stay: the flush then deletes nothing.
    frozen_segment_ = segment.ok() ? *segment : 0;
  }
  Kick();
  if (!segment.ok()) return segment.status();
  // The checkpoint: the surviving series, so the segments before the cut can go.
  std::string rec(1, static_cast<char>(kSeriesRecord));
  for (const auto& s : head_.AllSeries()) EncodeSeries(rec, *s);
  if (rec.size() > 1) PA_RETURN_IF_ERROR(wal_->Sync(wal_->Add(rec)));
  return Status::Ok();
}

bool Db::FrozenPending() {
  std::lock_guard lock(frozen_mu_);
  return frozen_ != nullptr;
}

void Db::Kick() {
  {
    std::lock_guard lock(bg_mu_);
    kicked_ = true;
  }
  bg_cv_.notify_all();
}

std::unique_ptr<DbQuerier> Db::NewQuerier() {
  auto snap = std::make_shared<Snapshot>();
  {
    std::shared_lock lock(state_mu_);
    snap->blocks = blocks_;
    snap->generation = readers_.Enter();
  }
  snap->head = &head_;
  snap->registry = &readers_;
  return std::make_unique<DbQuerier>(std::move(snap));
}

Stats Db::GetStats() {
  Stats s;
  s.head_series = head_.num_series();
  s.head_samples = head_.num_samples();
  s.head_chunks = head_.num_chunks();
  s.max_head_chunks_per_series = static_cast<int64_t>(head_.max_chunks_per_series());
  {
    std::shared_lock lock(state_mu_);
    s.blocks = static_cast<int64_t>(blocks_.size());
    for (const auto& b : blocks_) {
      s.block_samples += b->meta().samples;
      s.block_bytes += b->meta().bytes;
    }
  }
  s.wal_segments = wal_->num_segments();
  s.compactions = compactions_.load();
  return s;
}

}  // namespace pa::storage::embedded_tsdb
