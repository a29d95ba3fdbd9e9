// HttpServer: the gateway's HTTP/1.1 server (Boost.Beast over Asio).
//
// What every request goes through, in order:
//   1. read the request head (limits: 16 KiB of headers; `read_timeout` for the whole request);
//   2. take or create the request id (X-Request-Id, echoed on the response);
//   3. CORS: answer preflight OPTIONS, add Access-Control-* headers for allowed origins;
//   4. match the route (404 / 405 with Allow);
//   5. for non-public routes: Authenticator → 401 / 403, before any body byte is read;
//   6. read the body under the route's limit (413 when Content-Length or the streamed body is over
//      it); inflate `Content-Encoding: gzip` into at most the same limit (413 past it, without
//      buffering more than the limit); other encodings → 415;
//   7. run the handler (exceptions it throws become 500 and are logged);
//   8. write the response with keep-alive; record metrics and one access-log line.
// Shutdown() stops accepting, lets in-flight requests finish (up to `shutdown_grace`), closes idle
// keep-alive connections at once and tells busy ones `Connection: close`.
//
// Thread-safety: Start() and Shutdown() from one controlling thread; handlers run on the server's
// `threads` worker threads and may block (database calls), so the pool is sized for that.
//
// Also: a request whose body is refused (401/403/413/415...) or unread gets `Connection: close`;
// 408 answers a request not received within `read_timeout`; every response carries X-Request-Id,
// Date and Server. Metrics (primoart_http_*, see request_stats.h) are labelled with the route
// pattern, or "unmatched", never the raw path.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/telemetry.h"
#include "gateway/authenticator.h"
#include "gateway/router.h"

namespace pa::gateway {

struct CorsOptions {
  // Allowed origins; "*" allows any. Empty: no CORS headers at all (same-origin only).
  std::vector<std::string> allowed_origins;
  bool allow_credentials = false;
  std::chrono::seconds max_age{600};
};

struct ServerOptions {
  std::string listen = "127.0.0.1:8080";  // host:port; port 0 picks a free port
  int threads = 0;                        // 0: 2 × hardware threads, at least 4
  int64_t max_body_bytes = 16 << 20;      // default per-route body limit, after decompression
  std::chrono::milliseconds read_timeout{30000};  // to receive a whole request
  std::chrono::milliseconds idle_timeout{60000};  // keep-alive connection with no request
  std::chrono::milliseconds shutdown_grace{30000};
  CorsOptions cors;
  std::string server_header = "PrimoART";
};

class HttpServer {
 public:
  // `router`, `metrics` and `auth` must outlive the server. `auth` may be null: then only public
  // routes are served and every other route answers 401 (no role verifies credentials).
  // Registers the primoart_http_* families in `metrics` (so one server per registry).
  HttpServer(ServerOptions options, const Router& router, telemetry::Registry& metrics,
             Authenticator* auth);
  ~HttpServer();  // Shutdown() if still running

  // Binds and starts serving. kUnavailable (with the address) if it cannot bind; kInvalidArgument
  // for a malformed `listen` ("host:port", "[v6]:port", ":port" for all IPv4 interfaces). The
  // router's routes must all be registered by now.
  Status Start();

  // The address actually bound, e.g. "127.0.0.1:41234" (meaningful after Start()).
  std::string bound_address() const;

  // Graceful stop as described above; returns when every connection is closed or the grace
  // period ran out (then the rest are closed). Idempotent. A handler still running after the grace
  // period is not interrupted: Shutdown() returns once it has (its connection is already closed).
  void Shutdown();

  // Replaces the authenticator (set by the auth role during init, before Start()).
  void set_authenticator(Authenticator* auth);

  // Requests between their first byte and their last response byte.
  int64_t in_flight() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pa::gateway
