#include "storage/sqlite/connection.h"

#include <cctype>

#include "storage/sqlite/sql_rewrite.h"

namespace pa::storage::sqlite {
namespace {

// Enough for every statement the components run; ad-hoc SQL beyond this empties the cache,
// which the hot statements then refill.
constexpr size_t kMaxCached = 256;

// The SQL as it appears in an error message: whitespace collapsed, at most 200 characters.
std::string Snippet(std::string_view sql) {
  std::string out;
  for (char c : sql) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else {
      out += c;
    }
    if (out.size() >= 200) return out + "...";
  }
  return out;
}

int BindValue(sqlite3_stmt* stmt, int i, const SqlValue& value) {
  struct Binder {
    sqlite3_stmt* stmt;
    int i;
    int operator()(std::monostate) const { return sqlite3_bind_null(stmt, i); }
    int operator()(int64_t v) const { return sqlite3_bind_int64(stmt, i, v); }
    int operator()(double v) const { return sqlite3_bind_double(stmt, i, v); }
    // SQLITE_STATIC: the parameters outlive the statement's use (bindings are cleared on
    // release), so SQLite need not copy them.
    int operator()(const std::string& v) const {
      return sqlite3_bind_text64(stmt, i, v.data(), v.size(), SQLITE_STATIC, SQLITE_UTF8);
    }
    int operator()(const Blob& v) const {
      // A null pointer would bind NULL, not an empty blob.
      if (v.bytes.empty()) return sqlite3_bind_zeroblob(stmt, i, 0);
      return sqlite3_bind_blob64(stmt, i, v.bytes.data(), v.bytes.size(), SQLITE_STATIC);
    }
  };
  return std::visit(Binder{stmt, i}, value);
}

SqlValue ColumnValue(sqlite3_stmt* stmt, int c) {
  switch (sqlite3_column_type(stmt, c)) {
    case SQLITE_INTEGER:
      return static_cast<int64_t>(sqlite3_column_int64(stmt, c));
    case SQLITE_FLOAT:
      return sqlite3_column_double(stmt, c);
    case SQLITE_TEXT: {
      const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
      return std::string(text ? text : "", static_cast<size_t>(sqlite3_column_bytes(stmt, c)));
    }
    case SQLITE_BLOB: {
      const auto* data = static_cast<const char*>(sqlite3_column_blob(stmt, c));
      const auto size = static_cast<size_t>(sqlite3_column_bytes(stmt, c));
      return Blob{data ? std::string(data, size) : std::string()};
    }
    default:
      return kNull;
  }
}

}  // namespace

void Connection::StmtReleaser::operator()(sqlite3_stmt* stmt) const {
  if (cached) {
    sqlite3_reset(stmt);  // ends the statement's read transaction in autocommit mode
    sqlite3_clear_bindings(stmt);
  } else {
    sqlite3_finalize(stmt);
  }
}

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& path, Role role,
                                                     std::chrono::milliseconds busy_timeout) {
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
  if (role == Role::kWriter) flags |= SQLITE_OPEN_CREATE;
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  std::unique_ptr<Connection> conn(new Connection(db, path));  // closes `db` on every path
  if (rc != SQLITE_OK) {
    return UnavailableError("database " + path +
                            ": cannot open: " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
  }
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, static_cast<int>(busy_timeout.count()));
  if (role == Role::kWriter) {
    PA_ASSIGN_OR_RETURN(Rows mode, conn->Query("PRAGMA journal_mode=WAL", {}));
    const std::string got = mode.empty() || mode.IsNull(0, 0) ? "" : mode.Text(0, 0);
    if (got != "wal") {
      return UnavailableError("database " + path + ": cannot switch to WAL journal mode (got '" +
                              got + "'); is it on a network filesystem?");
    }
    PA_RETURN_IF_ERROR(conn->Exec("PRAGMA synchronous=FULL").status());
    PA_RETURN_IF_ERROR(conn->Exec("PRAGMA foreign_keys=ON").status());
  } else {
    PA_RETURN_IF_ERROR(conn->Exec("PRAGMA foreign_keys=ON").status());
    PA_RETURN_IF_ERROR(conn->Exec("PRAGMA query_only=ON").status());
  }
  return conn;
}

void Connection::OnWalCommit(std::function<void(int pages)> hook) {
  wal_hook_ = std::move(hook);
  sqlite3_wal_hook(db_, wal_hook_ ? &Connection::WalHook : nullptr, this);
}

