// In-process servers for the step executor tests, all on 127.0.0.1 and a free port:
//   TestCert       a self-signed certificate (CN and SAN "localhost", SAN IP 127.0.0.1) made at
//                  test time, with its PEM file to use as options.ca_file;
//   TestHttpServer HTTP/1.1 (or HTTPS with a TestCert), one thread per connection, one request
//                  per connection, with the routes below;
//   TestDnsServer  UDP DNS answering fixed records, or staying silent.
//
// Routes of TestHttpServer:
//   /json              200, a JSON document (see kJsonBody), header X-Api-Version: 2
//   /redirect          302 to /json          /loop   302 to /loop
//   /delay?ms=N        200 after N ms (cut short when the server stops)
//   /status/N          status N
//   /large?bytes=N     200 with N bytes of 'x'
//   /headers           200, Set-Cookie: csrf=abc123, X-Request-Id: r-42
//   /echo              200, the request's method, target, headers and body as text
//   anything else      404
#pragma once

#include <openssl/ssl.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "synth/definition.h"
#include "synth/result_model.h"

namespace pa::robot::testing {

// The step of a definition whose "steps" is [step_json]; fails the test when it is invalid.
synth::Step ParseStep(const std::string& step_json);

// Every text a result step carries (url, error message, assertion messages, details), joined:
// what must never contain a secret.
std::string AllText(const synth::ResultStep& r);

inline constexpr char kJsonBody[] =
    R"({"items":[{"id":"a1","available":true,"price":5},{"id":"b2","available":false}],)"
    R"("total":2,"token":"csrf=zz9"})";

class TestCert {
 public:
  // Valid from an hour ago until `days_valid` days and an hour from now.
  explicit TestCert(int days_valid = 30);
  ~TestCert();
  const std::string& pem_path() const { return pem_path_; }
  SSL_CTX* server_ctx() const { return server_ctx_; }

 private:
  std::string pem_path_;
  SSL_CTX* server_ctx_ = nullptr;
};

struct SeenRequest {
  std::string method, target, body;
  std::map<std::string, std::string> headers;  // lower-cased names
};

class TestHttpServer {
 public:
  // HTTPS when `cert` is not null (it must outlive the server).
  explicit TestHttpServer(const TestCert* cert = nullptr);
  ~TestHttpServer();

  uint16_t port() const { return port_; }
  // "http://127.0.0.1:<port>" or "https://...".
  std::string base_url() const;
  // The last request received.
  SeenRequest last_request() const;

 private:
  void AcceptLoop();
  void Serve(int fd);

  const TestCert* cert_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mu_;
  std::condition_variable stop_cv_;
  std::vector<int> open_fds_;
  std::vector<std::thread> threads_;
  SeenRequest last_;
  std::thread acceptor_;
};

// A listening socket that never accepts: connections complete, nothing is ever answered.
class SilentListener {
 public:
  SilentListener();
  ~SilentListener();
  uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

// A port on 127.0.0.1 where nothing listens (bound, then closed).
uint16_t ClosedPort();

class TestDnsServer {
 public:
  // Answers A (192.0.2.1, 192.0.2.2), AAAA (2001:db8::1), MX (10 mail.example.test),
  // TXT ("v=spf1 " "-all"), NS (ns1.example.test), CNAME (target.example.test) for any name;
  // NXDOMAIN for names starting with "missing". With `silent`, never answers.
  explicit TestDnsServer(bool silent = false);
  ~TestDnsServer();
  uint16_t port() const { return port_; }

 private:
  void Loop();
  int fd_ = -1;
  uint16_t port_ = 0;
  bool silent_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace pa::robot::testing
