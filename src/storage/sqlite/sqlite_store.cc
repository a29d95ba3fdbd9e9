#include "storage/sqlite/sqlite_store.h"

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <filesystem>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#include "base/logging.h"
#include "storage/migrations.h"
#include "storage/sqlite/connection.h"
#include "storage/sqlite/sql_rewrite.h"

namespace pa::storage::sqlite {
namespace {

using WriterLock = std::unique_lock<std::timed_mutex>;

// Makes commits durable: the writer connection runs with synchronous=OFF — a commit only
// write()s its frames to the WAL, which is enough to survive the process being killed — and a
// commit is acknowledged once an fdatasync of the WAL that began after it has returned. One
// thread does those syncs, each for every commit made before it began, while the writer is
// already on its next transaction (group commit, as PostgreSQL's WAL flushing does). The
// checkpointer's connection keeps synchronous=FULL, so a checkpoint syncs the WAL before
// copying frames and the database file before the WAL may be reused.
class Syncer {
 public:
  explicit Syncer(std::string wal_path) : wal_path_(std::move(wal_path)) {
    thread_ = std::thread([this] { Loop(); });
  }
  ~Syncer() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    thread_.join();
    if (fd_ >= 0) ::close(fd_);
  }

  // After a commit returned: its ticket.
  uint64_t Committed() {
    std::lock_guard lock(mu_);
    return ++requested_;
  }
  // Waits until commit `ticket` is durable.
  Status Wait(uint64_t ticket) {
    std::unique_lock lock(mu_);
    cv_.notify_all();
    cv_.wait(lock, [&] { return synced_ >= ticket; });
    return ticket > failed_before_ ? Status::Ok() : last_error_;
  }
  // Calls `done` (on the sync thread, in ticket order) once commit `ticket` is durable.
  void Then(uint64_t ticket, std::function<void(Status)> done) {
    {
      std::lock_guard lock(mu_);
      callbacks_.push_back({ticket, std::move(done)});
    }
    cv_.notify_all();
  }

 private:
  struct Callback {
    uint64_t ticket;
    std::function<void(Status)> done;
  };

  void Loop() {
    pthread_setname_np(pthread_self(), "sqlite-sync");
    std::unique_lock lock(mu_);
    for (;;) {
      cv_.wait(lock, [&] { return stopping_ || requested_ > synced_; });
      if (requested_ == synced_) return;  // stopping, and everything is synced
      const uint64_t upto = requested_;
      lock.unlock();
      const Status st = Sync();
      lock.lock();
      if (!st.ok()) {
        last_error_ = st;
        failed_before_ = upto;  // every ticket up to here gets the error
      }
      synced_ = upto;
      std::vector<Callback> ready;
      while (!callbacks_.empty() && callbacks_.front().ticket <= upto) {
        ready.push_back(std::move(callbacks_.front()));
        callbacks_.pop_front();
      }
      cv_.notify_all();
      lock.unlock();
      for (Callback& c : ready) c.done(st);
      lock.lock();
    }
  }

  Status Sync() {
    if (fd_ < 0) {
      fd_ = ::open(wal_path_.c_str(), O_RDONLY | O_CLOEXEC);
      // Every commit writes to the WAL, and SQLite keeps the file while connections are open:
      // no file means nothing was written yet.
      if (fd_ < 0 && errno == ENOENT) return Status::Ok();
      if (fd_ >= 0) {
        // The WAL's directory entry, once (fdatasync covers the file's data only).
        const std::string dir = std::filesystem::path(wal_path_).parent_path().string();
        const int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
        if (dfd >= 0) {
          (void)::fsync(dfd);
          ::close(dfd);
        }
      }
    }
    if (fd_ < 0 || ::fdatasync(fd_) != 0) {
      const int err = errno;
      return UnavailableError("database " + wal_path_ +
                              ": cannot sync the WAL: " + std::strerror(err));
    }
    return Status::Ok();
  }

  const std::string wal_path_;
  int fd_ = -1;  // the sync thread's
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t requested_ = 0, synced_ = 0, failed_before_ = 0;
  Status last_error_;
  std::deque<Callback> callbacks_;
  bool stopping_ = false;
  std::thread thread_;
};

// A transaction on the writer connection; it holds the writer lock until it ends, which is
// what makes BEGIN IMMEDIATE never wait on this process's own writers.
class SqliteTransaction final : public Transaction {
 public:
  SqliteTransaction(WriterLock lock, Connection* conn, Syncer* syncer)
      : lock_(std::move(lock)), conn_(conn), syncer_(syncer) {}
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
    PA_ASSIGN_OR_RETURN(const uint64_t ticket, CommitVisible());
    return syncer_->Wait(ticket);
  }

