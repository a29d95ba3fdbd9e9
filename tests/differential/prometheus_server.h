// The reference side of the differential suite: the real Prometheus 2.42 from Debian
// (/usr/bin/prometheus, /usr/bin/promtool), backfilled from OpenMetrics text, answering PromQL
// over its HTTP API on a free port of 127.0.0.1.
//
//   ChildProcess promtool;
//   PA_RETURN_IF_ERROR(StartBackfill(om_path, tsdb_dir, log_path, promtool));  // runs meanwhile
//   PA_RETURN_IF_ERROR(WaitForBackfill(promtool, log_path));
//   PrometheusServer prom(work_dir, tsdb_dir);
//   PA_RETURN_IF_ERROR(prom.Start());
//   PA_ASSIGN_OR_RETURN(storage::QueryValue v, prom.Query("up", t));
//
// Query errors: a query Prometheus rejects (HTTP 400/422: parse, type or execution error) is
// kInvalidArgument carrying Prometheus's message; anything else (the server is gone, an
// unreadable answer) is kUnavailable or kInternal — a harness failure, not a query result.
// Thread-safety: none; one test thread drives it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/http_client.h"
#include "base/status.h"
#include "storage/metric_store.h"

namespace pa::differential {

// A child process with stdout and stderr appended to a log file; killed by the destructor if
// it still runs.
class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  Status Spawn(const std::vector<std::string>& argv, const std::string& log_path);
  bool Running();
  // The exit code (128 + signal when killed), or -1 when it did not exit within `timeout`.
  int Wait(std::chrono::milliseconds timeout);
  // SIGTERM, then SIGKILL after `grace`; returns the exit code.
  int Stop(std::chrono::milliseconds grace);

 private:
  pid_t pid_ = -1;
  int exit_code_ = -1;
};

// Starts `promtool tsdb create-blocks-from openmetrics` writing one block for the whole data
// set into `tsdb_dir` (one pass over the input instead of one per 2 h block).
Status StartBackfill(const std::string& openmetrics_path, const std::string& tsdb_dir,
                     const std::string& log_path, ChildProcess& promtool);
Status WaitForBackfill(ChildProcess& promtool, const std::string& log_path);

class PrometheusServer {
 public:
  // `work_dir` receives the configuration file and the log; `tsdb_dir` holds the blocks.
  PrometheusServer(std::string work_dir, std::string tsdb_dir);
  ~PrometheusServer();

  // Starts Prometheus and waits until /-/ready answers 200.
  Status Start(std::chrono::milliseconds timeout = std::chrono::seconds(60));
  // Stops it gracefully; OK when it exited cleanly.
  Status Stop();

  // Appends samples through the remote-write receiver (into the head: they must be newer than
  // the blocks, and within an hour of each other).
  Status RemoteWrite(const std::vector<storage::SeriesSamples>& series);

  Result<storage::QueryValue> Query(std::string_view promql, int64_t time_ms);
  Result<storage::QueryValue> QueryRange(std::string_view promql, int64_t start_ms, int64_t end_ms,
                                         int64_t step_ms);

  // The tail of Prometheus's log, for failure messages.
  std::string LogTail() const;
  const std::string& base_url() const { return base_url_; }

 private:
  Result<storage::QueryValue> Post(const std::string& path, const std::string& form);

  std::string work_dir_;
  std::string tsdb_dir_;
  std::string log_path_;
  std::string base_url_;
  ChildProcess process_;
  HttpClient client_;
};

// Parses a Prometheus /api/v1/query* answer (exposed for the unit tests of the harness).
Result<storage::QueryValue> ParseQueryResponse(int http_status, std::string_view body);

// "1704067200.123": Prometheus's time parameter for a Unix ms timestamp.
std::string FormatSeconds(int64_t ms);

}  // namespace pa::differential
