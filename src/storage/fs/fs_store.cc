#include "storage/fs/fs_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <vector>

#include "base/random.h"
#include "storage/fs/fs_io.h"

namespace pa::storage::fs {
namespace {

constexpr size_t kReadChunk = 256 * 1024;
// A concurrent Delete may prune a directory between our mkdir and the create in it.
constexpr int kCreateAttempts = 32;
// NAME_MAX of the common Linux file systems.
constexpr size_t kMaxSegment = 255;

// Keys whose segments start with ".tmp-" would collide with temporary files.
Status ValidateFsKey(std::string_view key) {
  PA_RETURN_IF_ERROR(ValidateArtifactKey(key));
  for (size_t start = 0; start < key.size();) {
    size_t end = key.find('/', start);
    if (end == std::string_view::npos) end = key.size();
    if (end - start > kMaxSegment) {
      return InvalidArgumentError("artifact key '" + std::string(key) +
                                  "' has a segment longer than " + std::to_string(kMaxSegment) +
                                  " bytes, more than a file name can hold");
    }
    if (key.substr(start, end - start).starts_with(kTempPrefix)) {
      return InvalidArgumentError("artifact key '" + std::string(key) +
                                  "' has a segment starting with '.tmp-', which the filesystem "
                                  "store reserves for temporary files");
    }
    start = end + 1;
  }
  return Status::Ok();
}

// A List prefix: key characters, no leading '/', and no empty, "." or ".." segment before the
// last '/', so it cannot leave the root.
Status ValidatePrefix(std::string_view prefix) {
  if (prefix.empty()) return Status::Ok();
  const size_t slash = prefix.rfind('/');
  if (slash == std::string_view::npos) return ValidateArtifactKey(prefix);
  PA_RETURN_IF_ERROR(ValidateArtifactKey(prefix.substr(0, slash)).WithContext("list prefix"));
  if (slash + 1 < prefix.size()) {
    PA_RETURN_IF_ERROR(ValidateArtifactKey(prefix.substr(slash + 1)).WithContext("list prefix"));
  }
  return Status::Ok();
}

bool IsTemp(std::string_view name) { return name.starts_with(kTempPrefix); }

// Calls `fn(relative_path, stat)` for every regular file under root/`rel_dir` (recursively),
// skipping temporary files. Entries that vanish meanwhile (a concurrent Delete) are skipped.
template <typename Fn>
Status Walk(const std::string& root, const std::string& rel_dir, bool include_temps, Fn&& fn) {
  const std::string dir = rel_dir.empty() ? root : root + "/" + rel_dir;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    if (errno == ENOENT || errno == ENOTDIR) return Status::Ok();
    return IoError("list", dir, errno);
  }
  std::vector<std::pair<std::string, bool>> entries;  // name, is_dir
  while (dirent* e = ::readdir(d)) {
    const std::string_view name = e->d_name;
    if (name == "." || name == "..") continue;
    entries.emplace_back(std::string(name), e->d_type == DT_DIR);
  }
  ::closedir(d);
  for (const auto& [name, is_dir] : entries) {
    const std::string rel = rel_dir.empty() ? name : rel_dir + "/" + name;
    if (is_dir) {
      PA_RETURN_IF_ERROR(Walk(root, rel, include_temps, fn));
      continue;
    }
    if (IsTemp(name) != include_temps) continue;
    struct stat st;
    if (::lstat((root + "/" + rel).c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {  // file systems without d_type
      PA_RETURN_IF_ERROR(Walk(root, rel, include_temps, fn));
    } else if (S_ISREG(st.st_mode)) {
      fn(rel, st);
    }
  }
  return Status::Ok();
}

Status RemoveStaleTemps(const std::string& root, std::chrono::seconds max_age) {
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  const int64_t cutoff =
      now_ms - std::chrono::duration_cast<std::chrono::milliseconds>(max_age).count();
  return Walk(root, "", /*include_temps=*/true, [&](const std::string& rel, const struct stat& st) {
    if (MtimeMs(st) <= cutoff) ::unlink((root + "/" + rel).c_str());
  });
}

class FsStore final : public ArtifactStore {
 public:
  explicit FsStore(std::string root) : root_(std::move(root)) {}

  std::string_view backend() const override { return "fs"; }
  std::string description() const override { return "file://" + root_; }

  Status Put(std::string_view key, std::string_view data) override {
    size_t offset = 0;
    return PutStream(key, static_cast<int64_t>(data.size()),
                     [&](char* buf, size_t max) -> Result<size_t> {
                       const size_t n = std::min(max, data.size() - offset);
                       std::copy_n(data.data() + offset, n, buf);
                       offset += n;
                       return n;
                     });
  }

  Status PutStream(std::string_view key, int64_t size, const ReadChunk& read) override {
    PA_RETURN_IF_ERROR(ValidateFsKey(key));
    if (size < 0) return InvalidArgumentError("artifact size must not be negative");
    const size_t slash = key.rfind('/');
    const std::string name(slash == std::string_view::npos ? key : key.substr(slash + 1));
    const std::string dir =
        slash == std::string_view::npos ? root_ : root_ + "/" + std::string(key.substr(0, slash));
    // Directories made here can be pruned by a concurrent Delete before the file lands in them;
    // then make them again. Nothing has been read from `read` in that case.
    for (int attempt = 1;; ++attempt) {
      bool vanished = false, dir_missing = false;
      Status s = MakeParents(key, &vanished);
      if (s.ok()) s = WriteFileAtomically(dir, name, size, read, &dir_missing);
      if ((!vanished && !dir_missing) || attempt == kCreateAttempts) {
        return s.WithContext("artifact '" + std::string(key) + "'");
      }
    }
  }

  Result<std::string> Get(std::string_view key) override {
    std::string out;
    PA_RETURN_IF_ERROR(GetStream(key, [&](std::string_view chunk) {
      out.append(chunk);
      return Status::Ok();
    }));
    return out;
  }

  Status GetStream(std::string_view key, const WriteChunk& write) override {
    PA_ASSIGN_OR_RETURN(std::string path, PathFor(key));
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return OpenError(key, path, errno);
    struct Closer {
      int fd;
      ~Closer() { ::close(fd); }
    } closer{fd};
    struct stat st;
    if (::fstat(fd, &st) != 0) return IoError("stat", path, errno);
    if (!S_ISREG(st.st_mode)) return NotFound(key);
    std::vector<char> buf(kReadChunk);
    while (true) {
      const ssize_t n = ::read(fd, buf.data(), buf.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return IoError("read", path, errno);
      }
      if (n == 0) return Status::Ok();
      PA_RETURN_IF_ERROR(write(std::string_view(buf.data(), static_cast<size_t>(n))));
    }
  }

  Result<ObjectInfo> Stat(std::string_view key) override {
    PA_ASSIGN_OR_RETURN(std::string path, PathFor(key));
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return OpenError(key, path, errno);
    if (!S_ISREG(st.st_mode)) return NotFound(key);
    return ObjectInfo{.key = std::string(key), .size = st.st_size, .modified_ms = MtimeMs(st)};
  }

  Status Delete(std::string_view key) override {
    PA_ASSIGN_OR_RETURN(std::string path, PathFor(key));
    if (::unlink(path.c_str()) != 0) {
      // Missing, or a directory of other objects: either way no object has this key.
      if (errno == ENOENT || errno == ENOTDIR || errno == EISDIR) return Status::Ok();
      return IoError("delete", path, errno);
    }
    PruneEmptyParents(key);
    return Status::Ok();
  }

  Result<std::vector<ObjectInfo>> List(std::string_view prefix) override {
    PA_RETURN_IF_ERROR(ValidatePrefix(prefix));
    const size_t slash = prefix.rfind('/');
    const std::string start_dir(slash == std::string_view::npos ? "" : prefix.substr(0, slash));
    std::vector<ObjectInfo> out;
    PA_RETURN_IF_ERROR(Walk(root_, start_dir, /*include_temps=*/false,
                            [&](const std::string& rel, const struct stat& st) {
                              if (!rel.starts_with(prefix)) return;
                              out.push_back(
                                  {.key = rel, .size = st.st_size, .modified_ms = MtimeMs(st)});
                            }));
    std::sort(out.begin(), out.end(),
              [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
    return out;
  }

  Status Ping() override {
    // Creating a file is the only honest test: access(W_OK) says yes to root on a read-only mount.
    const std::string probe = root_ + "/" + std::string(kTempPrefix) + "ping-" + NewRequestId();
    const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
      const int err = errno;
      if (err == ENOENT) {
        return UnavailableError("artifacts: directory " + root_ + " does not exist any more");
      }
      return IoError("cannot write to directory", root_, err);
    }
    ::close(fd);
    ::unlink(probe.c_str());
    return Status::Ok();
  }

 private:
  Result<std::string> PathFor(std::string_view key) const {
    PA_RETURN_IF_ERROR(ValidateFsKey(key));
    return root_ + "/" + std::string(key);
  }

  static Status NotFound(std::string_view key) {
    return NotFoundError("artifact '" + std::string(key) + "' not found");
  }

  static Status OpenError(std::string_view key, const std::string& path, int err) {
    if (err == ENOENT || err == ENOTDIR) return NotFound(key);
    return IoError("open", path, err);
  }

  // Creates the directories of `key` below the root; a new directory's entry is fsynced into its
  // parent so an object written below it survives a crash.
  Status MakeParents(std::string_view key, bool* vanished) const {
    *vanished = false;
    std::string dir = root_;
    for (size_t slash = key.find('/'); slash != std::string_view::npos;
         slash = key.find('/', slash + 1)) {
      const std::string parent = dir;
      dir = root_ + "/" + std::string(key.substr(0, slash));
      if (::mkdir(dir.c_str(), 0755) == 0) {
        Status synced = FsyncDir(parent);
        // A concurrent Delete may prune the new (still empty) directory and its parent.
        if (!synced.ok() && ::access(parent.c_str(), F_OK) != 0) *vanished = true;
        if (!synced.ok()) return synced;
        continue;
      }
      const int err = errno;
      if (err == ENOENT) *vanished = true;  // the parent was pruned since we made it
      if (err != EEXIST) return IoError("create directory", dir, err);
      struct stat st;
      if (::stat(dir.c_str(), &st) == 0 && !S_ISDIR(st.st_mode)) {
        return FailedPreconditionError("artifact key '" + std::string(key) + "' needs '" +
                                       std::string(key.substr(0, slash)) +
                                       "' to be a directory, but an object has that key");
      }
    }
    return Status::Ok();
  }

  // Removes directories that Delete left empty, deepest first; stops at the first that is not.
  void PruneEmptyParents(std::string_view key) const {
    for (size_t slash = key.rfind('/'); slash != std::string_view::npos && slash > 0;
         slash = key.rfind('/', slash - 1)) {
      const std::string dir = root_ + "/" + std::string(key.substr(0, slash));
      if (::rmdir(dir.c_str()) != 0) return;
    }
  }

  const std::string root_;
};

}  // namespace

Result<std::unique_ptr<ArtifactStore>> Open(const Options& options) {
  if (options.root.empty()) return InvalidArgumentError("artifacts: the directory is empty");
  std::error_code ec;
  std::filesystem::path root = std::filesystem::absolute(options.root, ec).lexically_normal();
  if (ec) return IoError("resolve", options.root, ec.value());
  std::string root_str = root.string();
  while (root_str.size() > 1 && root_str.back() == '/') root_str.pop_back();
  std::filesystem::create_directories(root_str, ec);
  if (ec) return IoError("create directory", root_str, ec.value());
  if (!std::filesystem::is_directory(root_str, ec)) {
    return FailedPreconditionError("artifacts: " + root_str + " is not a directory");
  }
  PA_RETURN_IF_ERROR(RemoveStaleTemps(root_str, options.stale_temp_age));
  return std::unique_ptr<ArtifactStore>(std::make_unique<FsStore>(std::move(root_str)));
}

}  // namespace pa::storage::fs
