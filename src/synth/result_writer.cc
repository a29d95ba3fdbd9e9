#include "synth/result_writer.h"

#include <pthread.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>

#include "base/logging.h"

namespace pa::synth {
namespace {

using storage::kNull;
using storage::Params;
using storage::SqlValue;

constexpr int kStepColumns = 13;
constexpr int kResultColumns = 14;

// A multi-row INSERT of `rows` rows of `columns` parameters each.
std::string InsertSql(std::string_view head, size_t rows, int columns) {
  std::string sql(head);
  sql += " VALUES ";
  int p = 1;
  for (size_t r = 0; r < rows; ++r) {
    sql += r == 0 ? "(" : ", (";
    for (int c = 0; c < columns; ++c) sql += (c == 0 ? "$" : ", $") + std::to_string(p++);
    sql += ")";
  }
  return sql;
}

constexpr std::string_view kResultInsert =
    "INSERT INTO synth_results (run_id, seq, transaction_id, tx_version, robot_id, location, "
    "started_at, finished_at, duration_ms, status, error_type, error_message, received_at, doc)";
constexpr std::string_view kStepInsert =
    "INSERT INTO synth_steps (seq, idx, run_id, transaction_id, name, status, started_at, "
    "duration_ms, dns_ms, connect_ms, tls_ms, ttfb_ms, download_ms)";

SqlValue Opt(const std::optional<double>& v) { return v ? SqlValue(*v) : kNull; }

// Statements over a variable number of rows go in chunks of these sizes (greedy), so that few
// statement texts exist (the prepared-statement caches stay small) and a batch needs few round
// trips to PostgreSQL.
constexpr size_t kChunks[] = {64, 16, 4, 1};

size_t NextChunk(size_t left) {
  for (size_t c : kChunks) {
    if (left >= c) return c;
  }
  return 0;
}

// The statement for each chunk size, made once.
const std::string& ChunkSql(std::string_view head, int columns, size_t rows) {
  static std::mutex mu;
  static std::map<std::pair<std::string, size_t>, std::string> cache;
  std::lock_guard lock(mu);
  auto [it, fresh] = cache.try_emplace({std::string(head), rows});
  if (fresh) it->second = InsertSql(head, rows, columns);
  return it->second;
}

// "$first, $first+1, ..." for `n` parameters.
std::string Placeholders(size_t n, int first = 1) {
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    if (i > 0) out += ", ";
    out += "$" + std::to_string(first + static_cast<int>(i));
  }
  return out;
}

// UPDATE of the robots' last result, `rows` robots at once (portable: UPDATE ... FROM VALUES
// works on SQLite >= 3.33 and PostgreSQL; VALUES columns are column1.. on both).
std::string RobotUpdateSql(size_t rows) {
  std::string sql =
      "UPDATE synth_robots SET last_result_at = v.column2, last_result_status = v.column3 "
      "FROM (VALUES ";
  for (size_t r = 0; r < rows; ++r) {
    const int p = static_cast<int>(r) * 3 + 1;
    sql += (r == 0 ? "" : ", ") + std::string("(CAST($") + std::to_string(p) + " AS TEXT), CAST($" +
           std::to_string(p + 1) + " AS BIGINT), CAST($" + std::to_string(p + 2) + " AS TEXT))";
  }
  sql +=
      ") AS v WHERE synth_robots.id = v.column1 AND (synth_robots.last_result_at IS NULL OR "
      "synth_robots.last_result_at <= v.column2)";
  return sql;
}

std::string LocationOf(const TransactionResult& r) { return r.location.value_or(""); }

}  // namespace

// What one transaction touched, so that per-transaction/per-robot statements run once.
struct ResultWriter::Touched {
  std::map<std::string, std::optional<int64_t>> versions;  // transaction id -> current version
  std::map<std::string, std::string> robot_locations;      // robot id -> registered location
  struct Last {
    int64_t at = INT64_MIN;
    std::string status;
  };
  std::map<std::string, Last> robot_last;  // robot id -> its newest result in this transaction
};

ResultWriter::ResultWriter(storage::RelationalStore& db, Clock& clock, telemetry::Registry& metrics,
                           Options options)
    : db_(db),
      clock_(clock),
      options_(options),
      batch_results_(metrics
                         .AddHistogram("primoart_synth_commit_results",
                                       "Results stored per database transaction (group commit).",
                                       {}, {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024})
                         .With({})),
      commits_failed_(metrics
                          .AddCounter("primoart_synth_commit_failures_total",
                                      "Result batches whose transaction failed (then retried "
                                      "unit by unit).")
                          .With({})) {}

ResultWriter::~ResultWriter() { Stop(); }

void ResultWriter::Start() {
  std::lock_guard lock(mu_);
  if (started_) return;
  started_ = true;
  thread_ = std::thread([this] { Loop(); });
}

