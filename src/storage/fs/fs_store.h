// The filesystem backend of ArtifactStore (`file://<dir>`): one file per key under the root.
//
// Writes go to a temporary file in the same directory, are fsynced, renamed over the key's path
// and the directory is fsynced, so readers never see a partial object and an OK Put survives a
// crash. Temporary files (".tmp-*") left by a crash are ignored by List and removed on Open once
// older than `stale_temp_age` — younger ones may belong to another process writing to the same
// root right now. Directories are created as keys need them and pruned when Delete empties them.
//
//   PA_ASSIGN_OR_RETURN(auto store, pa::storage::fs::Open({.root =
//   "/var/lib/primoart/artifacts"}));
//
// Limits of a filesystem: a key cannot name both an object and a "directory" of other objects
// ("a" and "a/b"); the second Put fails with kFailedPrecondition. Key segments starting with
// ".tmp-" are refused (kInvalidArgument) because that name space belongs to temporary files, and
// so are segments longer than 255 bytes (a file name's limit).
// Thread-safety: every method may be called from any thread; several processes may share a root.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "storage/artifact_store.h"

namespace pa::storage::fs {

struct Options {
  std::string root;  // created if missing
  // Open removes temporary files older than this (crash leftovers).
  std::chrono::seconds stale_temp_age{3600};
};

// Fails with kInvalidArgument for an empty root, or the filesystem's error (kPermissionDenied,
// kInternal, ...) when the root cannot be created or scanned.
Result<std::unique_ptr<ArtifactStore>> Open(const Options& options);

}  // namespace pa::storage::fs
