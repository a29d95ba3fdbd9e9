#include "prometheus_server.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "base/json.h"
#include "base/url.h"
#include "remote_write.h"

extern char** environ;

namespace pa::differential {
namespace {

using storage::QueryValue;
using storage::ValueType;

constexpr char kPrometheus[] = "/usr/bin/prometheus";
constexpr char kPromtool[] = "/usr/bin/promtool";

int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

std::string ReadTail(const std::string& path, size_t max) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string all = ss.str();
  return all.size() > max ? "..." + all.substr(all.size() - max) : all;
}

int ExitCode(int status) {
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

Result<double> ParseValue(const Json& j) {
  if (!j.is_string()) return InternalError("sample value is not a string: " + j.dump());
  const std::string& s = j.get_ref<const std::string&>();
  if (s == "NaN") return std::nan("");
  if (s == "+Inf") return HUGE_VAL;
  if (s == "-Inf") return -HUGE_VAL;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (end == s.c_str() || *end != '\0') return InternalError("bad sample value '" + s + "'");
  return v;
}

Result<storage::Sample> ParsePoint(const Json& j) {
  if (!j.is_array() || j.size() != 2 || !j[0].is_number()) {
    return InternalError("bad sample " + j.dump());
  }
  PA_ASSIGN_OR_RETURN(double v, ParseValue(j[1]));
  return storage::Sample{std::llround(j[0].get<double>() * 1000.0), v};
}

Result<storage::Labels> ParseMetric(const Json& j) {
  if (!j.is_object()) return InternalError("bad metric " + j.dump());
  storage::Labels labels;
  for (const auto& [name, value] : j.items()) {
    if (!value.is_string()) return InternalError("bad label value " + value.dump());
    labels.push_back({name, value.get<std::string>()});
  }
  std::sort(labels.begin(), labels.end());
  return labels;
}

}  // namespace

ChildProcess::~ChildProcess() {
  if (Running()) Stop(std::chrono::seconds(5));
}

Status ChildProcess::Spawn(const std::vector<std::string>& argv, const std::string& log_path) {
  // Everything the child needs is prepared before fork(): after it, in a process with other
  // threads, only async-signal-safe calls are allowed.
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const int log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return InternalError("cannot open " + log_path + ": " + std::strerror(errno));
  const pid_t parent = getpid();
  pid_ = fork();
  if (pid_ == 0) {
    // A crashed test must not leave Prometheus running: it dies with the test.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    const int null_fd = open("/dev/null", O_RDONLY);
    dup2(null_fd, 0);
    dup2(log_fd, 1);
    dup2(log_fd, 2);
    execve(args[0], args.data(), environ);
    _exit(127);
  }
  const int fork_errno = errno;
  close(log_fd);
  if (pid_ < 0) {
    return UnavailableError("cannot start " + argv[0] + ": " + std::strerror(fork_errno));
  }
  exit_code_ = -1;
  return Status::Ok();
}

bool ChildProcess::Running() {
  if (pid_ <= 0) return false;
  int status = 0;
  const pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == 0) return true;
  if (r == pid_) exit_code_ = ExitCode(status);
  pid_ = -1;
  return false;
}