void ResultWriter::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  {
    // Commits waiting for their sync answer from the store's thread, which uses this object.
    std::unique_lock lock(mu_);
    synced_cv_.wait(lock, [&] { return syncing_ == 0; });
  }
  // Never started: answer what was queued.
  std::deque<Unit> left;
  {
    std::lock_guard lock(mu_);
    left.swap(queue_);
  }
  for (Unit& u : left) u.done(UnavailableError("the result writer is stopping"));
}

void ResultWriter::Submit(std::vector<UploadItem> items, UploadDone done) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) {
      done(UnavailableError("the server is shutting down"));
      return;
    }
    if (queued_results_ + items.size() > options_.max_queued_results && !queue_.empty()) {
      done(ResourceExhaustedError("too many results are waiting to be stored; retry shortly"));
      return;
    }
    queued_results_ += items.size();
    queue_.push_back({std::move(items), std::move(done)});
  }
  cv_.notify_one();
}

void ResultWriter::Loop() {
  pthread_setname_np(pthread_self(), "synth-writer");
  for (;;) {
    std::vector<Unit> batch;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything is committed
      size_t results = 0;
      while (!queue_.empty() && (batch.empty() || results + queue_.front().items.size() <=
                                                      options_.max_batch_results)) {
        results += queue_.front().items.size();
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      queued_results_ -= results;
    }
    Commit(batch);
  }
}

void ResultWriter::Commit(std::vector<Unit>& batch) {
  std::vector<Unit*> all;
  size_t results = 0;
  for (Unit& u : batch) {
    all.push_back(&u);
    results += u.items.size();
  }
  std::vector<std::vector<bool>> created;
  std::vector<RunRecord> records;
  std::unique_ptr<storage::Transaction> tx;
  Status st;
  // A conflict on seq (another instance's writer) or a serialization failure: try again.
  for (int attempt = 0; attempt < 3; ++attempt) {
    st = Store(all, &created, &records, &tx);
    if (st.code() != StatusCode::kAborted && st.code() != StatusCode::kAlreadyExists) break;
  }
  if (st.ok()) {
    // Answered once durable; meanwhile this thread goes on with the next batch (the store
    // syncs many commits at once).
    batch_results_.Observe(static_cast<double>(results));
    {
      std::lock_guard lock(mu_);
      ++syncing_;
    }
    auto units = std::make_shared<std::vector<Unit>>(std::move(batch));
    tx->CommitThen([this, units, created = std::move(created),
                    records = std::move(records)](Status durable) mutable {
      if (durable.ok() && on_commit_ && !records.empty()) on_commit_(std::move(records));
      if (!durable.ok()) {
        commits_failed_.Inc();
        log::Get("synth")->warn("committing {} results failed: {}", created.size(),
                                durable.ToString());
      }
      for (size_t i = 0; i < units->size(); ++i) {
        if (durable.ok()) {
          (*units)[i].done(std::move(created[i]));
        } else {
          (*units)[i].done(durable);
        }
      }
      {
        std::lock_guard lock(mu_);
        --syncing_;
      }
      synced_cv_.notify_all();
    });
    return;
  }
  tx.reset();
  commits_failed_.Inc();
  if (batch.size() == 1) {
    log::Get("synth")->warn("storing {} results failed: {}", results, st.ToString());
    batch[0].done(st);
    return;
  }
  // One unit's problem must not fail the others: each in its own transaction.
  for (Unit& u : batch) {
    std::vector<Unit> one;
    one.push_back(std::move(u));
    Commit(one);
  }
}

