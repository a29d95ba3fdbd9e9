#include "gateway/connection.h"

#include <sys/socket.h>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/error.hpp>

#include "base/logging.h"
#include "base/random.h"
#include "gateway/response_writer.h"

namespace pa::gateway {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using boost::system::error_code;

namespace {

constexpr size_t kHeadRead = 8 * 1024;   // most request heads fit one read
constexpr size_t kBodyRead = 64 * 1024;  // bodies stream through in pieces of this size
constexpr size_t kKeepBodyCapacity = 64 * 1024;
constexpr int64_t kMaxLingerBytes = 8 << 20;
constexpr std::chrono::milliseconds kMaxLinger{2000};
constexpr uint64_t kFired = 1;

uint64_t PhaseOf(uint64_t word) { return (word >> 1) & 7; }
int64_t DeadlineOf(uint64_t word) { return static_cast<int64_t>(word >> 8); }

}  // namespace

ServerCore::ServerCore(ServerOptions opts, const Router& r, telemetry::Registry& registry,
                       Authenticator* a)
    : options(std::move(opts)),
      router(r),
      auth(a),
      stats(registry),
      cors(options.cors),
      log(pa::log::Get("gateway")),
      epoch(std::chrono::steady_clock::now()) {}

int64_t ServerCore::NowMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               epoch)
      .count();
}

Connection::Connection(ServerCore& core, asio::ip::tcp::socket socket, std::string remote)
    : core_(core),
      socket_(std::move(socket)),
      fd_(socket_.native_handle()),
      remote_(std::move(remote)) {}

Connection::~Connection() {
  if (in_request_) {
    core_.in_flight.fetch_sub(1, std::memory_order_relaxed);
    core_.stats.in_flight().Add(-1);
  }
  if (registered_) {
    std::lock_guard lock(core_.mu);
    core_.connections.erase(this);
    if (core_.connections.empty()) core_.all_closed.notify_all();
    core_.stats.connections().Add(-1);
  }
}

void Connection::Start() {
  {
    std::lock_guard lock(core_.mu);
    core_.connections.insert(this);
    registered_ = true;
  }
  core_.stats.connections().Add(1);
  ReadNext();
}

// ---- timeouts, from the sweeper thread ----

void Connection::SetPhase(Phase phase, std::chrono::milliseconds timeout) {
  const int64_t deadline = timeout.count() > 0 ? core_.NowMs() + timeout.count() : 0;
  timer_.store((static_cast<uint64_t>(deadline) << 8) | (phase << 1), std::memory_order_release);
}

bool Connection::TimedOut(Phase phase) const {
  const uint64_t w = timer_.load(std::memory_order_acquire);
  return (w & kFired) != 0 && PhaseOf(w) == phase;
}

void Connection::Sweep(int64_t now_ms) {
  uint64_t w = timer_.load(std::memory_order_acquire);
  if ((w & kFired) != 0 || DeadlineOf(w) == 0 || DeadlineOf(w) > now_ms) return;
  // The CAS fails if the connection moved on to another phase meanwhile; then nothing fires.
  if (!timer_.compare_exchange_strong(w, w | kFired, std::memory_order_acq_rel)) return;
  // A late request keeps its write side so it can still be told 408.
  ::shutdown(fd_, PhaseOf(w) == kReading ? SHUT_RD : SHUT_RDWR);
}

void Connection::CloseIfIdle() {
  uint64_t w = timer_.load(std::memory_order_acquire);
  if ((w & kFired) != 0 || PhaseOf(w) != kIdle) return;
  if (!timer_.compare_exchange_strong(w, w | kFired, std::memory_order_acq_rel)) return;
  // Read side only: a request that raced in is still answered (with Connection: close).
  ::shutdown(fd_, SHUT_RD);
}

void Connection::ForceClose() {
  timer_.fetch_or(kFired, std::memory_order_acq_rel);
  ::shutdown(fd_, SHUT_RDWR);
}

// ---- reading ----

void Connection::ReadNext() {
  stage_ = Stage::kIdle;
  if (core_.draining.load(std::memory_order_acquire)) return Close();
  if (buffer_.size() > 0) {    // a pipelined request is already here
    if (++sync_depth_ > 16) {  // bound the recursion; let other connections run
      sync_depth_ = 0;
      asio::post(socket_.get_executor(), [self = shared_from_this()] { self->ReadNext(); });
      return;
    }
    BeginRequest();
    return Parse();
  }
  sync_depth_ = 0;
  SetPhase(kIdle, core_.options.idle_timeout);
  // Checked again after publishing kIdle: Shutdown() sets `draining` before it looks for idle
  // connections, so either it sees this one idle or this one sees `draining`.
  if (core_.draining.load(std::memory_order_seq_cst)) return Close();
  if (buffer_.capacity() > kHeadRead) buffer_.shrink_to_fit();
  AsyncRead(kHeadRead);
}

