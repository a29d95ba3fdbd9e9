#include "storage/postgres/postgres_store.h"

#include <cctype>
#include <optional>

#include "base/url.h"
#include "storage/migrations.h"
#include "storage/postgres/connection.h"
#include "storage/postgres/pool.h"

namespace pa::storage::postgres {
namespace {

using Lease = Pool::Lease;

// Statements without parameters go through the simple protocol, which also runs scripts.
Result<int64_t> ExecOn(Connection& conn, std::string_view sql, const Params& params) {
  if (params.values().empty()) return conn.ExecScript(sql);
  return conn.Exec(sql, params);
}

class PostgresTransaction final : public Transaction {
 public:
  explicit PostgresTransaction(Lease lease) : lease_(std::move(lease)) {}
  ~PostgresTransaction() override { Rollback(); }

  Result<Rows> Query(std::string_view sql, const Params& params) override {
    PA_RETURN_IF_ERROR(Usable());
    return Track(conn().Query(sql, params));
  }

  Result<int64_t> Exec(std::string_view sql, const Params& params) override {
    PA_RETURN_IF_ERROR(Usable());
    return Track(ExecOn(conn(), sql, params));
  }

  Status Commit() override {
    PA_RETURN_IF_ERROR(Usable());
    done_ = true;
    auto committed = conn().ExecScript("COMMIT");
    if (!committed.ok()) {
      Status st = committed.status();
      if (st.code() == StatusCode::kUnavailable) {
        st = UnavailableError(st.message() + " (COMMIT outcome unknown)");
      }
      lease_.reset();  // broken or still in a transaction: the pool closes it
      return st;
    }
    lease_.reset();
    return Status::Ok();
  }

 private:
  // PostgreSQL refuses every statement after a failed one until ROLLBACK; saying so here, with
  // the first error, is more useful than "current transaction is aborted".
  Status Usable() {
    if (!failed_.ok()) {
      Rollback();
      return Status(
          failed_.code(),
          "transaction rolled back because an earlier statement failed: " + failed_.message());
    }
    if (done_) return FailedPreconditionError("transaction already ended");
    return Status::Ok();
  }

  template <typename T>
  Result<T> Track(Result<T> result) {
    if (!result.ok()) {
      failed_ = result.status();
    } else if (conn().TransactionStatus() == PQTRANS_IDLE) {
      failed_ = InvalidArgumentError("database " + conn().where() +
                                     ": a statement ended the transaction; use Commit() or "
                                     "destroy the Transaction instead of COMMIT/ROLLBACK");
      return failed_;
    }
    return result;
  }

  void Rollback() {
    if (!lease_) return;
    done_ = true;
    if (!conn().Broken() && conn().TransactionStatus() != PQTRANS_IDLE) {
      (void)conn().ExecScript("ROLLBACK");
    }
    lease_.reset();
  }

  Connection& conn() { return **lease_; }

  std::optional<Lease> lease_;
  Status failed_;
  bool done_ = false;
};

class PostgresStore final : public RelationalStore {
 public:
  PostgresStore(ConnectParams params, const Options& options, std::string description)
      : pool_(std::move(params), options.pool_size, options.acquire_timeout),
        description_(std::move(description)) {}

  std::string_view backend() const override { return "postgresql"; }
  std::string description() const override { return description_; }

  Result<Rows> Query(std::string_view sql, const Params& params) override {
    return Autocommit([&](Connection& c) { return c.Query(sql, params); });
  }

  Result<int64_t> Exec(std::string_view sql, const Params& params) override {
    return Autocommit([&](Connection& c) { return ExecOn(c, sql, params); });
  }

  Result<std::unique_ptr<Transaction>> Begin() override {
    for (int attempt = 0;; ++attempt) {
      PA_ASSIGN_OR_RETURN(Lease lease, pool_.Acquire());
      auto begun = lease->ExecScript("BEGIN");
      if (begun.ok())
        return std::unique_ptr<Transaction>(new PostgresTransaction(std::move(lease)));
      // BEGIN changes nothing, so a connection that broke under it is replaced and BEGIN retried.
      if (attempt > 0 || !lease->Broken()) return std::move(begun).status();
    }
  }

