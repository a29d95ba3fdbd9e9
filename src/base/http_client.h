// HttpClient: outbound HTTP(S) over libcurl — for the S3 backend, VictoriaMetrics/Alertmanager
// peers, the robot, and tests.
//
//   pa::HttpClient client;
//   PA_ASSIGN_OR_RETURN(auto resp, client.Do({.method = "GET", .url =
//   "http://127.0.0.1:8080/healthz"})); if (resp.status != 200) ...
//
// Connections are kept alive and reused across calls (a pool of curl handles). Bodies can be
// given whole or streamed through callbacks in both directions. AWS Signature V4 signing uses
// libcurl's own implementation (CURLOPT_AWS_SIGV4). For service "s3" the payload hash is sent as
// `x-amz-content-sha256` (SHA-256 of an in-memory body, UNSIGNED-PAYLOAD for a streamed one) unless
// the request already carries that header. URLs of signed requests must have their query
// parameters sorted and RFC 3986-encoded already: libcurl 7.88 signs the query as given.
// A streamed body cannot be rewound, so if libcurl must resend it (a kept-alive connection that
// died under the request) Do() fails with kUnavailable and the caller decides about a retry.
// Errors: a response of any status is a success of Do(); transport failures are kUnavailable
// (connect, DNS, reset), kDeadlineExceeded (timeout) or kInvalidArgument (malformed URL).
// Thread-safety: Do() may be called from any number of threads at once.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace pa {

struct AwsSigV4 {
  std::string access_key;
  std::string secret_key;
  std::string region = "us-east-1";
  std::string service = "s3";
};

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // sent when `body_source` is not set
  // Streaming upload: called for successive chunks until it returns 0; `body_size` is the exact
  // total (sent as Content-Length).
  std::function<Result<size_t>(char* buf, size_t max)> body_source;
  int64_t body_size = -1;
  // Streaming download: receives the response body in chunks instead of HttpResponse::body;
  // an error aborts the transfer and is returned by Do(). Only a 2xx response's body is streamed;
  // any other status's body (an error document) still lands in HttpResponse::body.
  std::function<Status(std::string_view chunk)> body_sink;
  std::chrono::milliseconds timeout{30000};  // the whole exchange; 0 = no limit
  // Aborts (kDeadlineExceeded) when no byte moves for this long; 0 = off. Suits large transfers
  // whose total duration cannot be bounded in advance.
  std::chrono::milliseconds stall_timeout{0};
  std::chrono::milliseconds connect_timeout{5000};
  bool follow_redirects = false;
  bool verify_tls = true;
  std::optional<AwsSigV4> sigv4;
  // Source address to connect from (e.g. "127.0.0.2"); empty = the system's choice.
  std::string local_address;
};

struct HttpResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  // The first header with this (case-insensitive) name, or nullopt.
  std::optional<std::string> Header(std::string_view name) const;
};

class HttpClient {
 public:
  HttpClient();
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  Result<HttpResponse> Do(const HttpRequest& request);

 private:
  class Pool;
  std::unique_ptr<Pool> pool_;
};

}  // namespace pa
