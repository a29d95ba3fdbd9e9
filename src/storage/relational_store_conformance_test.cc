// The RelationalStore conformance suite: one typed test suite run against every backend, so the
// portable SQL subset and the error contract of relational_store.h hold on both. Instances are
// prefixed with the backend (`--gtest_filter=Sqlite*`, `--gtest_filter=Postgres*`); the
// backend-specific tests below them (crash durability, reconnects) carry the same prefixes.
//
// PostgreSQL tests need PRIMOART_TEST_POSTGRES_URL (a throwaway server, e.g. from
// scripts/postgres-test-server); each test works in a fresh schema of its own, dropped
// afterwards, so runs need no cleanup. Without the URL they skip, or fail when
// PRIMOART_TEST_REQUIRE_SERVERS=1. PRIMOART_TEST_POSTGRES_CTL (e.g.
// "scripts/postgres-test-server restart DIR") enables the server-restart test.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <mutex>
#include <thread>
#include <vector>

#include "base/random.h"
#include "storage/postgres/postgres_store.h"
#include "storage/relational_store.h"
#include "storage/sqlite/sqlite_store.h"

namespace pa::storage {
namespace {

using namespace std::chrono_literals;

template <typename T>
Status StatusOf(const Result<T>& r) {
  return r.status();
}
Status StatusOf(const Status& s) { return s; }

#define ASSERT_OK(expr)                                                  \
  do {                                                                   \
    const ::pa::Status assert_ok_status_ = StatusOf(expr);               \
    ASSERT_TRUE(assert_ok_status_.ok()) << assert_ok_status_.ToString(); \
  } while (false)
#define EXPECT_OK(expr)                                                  \
  do {                                                                   \
    const ::pa::Status expect_ok_status_ = StatusOf(expr);               \
    EXPECT_TRUE(expect_ok_status_.ok()) << expect_ok_status_.ToString(); \
  } while (false)
#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  ASSERT_OK_AND_ASSIGN_IMPL(PA_STATUS_CONCAT(assign_tmp_, __LINE__), lhs, expr)
#define ASSERT_OK_AND_ASSIGN_IMPL(tmp, lhs, expr)    \
  auto tmp = (expr);                                 \
  ASSERT_TRUE(tmp.ok()) << StatusOf(tmp).ToString(); \
  lhs = std::move(tmp).value()

bool RequireServers() {
  const char* v = std::getenv("PRIMOART_TEST_REQUIRE_SERVERS");
  return v != nullptr && std::string(v) == "1";
}

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::filesystem::path MakeTempDir() {
  std::string base = Env("TMPDIR").empty() ? "/tmp" : Env("TMPDIR");
  std::string pattern = base + "/pa_relational_XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) return {};
  return pattern;
}

// A backend knows how to make an empty database for one test and open stores on it.
// Prepare() returns a reason to skip when the backend is not available here.
class SqliteBackend {
 public:
  std::string Prepare() {
    dir_ = MakeTempDir();
    return dir_.empty() ? "cannot create a temporary directory" : "";
  }
  Result<std::unique_ptr<RelationalStore>> Open() {
    return sqlite::Open({.path = (dir_ / "conformance.db").string(), .readers = 4});
  }
  void Cleanup() {
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }
  static std::string BlobType() { return "BLOB"; }

 private:
  std::filesystem::path dir_;
};

class PostgresBackend {
 public:
  std::string Prepare() {
    base_url_ = Env("PRIMOART_TEST_POSTGRES_URL");
    if (base_url_.empty()) {
      return "PRIMOART_TEST_POSTGRES_URL is not set (scripts/postgres-test-server start DIR "
             "prints one)";
    }
    schema_ = "pa_conformance_" + NewRequestId().substr(0, 16);
    return "";
  }
  Result<std::unique_ptr<RelationalStore>> Open() {
    const char sep = base_url_.find('?') == std::string::npos ? '?' : '&';
    return postgres::Open({.url = base_url_ + sep + "schema=" + schema_, .pool_size = 8});
  }
  void Cleanup() {
    if (schema_.empty()) return;
    if (auto admin = postgres::Open({.url = base_url_, .pool_size = 1}); admin.ok()) {
      (void)(*admin)->Exec("DROP SCHEMA IF EXISTS " + schema_ + " CASCADE", {});
    }
  }
  static std::string BlobType() { return "BYTEA"; }

 private:
  std::string base_url_;
  std::string schema_;
};

template <typename Backend>
class RelationalConformance : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const std::string why = backend_.Prepare(); !why.empty()) {
      if (RequireServers()) FAIL() << why << " and PRIMOART_TEST_REQUIRE_SERVERS=1";
      GTEST_SKIP() << why;
    }
    ASSERT_OK_AND_ASSIGN(db_, backend_.Open());
  }
  void TearDown() override {
    db_.reset();
    backend_.Cleanup();
  }

  RelationalStore& db() { return *db_; }
  // Another store on the same database, as a second process would have.
  Result<std::unique_ptr<RelationalStore>> OpenAnother() { return backend_.Open(); }

  int64_t Count(RelationalStore& store, const std::string& table) {
    auto rows = store.Query("SELECT COUNT(*) FROM " + table);
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    return rows.ok() ? rows->Int(0, 0) : -1;
  }
  int64_t Count(const std::string& table) { return Count(db(), table); }

  void CreateItems() {
    ASSERT_OK(
        db().Exec("CREATE TABLE items (id BIGINT PRIMARY KEY, name TEXT NOT NULL, "
                  "qty BIGINT)"));
  }

  Backend backend_;
  std::unique_ptr<RelationalStore> db_;
};

TYPED_TEST_SUITE_P(RelationalConformance);

