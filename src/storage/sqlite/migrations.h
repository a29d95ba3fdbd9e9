// Schema migrations for the SQLite backend (RelationalStore::Migrate).
//
// Bookkeeping lives in `schema_migrations(component, version, name, applied_at)`. Each migration
// runs in its own write transaction together with its bookkeeping row, so it is applied fully or
// not at all; BEGIN IMMEDIATE serialises concurrent migrators, in this process and in others.
// Thread-safety: as the store it is given.
#pragma once

#include <vector>

#include "storage/relational_store.h"

namespace pa::storage::sqlite {

// Applies every migration of `schemas` that `store` has not recorded yet, in version order.
// Fails with kFailedPrecondition when the database records a newer version of a component than
// `schemas` holds (a downgrade), kInvalidArgument on malformed schemas, and with the failing
// statement's error (prefixed with the component, version and name) when a migration fails;
// migrations applied before the failing one stay applied.
Result<MigrationReport> ApplyMigrations(RelationalStore& store, const std::vector<Schema>& schemas);

}  // namespace pa::storage::sqlite