void Connection::AsyncRead(size_t size) {
  socket_.async_read_some(
      buffer_.prepare(size),
      [self = shared_from_this()](error_code ec, size_t n) { self->OnRead(ec, n); });
}

void Connection::OnRead(error_code ec, size_t n) {
  buffer_.commit(n);
  if (stage_ == Stage::kLinger) {
    linger_bytes_ += static_cast<int64_t>(n);
    buffer_.clear();
    if (ec || n == 0 || linger_bytes_ > kMaxLingerBytes) return Close();
    return AsyncRead(kBodyRead);
  }
  if (ec || n == 0) {
    if (stage_ != Stage::kIdle && TimedOut(kReading)) {
      return ReplyError(408, "request_timeout",
                        "the request was not received within " +
                            std::to_string(core_.options.read_timeout.count()) + " ms",
                        true);
    }
    return Close();  // the client went away, or an idle connection timed out
  }
  if (stage_ == Stage::kIdle) BeginRequest();
  Parse();
}

void Connection::BeginRequest() {
  stage_ = Stage::kHead;
  SetPhase(kReading, core_.options.read_timeout);
  start_ = std::chrono::steady_clock::now();
  start_wall_ = std::chrono::system_clock::now();
  in_request_ = true;
  core_.in_flight.fetch_add(1, std::memory_order_relaxed);
  core_.stats.in_flight().Add(1);

  request_.method = Method::kGet;
  request_.target.clear();
  request_.path.clear();
  request_.query_string.clear();
  request_.headers.Clear();
  if (request_.body.capacity() > kKeepBodyCapacity) std::string().swap(request_.body);
  request_.body.clear();
  request_.remote_addr = remote_;
  request_.request_id.clear();
  request_.route.clear();
  request_.params.clear();
  if (request_.principal.authenticated()) request_.principal = Principal{};
  parser_.emplace(request_);
  route_ = nullptr;
  slot_ = nullptr;
  keep_alive_ = true;
  close_after_ = false;
  head_only_ = false;
  send_continue_ = false;
  status_ = 0;
  raw_path_.clear();
  origin_.clear();
  extra_headers_.clear();
}

void Connection::Parse() {
  while (true) {
    if (buffer_.size() == 0) return AsyncRead(stage_ == Stage::kBody ? kBodyRead : kHeadRead);
    error_code ec;
    const size_t used = parser_->put(buffer_.data(), ec);
    buffer_.consume(used);
    if (ec == http::error::need_more) {
      return AsyncRead(stage_ == Stage::kBody ? kBodyRead : kHeadRead);
    }
    if (ec) return ReplyParseError(ec);
    if (stage_ == Stage::kHead) {
      if (parser_->is_header_done()) return OnHead();
    } else if (parser_->is_done()) {
      return OnBodyDone();
    }
  }
}

void Connection::ReplyParseError(error_code ec) {
  if (ec == http::error::header_limit) {
    return ReplyError(431, "request_header_fields_too_large",
                      "the request line and headers exceed 16 KiB", true);
  }
  const Status& body = parser_->body_status();
  if (ec == http::error::body_limit) {
    return ReplyError(413, "payload_too_large",
                      !body.ok() ? body.message()
                                 : "request body is larger than the limit of " +
                                       std::to_string(decoder_.limit()) + " bytes",
                      true);
  }
  if (!body.ok()) return ReplyError(400, "bad_request", body.message(), true);
  ReplyError(400, "bad_request", "malformed HTTP request: " + ec.message(), true);
}

// ---- writing ----

void Connection::ReplyError(int status, std::string_view error, std::string_view message,
                            bool close) {
  response_ = Response::Error(status, error, message);
  close_after_ = close_after_ || close;
  Reply();
}