  void CommitThen(std::function<void(Status)> durable) override {
    Result<uint64_t> ticket = CommitVisible();
    if (!ticket.ok()) return durable(std::move(ticket).status());
    syncer_->Then(*ticket, std::move(durable));
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

  // COMMIT, then the writer is free for the next transaction; the commit is not durable yet.
  Result<uint64_t> CommitVisible() {
    PA_RETURN_IF_ERROR(Usable());
    Status st = conn_->Exec("COMMIT").status();
    if (!st.ok()) {
      Rollback();
      return st;
    }
    done_ = true;
    const uint64_t ticket = syncer_->Committed();
    lock_.unlock();
    return ticket;
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
  Syncer* syncer_;
  Status failed_;
  bool done_ = false;
};

// Checkpoints the WAL on its own thread and connection, so that committing transactions (the
// result writer's group commits) never copy pages into the database file themselves: after
// each commit the writer's WAL hook says how many pages the WAL holds, and from
// kCheckpointPages on this thread copies them — first without blocking anyone (PASSIVE), then
// the few frames committed meanwhile while holding the store's writer lock, so that the WAL is
// wholly copied when the next writer begins and SQLite starts it over from its beginning (a
// checkpoint that always chases a busy writer never lets the WAL restart, and it would grow
// without bound). Should readers still keep it from restarting until it holds kTruncatePages,
// a TRUNCATE checkpoint (which waits for them, up to the busy timeout) bounds its size.
class Checkpointer {
 public:
  static constexpr int kCheckpointPages = 1000;  // SQLite's own automatic checkpoint point
  static constexpr int kTruncatePages = 64000;   // ~256 MiB of 4 KiB pages

  Checkpointer(std::unique_ptr<Connection> conn, std::timed_mutex& writer_mu)
      : conn_(std::move(conn)), writer_mu_(writer_mu) {
    thread_ = std::thread([this] { Loop(); });
  }
  ~Checkpointer() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }

  // From the writer's WAL hook.
  void Committed(int pages) {
    if (pages < kCheckpointPages) return;
    {
      std::lock_guard lock(mu_);
      if (pending_ >= kCheckpointPages) {
        pending_ = pages;
        return;  // already signalled
      }
      pending_ = pages;
    }
    cv_.notify_one();
  }

 private:
  void Loop() {
    pthread_setname_np(pthread_self(), "sqlite-ckpt");
    for (;;) {
      int pages = 0;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return stopping_ || pending_ >= kCheckpointPages; });
        if (stopping_) return;
        pages = pending_;
        pending_ = 0;
      }
      auto left = conn_->Checkpoint(pages >= kTruncatePages);
      if (left.ok()) {
        // The rest, with this process's writers held off (for as long as copying what they
        // committed during the first pass takes).
        WriterLock writers(writer_mu_, std::defer_lock);
        if (writers.try_lock_for(std::chrono::milliseconds(200))) left = conn_->Checkpoint(false);
      }
      if (!left.ok()) {
        log::Get("storage")->warn("WAL checkpoint failed (retried at the next commits): {}",
                                  left.status().ToString());
      }
    }
  }

  std::unique_ptr<Connection> conn_;
  std::timed_mutex& writer_mu_;
  std::mutex mu_;
  std::condition_variable cv_;
  int pending_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

class SqliteStore final : public RelationalStore {
 public:
  SqliteStore(Options options, std::unique_ptr<Connection> writer,
              std::vector<std::unique_ptr<Connection>> readers,
              std::unique_ptr<Connection> checkpoint_conn)
      : options_(std::move(options)),
        writer_(std::move(writer)),
        readers_(std::move(readers)),
        reader_count_(readers_.size()),
        syncer_(options_.path + "-wal"),
        checkpointer_(std::move(checkpoint_conn), writer_mu_) {
    writer_->OnWalCommit([this](int pages) { checkpointer_.Committed(pages); });
  }
  ~SqliteStore() override { writer_->OnWalCommit(nullptr); }

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
    const int64_t changes = writer_->TotalChanges();
    auto rows = EndAutocommit(writer_->Query(sql, params));
    if (writer_->TotalChanges() == changes) return rows;
    PA_RETURN_IF_ERROR(Durable(lock));  // it wrote (INSERT ... RETURNING)
    return rows;
  }

  Result<int64_t> Exec(std::string_view sql, const Params& params) override {
    PA_ASSIGN_OR_RETURN(WriterLock lock, LockWriter());
    auto changed = EndAutocommit(writer_->Exec(sql, params));
    PA_RETURN_IF_ERROR(Durable(lock));
    return changed;
  }

  Result<std::unique_ptr<Transaction>> Begin() override {
    PA_ASSIGN_OR_RETURN(WriterLock lock, LockWriter());
    PA_RETURN_IF_ERROR(writer_->Exec("BEGIN IMMEDIATE").status());
    return std::unique_ptr<Transaction>(
        new SqliteTransaction(std::move(lock), writer_.get(), &syncer_));
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

  // After an autocommit statement: lets the writer go, then waits for its sync.
  Status Durable(WriterLock& lock) {
    const uint64_t ticket = syncer_.Committed();
    lock.unlock();
    return syncer_.Wait(ticket);
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
  Syncer syncer_;
  Checkpointer checkpointer_;
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
  // Commits are synced by the store's Syncer, outside the writer lock.
  PA_RETURN_IF_ERROR(writer->Exec("PRAGMA synchronous=OFF").status());
  std::vector<std::unique_ptr<Connection>> readers;
  for (int i = 0; i < options.readers; ++i) {
    PA_ASSIGN_OR_RETURN(auto reader,
                        Connection::Open(resolved.path, Role::kReader, options.busy_timeout));
    readers.push_back(std::move(reader));
  }
  PA_ASSIGN_OR_RETURN(auto checkpoint_conn,
                      Connection::Open(resolved.path, Role::kWriter, options.busy_timeout));
  std::unique_ptr<RelationalStore> store(new SqliteStore(
      std::move(resolved), std::move(writer), std::move(readers), std::move(checkpoint_conn)));
  PA_RETURN_IF_ERROR(store->Ping());
  return store;
}

}  // namespace pa::storage::sqlite
