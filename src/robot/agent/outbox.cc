#include "robot/agent/outbox.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "base/json.h"
#include "base/logging.h"

namespace pa::robot {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kSuffix = ".result";
constexpr std::string_view kTmpSuffix = ".tmp";

Status Errno(std::string_view what, const fs::path& path) {
  return UnavailableError(std::string(what) + " " + path.string() + ": " + std::strerror(errno));
}

Status WriteAll(int fd, std::string_view data, const fs::path& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("cannot write", path);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

Status SyncDirectory(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open", dir);
  const int rc = ::fsync(fd);
  ::close(fd);
  return rc == 0 ? Status::Ok() : Errno("cannot sync", dir);
}

// Writes `parts` to `path` durably: temporary file, fsync, rename, directory fsync.
Status WriteFileDurably(const fs::path& path, std::initializer_list<std::string_view> parts) {
  fs::path tmp = path;
  tmp += kTmpSuffix;
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("cannot create", tmp);
  Status st;
  for (std::string_view p : parts) {
    st = WriteAll(fd, p, tmp);
    if (!st.ok()) break;
  }
  if (st.ok() && ::fsync(fd) != 0) st = Errno("cannot sync", tmp);
  ::close(fd);
  if (st.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) st = Errno("cannot rename", tmp);
  if (!st.ok()) {
    std::error_code ec;
    fs::remove(tmp, ec);
    return st;
  }
  return SyncDirectory(path.parent_path());
}

// "<13-digit ms>-<6-digit seq>.result": sorts in creation order.
std::string EntryName(int64_t created_ms, int64_t seq) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%013lld-%06lld", static_cast<long long>(created_ms),
                static_cast<long long>(seq % 1000000));
  return std::string(buf) + std::string(kSuffix);
}

int64_t CreatedOf(std::string_view name) {
  int64_t ms = 0;
  for (char c : name.substr(0, 13)) {
    if (c < '0' || c > '9') return 0;
    ms = ms * 10 + (c - '0');
  }
  return ms;
}

}  // namespace

Result<std::unique_ptr<Outbox>> Outbox::Open(Options options, Clock& clock) {
  std::error_code ec;
  fs::create_directories(options.dir, ec);
  if (ec) return UnavailableError("cannot create " + options.dir.string() + ": " + ec.message());
  fs::create_directories(options.dir.parent_path() / "dead-letter", ec);
  if (ec) {
    return UnavailableError("cannot create " +
                            (options.dir.parent_path() / "dead-letter").string() + ": " +
                            ec.message());
  }
  std::unique_ptr<Outbox> box(new Outbox(std::move(options), clock));
  for (const fs::directory_entry& e : fs::directory_iterator(box->options_.dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.ends_with(kTmpSuffix)) {
      fs::remove(e.path(), ec);  // a Put that never returned OK
      continue;
    }
    if (!name.ends_with(kSuffix) || !e.is_regular_file()) continue;
    const auto size = static_cast<int64_t>(e.file_size(ec));
    box->entries_[name] = {size, CreatedOf(name)};
    box->bytes_ += size;
  }
  if (ec)
    return UnavailableError("cannot list " + box->options_.dir.string() + ": " + ec.message());
  return box;
}

Status Outbox::Put(std::string_view run_id, std::string_view result_json,
                   const std::vector<OutboxArtifact>& artifacts) {
  const int64_t now = clock_.NowMs();
  Json parts = Json::array();
  for (const OutboxArtifact& a : artifacts) {
    parts.push_back({{"filename", a.filename},
                     {"content_type", a.content_type},
                     {"size", static_cast<int64_t>(a.data.size())}});
  }
  const std::string header = Json{{"run_id", run_id},
                                  {"created_ms", now},
                                  {"result_size", static_cast<int64_t>(result_json.size())},
                                  {"artifacts", std::move(parts)}}
                                 .dump() +
                             "\n";
  std::string name;
  {
    std::lock_guard lock(mu_);
    name = EntryName(now, ++seq_);
    while (entries_.contains(name)) name = EntryName(now, ++seq_);
  }
  // Written outside the lock: the file is invisible to Oldest until it is indexed.
  const fs::path path = options_.dir / name;
  Status st;
  if (artifacts.empty()) {
    st = WriteFileDurably(path, {header, result_json});
  } else {
    std::string blob;
    for (const OutboxArtifact& a : artifacts) blob += a.data;
    st = WriteFileDurably(path, {header, result_json, blob});
  }
  PA_RETURN_IF_ERROR(st);
  std::lock_guard lock(mu_);
  const auto size = static_cast<int64_t>(header.size() + result_json.size()) + [&] {
    int64_t n = 0;
    for (const OutboxArtifact& a : artifacts) n += a.data.size();
    return n;
  }();
  entries_[name] = {size, now};
  bytes_ += size;
  EnforceLocked(&name);
  return Status::Ok();
}