TYPED_TEST_P(RelationalConformance, TypesRoundTrip) {
  auto& db = this->db();
  ASSERT_OK(
      db.Exec("CREATE TABLE vals (id BIGINT PRIMARY KEY, i BIGINT, d DOUBLE PRECISION, "
              "s TEXT, b " +
              TypeParam::BlobType() + ")"));
  const std::string text = "grüße, 日本語, emoji 🎉, quote ' and $1";
  const Blob blob{std::string("\0\x01\xff\x00zz\x80", 7)};
  struct Case {
    int64_t i;
    double d;
    std::string s;
    Blob b;
  };
  const std::vector<Case> cases = {
      {std::numeric_limits<int64_t>::max(), 0.1, text, blob},
      {std::numeric_limits<int64_t>::min(), -1e300, "", Blob{}},
      {0, 5e-324, "plain", Blob{"text-like bytes"}},
      {-1, 123456.789, std::string(100000, 'x'), Blob{std::string(100000, '\0')}},
  };
  for (size_t k = 0; k < cases.size(); ++k) {
    const Case& c = cases[k];
    ASSERT_OK(db.Exec("INSERT INTO vals (id, i, d, s, b) VALUES ($1, $2, $3, $4, $5)",
                      {int64_t(k), c.i, c.d, c.s, c.b}));
  }
  ASSERT_OK(db.Exec("INSERT INTO vals (id, i, d, s, b) VALUES ($1, $2, $3, $4, $5)",
                    {int64_t{99}, kNull, kNull, kNull, kNull}));

  ASSERT_OK_AND_ASSIGN(Rows rows, db.Query("SELECT i, d, s, b FROM vals ORDER BY id"));
  ASSERT_EQ(rows.size(), cases.size() + 1);
  ASSERT_EQ(rows.columns(), (std::vector<std::string>{"i", "d", "s", "b"}));
  for (size_t k = 0; k < cases.size(); ++k) {
    SCOPED_TRACE("row " + std::to_string(k));
    EXPECT_EQ(rows.row(k)[0], SqlValue(cases[k].i));
    EXPECT_EQ(rows.row(k)[1], SqlValue(cases[k].d));
    EXPECT_EQ(rows.row(k)[2], SqlValue(cases[k].s));
    EXPECT_EQ(rows.row(k)[3], SqlValue(cases[k].b));
    EXPECT_EQ(rows.Bytes(k, 3), cases[k].b.bytes);
  }
  for (size_t c = 0; c < 4; ++c) EXPECT_TRUE(rows.IsNull(cases.size(), c)) << c;
  EXPECT_EQ(rows.OptText(cases.size(), 2), std::nullopt);
}

TYPED_TEST_P(RelationalConformance, ParametersKeepTypesAndMayRepeatOutOfOrder) {
  ASSERT_OK_AND_ASSIGN(Rows rows, this->db().Query("SELECT $2 AS a, $1 AS b, $2 AS c, '$1' AS lit",
                                                   {std::string("one"), int64_t{2}}));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows.row(0)[0], SqlValue(int64_t{2}));
  EXPECT_EQ(rows.row(0)[1], SqlValue(std::string("one")));
  EXPECT_EQ(rows.row(0)[2], SqlValue(int64_t{2}));
  EXPECT_EQ(rows.Text(0, 3), "$1");
  ASSERT_OK_AND_ASSIGN(rows, this->db().Query("SELECT $1 AS d", {2.5}));
  EXPECT_EQ(rows.row(0)[0], SqlValue(2.5));

  // The same statement text with other values (and other types) reuses nothing it should not.
  this->CreateItems();
  for (int64_t id = 1; id <= 5; ++id) {
    ASSERT_OK(this->db().Exec("INSERT INTO items (id, name, qty) VALUES ($1, $2, $3)",
                              {id, "n" + std::to_string(id), id % 2 ? SqlValue(id * 10) : kNull}));
  }
  ASSERT_OK_AND_ASSIGN(rows, this->db().Query("SELECT id FROM items ORDER BY id LIMIT $1 OFFSET $2",
                                              {int64_t{2}, int64_t{1}}));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows.Int(0, 0), 2);
  EXPECT_EQ(rows.Int(1, 0), 3);
  ASSERT_OK_AND_ASSIGN(rows, this->db().Query("SELECT COUNT(*) FROM items WHERE qty IS NULL"));
  EXPECT_EQ(rows.Int(0, 0), 2);
}

TYPED_TEST_P(RelationalConformance, WrongParameterCountIsInvalidArgument) {
  auto r = this->db().Query("SELECT $1, $2", {int64_t{1}});
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
  r = this->db().Query("SELECT $1, '$2' -- $3", {int64_t{1}, int64_t{2}});
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
  auto e = this->db().Exec("CREATE TABLE t (x BIGINT)", {int64_t{1}});
  EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument) << e.status().ToString();
  ASSERT_OK_AND_ASSIGN(Rows rows, this->db().Query("SELECT $1, '$2' -- $3", {int64_t{1}}));
  EXPECT_EQ(rows.Text(0, 1), "$2");
  EXPECT_OK(this->db().Ping());  // the store is still usable
}

TYPED_TEST_P(RelationalConformance, ExecCountsChangedRows) {
  this->CreateItems();
  ASSERT_OK_AND_ASSIGN(int64_t n, this->db().Exec("INSERT INTO items (id, name) VALUES "
                                                  "(1, 'a'), (2, 'b'), (3, 'c')"));
  EXPECT_EQ(n, 3);
  ASSERT_OK_AND_ASSIGN(
      n, this->db().Exec("UPDATE items SET qty = $1 WHERE id >= $2", {int64_t{7}, int64_t{2}}));
  EXPECT_EQ(n, 2);
  ASSERT_OK_AND_ASSIGN(n, this->db().Exec("DELETE FROM items WHERE id = $1", {int64_t{42}}));
  EXPECT_EQ(n, 0);
  ASSERT_OK_AND_ASSIGN(n, this->db().Exec("CREATE TABLE other (x BIGINT)"));
  EXPECT_EQ(n, 0);
  ASSERT_OK_AND_ASSIGN(n, this->db().Exec("DELETE FROM items"));
  EXPECT_EQ(n, 3);
}