Status ResultWriter::Store(std::vector<Unit*>& units, std::vector<std::vector<bool>>* created,
                           std::vector<RunRecord>* records,
                           std::unique_ptr<storage::Transaction>* out) {
  created->assign(units.size(), {});
  records->clear();
  out->reset();
  const int64_t now = clock_.NowMs();
  PA_ASSIGN_OR_RETURN(auto tx, db_.Begin());
  // Past both the newest stored result and the export cursor: a deleted newest result must not
  // give its number to a new one that the exporter would then take as already exported. (seq is
  // the primary key, so two instances' writers that read the same MAX conflict and retry.)
  PA_ASSIGN_OR_RETURN(
      storage::Rows max_seq,
      tx->Query("SELECT (SELECT COALESCE(MAX(seq), 0) FROM synth_results), "
                "(SELECT COALESCE(MAX(exported_seq), 0) FROM synth_metric_export)"));
  int64_t seq = std::max(max_seq.Int(0, 0), max_seq.Int(0, 1));
  Touched touched;
  PA_RETURN_IF_ERROR(Prefetch(*tx, units, now, touched));
  // Which results are new: neither stored already (a chunk of run ids per query) nor earlier
  // in this batch. Another instance storing the same run id meanwhile makes the INSERT fail on
  // the unique key (kAlreadyExists), and the batch is tried again.
  std::set<std::string> known;
  {
    std::vector<const std::string*> ids;
    for (const Unit* u : units) {
      for (const UploadItem& item : u->items) ids.push_back(&item.result.run_id);
    }
    for (size_t at = 0; at < ids.size();) {
      const size_t n = NextChunk(ids.size() - at);
      Params params;
      for (size_t i = 0; i < n; ++i) params.Add(*ids[at + i]);
      PA_ASSIGN_OR_RETURN(
          storage::Rows rows,
          tx->Query("SELECT run_id FROM synth_results WHERE run_id IN (" + Placeholders(n) + ")",
                    params));
      for (size_t i = 0; i < rows.size(); ++i) known.insert(rows.Text(i, 0));
      at += n;
    }
  }
  std::vector<NewResult> fresh;
  for (size_t u = 0; u < units.size(); ++u) {
    for (const UploadItem& item : units[u]->items) {
      const bool stored = known.insert(item.result.run_id).second;
      (*created)[u].push_back(stored);
      if (stored) fresh.push_back(Describe(item, ++seq, touched));
    }
  }
  PA_RETURN_IF_ERROR(InsertResults(*tx, fresh, now, touched, records));
  // The robots' newest results, a chunk of robots per statement.
  auto robot = touched.robot_last.begin();
  for (size_t left = touched.robot_last.size(); left > 0;) {
    const size_t n = NextChunk(left);
    static const std::map<size_t, std::string> kRobotSql = [] {
      std::map<size_t, std::string> m;
      for (size_t c : kChunks) m[c] = RobotUpdateSql(c);
      return m;
    }();
    Params params;
    for (size_t i = 0; i < n; ++i, ++robot) {
      params.Add(robot->first);
      params.Add(robot->second.at);
      params.Add(robot->second.status);
    }
    PA_RETURN_IF_ERROR(tx->Exec(kRobotSql.at(n), params).status());
    left -= n;
  }
  *out = std::move(tx);
  return Status::Ok();
}

Status ResultWriter::Prefetch(storage::Transaction& tx, const std::vector<Unit*>& units,
                              int64_t now, Touched& touched) {
  // The transactions of the batch (their current versions; `external` ones created on first
  // sight; a `missed` state ended) and the registered locations of robots whose results name
  // none — a chunk of ids per statement instead of one statement per id.
  std::map<std::string, const TransactionResult*> transactions;
  std::set<std::string> robots;
  for (const Unit* u : units) {
    for (const UploadItem& item : u->items) {
      transactions.emplace(item.result.transaction_id, &item.result);
      if (LocationOf(item.result).empty()) robots.insert(item.result.robot_id);
    }
  }
  std::vector<std::string> missed;
  auto ids = transactions.begin();
  for (size_t left = transactions.size(); left > 0;) {
    const size_t n = NextChunk(left);
    Params params;
    for (size_t i = 0; i < n; ++i, ++ids) params.Add(ids->first);
    PA_ASSIGN_OR_RETURN(
        storage::Rows rows,
        tx.Query("SELECT id, version, missed_since FROM synth_transactions WHERE id IN (" +
                     Placeholders(n) + ")",
                 params));
    for (size_t i = 0; i < rows.size(); ++i) {
      touched.versions[rows.Text(i, 0)] = rows.Int(i, 1);
      if (!rows.IsNull(i, 2)) missed.push_back(rows.Text(i, 0));
    }
    left -= n;
  }
  for (const auto& [id, r] : transactions) {
    if (touched.versions.contains(id)) continue;
    PA_RETURN_IF_ERROR(
        tx.Exec("INSERT INTO synth_transactions (id, name, enabled, external, interval_s, "
                "timeout_s, version, created_at, updated_at) VALUES ($1, $2, 1, 1, 0, 0, 0, "
                "$3, $3) ON CONFLICT (id) DO NOTHING",
                {id, r->transaction_name.value_or(id), now})
            .status());
    touched.versions[id] = std::nullopt;
  }
  for (const std::string& id : missed) {  // a result ends a `missed` state
    PA_RETURN_IF_ERROR(
        tx.Exec("UPDATE synth_transactions SET missed_since = NULL WHERE id = $1", {id}).status());
  }
  auto rid = robots.begin();
  for (size_t left = robots.size(); left > 0;) {
    const size_t n = NextChunk(left);
    Params params;
    for (size_t i = 0; i < n; ++i, ++rid) {
      params.Add(*rid);
      touched.robot_locations[*rid] = "";  // unregistered robots have none
    }
    PA_ASSIGN_OR_RETURN(
        storage::Rows rows,
        tx.Query("SELECT id, location FROM synth_robots WHERE id IN (" + Placeholders(n) + ")",
                 params));
    for (size_t i = 0; i < rows.size(); ++i) {
      touched.robot_locations[rows.Text(i, 0)] = rows.IsNull(i, 1) ? "" : rows.Text(i, 1);
    }
    left -= n;
  }
  return Status::Ok();
}

