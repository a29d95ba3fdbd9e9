// Connection: one accepted HTTP/1.1 connection, driving the request pipeline of server.h for each
// request on it, one after the other (keep-alive, pipelining).
//
// Every step of a connection runs as a chain of completion handlers on the server's shared
// io_context; a connection never has two operations outstanding, so its handlers never run
// concurrently and it needs no strand. Timeouts do not use per-connection timers: each connection
// publishes its phase and deadline in one atomic word, and the server's sweeper thread calls
// Sweep(), which on expiry only shuts the socket down (a syscall, safe from any thread) so the
// pending read or write completes with EOF or an error on the connection's own chain.
//
// Internal to the gateway (includes Asio).
#pragma once

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_set>

#include "gateway/body_decoder.h"
#include "gateway/cors.h"
#include "gateway/request_parser.h"
#include "gateway/request_stats.h"
#include "gateway/server.h"

namespace spdlog {
class logger;
}

namespace pa::gateway {

class Connection;

// What connections share: configuration, collaborators and the registry of open connections.
struct ServerCore {
  ServerCore(ServerOptions opts, const Router& r, telemetry::Registry& registry, Authenticator* a);

  // Milliseconds since `epoch`, the clock of connection deadlines.
  int64_t NowMs() const;

  ServerOptions options;
  const Router& router;
  std::atomic<Authenticator*> auth;
  RequestStats stats;
  CorsPolicy cors;
  std::shared_ptr<spdlog::logger> log;
  const std::chrono::steady_clock::time_point epoch;
  std::atomic<bool> draining{false};
  std::atomic<int64_t> in_flight{0};

  // Open connections; the sweeper and Shutdown() walk them under `mu`. A connection leaves the
  // set before its socket is closed, so a registered connection's descriptor is always valid.
  std::mutex mu;
  std::condition_variable all_closed;
  std::unordered_set<Connection*> connections;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(ServerCore& core, boost::asio::ip::tcp::socket socket, std::string remote);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Registers with the core and starts reading. Call once, from an io thread.
  void Start();

  // From the sweeper or Shutdown() thread, with core.mu held; only atomics and shutdown(2).
  // Fires the timeout of the current phase if its deadline (core.NowMs() clock) has passed.
  void Sweep(int64_t now_ms);
  // Closes the connection if it waits for a next request (graceful shutdown).
  void CloseIfIdle();
  // Aborts whatever the connection is doing (shutdown grace exceeded).
  void ForceClose();

 private:
  enum Phase : uint64_t {
    kNone = 0,
    kIdle = 1,
    kReading = 2,
    kHandling = 3,
    kWriting = 4,
    kLinger = 5
  };
  enum class Stage { kIdle, kHead, kBody, kReply, kLinger };

  // Publishes the phase and its deadline (0 ms: none).
  void SetPhase(Phase phase, std::chrono::milliseconds timeout);
  // Whether the sweeper fired the timeout of `phase` (the current phase when it fired).
  bool TimedOut(Phase phase) const;

  void ReadNext();
  void AsyncRead(size_t size);
  void OnRead(boost::system::error_code ec, size_t n);
  void BeginRequest();
  void Parse();
  void OnHead();
  bool Preflight(std::string_view origin);
  bool RouteRequest();
  bool Authenticate();
  bool PrepareBody();
  void SendContinue();
  void OnBodyDone();
  void RunHandler();
  void RunAsyncHandler();

  // Sends `response_` (status line, headers, body) and continues with the next request.
  void Reply();
  void ReplyError(int status, std::string_view error, std::string_view message, bool close);
  // Answers a request that could not be parsed or whose body broke.
  void ReplyParseError(boost::system::error_code ec);
  void WriteRest(size_t written);
  void OnWritten();
  void FinishRequest();
  void Linger();
  void Close();

  ServerCore& core_;
  boost::asio::ip::tcp::socket socket_;
  const int fd_;
  const std::string remote_;
  std::atomic<uint64_t> timer_{0};  // deadline_ms << 8 | phase << 1 | fired
  bool registered_ = false;
  bool closed_ = false;

  boost::beast::flat_buffer buffer_;
  int sync_depth_ = 0;  // requests served in a row without going back to the io_context
  Stage stage_ = Stage::kIdle;
  Request request_;
  std::optional<RequestParser> parser_;
  BodyDecoder decoder_;
  const Route* route_ = nullptr;
  RequestStats::Slot* slot_ = nullptr;
  bool keep_alive_ = true;
  bool close_after_ = false;  // the request's body is unread or broken: close after replying
  bool head_only_ = false;
  bool in_request_ = false;  // between the first byte of a request and its last response byte
  bool send_continue_ = false;
  int status_ = 0;
  std::string raw_path_;
  std::string origin_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::system_clock::time_point start_wall_;

  Response response_;
  std::string extra_headers_;   // CORS, Allow, WWW-Authenticate lines for the current response
  std::string out_;             // the serialised head (and small bodies)
  bool body_separate_ = false;  // the body goes as a second buffer instead of being copied

  int64_t linger_bytes_ = 0;
};

}  // namespace pa::gateway
