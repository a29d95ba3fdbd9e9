// Test support for the VictoriaMetrics backend: the shared test server named by
// PRIMOART_TEST_VM_URL, private servers started through scripts/vm-test-server (for tests that
// stop and restart VictoriaMetrics without disturbing anyone), temporary directories and a port
// that refuses connections.
//
//   std::string url;
//   PA_VM_TEST_URL_OR_SKIP(url);   // GTEST_SKIP without the server; FAIL when it is required
//   auto vm = PrivateVm::Start(dir, "-dedup.minScrapeInterval=0s");
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"

namespace pa::storage::victoriametrics::testing {

// PRIMOART_TEST_VM_URL, or "" with *why set to the skip/fail message.
std::string SharedVmUrl(std::string* why);
bool ServersRequired();  // PRIMOART_TEST_REQUIRE_SERVERS=1

#define PA_VM_TEST_URL_OR_SKIP(url_var)                                                     \
  do {                                                                                      \
    std::string pa_vm_why_;                                                                 \
    url_var = ::pa::storage::victoriametrics::testing::SharedVmUrl(&pa_vm_why_);            \
    if (url_var.empty()) {                                                                  \
      if (::pa::storage::victoriametrics::testing::ServersRequired()) FAIL() << pa_vm_why_; \
      GTEST_SKIP() << pa_vm_why_;                                                           \
    }                                                                                       \
  } while (false)

// A fresh directory under $TMPDIR (or /tmp), removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A VictoriaMetrics of the test's own (scripts/vm-test-server with `extra_flags` appended).
class PrivateVm {
 public:
  static Result<std::unique_ptr<PrivateVm>> Start(const std::string& dir,
                                                  const std::string& extra_flags = "");
  ~PrivateVm();  // stops it
  Status Stop();
  Status Restart();  // after Stop: same port, same data
  const std::string& url() const { return url_; }

 private:
  PrivateVm(std::string dir, std::string flags) : dir_(std::move(dir)), flags_(std::move(flags)) {}
  Status Run(const std::string& command, std::string* last_line);
  std::string dir_, flags_, url_;
  bool running_ = false;
};

// http://127.0.0.1:<port> where nothing listens (the port stays bound, so nobody takes it).
class RefusingPort {
 public:
  RefusingPort();
  ~RefusingPort();
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// A tiny HTTP/1.1 server on 127.0.0.1:<free port> standing in for VictoriaMetrics, so tests can
// script its answers (refusals, 5xx) and see exactly what was sent.
class FakeVm {
 public:
  struct Request {
    std::string method, path, body;
  };
  struct Reply {
    int status = 204;
    std::string body;
  };
  using Handler = std::function<Reply(const Request&)>;

  explicit FakeVm(Handler handler);
  ~FakeVm();
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  void AcceptLoop();
  void Serve(int fd);

  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<std::thread> connections_;
  std::vector<int> fds_;
};

}  // namespace pa::storage::victoriametrics::testing
