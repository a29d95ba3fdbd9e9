#include "synth/retention.h"

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

namespace pa::synth {
namespace {

using storage::Params;
using storage::Rows;

// Run ids go in IN lists of exactly this many parameters (the last id repeated to fill a short
// list; IN ignores repeats), so each statement has one text whatever the batch size.
constexpr size_t kChunk = 100;

std::string InList() {
  std::string sql = "(";
  for (size_t i = 1; i <= kChunk; ++i) sql += (i == 1 ? "$" : ", $") + std::to_string(i);
  return sql + ")";
}

std::string WithRuns(std::string_view statement) {
  static const std::string kIn = InList();
  return std::string(statement) + " WHERE run_id IN " + kIn;
}

Status ForEachChunk(const std::vector<std::string>& runs,
                    const std::function<Status(const Params&)>& fn) {
  for (size_t i = 0; i < runs.size(); i += kChunk) {
    Params params;
    for (size_t k = 0; k < kChunk; ++k) params.Add(runs[std::min(i + k, runs.size() - 1)]);
    PA_RETURN_IF_ERROR(fn(params));
  }
  return Status::Ok();
}

// Deletes the artifact objects of `runs`, then (one transaction) their artifact, step and
// result rows.
Status DeleteRuns(storage::RelationalStore& db, storage::ArtifactStore& artifacts,
                  const std::vector<std::string>& runs) {
  static const std::string kSelectKeys = WithRuns("SELECT storage_key FROM synth_artifacts");
  static const std::string kDeleteArtifacts = WithRuns("DELETE FROM synth_artifacts");
  // Steps by their key (seq), found through the results' run ids.
  static const std::string kDeleteSteps =
      "DELETE FROM synth_steps WHERE seq IN (SELECT seq FROM synth_results WHERE run_id IN " +
      InList() + ")";
  static const std::string kDeleteResults = WithRuns("DELETE FROM synth_results");

  std::vector<std::string> keys;
  PA_RETURN_IF_ERROR(ForEachChunk(runs, [&](const Params& params) -> Status {
    PA_ASSIGN_OR_RETURN(Rows rows, db.Query(kSelectKeys, params));
    for (size_t r = 0; r < rows.size(); ++r) keys.push_back(rows.Text(r, 0));
    return Status::Ok();
  }));
  for (const std::string& key : keys) {
    const Status st = artifacts.Delete(key);
    if (!st.ok() && st.code() != StatusCode::kNotFound) {
      return st.WithContext("deleting the artifact object '" + key + "'");
    }
  }
  return db.InTransaction([&](storage::Transaction& tx) -> Status {
    return ForEachChunk(runs, [&](const Params& params) -> Status {
      PA_RETURN_IF_ERROR(tx.Exec(kDeleteArtifacts, params).status());
      PA_RETURN_IF_ERROR(tx.Exec(kDeleteSteps, params).status());
      return tx.Exec(kDeleteResults, params).status();
    });
  });
}

// Deletes batch after batch of the run ids `select` ($1 = `key`, $2 = `batch`) returns, until
// it returns none.
Status DeleteSelected(storage::RelationalStore& db, storage::ArtifactStore& artifacts,
                      std::string_view select, const storage::SqlValue& key, int64_t batch,
                      int64_t* deleted) {
  if (deleted) *deleted = 0;
  if (batch < 1) return InvalidArgumentError("the retention batch must be at least 1");
  const Params params{key, batch};
  for (;;) {
    PA_ASSIGN_OR_RETURN(Rows rows, db.Query(select, params));
    if (rows.empty()) return Status::Ok();
    std::vector<std::string> runs;
    runs.reserve(rows.size());
    for (size_t r = 0; r < rows.size(); ++r) runs.push_back(rows.Text(r, 0));
    PA_RETURN_IF_ERROR(DeleteRuns(db, artifacts, runs));
    if (deleted) *deleted += static_cast<int64_t>(runs.size());
    if (static_cast<int64_t>(rows.size()) < batch) return Status::Ok();
  }
}

}  // namespace

Status DeleteResultsBefore(storage::RelationalStore& db, storage::ArtifactStore& artifacts,
                           int64_t cutoff_ms, int64_t batch, int64_t* deleted) {
  // Oldest first, so that an interrupted run has removed the oldest data.
  return DeleteSelected(
      db, artifacts,
      "SELECT run_id FROM synth_results WHERE started_at < $1 "
      "AND seq < (SELECT MAX(seq) FROM synth_results) "
      "AND seq <= COALESCE((SELECT exported_seq FROM synth_metric_export WHERE id = 1), seq) "
      "ORDER BY started_at, run_id LIMIT $2",
      storage::SqlValue(cutoff_ms), batch, deleted);
}

Status DeleteTransactionData(storage::RelationalStore& db, storage::ArtifactStore& artifacts,
                             std::string_view transaction_id, int64_t batch, int64_t* deleted) {
  return DeleteSelected(db, artifacts,
                        "SELECT run_id FROM synth_results WHERE transaction_id = $1 "
                        "ORDER BY started_at, run_id LIMIT $2",
                        storage::SqlValue(std::string(transaction_id)), batch, deleted);
}

}  // namespace pa::synth