TYPED_TEST_P(RelationalConformance, ExecRunsScriptsWithSemicolonsInLiterals) {
  this->CreateItems();
  ASSERT_OK_AND_ASSIGN(int64_t n,
                       this->db().Exec("INSERT INTO items (id, name) VALUES (1, 'a;b');\n"
                                       "-- a comment; with a semicolon\n"
                                       "INSERT INTO items (id, name) VALUES (2, 'it''s; here');"));
  EXPECT_EQ(n, 2);
  ASSERT_OK_AND_ASSIGN(Rows rows, this->db().Query("SELECT name FROM items ORDER BY id"));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows.Text(0, 0), "a;b");
  EXPECT_EQ(rows.Text(1, 0), "it's; here");
  // Query is for one statement.
  EXPECT_EQ(this->db().Query("SELECT 1; SELECT 2").status().code(), StatusCode::kInvalidArgument);
}

TYPED_TEST_P(RelationalConformance, Returning) {
  this->CreateItems();
  ASSERT_OK_AND_ASSIGN(Rows rows, this->db().Query("INSERT INTO items (id, name) VALUES ($1, $2) "
                                                   "RETURNING id, name",
                                                   {int64_t{1}, std::string("first")}));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows.Int(0, 0), 1);
  EXPECT_EQ(rows.Text(0, 1), "first");
  // A WITH statement that writes must reach the writer too.
  ASSERT_OK_AND_ASSIGN(rows,
                       this->db().Query("WITH v (id) AS (VALUES (2)) INSERT INTO items "
                                        "(id, name) SELECT id, 'second' FROM v RETURNING id"));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows.Int(0, 0), 2);
  ASSERT_OK_AND_ASSIGN(rows, this->db().Query("UPDATE items SET qty = id * 10 RETURNING qty"));
  EXPECT_EQ(rows.size(), 2u);
  ASSERT_OK_AND_ASSIGN(
      int64_t n, this->db().Exec("DELETE FROM items WHERE id = $1 RETURNING id", {int64_t{1}}));
  EXPECT_EQ(n, 1);
  EXPECT_EQ(this->Count("items"), 1);
}

TYPED_TEST_P(RelationalConformance, OnConflict) {
  this->CreateItems();
  ASSERT_OK(this->db().Exec("INSERT INTO items (id, name) VALUES (1, 'original')"));
  ASSERT_OK_AND_ASSIGN(int64_t n, this->db().Exec("INSERT INTO items (id, name) VALUES ($1, $2) "
                                                  "ON CONFLICT (id) DO NOTHING",
                                                  {int64_t{1}, std::string("ignored")}));
  EXPECT_EQ(n, 0);
  ASSERT_OK_AND_ASSIGN(Rows rows, this->db().Query("SELECT name FROM items WHERE id = 1"));
  EXPECT_EQ(rows.Text(0, 0), "original");
  ASSERT_OK_AND_ASSIGN(n, this->db().Exec("INSERT INTO items (id, name, qty) VALUES ($1, $2, $3) "
                                          "ON CONFLICT (id) DO UPDATE SET name = excluded.name, "
                                          "qty = excluded.qty",
                                          {int64_t{1}, std::string("updated"), int64_t{5}}));
  EXPECT_EQ(n, 1);
  ASSERT_OK_AND_ASSIGN(rows, this->db().Query("SELECT name, qty FROM items WHERE id = 1"));
  EXPECT_EQ(rows.Text(0, 0), "updated");
  EXPECT_EQ(rows.Int(0, 1), 5);
  EXPECT_EQ(this->Count("items"), 1);
}

TYPED_TEST_P(RelationalConformance, ErrorCodes) {
  this->CreateItems();
  ASSERT_OK(this->db().Exec("CREATE UNIQUE INDEX items_name ON items (name)"));
  ASSERT_OK(this->db().Exec("INSERT INTO items (id, name) VALUES (1, 'a')"));
  // Unique violations, by primary key and by unique index, with and without parameters.
  auto dup = this->db().Exec("INSERT INTO items (id, name) VALUES ($1, $2)",
                             {int64_t{1}, std::string("b")});
  EXPECT_EQ(dup.status().code(), StatusCode::kAlreadyExists) << dup.status().ToString();
  dup = this->db().Exec("INSERT INTO items (id, name) VALUES (2, 'a')");
  EXPECT_EQ(dup.status().code(), StatusCode::kAlreadyExists) << dup.status().ToString();
  // Other constraints name themselves.
  auto null = this->db().Exec("INSERT INTO items (id, name) VALUES ($1, $2)", {int64_t{3}, kNull});
  EXPECT_EQ(null.status().code(), StatusCode::kInvalidArgument) << null.status().ToString();
  EXPECT_NE(null.status().message().find("name"), std::string::npos) << null.status().ToString();
  // SQL the database refuses.
  auto syntax = this->db().Query("SELEC 1");
  EXPECT_EQ(syntax.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(syntax.status().message().find("SELEC"), std::string::npos)
      << syntax.status().ToString();
  EXPECT_EQ(this->db().Query("SELECT * FROM no_such_table").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(this->db().Exec("INSERT INTO no_such_table VALUES (1)").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(this->Count("items"), 1);
}

TYPED_TEST_P(RelationalConformance, TransactionCommitIsVisibleOnlyAfterCommit) {
  this->CreateItems();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Transaction> tx, this->db().Begin());
  ASSERT_OK(tx->Exec("INSERT INTO items (id, name) VALUES ($1, $2)", {int64_t{1}, "a"}));
  ASSERT_OK_AND_ASSIGN(Rows inside, tx->Query("SELECT COUNT(*) FROM items"));
  EXPECT_EQ(inside.Int(0, 0), 1);
  EXPECT_EQ(this->Count("items"), 0);  // not yet visible to others
  ASSERT_OK(tx->Commit());
  EXPECT_EQ(this->Count("items"), 1);
  EXPECT_EQ(tx->Exec("INSERT INTO items (id, name) VALUES (2, 'b')").status().code(),
            StatusCode::kFailedPrecondition);
}

// The group-commit pipeline: every commit's `durable` runs once, OK, in commit order, and the
// next transaction may begin before it has run.
TYPED_TEST_P(RelationalConformance, CommitThenReportsEachCommitOnceInOrder) {
  this->CreateItems();
  std::mutex mu;
  std::condition_variable cv;
  std::vector<int64_t> durable;
  std::vector<Status> statuses;
  constexpr int64_t kCommits = 200;
  for (int64_t i = 1; i <= kCommits; ++i) {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Transaction> tx, this->db().Begin());
    ASSERT_OK(tx->Exec("INSERT INTO items (id, name) VALUES ($1, 'x')", {i}));
    tx->CommitThen([&, i](Status st) {
      std::lock_guard lock(mu);
      durable.push_back(i);
      statuses.push_back(st);
      cv.notify_all();
    });
  }
  std::unique_lock lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(30),
                          [&] { return durable.size() == static_cast<size_t>(kCommits); }));
  for (int64_t i = 0; i < kCommits; ++i) {
    EXPECT_EQ(durable[i], i + 1);
    EXPECT_OK(statuses[i]);
  }
  lock.unlock();
  EXPECT_EQ(this->Count("items"), kCommits);
  // A commit that fails reports the failure to `durable`, synchronously or not.
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Transaction> tx, this->db().Begin());
  EXPECT_FALSE(tx->Exec("INSERT INTO items (id, name) VALUES (1, 'dup')").ok());
  Status failed = Status::Ok();
  bool called = false;
  tx->CommitThen([&](Status st) {
    std::lock_guard guard(mu);
    failed = st;
    called = true;
    cv.notify_all();
  });
  lock.lock();
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return called; }));
  EXPECT_FALSE(failed.ok());
}

