// A raw HTTP/1.1 client over a blocking socket, for the gateway's server tests: it sends exactly
// the bytes a test writes (malformed requests, chunked bodies, pipelining) and parses responses
// framed by Content-Length, or ended by the connection closing.
//
//   auto c = TestConnection::Connect(server.bound_address());
//   c->Send(TestConnection::Request("GET", "/healthz"));
//   auto r = c->Read();  // nullopt on timeout or a closed connection
//
// Test-only; not thread-safe (one connection per test thread).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pa::gateway::testing {

struct TestResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // The first value of a header (case-insensitive name).
  std::optional<std::string> Header(std::string_view name) const;
};

class TestConnection {
 public:
  // nullptr when the connection is refused. `address` is "127.0.0.1:port".
  static std::unique_ptr<TestConnection> Connect(const std::string& address);
  ~TestConnection();

  // A request with Host and Content-Length (when `body` is non-empty or `headers` has none).
  static std::string Request(std::string_view method, std::string_view target,
                             std::vector<std::pair<std::string, std::string>> headers = {},
                             std::string_view body = {});

  // Sends every byte; false when the connection fails.
  bool Send(std::string_view data);
  // Sends `data` while also reading: stops early (returning false) if the peer closes or resets.
  // For uploads the server may refuse half-way.
  bool SendAll(std::string_view data);
  // Reads one response (also a 100 Continue). nullopt on timeout, or when the connection closed
  // before a complete response. `head_request`: the response has no body whatever its headers say.
  std::optional<TestResponse> Read(std::chrono::milliseconds timeout = std::chrono::seconds(20),
                                   bool head_request = false);
  // Whether the peer closes the connection (EOF or reset) within `timeout`, discarding data.
  bool WaitClosed(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // Request + Read in one step.
  std::optional<TestResponse> RoundTrip(const std::string& request);

 private:
  explicit TestConnection(int fd) : fd_(fd) {}
  // Reads more bytes into buffer_; 0 on EOF, -1 on error or timeout.
  long Fill(std::chrono::steady_clock::time_point deadline);

  int fd_;
  std::string buffer_;
};

// A standalone HTTP GET on a fresh connection, for tests that only need one request.
std::optional<TestResponse> Get(const std::string& address, std::string_view target,
                                std::vector<std::pair<std::string, std::string>> headers = {});

// VmRSS / VmHWM of this process in bytes (from /proc/self/status).
int64_t ReadProcStatusBytes(std::string_view field);

// gzip of `data`, and of `mib` MiB of zeros (a valid gzip stream, built from one compressed
// block repeated, so a 1 GiB bomb costs milliseconds to make).
std::string Gzip(std::string_view data);
std::string GzipZeros(size_t mib);

}  // namespace pa::gateway::testing
