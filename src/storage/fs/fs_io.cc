#include "storage/fs/fs_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>
#include <vector>

#include "base/random.h"

namespace pa::storage::fs {
namespace {

constexpr size_t kChunk = 256 * 1024;

// Closes a descriptor once; Close() reports the error of the final close.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int Close() {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

Status WriteAll(int fd, const char* data, size_t n, const std::string& path) {
  while (n > 0) {
    const ssize_t w = ::write(fd, data, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return IoError("write", path, errno);
    }
    data += w;
    n -= static_cast<size_t>(w);
  }
  return Status::Ok();
}

// Copies exactly `size` bytes from `read` to `fd`, then checks that the source has ended.
Status CopyExactly(int fd, int64_t size, const ReadChunk& read, const std::string& path) {
  std::vector<char> buf(static_cast<size_t>(std::min<int64_t>(kChunk, std::max<int64_t>(size, 1))));
  int64_t done = 0;
  while (done < size) {
    const size_t want = static_cast<size_t>(std::min<int64_t>(buf.size(), size - done));
    PA_ASSIGN_OR_RETURN(size_t got, read(buf.data(), want));
    if (got == 0) {
      return InvalidArgumentError("the source ended after " + std::to_string(done) + " of " +
                                  std::to_string(size) + " bytes; nothing was stored");
    }
    if (got > want) {
      return InternalError("the source returned " + std::to_string(got) +
                           " bytes for a buffer of " + std::to_string(want));
    }
    PA_RETURN_IF_ERROR(WriteAll(fd, buf.data(), got, path));
    done += static_cast<int64_t>(got);
  }
  char extra;
  PA_ASSIGN_OR_RETURN(size_t more, read(&extra, 1));
  if (more != 0) {
    return InvalidArgumentError("the source has more than the announced " + std::to_string(size) +
                                " bytes; nothing was stored");
  }
  return Status::Ok();
}

}  // namespace

Status IoError(std::string_view what, const std::string& path, int err) {
  std::string msg = "artifacts: " + std::string(what) + " " + path + ": " +
                    std::error_code(err, std::generic_category()).message();
  switch (err) {
    case ENOSPC:
    case EDQUOT:
      return ResourceExhaustedError(std::move(msg));
    case EACCES:
    case EPERM:
    case EROFS:
      return PermissionDeniedError(std::move(msg));
    default:
      return InternalError(std::move(msg));
  }
}

Status FsyncDir(const std::string& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return IoError("open directory", dir, errno);
  if (::fsync(fd.get()) != 0) return IoError("fsync directory", dir, errno);
  return Status::Ok();
}

Status WriteFileAtomically(const std::string& dir, std::string_view name, int64_t size,
                           const ReadChunk& read, bool* dir_missing) {
  *dir_missing = false;
  const std::string tmp = dir + "/" + std::string(kTempPrefix) + NewRequestId();
  const std::string target = dir + "/" + std::string(name);
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (fd.get() < 0) {
    *dir_missing = errno == ENOENT;
    return IoError("create", tmp, errno);
  }

  Status s = CopyExactly(fd.get(), size, read, tmp);
  if (s.ok() && ::fsync(fd.get()) != 0) s = IoError("fsync", tmp, errno);
  if (s.ok() && fd.Close() != 0) s = IoError("close", tmp, errno);
  if (s.ok() && ::rename(tmp.c_str(), target.c_str()) != 0) {
    const int err = errno;
    s = (err == EISDIR || err == ENOTEMPTY || err == EEXIST)
            ? FailedPreconditionError("artifacts: " + target +
                                      " is a directory of other objects; a key cannot be both")
            : IoError("rename to", target, err);
  }
  if (!s.ok()) {
    ::unlink(tmp.c_str());
    return s;
  }
  return FsyncDir(dir);
}

int64_t MtimeMs(const struct stat& st) {
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1000000;
}

}  // namespace pa::storage::fs