int ChildProcess::Wait(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (Running()) {
    if (std::chrono::steady_clock::now() > deadline) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return exit_code_;
}

int ChildProcess::Stop(std::chrono::milliseconds grace) {
  if (!Running()) return exit_code_;
  kill(pid_, SIGTERM);
  if (Wait(grace) >= 0) return exit_code_;
  kill(pid_, SIGKILL);
  return Wait(std::chrono::seconds(10));
}

Status StartBackfill(const std::string& openmetrics_path, const std::string& tsdb_dir,
                     const std::string& log_path, ChildProcess& promtool) {
  // 2.42 re-reads the whole input once per block; --max-block-duration (a hidden flag) makes the
  // whole week one block, so the input is read once.
  return promtool.Spawn({kPromtool, "tsdb", "create-blocks-from", "openmetrics", "--quiet",
                         "--max-block-duration=100000h", openmetrics_path, tsdb_dir},
                        log_path);
}

Status WaitForBackfill(ChildProcess& promtool, const std::string& log_path) {
  const int code = promtool.Wait(std::chrono::minutes(5));
  if (code != 0) {
    return InternalError(
        "promtool tsdb create-blocks-from openmetrics " +
        (code < 0 ? std::string("timed out") : "exited with code " + std::to_string(code)) + ":\n" +
        ReadTail(log_path, 4000));
  }
  return Status::Ok();
}

PrometheusServer::PrometheusServer(std::string work_dir, std::string tsdb_dir)
    : work_dir_(std::move(work_dir)),
      tsdb_dir_(std::move(tsdb_dir)),
      log_path_(work_dir_ + "/prometheus.log") {}

PrometheusServer::~PrometheusServer() { process_.Stop(std::chrono::seconds(10)); }

Status PrometheusServer::Start(std::chrono::milliseconds timeout) {
  const std::string config = work_dir_ + "/prometheus.yml";
  {
    std::ofstream out(config);
    out << "# No scrape jobs: the data comes from backfilled blocks only.\n"
           "global:\n  evaluation_interval: 1m\n";
    if (!out) return InternalError("cannot write " + config);
  }
  // The port may be taken between FreePort() and Prometheus's bind: try a few.
  Status last;
  for (int attempt = 0; attempt < 3; ++attempt) {
    const int port = FreePort();
    base_url_ = "http://127.0.0.1:" + std::to_string(port);
    // Time retention counts back from the newest block, so any retention longer than the data
    // set keeps all of it, whatever the wall clock says.
    PA_RETURN_IF_ERROR(process_.Spawn(
        {kPrometheus, "--config.file=" + config, "--storage.tsdb.path=" + tsdb_dir_,
         "--storage.tsdb.retention.time=10y", "--web.enable-remote-write-receiver",
         "--web.listen-address=127.0.0.1:" + std::to_string(port), "--log.level=info"},
        log_path_));
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (process_.Running() && std::chrono::steady_clock::now() < deadline) {
      auto resp = client_.Do({.url = base_url_ + "/-/ready", .timeout = std::chrono::seconds(2)});
      if (resp.ok() && resp->status == 200) return Status::Ok();
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (process_.Running()) {
      process_.Stop(std::chrono::seconds(5));
      return DeadlineExceededError("Prometheus was not ready in time; log:\n" + LogTail());
    }
    last = UnavailableError("Prometheus exited during start-up; log:\n" + LogTail());
  }
  return last;
}

Status PrometheusServer::Stop() {
  const int code = process_.Stop(std::chrono::seconds(20));
  if (code != 0) {
    return InternalError("Prometheus exited with code " + std::to_string(code) + "; log:\n" +
                         LogTail());
  }
  return Status::Ok();
}

std::string PrometheusServer::LogTail() const { return ReadTail(log_path_, 4000); }

Status PrometheusServer::RemoteWrite(const std::vector<storage::SeriesSamples>& series) {
  PA_ASSIGN_OR_RETURN(HttpResponse resp, client_.Do({.method = "POST",
                                                     .url = base_url_ + "/api/v1/write",
                                                     .headers = RemoteWriteHeaders(),
                                                     .body = EncodeRemoteWrite(series),
                                                     .timeout = std::chrono::seconds(60)}));
  if (resp.status / 100 != 2) {
    return InternalError("remote write: HTTP " + std::to_string(resp.status) + ": " + resp.body);
  }
  return Status::Ok();
}

Result<QueryValue> PrometheusServer::Query(std::string_view promql, int64_t time_ms) {
  return Post("/api/v1/query",
              "query=" + PercentEncode(promql) + "&time=" + FormatSeconds(time_ms));
}

Result<QueryValue> PrometheusServer::QueryRange(std::string_view promql, int64_t start_ms,
                                                int64_t end_ms, int64_t step_ms) {
  return Post("/api/v1/query_range",
              "query=" + PercentEncode(promql) + "&start=" + FormatSeconds(start_ms) +
                  "&end=" + FormatSeconds(end_ms) + "&step=" + FormatSeconds(step_ms));
}

Result<QueryValue> PrometheusServer::Post(const std::string& path, const std::string& form) {
  PA_ASSIGN_OR_RETURN(
      HttpResponse resp,
      client_.Do({.method = "POST",
                  .url = base_url_ + path,
                  .headers = {{"Content-Type", "application/x-www-form-urlencoded"}},
                  .body = form,
                  .timeout = std::chrono::seconds(120)}));
  return ParseQueryResponse(resp.status, resp.body);
}

Result<QueryValue> ParseQueryResponse(int http_status, std::string_view body) {
  std::string error;
  std::optional<Json> doc = ParseJson(body, &error);
  if (!doc || !doc->is_object()) {
    return InternalError("HTTP " + std::to_string(http_status) + ", not JSON (" + error +
                         "): " + std::string(body.substr(0, 300)));
  }
  if (doc->value("status", "") != "success") {
    const std::string type = doc->value("errorType", "");
    const std::string message = doc->value("error", "");
    // bad_data: parse and type errors; execution: errors found while evaluating.
    if ((http_status == 400 || http_status == 422) && (type == "bad_data" || type == "execution")) {
      return InvalidArgumentError(type + ": " + message);
    }
    return InternalError("HTTP " + std::to_string(http_status) + " " + type + ": " + message);
  }
  const Json& data = (*doc)["data"];
  if (!data.is_object() || !data.contains("result")) {
    return InternalError("no data.result in " + std::string(body.substr(0, 300)));
  }
  const std::string type = data.value("resultType", "");
  const Json& result = data["result"];
  QueryValue v;
  if (type == "scalar" || type == "string") {
    if (!result.is_array() || result.size() != 2 || !result[0].is_number()) {
      return InternalError("bad " + type + " result " + result.dump());
    }
    v.scalar.t = std::llround(result[0].get<double>() * 1000.0);
    if (type == "scalar") {
      v.type = ValueType::kScalar;
      PA_ASSIGN_OR_RETURN(v.scalar.v, ParseValue(result[1]));
    } else {
      v.type = ValueType::kString;
      v.string_value = result[1].get<std::string>();
    }
    return v;
  }
  if (type != "vector" && type != "matrix") return InternalError("unknown result type " + type);
  v.type = type == "vector" ? ValueType::kVector : ValueType::kMatrix;
  if (!result.is_array()) return InternalError("bad result " + result.dump().substr(0, 300));
  for (const Json& s : result) {
    if (!s.is_object() || !s.contains(v.type == ValueType::kVector ? "value" : "values")) {
      return InternalError("bad series " + s.dump().substr(0, 300));
    }
    storage::SeriesPoints series;
    PA_ASSIGN_OR_RETURN(series.labels, ParseMetric(s.value("metric", Json::object())));
    if (v.type == ValueType::kVector) {
      PA_ASSIGN_OR_RETURN(storage::Sample p, ParsePoint(s["value"]));
      series.points.push_back(p);
    } else {
      for (const Json& p : s["values"]) {
        PA_ASSIGN_OR_RETURN(storage::Sample sample, ParsePoint(p));
        series.points.push_back(sample);
      }
    }
    v.series.push_back(std::move(series));
  }
  return v;
}

std::string FormatSeconds(int64_t ms) {
  char buf[32];
  const char* sign = ms < 0 ? "-" : "";
  const int64_t a = ms < 0 ? -ms : ms;
  std::snprintf(buf, sizeof(buf), "%s%lld.%03lld", sign, static_cast<long long>(a / 1000),
                static_cast<long long>(a % 1000));
  return buf;
}

}  // namespace pa::differential