TYPED_TEST_P(RelationalConformance, UncommittedTransactionRollsBackOnDestruction) {
  this->CreateItems();
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Transaction> tx, this->db().Begin());
    ASSERT_OK(tx->Exec("INSERT INTO items (id, name) VALUES (1, 'a')"));
    ASSERT_OK(tx->Exec("CREATE TABLE made_in_tx (x BIGINT)"));
  }
  EXPECT_EQ(this->Count("items"), 0);
  EXPECT_FALSE(this->db().Query("SELECT * FROM made_in_tx").ok());
  ASSERT_OK(this->db().Exec("INSERT INTO items (id, name) VALUES (1, 'after')"));  // not locked
  EXPECT_EQ(this->Count("items"), 1);
}

TYPED_TEST_P(RelationalConformance, FailedStatementInTransactionCommitsNothing) {
  this->CreateItems();
  ASSERT_OK(this->db().Exec("INSERT INTO items (id, name) VALUES (1, 'existing')"));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Transaction> tx, this->db().Begin());
  ASSERT_OK(tx->Exec("INSERT INTO items (id, name) VALUES (2, 'new')"));
  EXPECT_EQ(tx->Exec("INSERT INTO items (id, name) VALUES (1, 'dup')").status().code(),
            StatusCode::kAlreadyExists);
  EXPECT_FALSE(tx->Exec("INSERT INTO items (id, name) VALUES (3, 'more')").ok());
  EXPECT_FALSE(tx->Commit().ok());
  tx.reset();
  EXPECT_EQ(this->Count("items"), 1);

  // InTransaction rolls back when the function fails.
  Status st = this->db().InTransaction([](Transaction& t) -> Status {
    PA_RETURN_IF_ERROR(t.Exec("INSERT INTO items (id, name) VALUES (4, 'x')").status());
    return NotFoundError("changed my mind");
  });
  EXPECT_EQ(st.code(), StatusCode::kNotFound);
  EXPECT_EQ(this->Count("items"), 1);
}

TYPED_TEST_P(RelationalConformance, ConcurrentWritersLoseNoUpdates) {
  ASSERT_OK(
      this->db().Exec("CREATE TABLE counter (id BIGINT PRIMARY KEY, v BIGINT NOT NULL); "
                      "CREATE TABLE log (id BIGINT PRIMARY KEY); "
                      "INSERT INTO counter VALUES (1, 0)"));
  constexpr int kThreads = 4;
  constexpr int kPerThread = 25;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int k = 0; k < kPerThread; ++k) {
        const int64_t id = t * 1000 + k;
        Status st = this->db().InTransaction(
            [&](Transaction& tx) -> Status {
              PA_RETURN_IF_ERROR(tx.Exec("UPDATE counter SET v = v + 1 WHERE id = 1").status());
              return tx.Exec("INSERT INTO log (id) VALUES ($1)", {id}).status();
            },
            10);
        if (!st.ok()) {
          ADD_FAILURE() << st.ToString();
          failures++;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_EQ(failures.load(), 0);
  ASSERT_OK_AND_ASSIGN(Rows rows, this->db().Query("SELECT v FROM counter WHERE id = 1"));
  EXPECT_EQ(rows.Int(0, 0), kThreads * kPerThread);
  EXPECT_EQ(this->Count("log"), kThreads * kPerThread);
}

TYPED_TEST_P(RelationalConformance, ReadersSeeWholeTransactionsWhileAWriterRuns) {
  ASSERT_OK(this->db().Exec("CREATE TABLE pairs (id BIGINT PRIMARY KEY)"));
  constexpr int kTransactions = 60;
  std::atomic<bool> writer_done{false};
  std::thread writer([&] {
    for (int64_t k = 0; k < kTransactions; ++k) {
      Status st = this->db().InTransaction([&](Transaction& tx) -> Status {
        PA_RETURN_IF_ERROR(tx.Exec("INSERT INTO pairs (id) VALUES ($1)", {2 * k}).status());
        return tx.Exec("INSERT INTO pairs (id) VALUES ($1)", {2 * k + 1}).status();
      });
      EXPECT_TRUE(st.ok()) << st.ToString();
    }
    writer_done = true;
  });
  std::vector<std::thread> readers;
  std::atomic<int> reads{0};
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([&] {
      int64_t last = 0;
      bool final_read = false;
      while (!final_read) {
        final_read = writer_done.load();
        auto rows = this->db().Query("SELECT COUNT(*) FROM pairs WHERE id >= $1", {int64_t{0}});
        if (!rows.ok()) {
          ADD_FAILURE() << rows.status().ToString();
          return;
        }
        const int64_t n = rows->Int(0, 0);
        EXPECT_EQ(n % 2, 0) << "a reader saw half a transaction";
        EXPECT_GE(n, last) << "a reader went back in time";
        last = n;
        reads++;
      }
      EXPECT_EQ(last, 2 * kTransactions);
    });
  }
  writer.join();
  for (auto& th : readers) th.join();
  EXPECT_GE(reads.load(), 3);
}

