#include "storage/sqlite/sqlite_store.h"

#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <system_error>
#include <vector>

#include "storage/migrations.h"
#include "storage/sqlite/connection.h"
#include "storage/sqlite/sql_rewrite.h"

namespace pa::storage::sqlite {
namespace {

using WriterLock = std::unique_lock<std::timed_mutex>;

// A transaction on the writer connection; it holds the writer lock until it ends, which is
// what makes BEGIN IMMEDIATE never wait on this process's own writers.
class SqliteTransaction final : public Transaction {
 public:
  SqliteTransaction(WriterLock lock, Connection* conn) : lock_(std::move(lock)), conn_(conn) {}
  ~SqliteTransaction() override {
    if (!done_) Rollback();
  }

  Result<Rows> Query(std::string_view sql, const Params& params) override {
    PA_RETURN_IF_ERROR(Usable());
    return Track(conn_->Query(sql, params));
  }

  Result<int64_t> Exec(std::string_view sql, const Params& params) override {
    PA_RETURN_IF_ERROR(Usable());
    return Track(conn_->Exec(sql, params));
  }

  Status Commit() override {
    PA_RETURN_IF_ERROR(Usable());
    Status st = conn_->Exec("COMMIT").status();
    if (!st.ok()) {
      Rollback();
      return st;
    }
    done_ = true;
    lock_.unlock();
    return Status::Ok();
  }

 private:
  // SQLite undoes only the failing statement; PostgreSQL aborts the whole transaction. Both
  // backends behave like PostgreSQL here, so that a swallowed error can never commit half a
  // unit of work.
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
    } else if (!conn_->InTransaction()) {
      failed_ = InvalidArgumentError("database " + conn_->path() +
                                     ": a statement ended the transaction; use Commit() or "
                                     "destroy the Transaction instead of COMMIT/ROLLBACK");
      return failed_;
    }
    return result;
  }

  void Rollback() {
    if (done_) return;
    done_ = true;
    // An I/O error or SQLITE_FULL may already have rolled the transaction back.
    if (conn_->InTransaction()) (void)conn_->Exec("ROLLBACK");
    lock_.unlock();
  }

  WriterLock lock_;
  Connection* conn_;
  Status failed_;
  bool done_ = false;
};

class SqliteStore final : public RelationalStore {
 public:
  SqliteStore(Options options, std::unique_ptr<Connection> writer,
              std::vector<std::unique_ptr<Connection>> readers)
      : options_(std::move(options)),
        writer_(std::move(writer)),
        readers_(std::move(readers)),
        reader_count_(readers_.size()) {}

  std::string_view backend() const override { return "sqlite"; }
  std::string description() const override { return "sqlite://" + options_.path; }

  Result<Rows> Query(std::string_view sql, const Params& params) override {
    if (reader_count_ > 0 && LooksLikeRead(sql)) {
      PA_ASSIGN_OR_RETURN(std::unique_ptr<Connection> reader, AcquireReader());
      auto rows = reader->QueryIfReadOnly(sql, params);
      ReleaseReader(std::move(reader));
      if (!rows.ok()) return std::move(rows).status();
      if (rows->has_value()) return std::move(**rows);
    }
    PA_ASSIGN_OR_RETURN(WriterLock lock, LockWriter());
    return EndAutocommit(writer_->Query(sql, params));
  }

  Result<int64_t> Exec(std::string_view sql, const Params& params) override {
    PA_ASSIGN_OR_RETURN(WriterLock lock, LockWriter());
    return EndAutocommit(writer_->Exec(sql, params));
  }

  Result<std::unique_ptr<Transaction>> Begin() override {
    PA_ASSIGN_OR_RETURN(WriterLock lock, LockWriter());
    PA_RETURN_IF_ERROR(writer_->Exec("BEGIN IMMEDIATE").status());
    return std::unique_ptr<Transaction>(new SqliteTransaction(std::move(lock), writer_.get()));
  }

