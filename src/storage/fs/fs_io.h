// POSIX file helpers for the filesystem ArtifactStore: errno → Status, whole writes, fsync of
// directories, and the atomic "temp file + fsync + rename + fsync dir" write.
// Internal to storage/fs.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "storage/artifact_store.h"

namespace pa::storage::fs {

// Temporary files carry this name prefix; List skips them and Open removes old ones.
inline constexpr std::string_view kTempPrefix = ".tmp-";

// "artifacts: <what> <path>: <strerror>" with a code fitting the errno (ENOSPC →
// kResourceExhausted, EACCES/EPERM/EROFS → kPermissionDenied, otherwise kInternal).
Status IoError(std::string_view what, const std::string& path, int err);

// fsync of a directory, so that entries created or renamed in it survive a crash.
Status FsyncDir(const std::string& dir);

// Creates `dir`/.tmp-<random>, fills it with exactly `size` bytes from `read`, fsyncs it, renames
// it to `dir`/`name` and fsyncs `dir`. On any failure the temporary file is removed and nothing
// changes at `dir`/`name`. When `dir` does not exist, sets `*dir_missing` (nothing was read
// from `read` then, so the caller may recreate `dir` and call again).
Status WriteFileAtomically(const std::string& dir, std::string_view name, int64_t size,
                           const ReadChunk& read, bool* dir_missing);

// Unix milliseconds of a file's modification time (from struct stat's st_mtim).
int64_t MtimeMs(const struct stat& st);

}  // namespace pa::storage::fs
