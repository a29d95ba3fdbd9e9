#include "synth/synth_schema.h"

#include <string>
#include <string_view>

namespace pa::synth {

// Times are Unix ms. JSON documents are TEXT. Results are keyed by run_id (the idempotency key of
// the upload); their steps are rows of their own so that statistics per step need no JSON.
// synth_results.seq numbers results in commit order: the results table is the outbox of the
// derived metrics, synth_metric_export.exported_seq how far they have been exported, and
// synth_counters the running totals of the counters as of that point (metric_export.h).
namespace {

// Results and steps are keyed by seq, which only grows: their rows and primary-key pages are
// appended at the end instead of landing on random pages (as a random run_id key made them do,
// which multiplied the pages every group commit wrote). On SQLite, seq is the rowid and the steps
// table is clustered on (seq, idx).
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE synth_transactions (
  id              TEXT PRIMARY KEY,
  name            TEXT NOT NULL,
  application     TEXT,
  enabled         BIGINT NOT NULL,
  external        BIGINT NOT NULL,
  interval_s      BIGINT NOT NULL,
  timeout_s       BIGINT NOT NULL,
  version         BIGINT NOT NULL,
  definition      TEXT,
  secrets         TEXT,
  run_requested_at BIGINT,
  missed_since    BIGINT,
  created_at      BIGINT NOT NULL,
  updated_at      BIGINT NOT NULL
);
CREATE TABLE synth_transaction_versions (
  transaction_id  TEXT NOT NULL,
  version         BIGINT NOT NULL,
  definition      TEXT NOT NULL,
  created_at      BIGINT NOT NULL,
  created_by      TEXT NOT NULL,
  PRIMARY KEY (transaction_id, version)
);
CREATE TABLE synth_robots (
  id                 TEXT PRIMARY KEY,
  name               TEXT NOT NULL,
  location           TEXT NOT NULL,
  labels             TEXT NOT NULL,
  version            TEXT NOT NULL,
  host               TEXT NOT NULL,
  registered_at      BIGINT NOT NULL,
  last_heartbeat_at  BIGINT,
  heartbeat          TEXT,
  last_result_at     BIGINT,
  last_result_status TEXT
);
CREATE TABLE synth_results (
  seq             @SEQ@ PRIMARY KEY,
  run_id          TEXT NOT NULL UNIQUE,
  transaction_id  TEXT NOT NULL,
  tx_version      BIGINT,
  robot_id        TEXT NOT NULL,
  location        TEXT NOT NULL,
  started_at      BIGINT NOT NULL,
  finished_at     BIGINT NOT NULL,
  duration_ms     DOUBLE PRECISION NOT NULL,
  status          TEXT NOT NULL,
  error_type      TEXT,
  error_message   TEXT,
  received_at     BIGINT NOT NULL,
  doc             TEXT NOT NULL
);
CREATE INDEX synth_results_tx_time ON synth_results (transaction_id, started_at);
CREATE INDEX synth_results_time ON synth_results (started_at);
CREATE TABLE synth_steps (
  seq             BIGINT NOT NULL,
  idx             BIGINT NOT NULL,
  run_id          TEXT NOT NULL,
  transaction_id  TEXT NOT NULL,
  name            TEXT NOT NULL,
  status          TEXT NOT NULL,
  started_at      BIGINT NOT NULL,
  duration_ms     DOUBLE PRECISION NOT NULL,
  dns_ms          DOUBLE PRECISION,
  connect_ms      DOUBLE PRECISION,
  tls_ms          DOUBLE PRECISION,
  ttfb_ms         DOUBLE PRECISION,
  download_ms     DOUBLE PRECISION,
  PRIMARY KEY (seq, idx)
)@STEPS_OPTIONS@;
CREATE TABLE synth_artifacts (
  id              TEXT PRIMARY KEY,
  run_id          TEXT NOT NULL,
  transaction_id  TEXT NOT NULL,
  step_index      BIGINT,
  filename        TEXT NOT NULL,
  content_type    TEXT NOT NULL,
  size            BIGINT NOT NULL,
  storage_key     TEXT NOT NULL,
  created_at      BIGINT NOT NULL
);
CREATE INDEX synth_artifacts_run ON synth_artifacts (run_id);
CREATE INDEX synth_artifacts_tx ON synth_artifacts (transaction_id);
CREATE TABLE synth_metric_export (
  id              BIGINT PRIMARY KEY,
  exported_seq    BIGINT NOT NULL
);
CREATE TABLE synth_counters (
  series          TEXT PRIMARY KEY,
  value           DOUBLE PRECISION NOT NULL,
  last_ts         BIGINT NOT NULL
)
)sql";

std::string SchemaV1(bool sqlite) {
  std::string sql = kSchemaV1;
  auto put = [&](std::string_view mark, std::string_view with) {
    sql.replace(sql.find(mark), mark.size(), with);
  };
  put("@SEQ@", sqlite ? "INTEGER" : "BIGINT");
  put("@STEPS_OPTIONS@", sqlite ? " WITHOUT ROWID" : "");
  return sql;
}

}  // namespace

storage::Schema SynthSchema() {
  return {"synth",
          {
              {1, "transactions, robots, results, steps, artifacts, metric export", SchemaV1(false),
               SchemaV1(true), SchemaV1(false)},
          }};
}

}  // namespace pa::synth