TYPED_TEST_P(RelationalConformance, CachedStatementsFollowSchemaChanges) {
  this->CreateItems();
  ASSERT_OK(this->db().Exec("INSERT INTO items (id, name) VALUES (1, 'a')"));
  ASSERT_OK_AND_ASSIGN(Rows rows,
                       this->db().Query("SELECT * FROM items WHERE id = $1", {int64_t{1}}));
  EXPECT_EQ(rows.columns().size(), 3u);
  ASSERT_OK(this->db().Exec("ALTER TABLE items ADD COLUMN extra TEXT"));
  ASSERT_OK_AND_ASSIGN(rows, this->db().Query("SELECT * FROM items WHERE id = $1", {int64_t{1}}));
  EXPECT_EQ(rows.columns().size(), 4u);
}

TYPED_TEST_P(RelationalConformance, ManyDistinctStatementsStayCorrect) {
  // More distinct statements than a connection keeps prepared, then the first ones again.
  for (int round = 0; round < 2; ++round) {
    for (int64_t k = 0; k < 300; ++k) {
      ASSERT_OK_AND_ASSIGN(
          Rows rows, this->db().Query("SELECT $1 + " + std::to_string(k) + " AS v", {int64_t{1}}));
      ASSERT_EQ(rows.Int(0, 0), 1 + k);
    }
  }
}

std::vector<Schema> TwoComponents() {
  return {
      {"core",
       {{1, "items table",
         "CREATE TABLE core_items (id BIGINT PRIMARY KEY, note TEXT); "
         "INSERT INTO core_items VALUES (1, 'semi;colon')"},
        {2, "blob column", "THIS IS NOT SQL", "ALTER TABLE core_items ADD COLUMN data BLOB",
         "ALTER TABLE core_items ADD COLUMN data BYTEA"},
        {3, "seed row", "INSERT INTO core_items (id, note) VALUES (2, 'seed')"}}},
      {"auth", {{1, "users", "CREATE TABLE auth_users (id TEXT PRIMARY KEY)"}}},
  };
}

TYPED_TEST_P(RelationalConformance, MigrationsApplyOnceInOrder) {
  ASSERT_OK_AND_ASSIGN(MigrationReport report, this->db().Migrate(TwoComponents()));
  ASSERT_EQ(report.applied.size(), 4u);
  EXPECT_EQ(report.applied[0].component, "core");
  EXPECT_EQ(report.applied[0].version, 1);
  EXPECT_EQ(report.applied[2].version, 3);
  EXPECT_EQ(report.applied[3].component, "auth");
  EXPECT_EQ(report.applied[3].name, "users");

  ASSERT_OK_AND_ASSIGN(report, this->db().Migrate(TwoComponents()));
  EXPECT_TRUE(report.applied.empty());
  EXPECT_EQ(this->Count("core_items"), 2);  // the seed migration ran once
  ASSERT_OK_AND_ASSIGN(Rows rows, this->db().Query("SELECT note FROM core_items WHERE id = 1"));
  EXPECT_EQ(rows.Text(0, 0), "semi;colon");
  ASSERT_OK_AND_ASSIGN(rows, this->db().Query("SELECT component, version, name, applied_at FROM "
                                              "schema_migrations ORDER BY component, version"));
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows.Text(0, 0), "auth");
  EXPECT_EQ(rows.Text(2, 2), "blob column");
  EXPECT_GT(rows.Int(0, 3), 1'600'000'000'000);  // Unix ms

  // A later binary with one more migration applies just that one.
  auto schemas = TwoComponents();
  schemas[1].migrations.push_back({2, "email", "ALTER TABLE auth_users ADD COLUMN email TEXT"});
  ASSERT_OK_AND_ASSIGN(report, this->db().Migrate(schemas));
  ASSERT_EQ(report.applied.size(), 1u);
  EXPECT_EQ(report.applied[0].name, "email");
}

TYPED_TEST_P(RelationalConformance, FailingMigrationLeavesNoTrace) {
  std::vector<Schema> schemas = {
      {"core",
       {{1, "first", "CREATE TABLE first_table (x BIGINT)"},
        {2, "broken", "CREATE TABLE second_table (x BIGINT); INSERT INTO nowhere VALUES (1)"}}}};
  auto result = this->db().Migrate(schemas);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(result.status().message().find("broken"), std::string::npos)
      << result.status().ToString();
  EXPECT_OK(this->db().Query("SELECT * FROM first_table"));
  EXPECT_EQ(this->db().Query("SELECT * FROM second_table").status().code(),
            StatusCode::kInvalidArgument);
  ASSERT_OK_AND_ASSIGN(Rows rows, this->db().Query("SELECT version FROM schema_migrations"));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows.Int(0, 0), 1);

  schemas[0].migrations[1].sql = "CREATE TABLE second_table (x BIGINT)";
  ASSERT_OK_AND_ASSIGN(MigrationReport report, this->db().Migrate(schemas));
  ASSERT_EQ(report.applied.size(), 1u);
  EXPECT_EQ(report.applied[0].version, 2);
}

TYPED_TEST_P(RelationalConformance, MigrationDowngradeAndBadSchemasAreRefused) {
  ASSERT_OK(this->db().Migrate(TwoComponents()));
  auto older = TwoComponents();
  older[0].migrations.pop_back();
  auto result = this->db().Migrate(older);
  EXPECT_EQ(result.status().code(), StatusCode::kFailedPrecondition) << result.status().ToString();
  EXPECT_NE(result.status().message().find("core"), std::string::npos);

  std::vector<Schema> unordered = {{"x", {{2, "b", "SELECT 1"}, {1, "a", "SELECT 1"}}}};
  EXPECT_EQ(this->db().Migrate(unordered).status().code(), StatusCode::kInvalidArgument);
}