void Connection::Reply() {
  stage_ = Stage::kReply;
  if (response_.status < 200 || response_.status > 599) {
    // 1xx and nonsense are not final answers; framing depends on the status, so fix it here.
    core_.log->error("handler of {} returned status {}; sent 500 (request id {})",
                     route_ ? route_->pattern : raw_path_, response_.status, request_.request_id);
    response_ =
        Response::Error(500, "internal", "internal error (request id " + request_.request_id + ")");
  }
  status_ = response_.status;
  if (request_.request_id.empty()) request_.request_id = NewRequestId();  // failed before the head
  keep_alive_ = keep_alive_ && !close_after_ && !core_.draining.load(std::memory_order_acquire);
  out_.clear();
  AppendResponseHead(out_, response_,
                     ResponseHead{request_.request_id, core_.options.server_header, keep_alive_,
                                  parser_ && parser_->version() == 10, head_only_, extra_headers_});
  const bool send_body = !head_only_ && !StatusHasNoBody(response_.status);
  // Small bodies are copied behind the head: one buffer, one send.
  body_separate_ = send_body && response_.body.size() > 1024;
  if (send_body && !body_separate_) out_ += response_.body;
  SetPhase(kWriting, core_.options.read_timeout);
  // The socket is non-blocking: try to send everything now, and only wait for the rest.
  const std::array<asio::const_buffer, 2> buffers = {
      asio::buffer(out_), body_separate_ ? asio::buffer(response_.body) : asio::const_buffer()};
  error_code ec;
  const size_t n = socket_.write_some(buffers, ec);
  if (ec && ec != asio::error::would_block && ec != asio::error::try_again) return Close();
  WriteRest(n);
}

void Connection::WriteRest(size_t written) {
  std::array<asio::const_buffer, 2> rest;
  if (written < out_.size()) {
    rest = {asio::buffer(out_) + written,
            body_separate_ ? asio::buffer(response_.body) : asio::const_buffer()};
  } else {
    rest = {body_separate_ ? asio::buffer(response_.body) + (written - out_.size())
                           : asio::const_buffer(),
            asio::const_buffer()};
  }
  if (asio::buffer_size(rest) == 0) return OnWritten();
  asio::async_write(socket_, rest, [self = shared_from_this()](error_code ec, size_t) {
    if (ec) return self->Close();
    self->OnWritten();
  });
}

void Connection::OnWritten() {
  FinishRequest();
  if (response_.body.capacity() > kKeepBodyCapacity) std::string().swap(response_.body);
  if (!keep_alive_) {
    // Lingering only matters when the client may still be sending (an unread or refused body);
    // otherwise a plain close sends the FIN after the response.
    if (close_after_ || buffer_.size() > 0) return Linger();
    return Close();
  }
  ReadNext();
}

void Connection::FinishRequest() {
  if (!in_request_) return;
  in_request_ = false;
  const auto duration = std::chrono::steady_clock::now() - start_;
  const bool known = parser_ && parser_->method_known();
  if (slot_ == nullptr) slot_ = &core_.stats.For(nullptr, request_.method, known);
  const int status = status_ != 0 ? status_ : 499;  // 499: the client closed first (as nginx)
  const int64_t bytes_in = parser_ ? parser_->body_wire_bytes() : 0;
  const int64_t bytes_out =
      head_only_ || status_ == 0 || StatusHasNoBody(status) ? 0 : response_.body.size();
  core_.stats.Record(*slot_, status, duration, bytes_in, bytes_out);
  if (pa::log::AccessEnabled()) {
    thread_local std::string line;
    line.clear();
    AppendAccessLine(
        line,
        AccessRecord{start_wall_, request_.request_id, remote_,
                     parser_ ? parser_->method_string() : std::string_view(), raw_path_,
                     route_ ? route_->pattern : "unmatched", status, duration, bytes_in, bytes_out,
                     request_.headers.Get("User-Agent").value_or(""), request_.principal.name});
    pa::log::Access(line);
  }
  core_.in_flight.fetch_sub(1, std::memory_order_relaxed);
  core_.stats.in_flight().Add(-1);
}

// Closing after a response: stop sending, then read and drop what the client still sends for a
// moment, so the kernel does not answer unread data with a reset that could destroy the response
// before the client has read it (a 413 sent while the client is still uploading).
void Connection::Linger() {
  stage_ = Stage::kLinger;
  error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  if (ec) return Close();
  SetPhase(kLinger, std::min(core_.options.read_timeout, kMaxLinger));
  buffer_.clear();
  linger_bytes_ = 0;
  AsyncRead(kBodyRead);
}

void Connection::Close() {
  if (closed_) return;
  closed_ = true;
  FinishRequest();
  if (registered_) {
    std::lock_guard lock(core_.mu);
    core_.connections.erase(this);
    registered_ = false;
    if (core_.connections.empty()) core_.all_closed.notify_all();
  }
  core_.stats.connections().Add(-1);
  error_code ec;
  socket_.close(ec);
}

}  // namespace pa::gateway
