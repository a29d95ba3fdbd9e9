// One libpq connection with its prepared-statement cache: the unit the PostgreSQL pool hands out.
//
//   PA_ASSIGN_OR_RETURN(auto conn, Connection::Connect(params));
//   PA_ASSIGN_OR_RETURN(Rows rows, conn->Query("SELECT v FROM t WHERE k = $1", {key}));
//
// Statements with parameters go through the extended protocol and are prepared once per
// connection (keyed by SQL text and parameter types); parameter-less Exec uses the simple
// protocol, which accepts several ';'-separated statements (migrations). Errors are mapped by
// SQLSTATE to the RelationalStore codes and name the server, never the password.
// Thread-safety: none; the pool gives a connection to one user at a time.
#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "storage/relational_store.h"

namespace pa::storage::postgres {

struct ConnectParams {
  std::string uri;      // for libpq, without the PrimoART-only `schema` parameter
  std::string options;  // libpq `options` (server settings such as search_path); may be empty
  std::chrono::milliseconds connect_timeout{5000};
  std::string where;  // "host:port/db", for messages
};

class Connection {
 public:
  // Fails with kUnavailable (naming `params.where` and libpq's reason) when no session could be
  // established.
  static Result<std::unique_ptr<Connection>> Connect(const ConnectParams& params);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // One statement; its rows.
  Result<Rows> Query(std::string_view sql, const Params& params);
  // One statement with parameters; the rows it changed.
  Result<int64_t> Exec(std::string_view sql, const Params& params);
  // One or more statements without parameters (simple protocol); the rows they changed.
  Result<int64_t> ExecScript(std::string_view sql);

  // False when the server closed, or is closing, the connection while it sat idle (restart,
  // idle timeout, pg_terminate_backend): an idle connection that has anything to read.
  bool Healthy();
  // True when the connection must not be reused.
  bool Broken() const { return poisoned_ || PQstatus(conn_) != CONNECTION_OK; }
  // True when the last failure happened before the statement was sent for execution, so
  // running it again elsewhere cannot apply it twice.
  bool FailedBeforeExecuting() const { return Broken() && !executing_; }
  PGTransactionStatusType TransactionStatus() const { return PQtransactionStatus(conn_); }
  const std::string& where() const { return where_; }

 private:
  using ResultPtr = std::unique_ptr<PGresult, decltype(&PQclear)>;

  Connection(PGconn* conn, std::string where) : conn_(conn), where_(std::move(where)) {}

  // Runs one statement through the extended protocol; the successful PGresult.
  Result<ResultPtr> Run(std::string_view sql, const Params& params);
  Result<ResultPtr> RunOnce(const std::string& sql, const Params& params, bool* stale_plan);
  Status ResultError(const PGresult* result, std::string_view sql) const;
  Status ConnectionError(std::string_view what) const;

  PGconn* conn_;
  std::string where_;
  bool executing_ = false;
  bool poisoned_ = false;
  int next_statement_ = 0;
  std::unordered_map<std::string, std::string> prepared_;  // key (SQL + types) → statement name
};

}  // namespace pa::storage::postgres