TYPED_TEST_P(RelationalConformance, ConcurrentMigratorsApplyEachMigrationOnce) {
  ASSERT_OK_AND_ASSIGN(auto other, this->OpenAnother());
  for (int round = 0; round < 5; ++round) {
    const std::string c = "comp" + std::to_string(round);
    const std::vector<Schema> schemas = {
        {c,
         {{1, "table", "CREATE TABLE " + c + "_t (x BIGINT)"},
          {2, "row", "INSERT INTO " + c + "_t VALUES (1)"},
          {3, "another row", "INSERT INTO " + c + "_t VALUES (2)"}}}};
    Result<MigrationReport> a = InternalError("not run");
    Result<MigrationReport> b = InternalError("not run");
    std::atomic<int> ready{0};
    auto run = [&](RelationalStore& store, Result<MigrationReport>* out) {
      ready++;
      while (ready.load() < 2) std::this_thread::yield();
      *out = store.Migrate(schemas);
    };
    std::thread ta(run, std::ref(this->db()), &a);
    std::thread tb(run, std::ref(*other), &b);
    ta.join();
    tb.join();
    ASSERT_OK(a);
    ASSERT_OK(b);
    EXPECT_EQ(a->applied.size() + b->applied.size(), 3u);
    EXPECT_EQ(this->Count(c + "_t"), 2);
  }
  EXPECT_EQ(this->Count("schema_migrations"), 15);
}

TYPED_TEST_P(RelationalConformance, WritesSurviveReopen) {
  this->CreateItems();
  ASSERT_OK(this->db().Exec("INSERT INTO items (id, name) VALUES ($1, $2)", {int64_t{1}, "kept"}));
  ASSERT_OK(this->db().InTransaction([](Transaction& tx) {
    return tx.Exec("INSERT INTO items (id, name) VALUES (2, 'also kept')").status();
  }));
  this->db_.reset();
  ASSERT_OK_AND_ASSIGN(this->db_, this->OpenAnother());
  ASSERT_OK_AND_ASSIGN(Rows rows, this->db().Query("SELECT name FROM items ORDER BY id"));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows.Text(0, 0), "kept");
  EXPECT_EQ(rows.Text(1, 0), "also kept");
}

TYPED_TEST_P(RelationalConformance, PingAndDescription) {
  EXPECT_OK(this->db().Ping());
  EXPECT_FALSE(this->db().description().empty());
  EXPECT_TRUE(this->db().backend() == "sqlite" || this->db().backend() == "postgresql");
}

REGISTER_TYPED_TEST_SUITE_P(
    RelationalConformance, TypesRoundTrip, ParametersKeepTypesAndMayRepeatOutOfOrder,
    WrongParameterCountIsInvalidArgument, ExecCountsChangedRows,
    ExecRunsScriptsWithSemicolonsInLiterals, Returning, OnConflict, ErrorCodes,
    TransactionCommitIsVisibleOnlyAfterCommit, CommitThenReportsEachCommitOnceInOrder,
    UncommittedTransactionRollsBackOnDestruction, FailedStatementInTransactionCommitsNothing,
    ConcurrentWritersLoseNoUpdates, ReadersSeeWholeTransactionsWhileAWriterRuns,
    CachedStatementsFollowSchemaChanges, ManyDistinctStatementsStayCorrect,
    MigrationsApplyOnceInOrder, FailingMigrationLeavesNoTrace,
    MigrationDowngradeAndBadSchemasAreRefused, ConcurrentMigratorsApplyEachMigrationOnce,
    WritesSurviveReopen, PingAndDescription);

INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, RelationalConformance, ::testing::Types<SqliteBackend>);
INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, RelationalConformance, ::testing::Types<PostgresBackend>);

// ---- SQLite only -------------------------------------------------------------------------

class SqliteStore : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE((dir_ = MakeTempDir()).empty()); }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::filesystem::path dir_;
};