void Outbox::EnforceLocked(const std::string* keep) {
  const int64_t oldest_allowed = clock_.NowMs() - options_.max_age.count();
  while (!entries_.empty()) {
    const auto it = entries_.begin();
    if (keep && it->first == *keep) break;
    const bool too_old = it->second.created_ms < oldest_allowed;
    const bool too_big = bytes_ > options_.max_bytes;
    if (!too_old && !too_big) break;
    log::Get("robot")->warn("outbox: dropping the unsent result {} ({}; outbox {} entries, {} B)",
                            it->first, too_old ? "older than the outbox's max age" : "outbox full",
                            entries_.size(), bytes_);
    const std::string name = it->first;
    (void)RemoveLocked(name);
    ++dropped_;
  }
}

std::vector<std::string> Outbox::Oldest(size_t max) {
  std::lock_guard lock(mu_);
  EnforceLocked(nullptr);
  std::vector<std::string> names;
  for (auto it = entries_.begin(); it != entries_.end() && names.size() < max; ++it) {
    names.push_back(it->first);
  }
  return names;
}

Result<OutboxEntry> Outbox::Read(const std::string& name) const {
  const fs::path path = options_.dir / name;
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("outbox entry " + name + " is gone");
  std::string header_line;
  std::getline(in, header_line);
  std::ostringstream rest;
  rest << in.rdbuf();
  const std::string body = std::move(rest).str();
  std::string error;
  const std::optional<Json> header = ParseJson(header_line, &error);
  if (!header || !header->is_object()) {
    return DataLossError("outbox entry " + name + ": damaged header: " + error);
  }
  OutboxEntry e;
  e.name = name;
  e.run_id = header->value("run_id", "");
  e.created_ms = header->value("created_ms", int64_t{0});
  const auto result_size = header->value("result_size", int64_t{-1});
  if (result_size < 0 || static_cast<size_t>(result_size) > body.size()) {
    return DataLossError("outbox entry " + name + ": truncated");
  }
  e.result_json = body.substr(0, static_cast<size_t>(result_size));
  size_t at = static_cast<size_t>(result_size);
  const auto parts = header->find("artifacts");
  if (parts != header->end() && parts->is_array()) {
    for (const Json& p : *parts) {
      const auto size = static_cast<size_t>(p.value("size", int64_t{0}));
      if (at + size > body.size()) return DataLossError("outbox entry " + name + ": truncated");
      e.artifacts.push_back(
          {p.value("filename", ""), p.value("content_type", ""), body.substr(at, size)});
      at += size;
    }
  }
  return e;
}

Status Outbox::RemoveLocked(const std::string& name) {
  const auto it = entries_.find(name);
  if (it == entries_.end()) return Status::Ok();
  std::error_code ec;
  fs::remove(options_.dir / name, ec);
  if (ec) return UnavailableError("cannot remove outbox entry " + name + ": " + ec.message());
  bytes_ -= it->second.bytes;
  entries_.erase(it);
  return Status::Ok();
}

Status Outbox::Remove(const std::string& name) {
  std::lock_guard lock(mu_);
  return RemoveLocked(name);
}

Status Outbox::DeadLetter(const std::string& name, std::string_view reason) {
  std::lock_guard lock(mu_);
  const auto it = entries_.find(name);
  if (it == entries_.end()) return Status::Ok();
  const fs::path dead = options_.dir.parent_path() / "dead-letter";
  std::error_code ec;
  fs::rename(options_.dir / name, dead / name, ec);
  if (ec) return UnavailableError("cannot move " + name + " to dead-letter: " + ec.message());
  // Why, beside it, for the operator.
  std::ofstream(dead / (name + ".reason")) << reason << "\n";
  (void)SyncDirectory(dead);
  (void)SyncDirectory(options_.dir);
  bytes_ -= it->second.bytes;
  entries_.erase(it);
  ++dead_lettered_;
  log::Get("robot")->warn("outbox: result {} refused by the server, kept in {}: {}", name,
                          dead.string(), reason);
  return Status::Ok();
}

OutboxStats Outbox::stats() const {
  std::lock_guard lock(mu_);
  return {static_cast<int64_t>(entries_.size()), bytes_, dropped_, dead_lettered_};
}

}  // namespace pa::robot
