// The SQLite backend of RelationalStore: the embedded default (`sqlite://<path>`).
//
// One writer connection (SQLite allows one writer at a time; writes queue on a mutex with
// busy_timeout as the bound) and a pool of reader connections that read concurrently under WAL.
// journal_mode=WAL, synchronous=FULL, foreign_keys=ON: an Exec/Commit that returned OK is on disk.
// The parent directory is created if missing. `$N` parameters are rewritten to `?N`.
//
//   PA_ASSIGN_OR_RETURN(auto db, sqlite::Open({.path = "/var/lib/primoart/primoart.db"}));
//
// Routing: an autocommit Query goes to a reader when SQLite says the statement is read-only
// (SELECT, read-only WITH); everything else, `INSERT ... RETURNING` included, to the writer. A
// Transaction holds the writer (BEGIN IMMEDIATE) until it commits or is destroyed, so a thread
// with an open Transaction must not write through the store itself (it would wait busy_timeout
// and get kAborted). As on PostgreSQL, a statement that fails inside a Transaction dooms it:
// later statements and Commit fail and nothing is committed. Exec accepts several
// ';'-separated statements. Errors name the database file; other processes writing the same
// file are waited for up to busy_timeout, then kAborted.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "storage/relational_store.h"

namespace pa::storage::sqlite {

struct Options {
  std::string path;  // file path; ":memory:" is refused (nothing would be durable)
  int readers = 4;
  std::chrono::milliseconds busy_timeout{5000};
};

// kInvalidArgument for ":memory:" or an empty path; kUnavailable when the file or its directory
// cannot be created or opened.
Result<std::unique_ptr<RelationalStore>> Open(const Options& options);

}  // namespace pa::storage::sqlite