TEST_F(SqliteStore, RefusesMemoryAndCreatesTheParentDirectory) {
  EXPECT_EQ(sqlite::Open({.path = ":memory:"}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(sqlite::Open({.path = ""}).status().code(), StatusCode::kInvalidArgument);
  const auto path = dir_ / "a" / "b" / "x.db";
  ASSERT_OK_AND_ASSIGN(auto db, sqlite::Open({.path = path.string()}));
  EXPECT_TRUE(std::filesystem::exists(path));
  EXPECT_EQ(db->description(), "sqlite://" + path.string());
  EXPECT_EQ(db->backend(), "sqlite");
  auto err = db->Query("SELEC 1");
  EXPECT_NE(err.status().message().find(path.string()), std::string::npos)
      << err.status().ToString();
}

TEST_F(SqliteStore, UnopenableFileIsUnavailable) {
  const auto blocker = dir_ / "file";
  { std::ofstream(blocker) << "x"; }
  auto db = sqlite::Open({.path = (blocker / "x.db").string()});  // parent is a file
  EXPECT_EQ(db.status().code(), StatusCode::kUnavailable) << db.status().ToString();
}

TEST_F(SqliteStore, BusyWriterTimesOutWithAborted) {
  const std::string path = (dir_ / "busy.db").string();
  ASSERT_OK_AND_ASSIGN(auto a, sqlite::Open({.path = path, .busy_timeout = 50ms}));
  ASSERT_OK_AND_ASSIGN(auto b, sqlite::Open({.path = path, .busy_timeout = 50ms}));
  ASSERT_OK_AND_ASSIGN(auto tx, a->Begin());
  // Another process (here: another store) waits busy_timeout for the file lock...
  EXPECT_EQ(b->Begin().status().code(), StatusCode::kAborted);
  EXPECT_EQ(b->Exec("CREATE TABLE t (x BIGINT)").status().code(), StatusCode::kAborted);
  // ...and this store's own writers wait as long for the writer connection.
  EXPECT_EQ(a->Exec("CREATE TABLE t (x BIGINT)").status().code(), StatusCode::kAborted);
  EXPECT_OK(a->Query("SELECT 1"));  // reads do not wait
  tx.reset();
  EXPECT_OK(b->Exec("CREATE TABLE t (x BIGINT)"));
}

TEST_F(SqliteStore, StrayBeginIsRolledBack) {
  ASSERT_OK_AND_ASSIGN(auto db, sqlite::Open({.path = (dir_ / "x.db").string()}));
  EXPECT_EQ(db->Exec("BEGIN").status().code(), StatusCode::kInvalidArgument);
  EXPECT_OK(db->Exec("CREATE TABLE t (x BIGINT)"));
  ASSERT_OK_AND_ASSIGN(auto tx, db->Begin());
  EXPECT_EQ(tx->Exec("COMMIT").status().code(), StatusCode::kInvalidArgument);
}

// The contract says an OK write survives `kill -9`: a child writes, reports success and is
// killed at once; the parent then finds the row.
TEST_F(SqliteStore, WriteSurvivesSigkillRightAfterItReturned) {
  const std::string path = (dir_ / "crash.db").string();
  int pipefd[2];
  ASSERT_EQ(pipe(pipefd), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(pipefd[0]);
    auto db = sqlite::Open({.path = path});
    bool ok = db.ok() && (*db)->Exec("CREATE TABLE t (id BIGINT PRIMARY KEY, v TEXT)").ok() &&
              (*db)
                  ->InTransaction([](Transaction& tx) {
                    return tx.Exec("INSERT INTO t VALUES (1, 'committed')").status();
                  })
                  .ok() &&
              (*db)->Exec("INSERT INTO t VALUES ($1, $2)", {int64_t{2}, "autocommit"}).ok();
    const char byte = ok ? 'y' : 'n';
    if (write(pipefd[1], &byte, 1) != 1) _exit(2);
    for (;;) pause();  // wait for SIGKILL with the store still open
  }
  close(pipefd[1]);
  char byte = 0;
  const ssize_t got = read(pipefd[0], &byte, 1);
  close(pipefd[0]);
  kill(pid, SIGKILL);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_EQ(got, 1) << "the child died before reporting";
  ASSERT_EQ(byte, 'y') << "the child could not write";
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

  ASSERT_OK_AND_ASSIGN(auto db, sqlite::Open({.path = path}));
  ASSERT_OK_AND_ASSIGN(Rows rows, db->Query("SELECT v FROM t ORDER BY id"));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows.Text(0, 0), "committed");
  EXPECT_EQ(rows.Text(1, 0), "autocommit");
}

// Commits are synced by the store's own thread and the WAL is checkpointed by another (see
// sqlite_store.cc): acknowledged transactions and group commits through CommitThen survive
// SIGKILL, and the WAL does not grow without bound under steady writes.
TEST_F(SqliteStore, CommitThenDurableSurvivesSigkillAndTheWalIsCheckpointed) {
  const std::string path = (dir_ / "pipeline.db").string();
  constexpr int kCommits = 3000;
  int pipefd[2];
  ASSERT_EQ(pipe(pipefd), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(pipefd[0]);
    auto db = sqlite::Open({.path = path});
    if (!db.ok() || !(*db)->Exec("CREATE TABLE t (id BIGINT PRIMARY KEY, v TEXT)").ok()) _exit(2);
    std::atomic<int> acknowledged{0};
    const std::string value(2000, 'v');  // about half a page per row
    for (int i = 1; i <= kCommits; ++i) {
      auto tx = (*db)->Begin();
      if (!tx.ok() || !(*tx)->Exec("INSERT INTO t VALUES ($1, $2)", {int64_t{i}, value}).ok()) {
        _exit(3);
      }
      (*tx)->CommitThen([&](Status st) {
        if (st.ok()) acknowledged.fetch_add(1);
      });
    }
    while (acknowledged.load() < kCommits)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    const char byte = 'y';
    if (write(pipefd[1], &byte, 1) != 1) _exit(2);
    for (;;) pause();
  }
  close(pipefd[1]);
  char byte = 0;
  const ssize_t got = read(pipefd[0], &byte, 1);
  close(pipefd[0]);
  // The WAL was checkpointed and started over along the way: ~38 MB of frames went through it
  // (3 pages a commit), and a WAL that never restarts is that big; one that restarts stays
  // near the 1000-page (4 MB) checkpoint point plus what commits while a checkpoint runs.
  std::error_code ec;
  const auto wal_bytes = std::filesystem::file_size(path + "-wal", ec);
  kill(pid, SIGKILL);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_EQ(got, 1) << "the child died before reporting";
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_LT(wal_bytes, 20'000'000u);

  ASSERT_OK_AND_ASSIGN(auto db, sqlite::Open({.path = path}));
  ASSERT_OK_AND_ASSIGN(Rows rows, db->Query("SELECT COUNT(*), MIN(id), MAX(id) FROM t"));
  EXPECT_EQ(rows.Int(0, 0), kCommits);
  EXPECT_EQ(rows.Int(0, 1), 1);
  EXPECT_EQ(rows.Int(0, 2), kCommits);
}

// ---- PostgreSQL only ---------------------------------------------------------------------

int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

TEST(PostgresStore, UnreachableServerIsUnavailableAndNamed) {
  const int port = FreePort();
  ASSERT_NE(port, 0);
  const std::string url = "postgresql://pa:s3cret@127.0.0.1:" + std::to_string(port) + "/pa";
  auto db = postgres::Open({.url = url, .connect_timeout = 2000ms});
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(db.status().message().find("127.0.0.1:" + std::to_string(port)), std::string::npos)
      << db.status().ToString();
  EXPECT_EQ(db.status().message().find("s3cret"), std::string::npos) << db.status().ToString();
}

TEST(PostgresStore, MalformedUrlsAreInvalidArgument) {
  auto bad = postgres::Open({.url = "postgresql://pa:s3cret@host:notaport/db"});
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message().find("s3cret"), std::string::npos) << bad.status().ToString();
  EXPECT_EQ(postgres::Open({.url = "postgresql://h/db?schema=bad-name"}).status().code(),
            StatusCode::kInvalidArgument);
}

