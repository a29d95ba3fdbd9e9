#include "storage/embedded_tsdb/blocks/block.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include "base/json.h"
#include "storage/embedded_tsdb/chunkenc/bits.h"
#include "storage/embedded_tsdb/chunkenc/block_chunk.h"

namespace pa::storage::embedded_tsdb {
namespace {

namespace fs = std::filesystem;
constexpr std::string_view kIndexMagic = "PATSIDX1";
constexpr size_t kChunkBufferBytes = 1 << 20;

Status IoError(const std::string& what, const std::string& path, int err) {
  return UnavailableError("metrics block: " + what + " " + path + ": " + std::strerror(err));
}

uint32_t Crc(std::string_view data) {
  return static_cast<uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size())));
}

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError("write", path, errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

Status WriteFileSynced(const std::string& path, std::string_view data) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return IoError("create", path, errno);
  Status s = WriteAll(fd, data, path);
  if (s.ok() && ::fsync(fd) != 0) s = IoError("fsync", path, errno);
  ::close(fd);
  return s;
}

Status SyncDir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return IoError("open directory", dir, errno);
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  return rc == 0 ? Status::Ok() : IoError("fsync directory", dir, err);
}

Status Damaged(const std::string& dir, const std::string& what) {
  return DataLossError("metrics block " + dir + " is damaged: " + what);
}

}  // namespace

std::string BlockDirName(uint64_t seq) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "b-%016llx", static_cast<unsigned long long>(seq));
  return buf;
}

bool IsBlockDirName(std::string_view name) {
  return name.size() == 18 && name.starts_with("b-") &&
         std::all_of(name.begin() + 2, name.end(), ::isxdigit);
}

// ---- BlockWriter ---------------------------------------------------------------------------

Result<std::unique_ptr<BlockWriter>> BlockWriter::Create(const std::string& blocks_dir,
                                                         uint64_t seq, uint64_t order,
                                                         int64_t partition_start,
                                                         int64_t partition_end) {
  auto w = std::unique_ptr<BlockWriter>(new BlockWriter());
  w->blocks_dir_ = blocks_dir;
  w->tmp_dir_ = blocks_dir + "/tmp-" + BlockDirName(seq);
  w->meta_.seq = seq;
  w->meta_.order = order;
  w->meta_.partition_start = partition_start;
  w->meta_.partition_end = partition_end;
  w->meta_.mint = INT64_MAX;
  w->meta_.maxt = INT64_MIN;
  std::error_code ec;
  fs::remove_all(w->tmp_dir_, ec);
  fs::create_directories(w->tmp_dir_, ec);
  if (ec)
    return UnavailableError("metrics block: cannot create " + w->tmp_dir_ + ": " + ec.message());
  const std::string path = w->tmp_dir_ + "/chunks";
  w->chunks_fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (w->chunks_fd_ < 0) return IoError("create", path, errno);
  return w;
}

BlockWriter::~BlockWriter() {
  if (chunks_fd_ >= 0) ::close(chunks_fd_);
  if (!finished_ && !tmp_dir_.empty()) {
    std::error_code ec;
    fs::remove_all(tmp_dir_, ec);
  }
}

Status BlockWriter::Add(const Labels& labels, std::span<const Sample> samples) {
  assert(!samples.empty());
  assert(series_.empty() || series_.back().labels < labels);
  SeriesEntry entry{labels, static_cast<uint32_t>(chunks_.size()), 0};
  const size_t n = samples.size();
  const size_t nchunks = (n + kChunkSamples - 1) / kChunkSamples;
  size_t pos = 0;
  for (size_t c = 0; c < nchunks; ++c) {
    const size_t end = n * (c + 1) / nchunks;
    const auto part = samples.subspan(pos, end - pos);
    const size_t before = chunk_buffer_.size();
    EncodeBlockChunk(part, &chunk_buffer_);
    const std::string_view encoded(chunk_buffer_.data() + before, chunk_buffer_.size() - before);
    chunks_.push_back(
        {part.front().t, part.back().t, static_cast<uint32_t>(encoded.size()), Crc(encoded)});
    pos = end;
  }
  entry.num_chunks = static_cast<uint32_t>(nchunks);
  series_.push_back(std::move(entry));
  meta_.mint = std::min(meta_.mint, samples.front().t);
  meta_.maxt = std::max(meta_.maxt, samples.back().t);
  meta_.samples += static_cast<int64_t>(n);
  meta_.chunks += static_cast<int64_t>(nchunks);
  ++meta_.series;
  if (chunk_buffer_.size() >= kChunkBufferBytes) return FlushChunks(false);
  return Status::Ok();
}