int Connection::WalHook(void* self, sqlite3* /*db*/, const char* /*name*/, int pages) {
  static_cast<Connection*>(self)->wal_hook_(pages);
  return SQLITE_OK;
}

Result<int> Connection::Checkpoint(bool truncate) {
  int log = 0, copied = 0;
  const int rc = sqlite3_wal_checkpoint_v2(
      db_, nullptr, truncate ? SQLITE_CHECKPOINT_TRUNCATE : SQLITE_CHECKPOINT_PASSIVE, &log,
      &copied);
  if (rc != SQLITE_OK) return Error(rc, "checkpoint");
  return log < 0 ? 0 : log - copied;
}

Connection::~Connection() {
  ClearCache();
  sqlite3_close_v2(db_);
}

void Connection::ClearCache() {
  for (auto& [sql, cached] : cache_) sqlite3_finalize(cached.stmt);
  cache_.clear();
}

Status Connection::Error(int rc, std::string_view sql) const {
  std::string msg = "database " + path_ + ": " + sqlite3_errmsg(db_);
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return AbortedError(msg + " (another writer holds the lock; retry)");
    case SQLITE_CONSTRAINT:
      // The message names the constraint: "UNIQUE constraint failed: users.email".
      if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
        return AlreadyExistsError(msg);
      }
      return InvalidArgumentError(msg);
    case SQLITE_ERROR:
    case SQLITE_MISMATCH:
    case SQLITE_RANGE:
    case SQLITE_TOOBIG:
    case SQLITE_AUTH:
      return InvalidArgumentError(msg + " in SQL: " + Snippet(sql));
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_FULL:
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_NOLFS:
    case SQLITE_PROTOCOL:
    case SQLITE_NOMEM:
      return UnavailableError(msg);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return DataLossError(msg);
    case SQLITE_INTERRUPT:
      return AbortedError(msg);
    default:
      return InternalError(msg + " (sqlite result code " + std::to_string(rc) + ")");
  }
}

Status Connection::CheckParamCount(int max_param, const Params& params,
                                   std::string_view sql) const {
  if (params.values().size() <= static_cast<size_t>(max_param)) return Status::Ok();
  return InvalidArgumentError(
      "database " + path_ + ": " + std::to_string(params.values().size()) +
      " parameters given but the SQL uses " +
      (max_param == 0 ? "none" : "only up to $" + std::to_string(max_param)) + ": " + Snippet(sql));
}

Result<Connection::Prepared> Connection::PrepareFirst(std::string_view sql) {
  Prepared p;
  if (auto it = cache_.find(sql); it != cache_.end()) {
    p.stmt = StmtPtr(it->second.stmt, StmtReleaser{true});
    p.max_param = it->second.max_param;
    return p;
  }
  auto rewritten = RewriteParams(sql);
  if (!rewritten.ok()) return rewritten.status().WithContext("database " + path_);
  const std::string& text = rewritten->sql;
  sqlite3_stmt* raw = nullptr;
  const char* tail = nullptr;
  const int rc = sqlite3_prepare_v3(db_, text.data(), static_cast<int>(text.size()),
                                    SQLITE_PREPARE_PERSISTENT, &raw, &tail);
  if (rc != SQLITE_OK) return Error(rc, sql);
  p.max_param = rewritten->max_param;
  if (raw == nullptr) return p;  // nothing but whitespace and comments
  const std::string_view rest(tail, static_cast<size_t>(text.data() + text.size() - tail));
  if (!IsBlank(rest)) {
    p.stmt = StmtPtr(raw, StmtReleaser{false});
    p.rest.assign(rest);
    return p;
  }
  if (cache_.size() >= kMaxCached) ClearCache();  // no cached statement is in use here
  cache_.emplace(std::string(sql), Cached{raw, p.max_param});
  p.stmt = StmtPtr(raw, StmtReleaser{true});
  return p;
}

Status Connection::Bind(sqlite3_stmt* stmt, const Params& params, std::string_view sql) {
  const auto& values = params.values();
  const int count = sqlite3_bind_parameter_count(stmt);
  for (int i = 1; i <= count; ++i) {
    if (static_cast<size_t>(i) > values.size()) {
      return InvalidArgumentError("database " + path_ + ": the SQL uses $" + std::to_string(i) +
                                  " but only " + std::to_string(values.size()) +
                                  " parameters were given: " + Snippet(sql));
    }
    if (const int rc = BindValue(stmt, i, values[i - 1]); rc != SQLITE_OK) return Error(rc, sql);
  }
  return Status::Ok();
}