ResultWriter::NewResult ResultWriter::Describe(const UploadItem& item, int64_t seq,
                                               const Touched& touched) {
  const TransactionResult& r = item.result;
  NewResult n{&item, seq, LocationOf(r), item.sent_version};
  // Prefetch looked up (or created) every transaction and robot of the batch. The version the
  // run used: the one the robot sent, or the transaction's current one.
  if (n.location.empty()) n.location = touched.robot_locations.at(r.robot_id);
  if (!n.version) n.version = touched.versions.at(r.transaction_id);
  return n;
}

Status ResultWriter::InsertResults(storage::Transaction& tx, const std::vector<NewResult>& fresh,
                                   int64_t now, Touched& touched, std::vector<RunRecord>* records) {
  // The results, a chunk of rows per statement.
  for (size_t at = 0; at < fresh.size();) {
    const size_t n = NextChunk(fresh.size() - at);
    Params params;
    for (size_t i = at; i < at + n; ++i) {
      const TransactionResult& r = fresh[i].item->result;
      params.Add(r.run_id);
      params.Add(fresh[i].seq);
      params.Add(r.transaction_id);
      params.Add(fresh[i].version ? SqlValue(*fresh[i].version) : kNull);
      params.Add(r.robot_id);
      params.Add(fresh[i].location);
      params.Add(r.started_at_ms);
      params.Add(r.finished_at_ms);
      params.Add(r.duration_ms);
      params.Add(std::string(ToString(r.status)));
      params.Add(r.error ? SqlValue(r.error->type) : kNull);
      params.Add(r.error ? SqlValue(r.error->message) : kNull);
      params.Add(now);
      params.Add(fresh[i].item->doc);
    }
    PA_RETURN_IF_ERROR(tx.Exec(ChunkSql(kResultInsert, kResultColumns, n), params).status());
    at += n;
  }
  // Their steps, likewise, across results.
  struct StepRef {
    const NewResult* result;
    const ResultStep* step;
  };
  std::vector<StepRef> steps;
  for (const NewResult& f : fresh) {
    for (const ResultStep& s : f.item->result.steps) steps.push_back({&f, &s});
  }
  for (size_t at = 0; at < steps.size();) {
    const size_t n = NextChunk(steps.size() - at);
    Params params;
    for (size_t i = at; i < at + n; ++i) {
      const TransactionResult& r = steps[i].result->item->result;
      const ResultStep& s = *steps[i].step;
      params.Add(steps[i].result->seq);
      params.Add(s.index);
      params.Add(r.run_id);
      params.Add(r.transaction_id);
      params.Add(s.name);
      params.Add(std::string(ToString(s.status)));
      params.Add(s.started_at_ms);
      params.Add(s.duration_ms);
      params.Add(Opt(s.timings.dns_ms));
      params.Add(Opt(s.timings.connect_ms));
      params.Add(Opt(s.timings.tls_ms));
      params.Add(Opt(s.timings.ttfb_ms));
      params.Add(Opt(s.timings.download_ms));
    }
    PA_RETURN_IF_ERROR(tx.Exec(ChunkSql(kStepInsert, kStepColumns, n), params).status());
    at += n;
  }
  for (const NewResult& f : fresh) {
    const TransactionResult& r = f.item->result;
    for (const StoredArtifact& a : f.item->artifacts) {
      PA_RETURN_IF_ERROR(
          tx.Exec("INSERT INTO synth_artifacts (id, run_id, transaction_id, step_index, "
                  "filename, content_type, size, storage_key, created_at) VALUES ($1, $2, $3, "
                  "$4, $5, $6, $7, $8, $9)",
                  {a.id, r.run_id, r.transaction_id, a.step_index ? SqlValue(*a.step_index) : kNull,
                   a.filename, a.content_type, a.size, a.storage_key, now})
              .status());
    }
    RunRecord record{f.seq,           now,           r.transaction_id,
                     r.robot_id,      f.location,    r.status == RunStatus::kSuccess,
                     r.started_at_ms, r.duration_ms, {}};
    record.steps.reserve(r.steps.size());
    for (const ResultStep& s : r.steps) {
      record.steps.push_back({s.index, s.name, s.started_at_ms, s.duration_ms, s.timings.dns_ms,
                              s.timings.connect_ms, s.timings.tls_ms, s.timings.ttfb_ms,
                              s.timings.download_ms});
    }
    records->push_back(std::move(record));
    auto& last = touched.robot_last[r.robot_id];
    if (r.finished_at_ms >= last.at) last = {r.finished_at_ms, std::string(ToString(r.status))};
  }
  return Status::Ok();
}

}  // namespace pa::synth