Status BlockWriter::FlushChunks(bool final) {
  const std::string path = tmp_dir_ + "/chunks";
  PA_RETURN_IF_ERROR(WriteAll(chunks_fd_, chunk_buffer_, path));
  meta_.bytes += static_cast<int64_t>(chunk_buffer_.size());
  chunk_buffer_.clear();
  if (final) {
    if (::fsync(chunks_fd_) != 0) return IoError("fsync", path, errno);
    ::close(chunks_fd_);
    chunks_fd_ = -1;
  }
  return Status::Ok();
}

Result<BlockMeta> BlockWriter::Finish() {
  assert(!series_.empty());
  PA_RETURN_IF_ERROR(FlushChunks(true));
  std::set<std::string_view> symbol_set;
  for (const SeriesEntry& s : series_) {
    for (const Label& l : s.labels) {
      symbol_set.insert(l.name);
      symbol_set.insert(l.value);
    }
  }
  const std::vector<std::string_view> symbols(symbol_set.begin(), symbol_set.end());
  auto id = [&](std::string_view s) {
    return static_cast<uint64_t>(std::lower_bound(symbols.begin(), symbols.end(), s) -
                                 symbols.begin());
  };
  std::string index(kIndexMagic);
  PutVarint(index, symbols.size());
  for (std::string_view s : symbols) PutString(index, s);
  PutVarint(index, series_.size());
  for (const SeriesEntry& s : series_) {
    PutVarint(index, s.labels.size());
    for (const Label& l : s.labels) {
      PutVarint(index, id(l.name));
      PutVarint(index, id(l.value));
    }
    PutVarint(index, s.num_chunks);
    for (uint32_t c = s.first_chunk; c < s.first_chunk + s.num_chunks; ++c) {
      const ChunkEntry& e = chunks_[c];
      PutSignedVarint(index, e.mint);
      PutVarint(index, static_cast<uint64_t>(e.maxt - e.mint));
      PutVarint(index, e.len);
      PutFixed32(index, e.crc);
    }
  }
  PutFixed32(index, Crc(index));
  meta_.bytes += static_cast<int64_t>(index.size());
  PA_RETURN_IF_ERROR(WriteFileSynced(tmp_dir_ + "/index", index));
  const Json meta = {{"version", 1},
                     {"seq", meta_.seq},
                     {"order", meta_.order},
                     {"mint", meta_.mint},
                     {"maxt", meta_.maxt},
                     {"partition_start", meta_.partition_start},
                     {"partition_end", meta_.partition_end},
                     {"series", meta_.series},
                     {"samples", meta_.samples},
                     {"chunks", meta_.chunks},
                     {"bytes", meta_.bytes}};
  PA_RETURN_IF_ERROR(WriteFileSynced(tmp_dir_ + "/meta.json", meta.dump(2) + "\n"));
  PA_RETURN_IF_ERROR(SyncDir(tmp_dir_));
  const std::string final_dir = blocks_dir_ + "/" + BlockDirName(meta_.seq);
  if (::rename(tmp_dir_.c_str(), final_dir.c_str()) != 0) {
    return IoError("rename to", final_dir, errno);
  }
  finished_ = true;
  PA_RETURN_IF_ERROR(SyncDir(blocks_dir_));
  return meta_;
}

// ---- Block -----------------------------------------------------------------------------------

