#include "storage/migrations.h"

#include <chrono>
#include <set>

namespace pa::storage {
namespace {

constexpr std::string_view kCreateTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    "component TEXT NOT NULL, version BIGINT NOT NULL, name TEXT NOT NULL, "
    "applied_at BIGINT NOT NULL, PRIMARY KEY (component, version))";

// Taken first in every PostgreSQL migration transaction, released by its COMMIT/ROLLBACK. The
// first key says "PrimoART migrations" ('PAMG'); the second separates schemas in one database.
constexpr std::string_view kPostgresLock =
    "SELECT pg_advisory_xact_lock(1346456903, hashtext(coalesce(current_schema(), '')))";

// How often one migration step is retried when another migrator held the lock too long (SQLite
// busy_timeout) or a deadlock/serialization failure aborted it (PostgreSQL).
constexpr int kAttempts = 5;

Status Validate(const Schema& schema) {
  if (schema.component.empty()) return InvalidArgumentError("schema without a component name");
  int previous = 0;
  for (const Migration& m : schema.migrations) {
    if (m.version <= previous) {
      return InvalidArgumentError(
          "schema '" + schema.component + "': migration versions must increase from 1 (version " +
          std::to_string(m.version) + " after " + std::to_string(previous) + ")");
    }
    previous = m.version;
  }
  return Status::Ok();
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Applies the first migration of `schema` not recorded yet, in one transaction. Sets `*applied`
// to it, or to nullptr when nothing is pending.
Status ApplyNext(Transaction& tx, const Schema& schema, SqlDialect dialect,
                 const Migration** applied) {
  *applied = nullptr;
  if (dialect == SqlDialect::kPostgres) PA_RETURN_IF_ERROR(tx.Query(kPostgresLock).status());
  PA_RETURN_IF_ERROR(tx.Exec(kCreateTable).status());
  PA_ASSIGN_OR_RETURN(Rows rows, tx.Query("SELECT version FROM schema_migrations "
                                          "WHERE component = $1 ORDER BY version",
                                          {schema.component}));
  std::set<int64_t> done;
  for (size_t r = 0; r < rows.size(); ++r) done.insert(rows.Int(r, 0));
  const int64_t known = schema.migrations.empty() ? 0 : schema.migrations.back().version;
  if (!done.empty() && *done.rbegin() > known) {
    return FailedPreconditionError(
        "the database holds version " + std::to_string(*done.rbegin()) + " of schema '" +
        schema.component + "' but this binary knows only up to version " + std::to_string(known) +
        "; run a newer PrimoART or restore a backup made by this version");
  }
  for (const Migration& m : schema.migrations) {
    if (done.count(m.version)) continue;
    const std::string& own = dialect == SqlDialect::kSqlite ? m.sqlite : m.postgres;
    const std::string& sql = own.empty() ? m.sql : own;
    Status st = tx.Exec(sql).status();
    if (!st.ok()) {
      return st.WithContext("version " + std::to_string(m.version) + " (" + m.name + ")");
    }
    PA_RETURN_IF_ERROR(tx.Exec("INSERT INTO schema_migrations (component, version, name, "
                               "applied_at) VALUES ($1, $2, $3, $4)",
                               {schema.component, int64_t{m.version}, m.name, NowMs()})
                           .status());
    *applied = &m;
    return Status::Ok();
  }
  return Status::Ok();
}

}  // namespace

Result<MigrationReport> ApplyMigrations(RelationalStore& store, const std::vector<Schema>& schemas,
                                        SqlDialect dialect) {
  for (const Schema& schema : schemas) PA_RETURN_IF_ERROR(Validate(schema));
  MigrationReport report;
  for (const Schema& schema : schemas) {
    for (;;) {
      const Migration* applied = nullptr;
      Status st = store.InTransaction(
          [&](Transaction& tx) { return ApplyNext(tx, schema, dialect, &applied); }, kAttempts);
      if (!st.ok()) return st.WithContext("migrating schema '" + schema.component + "'");
      if (applied == nullptr) break;
      report.applied.push_back({schema.component, applied->version, applied->name});
    }
  }
  return report;
}

}  // namespace pa::storage
