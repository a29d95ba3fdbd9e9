// ServerProcess: the real `primoart` binary, started for an integration test on a free port with
// its own data directory, talked to over HTTP, and stopped (gracefully or with SIGKILL).
//
//   ServerProcess server({.args = {"serve", "--roles", "core"}});
//   ASSERT_TRUE(server.Start().ok());
//   auto resp = server.Get("/healthz");
//
// Output (stderr/stdout) goes to <data dir>/server.log, kept when the test fails.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "base/http_client.h"
#include "base/status.h"

namespace pa::testing {

// A fresh empty directory under PRIMOART_TEST_TMPDIR (or /tmp), removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A TCP port that was free a moment ago on 127.0.0.1.
int FreePort();

// The `primoart` binary under test (PRIMOART_BIN, else the build tree's).
std::string PrimoartBinary();

// Runs a command to completion; returns exit code and combined output.
struct CommandResult {
  int exit_code = -1;
  std::string output;
};
CommandResult RunCommand(const std::vector<std::string>& argv,
                         const std::map<std::string, std::string>& env = {},
                         const std::string& stdin_data = "");

// The environment a test server should see: PRIMOART_TEST_* is dropped, `extra` added.
std::map<std::string, std::string> ServerEnvironment(
    const std::map<std::string, std::string>& extra);

struct ServerOptions {
  std::vector<std::string> args = {"serve"};
  std::map<std::string, std::string> env;  // PRIMOART_LISTEN/DATA_DIR are set unless given
  std::string data_dir;                    // default: a TempDir owned by the ServerProcess
  std::chrono::milliseconds ready_timeout{30000};
};

class ServerProcess {
 public:
  explicit ServerProcess(ServerOptions options = {});
  ~ServerProcess();  // SIGKILL if still running

  // Starts the process and waits until GET /healthz answers 200 (or the process exits).
  Status Start();
  // Starts the process without waiting for it.
  Status Spawn();

  int port() const { return port_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  const std::string& data_dir() const { return data_dir_; }
  pid_t pid() const { return pid_; }
  // What this process wrote (the log file may hold earlier processes' output too).
  std::string log() const;
  // Waits until `needle` appears in log() (the access log is written asynchronously).
  bool WaitForLog(std::string_view needle,
                  std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

  void Signal(int sig);
  // Waits for the process to exit; returns its exit code (128+signal when killed), or -1 on
  // timeout.
  int Wait(std::chrono::milliseconds timeout = std::chrono::seconds(60));
  void Kill9();
  bool running() const;

  // Resident set size of the process in bytes (from /proc).
  int64_t RssBytes() const;

  Result<HttpResponse> Request(const std::string& method, const std::string& path,
                               const std::string& body = "",
                               std::vector<std::pair<std::string, std::string>> headers = {});
  Result<HttpResponse> Get(const std::string& path,
                           std::vector<std::pair<std::string, std::string>> headers = {}) {
    return Request("GET", path, "", std::move(headers));
  }

 private:
  ServerOptions options_;
  TempDir own_dir_;
  std::string data_dir_;
  int port_ = 0;
  pid_t pid_ = -1;
  int exit_code_ = -1;
  size_t log_offset_ = 0;
  HttpClient client_;
};

}  // namespace pa::testing