Result<std::shared_ptr<Block>> Block::Open(const std::string& dir) {
  auto block = std::shared_ptr<Block>(new Block());
  block->dir_ = dir;
  auto read_file = [&](const std::string& name, std::string* out) -> Status {
    std::ifstream in(dir + "/" + name, std::ios::binary);
    if (!in) return Damaged(dir, "cannot read " + name);
    out->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    return Status::Ok();
  };
  std::string meta_text;
  PA_RETURN_IF_ERROR(read_file("meta.json", &meta_text));
  std::string error;
  const std::optional<Json> meta = ParseJson(meta_text, &error);
  if (!meta || !meta->is_object()) return Damaged(dir, "meta.json: " + error);
  auto field = [&](const char* name, int64_t* out) -> bool {
    const auto it = meta->find(name);
    if (it == meta->end() || !it->is_number_integer()) return false;
    *out = it->get<int64_t>();
    return true;
  };
  BlockMeta& m = block->meta_;
  int64_t seq = 0, order = 0;
  if (!field("seq", &seq) || !field("order", &order) || !field("mint", &m.mint) ||
      !field("maxt", &m.maxt) || !field("partition_start", &m.partition_start) ||
      !field("partition_end", &m.partition_end) || !field("series", &m.series) ||
      !field("samples", &m.samples) || !field("chunks", &m.chunks) || !field("bytes", &m.bytes)) {
    return Damaged(dir, "meta.json lacks a field");
  }
  m.seq = static_cast<uint64_t>(seq);
  m.order = static_cast<uint64_t>(order);
  PA_RETURN_IF_ERROR(read_file("index", &block->index_));
  PA_RETURN_IF_ERROR(block->ParseIndex());
  block->chunk_verified_ = std::make_unique<std::atomic<bool>[]>(block->chunks_.size());

  const std::string path = dir + "/chunks";
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return IoError("open", path, errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return IoError("stat", path, err);
  }
  block->map_size_ = static_cast<size_t>(st.st_size);
  if (block->map_size_ > 0) {
    void* p = ::mmap(nullptr, block->map_size_, PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
      const int err = errno;
      ::close(fd);
      return IoError("mmap", path, err);
    }
    block->map_ = static_cast<const char*>(p);
  }
  ::close(fd);
  const ChunkRef* last = block->chunks_.empty() ? nullptr : &block->chunks_.back();
  if (last && last->offset + last->len > block->map_size_) return Damaged(dir, "chunks truncated");
  return block;
}

Status Block::ParseIndex() {
  if (index_.size() < kIndexMagic.size() + 4 || !index_.starts_with(kIndexMagic)) {
    return Damaged(dir_, "index has no header");
  }
  const std::string_view body(index_.data(), index_.size() - 4);
  ByteReader tail(std::string_view(index_).substr(index_.size() - 4));
  if (Crc(body) != tail.Fixed32()) return Damaged(dir_, "index checksum mismatch");
  ByteReader r(body.substr(kIndexMagic.size()));
  const uint64_t nsym = r.Varint();
  if (!r.ok() || nsym > body.size()) return Damaged(dir_, "bad symbol count");
  symbols_.reserve(nsym);
  for (uint64_t i = 0; i < nsym && r.ok(); ++i) symbols_.push_back(r.String());
  const uint64_t nseries = r.Varint();
  if (!r.ok() || nseries > body.size()) return Damaged(dir_, "bad series count");
  series_label_off_.reserve(nseries + 1);
  series_chunk_off_.reserve(nseries + 1);
  all_.reserve(nseries);
  uint64_t offset = 0;
  for (uint64_t s = 0; s < nseries && r.ok(); ++s) {
    series_label_off_.push_back(static_cast<uint32_t>(series_labels_.size() / 2));
    series_chunk_off_.push_back(static_cast<uint32_t>(chunks_.size()));
    const uint64_t nlabels = r.Varint();
    for (uint64_t l = 0; l < nlabels && r.ok(); ++l) {
      const uint64_t name = r.Varint();
      const uint64_t value = r.Varint();
      if (name >= nsym || value >= nsym) return Damaged(dir_, "bad symbol reference");
      series_labels_.push_back(static_cast<uint32_t>(name));
      series_labels_.push_back(static_cast<uint32_t>(value));
      postings_[static_cast<uint32_t>(name)][static_cast<uint32_t>(value)].push_back(s);
    }
    const uint64_t nchunks = r.Varint();
    for (uint64_t c = 0; c < nchunks && r.ok(); ++c) {
      ChunkRef ref{};
      ref.mint = r.SignedVarint();
      ref.maxt = ref.mint + static_cast<int64_t>(r.Varint());
      ref.len = static_cast<uint32_t>(r.Varint());
      ref.crc = r.Fixed32();
      ref.offset = offset;
      offset += ref.len;
      chunks_.push_back(ref);
    }
    all_.push_back(s);
  }
  series_label_off_.push_back(static_cast<uint32_t>(series_labels_.size() / 2));
  series_chunk_off_.push_back(static_cast<uint32_t>(chunks_.size()));
  if (!r.ok() || !r.done()) return Damaged(dir_, "index truncated");
  return Status::Ok();
}