  Result<MigrationReport> Migrate(const std::vector<Schema>& schemas) override {
    return ApplyMigrations(*this, schemas, SqlDialect::kPostgres);
  }

  Status Ping() override { return Query("SELECT 1", {}).status(); }

 private:
  // Runs `fn` on a pooled connection. A connection that died before the statement was sent is
  // replaced and the statement tried once more; once sent, a failure is final (it may have
  // committed).
  template <typename Fn>
  auto Autocommit(Fn fn) -> decltype(fn(std::declval<Connection&>())) {
    for (int attempt = 0;; ++attempt) {
      PA_ASSIGN_OR_RETURN(Lease lease, pool_.Acquire());
      auto result = fn(*lease);
      if (result.ok() || attempt > 0 || !lease->FailedBeforeExecuting()) return result;
    }
  }

  Pool pool_;
  const std::string description_;
};

bool IsIdentifier(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  if (!std::isalpha(static_cast<unsigned char>(s[0])) && s[0] != '_') return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

// Splits the PrimoART-only `schema` parameter (and libpq's `options`, to merge with it) off the
// URL's query string; everything else goes to libpq untouched.
Result<ConnectParams> ToConnectParams(const Options& options, const Url& url) {
  ConnectParams params;
  params.connect_timeout = options.connect_timeout;
  std::string host = url.host.empty() ? "localhost" : url.host;
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  params.where = host + ":" + std::to_string(url.port == 0 ? 5432 : url.port) + url.path;

  const size_t q = options.url.find('?');
  params.uri = options.url.substr(0, q);
  std::string schema;
  if (q != std::string::npos) {
    char sep = '?';
    std::string_view rest = std::string_view(options.url).substr(q + 1);
    while (!rest.empty()) {
      const size_t amp = rest.find('&');
      const std::string_view item = rest.substr(0, amp);
      rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
      const std::string_view key = item.substr(0, item.find('='));
      const std::string_view value =
          item.find('=') == std::string_view::npos ? "" : item.substr(item.find('=') + 1);
      if (key == "schema" || key == "options") {
        PA_ASSIGN_OR_RETURN(std::string decoded, PercentDecode(value));
        (key == "schema" ? schema : params.options) = decoded;
        continue;
      }
      params.uri += sep;
      params.uri.append(item);
      sep = '&';
    }
  }
  if (!schema.empty()) {
    if (!IsIdentifier(schema)) {
      return InvalidArgumentError("postgresql: schema '" + schema +
                                  "' is not a plain identifier (letters, digits, _; at most 63)");
    }
    if (!params.options.empty()) params.options += ' ';
    params.options += "-c search_path=" + schema;
  }
  return params;
}

}  // namespace

Result<std::unique_ptr<RelationalStore>> Open(const Options& options) {
  auto parsed = ParseUrl(options.url);
  // ParseUrl's message may quote the URL, password included; say what is expected instead.
  if (!parsed.ok() || (parsed->scheme != "postgresql" && parsed->scheme != "postgres")) {
    return InvalidArgumentError(
        "postgresql: malformed database URL (expected postgresql://user:pass@host:port/db)");
  }
  if (options.pool_size < 1) return InvalidArgumentError("postgresql: pool_size must be >= 1");
  Url masked = *parsed;
  for (auto& [key, value] : masked.query) {
    if (key == "password") value = "****";
  }
  PA_ASSIGN_OR_RETURN(ConnectParams params, ToConnectParams(options, *parsed));
  const std::optional<std::string> schema = parsed->Param("schema");
  auto store = std::make_unique<PostgresStore>(std::move(params), options, masked.Masked());
  if (schema && !schema->empty()) {
    auto created = store->Exec("CREATE SCHEMA IF NOT EXISTS " + *schema, {});
    // Two processes creating it at once: the loser sees a unique violation, which is success.
    if (!created.ok() && created.status().code() != StatusCode::kAlreadyExists) {
      return created.status();
    }
  }
  PA_RETURN_IF_ERROR(store->Ping());
  return std::unique_ptr<RelationalStore>(std::move(store));
}

}  // namespace pa::storage::postgres
