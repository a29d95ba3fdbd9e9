// One SQLite connection with its prepared-statement cache: the unit the SQLite store pools.
//
//   PA_ASSIGN_OR_RETURN(auto conn, Connection::Open("/data/primoart.db", Role::kWriter, 5s));
//   PA_ASSIGN_OR_RETURN(Rows rows, conn->Query("SELECT v FROM t WHERE k = $1", {key}));
//
// Statements are prepared once per connection and kept, keyed by their SQL text, because the
// hot paths (result upload, token checks) run the same few statements thousands of times a
// second. Errors are mapped to the RelationalStore codes (see relational_store.h) and name the
// database file.
// Thread-safety: none; the owner (store or transaction) serialises access.
#pragma once

#include <sqlite3.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "storage/relational_store.h"

namespace pa::storage::sqlite {

enum class Role {
  kWriter,  // creates the file, switches it to WAL, sets synchronous=FULL
  kReader,  // query_only: a misrouted write fails instead of racing the writer
};

class Connection {
 public:
  // Fails with kUnavailable when the file cannot be opened or created.
  static Result<std::unique_ptr<Connection>> Open(const std::string& path, Role role,
                                                  std::chrono::milliseconds busy_timeout);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs exactly one statement and returns its rows.
  Result<Rows> Query(std::string_view sql, const Params& params);
  // Like Query, but only when SQLite says the statement is read-only; nullopt (nothing run)
  // otherwise, so the caller can take it to the writer.
  Result<std::optional<Rows>> QueryIfReadOnly(std::string_view sql, const Params& params);
  // Runs one or more ';'-separated statements; returns the rows they changed.
  Result<int64_t> Exec(std::string_view sql, const Params& params = {});

  // True while a transaction is open on this connection.
  bool InTransaction() const { return sqlite3_get_autocommit(db_) == 0; }

  // Calls `hook(pages in the WAL)` after each commit of this connection, instead of SQLite's
  // automatic checkpoint (which would run on the committing thread): the owner checkpoints
  // elsewhere. `hook` runs on the committing thread, with the connection busy; keep it short.
  void OnWalCommit(std::function<void(int pages)> hook);
  // Copies WAL frames into the database file (SQLITE_CHECKPOINT_PASSIVE: never waits for
  // writers or readers; or TRUNCATE, which waits up to the busy timeout and empties the WAL).
  // Returns the frames left in the WAL that were not copied.
  Result<int> Checkpoint(bool truncate);
  const std::string& path() const { return path_; }
  // Rows changed by every statement so far (sqlite3_total_changes64).
  int64_t TotalChanges() const { return sqlite3_total_changes64(db_); }

 private:
  struct Cached {
    sqlite3_stmt* stmt = nullptr;
    int max_param = 0;
  };
  // Gives a statement back: a cached one is reset for its next use, a one-off one finalized.
  struct StmtReleaser {
    bool cached;
    void operator()(sqlite3_stmt* stmt) const;
  };
  using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtReleaser>;
  // The first statement of some SQL, ready to bind, and the (rewritten) statements after it.
  struct Prepared {
    StmtPtr stmt;       // null when the SQL holds no statement at all
    int max_param = 0;  // over the whole SQL
    std::string rest;   // empty unless more statements follow
  };

  Connection(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}

  Result<Prepared> PrepareFirst(std::string_view sql);
  Status Bind(sqlite3_stmt* stmt, const Params& params, std::string_view sql);
  // Steps `stmt` to completion, appending rows to `rows` when it is non-null.
  Status Run(sqlite3_stmt* stmt, std::string_view sql, std::vector<std::vector<SqlValue>>* rows);
  Result<int64_t> RunCounting(sqlite3_stmt* stmt, std::string_view sql);
  Status Error(int rc, std::string_view sql) const;
  Status CheckParamCount(int max_param, const Params& params, std::string_view sql) const;
  Result<Rows> QueryPrepared(Prepared& p, std::string_view sql, const Params& params);
  void ClearCache();
  static int WalHook(void* self, sqlite3* db, const char* name, int pages);

  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::function<void(int)> wal_hook_;
  sqlite3* db_;
  std::string path_;
  std::unordered_map<std::string, Cached, Hash, std::equal_to<>> cache_;
};

}  // namespace pa::storage::sqlite