Block::~Block() {
  if (map_) ::munmap(const_cast<char*>(map_), map_size_);
  if (!deleted_dir_.empty()) {
    std::error_code ec;
    fs::remove_all(deleted_dir_, ec);
  }
}

Status Block::MarkDeleted() {
  const std::string aside = dir_ + ".deleted";
  if (::rename(dir_.c_str(), aside.c_str()) != 0) return IoError("rename", dir_, errno);
  deleted_dir_ = aside;
  return Status::Ok();
}

Labels Block::SeriesLabels(uint32_t series) const {
  Labels out;
  const uint32_t b = series_label_off_[series], e = series_label_off_[series + 1];
  out.reserve(e - b);
  for (uint32_t i = b; i < e; ++i) {
    out.push_back({std::string(symbols_[series_labels_[2 * i]]),
                   std::string(symbols_[series_labels_[2 * i + 1]])});
  }
  return out;
}

std::span<const Block::ChunkRef> Block::SeriesChunks(uint32_t series) const {
  const uint32_t b = series_chunk_off_[series], e = series_chunk_off_[series + 1];
  return {chunks_.data() + b, e - b};
}

bool Block::HasDataIn(uint32_t series, int64_t mint, int64_t maxt) const {
  for (const ChunkRef& c : SeriesChunks(series)) {
    if (c.maxt >= mint && c.mint <= maxt) return true;
  }
  return false;
}

Status Block::Read(uint32_t series, int64_t mint, int64_t maxt, std::vector<Sample>* out) const {
  const uint32_t first = series_chunk_off_[series], last = series_chunk_off_[series + 1];
  for (uint32_t i = first; i < last; ++i) {
    const ChunkRef& c = chunks_[i];
    if (c.maxt < mint || c.mint > maxt) continue;
    const std::string_view data(map_ + c.offset, c.len);
    std::atomic<bool>& verified = chunk_verified_[i];
    if (!verified.load(std::memory_order_relaxed)) {
      if (Crc(data) != c.crc) return Damaged(dir_, "chunk checksum mismatch");
      verified.store(true, std::memory_order_relaxed);
    }
    PA_RETURN_IF_ERROR(DecodeBlockChunk(data, mint, maxt, out).WithContext(dir_));
  }
  return Status::Ok();
}

int64_t Block::Symbol(std::string_view s) const {
  const auto it = std::lower_bound(symbols_.begin(), symbols_.end(), s);
  return it != symbols_.end() && *it == s ? it - symbols_.begin() : -1;
}

const PostingList* Block::Postings(std::string_view name, std::string_view value) const {
  const int64_t n = Symbol(name), v = Symbol(value);
  if (n < 0 || v < 0) return nullptr;
  const auto ni = postings_.find(static_cast<uint32_t>(n));
  if (ni == postings_.end()) return nullptr;
  const auto vi = ni->second.find(static_cast<uint32_t>(v));
  return vi == ni->second.end() ? nullptr : &vi->second;
}

void Block::ForEachValue(
    std::string_view name,
    const std::function<void(std::string_view, const PostingList&)>& fn) const {
  const int64_t n = Symbol(name);
  if (n < 0) return;
  const auto ni = postings_.find(static_cast<uint32_t>(n));
  if (ni == postings_.end()) return;
  for (const auto& [value, list] : ni->second) fn(symbols_[value], list);
}

}  // namespace pa::storage::embedded_tsdb