Status Connection::Run(sqlite3_stmt* stmt, std::string_view sql,
                       std::vector<std::vector<SqlValue>>* rows) {
  for (;;) {
    const int rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE) return Status::Ok();
    if (rc != SQLITE_ROW) return Error(rc, sql);
    if (rows == nullptr) continue;
    // Asked after stepping: a schema change makes the first step re-prepare the statement.
    const int columns = sqlite3_column_count(stmt);
    std::vector<SqlValue>& row = rows->emplace_back();
    row.reserve(static_cast<size_t>(columns));
    for (int c = 0; c < columns; ++c) row.push_back(ColumnValue(stmt, c));
  }
}

Result<int64_t> Connection::RunCounting(sqlite3_stmt* stmt, std::string_view sql) {
  // sqlite3_changes() keeps the count of the last INSERT/UPDATE/DELETE, so DDL and SELECT would
  // report a stale number; the connection's running total tells whether this one changed rows.
  const int64_t before = sqlite3_total_changes64(db_);
  PA_RETURN_IF_ERROR(Run(stmt, sql, nullptr));
  return sqlite3_total_changes64(db_) == before ? 0 : sqlite3_changes64(db_);
}

Result<Rows> Connection::QueryPrepared(Prepared& p, std::string_view sql, const Params& params) {
  if (!p.stmt) return InvalidArgumentError("database " + path_ + ": empty SQL statement");
  if (!p.rest.empty()) {
    return InvalidArgumentError(
        "database " + path_ + ": Query runs one statement; use Exec for several: " + Snippet(sql));
  }
  PA_RETURN_IF_ERROR(CheckParamCount(p.max_param, params, sql));
  PA_RETURN_IF_ERROR(Bind(p.stmt.get(), params, sql));
  std::vector<std::vector<SqlValue>> rows;
  PA_RETURN_IF_ERROR(Run(p.stmt.get(), sql, &rows));
  // After Run, for the same reason as there; the statement is not reset yet.
  const int count = sqlite3_column_count(p.stmt.get());
  std::vector<std::string> columns;
  columns.reserve(static_cast<size_t>(count));
  for (int c = 0; c < count; ++c) {
    const char* name = sqlite3_column_name(p.stmt.get(), c);
    columns.emplace_back(name ? name : "");
  }
  return Rows(std::move(columns), std::move(rows));
}

Result<Rows> Connection::Query(std::string_view sql, const Params& params) {
  PA_ASSIGN_OR_RETURN(Prepared p, PrepareFirst(sql));
  return QueryPrepared(p, sql, params);
}

Result<std::optional<Rows>> Connection::QueryIfReadOnly(std::string_view sql,
                                                        const Params& params) {
  PA_ASSIGN_OR_RETURN(Prepared p, PrepareFirst(sql));
  if (p.stmt && p.rest.empty() && !sqlite3_stmt_readonly(p.stmt.get())) {
    return std::optional<Rows>();
  }
  PA_ASSIGN_OR_RETURN(Rows rows, QueryPrepared(p, sql, params));
  return std::optional<Rows>(std::move(rows));
}

Result<int64_t> Connection::Exec(std::string_view sql, const Params& params) {
  PA_ASSIGN_OR_RETURN(Prepared p, PrepareFirst(sql));
  if (!p.stmt) return int64_t{0};
  PA_RETURN_IF_ERROR(CheckParamCount(p.max_param, params, sql));
  PA_RETURN_IF_ERROR(Bind(p.stmt.get(), params, sql));
  PA_ASSIGN_OR_RETURN(int64_t changed, RunCounting(p.stmt.get(), sql));
  p.stmt.reset();
  // A script: the remaining statements are prepared one at a time from the rewritten text;
  // sqlite3_prepare's tail pointer knows where each statement ends, literals included.
  std::string_view rest = p.rest;
  while (!IsBlank(rest)) {
    sqlite3_stmt* raw = nullptr;
    const char* tail = nullptr;
    const int rc = sqlite3_prepare_v2(db_, rest.data(), static_cast<int>(rest.size()), &raw, &tail);
    if (rc != SQLITE_OK) return Error(rc, rest);
    if (raw == nullptr) break;
    StmtPtr stmt(raw, StmtReleaser{false});
    const std::string_view current = rest.substr(0, static_cast<size_t>(tail - rest.data()));
    rest.remove_prefix(current.size());
    PA_RETURN_IF_ERROR(Bind(stmt.get(), params, current));
    PA_ASSIGN_OR_RETURN(int64_t n, RunCounting(stmt.get(), current));
    changed += n;
  }
  return changed;
}

}  // namespace pa::storage::sqlite
