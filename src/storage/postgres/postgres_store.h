// The PostgreSQL backend of RelationalStore (`postgresql://user:pass@host:port/db`), via libpq.
//
// A bounded connection pool; a connection found broken (server restarted, network cut) is
// replaced before use, so the first query after a PostgreSQL restart succeeds once the server is
// back. A statement whose connection drops while it runs fails with kUnavailable and is never
// retried (it may have committed). Migrations are serialised across processes with an advisory
// lock.
//
// The URL is what libpq accepts (postgresql:// or postgres://, with libpq's query parameters
// such as sslmode), plus one PrimoART parameter: `schema=NAME` keeps every table in that schema
// (created on Open if missing; the session's search_path is set to it), so several installations
// or test runs can share one database.
//
// Statements with parameters are prepared once per connection and reused; Exec without
// parameters runs through the simple protocol and accepts several ';'-separated statements
// (migrations). Transactions are READ COMMITTED; after a failed statement a Transaction refuses
// further statements and Commit, reporting the first error.
//
//   PA_ASSIGN_OR_RETURN(auto db, postgres::Open({.url = "postgresql://pa:pw@db:5432/pa"}));
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "storage/relational_store.h"

namespace pa::storage::postgres {

struct Options {
  std::string url;  // postgresql:// or postgres:// URI as libpq accepts it, plus `schema=`
  int pool_size = 8;
  std::chrono::milliseconds connect_timeout{5000};
  // How long a caller waits for a free pooled connection before kUnavailable.
  std::chrono::milliseconds acquire_timeout{10000};
};

// Connects once to check the server (kUnavailable naming host:port when it cannot be reached,
// kInvalidArgument for a malformed URL or schema name).
Result<std::unique_ptr<RelationalStore>> Open(const Options& options);

}  // namespace pa::storage::postgres
