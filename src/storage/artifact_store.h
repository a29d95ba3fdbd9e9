// ArtifactStore: blobs that belong to monitoring data — screenshots of failed steps, HAR files,
// robot logs — on the local filesystem (default, storage/fs) or S3/MinIO (storage/s3).
//
// Keys are relative paths of 1..512 bytes from [A-Za-z0-9._/-], without empty, "." or ".."
// segments and without a leading '/', e.g. "screenshots/2026/11/28/01HX...png". Writes are
// atomic: a reader sees the whole old object, the whole new one, or nothing — never a part.
// A Put that returned OK is durable (survives `kill -9`; filesystem: fsync of file and directory).
//
//   PA_RETURN_IF_ERROR(store.Put("screenshots/x.png", png_bytes));
//   PA_ASSIGN_OR_RETURN(std::string bytes, store.Get("screenshots/x.png"));
//
// Large objects stream: PutStream reads from a callback and GetStream hands chunks to one, so
// neither needs the object in memory.
// Errors: kNotFound for a missing key (Get/Stat; Delete of a missing key is OK), kInvalidArgument
// for a bad key, kUnavailable when the backend cannot be reached after retries, kInternal
// otherwise. Thread-safety: every method may be called from any thread concurrently.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace pa::storage {

struct ObjectInfo {
  std::string key;
  int64_t size = 0;
  int64_t modified_ms = 0;  // Unix ms of the last write, as the backend reports it
};

// Fills `buf` with up to `max` bytes and returns how many; 0 means the end. A Status result ends
// the upload with that error.
using ReadChunk = std::function<Result<size_t>(char* buf, size_t max)>;
// Receives the object's bytes in order; returning an error aborts the download with it.
using WriteChunk = std::function<Status(std::string_view chunk)>;

class ArtifactStore {
 public:
  virtual ~ArtifactStore() = default;

  // "fs" or "s3".
  virtual std::string_view backend() const = 0;
  // Where the objects are, without secrets (e.g. "file:///var/lib/primoart/artifacts").
  virtual std::string description() const = 0;

  virtual Status Put(std::string_view key, std::string_view data) = 0;
  // Streams exactly `size` bytes from `read`; fewer or more is an error and stores nothing.
  virtual Status PutStream(std::string_view key, int64_t size, const ReadChunk& read) = 0;

  virtual Result<std::string> Get(std::string_view key) = 0;
  virtual Status GetStream(std::string_view key, const WriteChunk& write) = 0;

  virtual Result<ObjectInfo> Stat(std::string_view key) = 0;
  virtual Status Delete(std::string_view key) = 0;

  // Every object whose key starts with `prefix`, sorted by key.
  virtual Result<std::vector<ObjectInfo>> List(std::string_view prefix) = 0;

  // OK when the backend answers now (filesystem: the directory is writable).
  virtual Status Ping() = 0;
};

// Checks a key against the rules above; the message says what is wrong.
Status ValidateArtifactKey(std::string_view key);

}  // namespace pa::storage
