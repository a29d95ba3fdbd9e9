// Schema migrations for the PostgreSQL backend (RelationalStore::Migrate).
//
// Bookkeeping lives in `schema_migrations(component, version, name, applied_at)`. Each migration
// runs in its own write transaction together with its bookkeeping row, so it is applied fully or
// not at all (DDL is transactional in PostgreSQL); a transaction-scoped advisory lock, keyed by
// the current schema, serialises concurrent migrators across processes and hosts.
// Thread-safety: as the store it is given.
#pragma once

#include <vector>

#include "storage/relational_store.h"

namespace pa::storage::postgres {

// Applies every migration of `schemas` that `store` has not recorded yet, in version order.
// Fails with kFailedPrecondition when the database records a newer version of a component than
// `schemas` holds (a downgrade), kInvalidArgument on malformed schemas, and with the failing
// statement's error (prefixed with the component, version and name) when a migration fails;
// migrations applied before the failing one stay applied.
Result<MigrationReport> ApplyMigrations(RelationalStore& store, const std::vector<Schema>& schemas);

}  // namespace pa::storage::postgres