  Result<MigrationReport> Migrate(const std::vector<Schema>& schemas) override {
    return ApplyMigrations(*this, schemas, SqlDialect::kSqlite);
  }

  Status Ping() override { return Query("SELECT 1", {}).status(); }

 private:
  // The in-process queue for the one writer connection, bounded like SQLite's own busy wait.
  Result<WriterLock> LockWriter() {
    WriterLock lock(writer_mu_, std::defer_lock);
    if (!lock.try_lock_for(options_.busy_timeout)) {
      return AbortedError("database " + options_.path + ": no write lock after " +
                          std::to_string(options_.busy_timeout.count()) +
                          " ms (a long transaction is running); retry");
    }
    return lock;
  }

  // Autocommit statements must leave no transaction open: a stray BEGIN would otherwise hold
  // the writer for everyone.
  template <typename T>
  Result<T> EndAutocommit(Result<T> result) {
    if (!writer_->InTransaction()) return result;
    (void)writer_->Exec("ROLLBACK");
    return InvalidArgumentError("database " + options_.path +
                                ": BEGIN outside a Transaction was rolled back; use Begin()");
  }

  Result<std::unique_ptr<Connection>> AcquireReader() {
    std::unique_lock lock(readers_mu_);
    if (!readers_cv_.wait_for(lock, options_.busy_timeout, [&] { return !readers_.empty(); })) {
      return UnavailableError("database " + options_.path + ": all " +
                              std::to_string(reader_count_) + " reader connections busy for " +
                              std::to_string(options_.busy_timeout.count()) + " ms");
    }
    std::unique_ptr<Connection> conn = std::move(readers_.back());
    readers_.pop_back();
    return conn;
  }

  void ReleaseReader(std::unique_ptr<Connection> conn) {
    {
      std::lock_guard lock(readers_mu_);
      readers_.push_back(std::move(conn));
    }
    readers_cv_.notify_one();
  }

  const Options options_;
  std::timed_mutex writer_mu_;
  std::unique_ptr<Connection> writer_;
  std::mutex readers_mu_;
  std::condition_variable readers_cv_;
  std::vector<std::unique_ptr<Connection>> readers_;  // the idle ones
  const size_t reader_count_;
};

}  // namespace

Result<std::unique_ptr<RelationalStore>> Open(const Options& options) {
  if (options.path.empty()) return InvalidArgumentError("sqlite: no database file path given");
  if (options.path == ":memory:" || options.path.starts_with("file:")) {
    return InvalidArgumentError("sqlite: '" + options.path +
                                "' is not a file path (in-memory databases are not durable)");
  }
  if (options.readers < 0) return InvalidArgumentError("sqlite: readers must be >= 0");
  std::error_code ec;
  const std::filesystem::path path = std::filesystem::absolute(options.path, ec).lexically_normal();
  if (ec) return UnavailableError("database " + options.path + ": " + ec.message());
  if (path.has_parent_path()) {
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec) {
      return UnavailableError("database " + path.string() + ": cannot create directory " +
                              path.parent_path().string() + ": " + ec.message());
    }
  }
  Options resolved = options;
  resolved.path = path.string();
  PA_ASSIGN_OR_RETURN(auto writer,
                      Connection::Open(resolved.path, Role::kWriter, options.busy_timeout));
  std::vector<std::unique_ptr<Connection>> readers;
  for (int i = 0; i < options.readers; ++i) {
    PA_ASSIGN_OR_RETURN(auto reader,
                        Connection::Open(resolved.path, Role::kReader, options.busy_timeout));
    readers.push_back(std::move(reader));
  }
  std::unique_ptr<RelationalStore> store(
      new SqliteStore(std::move(resolved), std::move(writer), std::move(readers)));
  PA_RETURN_IF_ERROR(store->Ping());
  return store;
}

}  // namespace pa::storage::sqlite