// Tests against the server named by PRIMOART_TEST_POSTGRES_URL.
class PostgresServer : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = Env("PRIMOART_TEST_POSTGRES_URL");
    if (url_.empty()) {
      if (RequireServers()) FAIL() << "PRIMOART_TEST_POSTGRES_URL is not set";
      GTEST_SKIP() << "PRIMOART_TEST_POSTGRES_URL is not set";
    }
  }
  Result<std::unique_ptr<RelationalStore>> OpenStore(int pool_size = 1,
                                                     std::chrono::milliseconds acquire = 10s) {
    return postgres::Open({.url = url_, .pool_size = pool_size, .acquire_timeout = acquire});
  }
  // Waits (polling, bounded) until `condition` holds.
  static bool WaitFor(const std::function<bool()>& condition) {
    for (int i = 0; i < 600; ++i) {
      if (condition()) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }
  std::string url_;
};

TEST_F(PostgresServer, BothSchemesWorkAndThePasswordIsMasked) {
  ASSERT_OK_AND_ASSIGN(auto db, OpenStore());
  EXPECT_EQ(db->backend(), "postgresql");
  const std::string password = url_.substr(0, url_.find('@')).substr(url_.find("://") + 3);
  EXPECT_NE(db->description().find("****"), std::string::npos) << db->description();
  if (password.find(':') != std::string::npos) {
    EXPECT_EQ(db->description().find(password.substr(password.find(':') + 1)), std::string::npos);
  }
  const std::string short_url = "postgres://" + url_.substr(url_.find("://") + 3);
  ASSERT_OK_AND_ASSIGN(auto db2, postgres::Open({.url = short_url}));
  EXPECT_OK(db2->Ping());
}

TEST_F(PostgresServer, ParametersInsidePostgresLiteralsAreNotCounted) {
  ASSERT_OK_AND_ASSIGN(auto db, OpenStore());
  ASSERT_OK_AND_ASSIGN(Rows rows, db->Query("SELECT E'it\\'s $2', $$ $3 $$, $q$ $4 $q$, \"$5\", $1 "
                                            "FROM (SELECT 1 AS \"$5\") AS t",
                                            {int64_t{7}}));
  EXPECT_EQ(rows.Text(0, 0), "it's $2");
  EXPECT_EQ(rows.Text(0, 1), " $3 ");
  EXPECT_EQ(rows.Int(0, 4), 7);
  EXPECT_EQ(db->Query("SELECT $$ $1 $$, $1", {int64_t{1}, int64_t{2}}).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(PostgresServer, PoolExhaustionIsUnavailableAfterTheAcquireTimeout) {
  ASSERT_OK_AND_ASSIGN(auto db, OpenStore(1, 100ms));
  ASSERT_OK_AND_ASSIGN(auto tx, db->Begin());
  EXPECT_EQ(db->Query("SELECT 1").status().code(), StatusCode::kUnavailable);
  tx.reset();
  EXPECT_OK(db->Query("SELECT 1"));
}

TEST_F(PostgresServer, ReconnectsWhenTheServerClosedAnIdleConnection) {
  ASSERT_OK_AND_ASSIGN(auto db, OpenStore(1));
  ASSERT_OK_AND_ASSIGN(auto admin, OpenStore(1));
  ASSERT_OK_AND_ASSIGN(Rows rows, db->Query("SELECT pg_backend_pid()"));
  const int64_t pid = rows.Int(0, 0);
  ASSERT_OK(admin->Query("SELECT pg_terminate_backend($1::int)", {pid}));
  ASSERT_TRUE(WaitFor([&] {
    auto r = admin->Query("SELECT COUNT(*) FROM pg_stat_activity WHERE pid = $1::int", {pid});
    return r.ok() && r->Int(0, 0) == 0;
  }));
  ASSERT_OK_AND_ASSIGN(rows, db->Query("SELECT pg_backend_pid()"));
  EXPECT_NE(rows.Int(0, 0), pid);
}

TEST_F(PostgresServer, ConnectionLostMidQueryIsUnavailableAndNotReused) {
  ASSERT_OK_AND_ASSIGN(auto db, OpenStore(1));
  ASSERT_OK_AND_ASSIGN(auto admin, OpenStore(1));
  const std::string marker = "pa_midflight_" + NewRequestId().substr(0, 8);
  Result<Rows> in_flight = InternalError("not run");
  std::thread query([&] { in_flight = db->Query("SELECT pg_sleep(60), '" + marker + "'"); });
  int64_t pid = 0;
  const bool found = WaitFor([&] {
    auto r = admin->Query(
        "SELECT pid FROM pg_stat_activity WHERE state = 'active' AND "
        "query LIKE $1",
        {"%" + marker + "%"});
    if (!r.ok() || r->empty()) return false;
    pid = r->Int(0, 0);
    return true;
  });
  if (found) EXPECT_OK(admin->Query("SELECT pg_terminate_backend($1::int)", {pid}));
  query.join();
  ASSERT_TRUE(found);
  EXPECT_EQ(in_flight.status().code(), StatusCode::kUnavailable) << in_flight.status().ToString();
  EXPECT_OK(db->Query("SELECT 1"));
}

TEST_F(PostgresServer, QueryAfterServerRestartSucceeds) {
  const std::string ctl = Env("PRIMOART_TEST_POSTGRES_CTL");
  if (ctl.empty()) GTEST_SKIP() << "PRIMOART_TEST_POSTGRES_CTL is not set";
  ASSERT_OK_AND_ASSIGN(auto db, OpenStore(2));
  const std::string table = "pa_restart_" + NewRequestId().substr(0, 8);
  ASSERT_OK(db->Exec("CREATE TABLE " + table + " (id BIGINT PRIMARY KEY)"));
  ASSERT_OK(db->Exec("INSERT INTO " + table + " VALUES ($1)", {int64_t{1}}));
  const std::string count = "SELECT COUNT(*) FROM " + table;
  ASSERT_OK(db->Query(count));  // prepared on the pooled connection, which the restart breaks
  ASSERT_EQ(std::system(ctl.c_str()), 0) << ctl;
  // Wait until the server accepts connections again, without touching `db`'s pool.
  ASSERT_TRUE(WaitFor([&] { return OpenStore(1).ok(); })) << "the server did not come back";
  ASSERT_OK_AND_ASSIGN(Rows rows, db->Query(count));
  EXPECT_EQ(rows.Int(0, 0), 1);
  EXPECT_OK(db->Exec("DROP TABLE " + table));
}

}  // namespace
}  // namespace pa::storage
