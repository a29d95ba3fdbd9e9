// Schema migrations, shared by the relational backends (RelationalStore::Migrate).
//
// Bookkeeping lives in `schema_migrations(component, version, name, applied_at)`. Each migration
// runs in its own write transaction together with its bookkeeping row, so it is applied fully or
// not at all. Concurrent migrators — several instances of a split deployment starting at once —
// are serialised by the backend's write lock (SQLite: BEGIN IMMEDIATE) or by an advisory lock
// taken first in each transaction (PostgreSQL).
// Thread-safety: as the store it is given.
#pragma once

#include <vector>

#include "storage/relational_store.h"

namespace pa::storage {

enum class SqlDialect { kSqlite, kPostgres };

// Applies every migration of `schemas` that `store` has not recorded yet, in version order,
// using each migration's SQL for `dialect`. Fails with kFailedPrecondition when the database
// records a newer version of a component than `schemas` holds (a downgrade), kInvalidArgument on
// malformed schemas, and with the failing statement's error (prefixed with the component, version
// and name) when a migration fails; migrations applied before the failing one stay applied.
Result<MigrationReport> ApplyMigrations(RelationalStore& store, const std::vector<Schema>& schemas,
                                        SqlDialect dialect);

}  // namespace pa::storage
