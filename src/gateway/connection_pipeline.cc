// The request pipeline of a Connection once a head has arrived (server.h steps 2-7): request id,
// CORS preflight, routing, authentication, body set-up, the handler. Reading and writing are in
// connection.cc.
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include "base/logging.h"
#include "base/random.h"
#include "base/strings.h"
#include "gateway/connection.h"

namespace pa::gateway {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

bool ValidRequestId(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string JoinMethods(const std::vector<Method>& methods) {
  std::string out;
  for (Method m : methods) {
    if (!out.empty()) out += ", ";
    out += MethodName(m);
  }
  return out;
}

// Every method with a route on `path` (HEAD where GET has one).
std::vector<Method> PathMethods(const Router& router, std::string_view path) {
  std::vector<Method> out;
  for (int m = 0; m < 7; ++m) {
    if (router.Match(static_cast<Method>(m), path).route != nullptr) {
      out.push_back(static_cast<Method>(m));
    }
  }
  return out;
}

}  // namespace

// ---- the head: request id, CORS, route, authentication, body set-up ----

void Connection::OnHead() {
  keep_alive_ = parser_->keep_alive();
  head_only_ = parser_->method_known() && request_.method == Method::kHead;
  const bool has_body = !parser_->is_done();

  const auto id = request_.headers.Get("X-Request-Id");
  request_.request_id = id && ValidRequestId(*id) ? std::string(*id) : NewRequestId();

  std::string_view target = request_.target;
  for (std::string_view scheme : {"http://", "https://"}) {  // absolute-form (proxies)
    if (target.substr(0, scheme.size()) == scheme) {
      const size_t slash = target.find('/', scheme.size());
      target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
    }
  }
  const size_t question = target.find('?');
  raw_path_.assign(target.substr(0, question));
  if (question != std::string_view::npos) request_.query_string = target.substr(question + 1);

  if (core_.cors.enabled()) {
    if (auto origin = request_.headers.Get("Origin")) origin_.assign(*origin);
    core_.cors.AppendResponseHeaders(extra_headers_, origin_);
  }
  if (raw_path_.empty() || raw_path_[0] != '/' || !PercentDecodePath(raw_path_, request_.path)) {
    return ReplyError(400, "bad_request", "malformed request path", has_body);
  }
  if (Preflight(origin_) || !RouteRequest() || !Authenticate() || !PrepareBody()) return;
  if (send_continue_) return SendContinue();
  if (!has_body) return OnBodyDone();
  stage_ = Stage::kBody;
  Parse();
}

bool Connection::Preflight(std::string_view origin) {
  if (!parser_->method_known() || request_.method != Method::kOptions || origin.empty() ||
      !core_.cors.enabled() || !request_.headers.Has("Access-Control-Request-Method")) {
    return false;
  }
  const auto methods = PathMethods(core_.router, request_.path);
  if (methods.empty()) {
    ReplyError(404, "not_found", "no route for " + raw_path_, !parser_->is_done());
    return true;
  }
  // Label the preflight with one of the path's routes, so metrics keep the pattern.
  route_ = core_.router.Match(methods.front(), request_.path).route;
  slot_ = &core_.stats.For(route_, Method::kOptions, true);
  response_ = Response::Empty(204);
  extra_headers_.clear();
  core_.cors.AppendPreflightHeaders(
      extra_headers_, origin, JoinMethods(methods),
      request_.headers.Get("Access-Control-Request-Headers").value_or(std::string_view()));
  close_after_ = !parser_->is_done();
  Reply();
  return true;
}

bool Connection::RouteRequest() {
  const bool known = parser_->method_known();
  RouteMatch match;
  if (known) {
    match = core_.router.Match(request_.method, request_.path);
  } else {
    match.allowed = PathMethods(core_.router, request_.path);
  }
  if (match.route == nullptr) {
    const bool has_body = !parser_->is_done();
    if (match.allowed.empty()) {
      ReplyError(404, "not_found", "no route for " + raw_path_, has_body);
    } else if (known && request_.method == Method::kOptions) {
      response_ = Response::Empty(204);
      response_.headers.Add("Allow", JoinMethods(match.allowed));
      close_after_ = has_body;
      Reply();
    } else {
      response_ = Response::Error(
          405, "method_not_allowed",
          std::string(parser_->method_string()) + " is not allowed on " + raw_path_);
      response_.headers.Add("Allow", JoinMethods(match.allowed));
      close_after_ = has_body;
      Reply();
    }
    return false;
  }
  route_ = match.route;
  slot_ = &core_.stats.For(route_, request_.method, true);
  request_.route = route_->pattern;
  request_.params = std::move(match.params);
  return true;
}

bool Connection::Authenticate() {
  if (route_->access.is_public()) return true;
  const bool has_body = !parser_->is_done();
  Authenticator* auth = core_.auth.load(std::memory_order_acquire);
  auto unauthenticated = [&](std::string_view message) {
    response_ = Response::Error(401, "unauthenticated", message);
    response_.headers.Add("WWW-Authenticate", "Bearer");
    close_after_ = has_body;
    Reply();
    return false;
  };
  if (auth == nullptr) return unauthenticated("this route needs credentials");
  // The authenticator is another component's code: nothing it throws may take the server down.
  try {
    Result<Principal> principal = auth->Authenticate(request_);
    if (!principal.ok()) {
      const Status& st = principal.status();
      if (st.code() == StatusCode::kUnauthenticated) return unauthenticated(st.message());
      response_ = st.code() == StatusCode::kUnavailable
                      ? Response::Error(503, "unavailable", st.message())
                      : Response::FromStatus(st);
      close_after_ = has_body;
      Reply();
      return false;
    }
    request_.principal = std::move(principal).value();
    if (!auth->Authorize(request_.principal, route_->access, request_)) {
      ReplyError(403, "permission_denied",
                 "'" + request_.principal.name + "' may not " +
                     std::string(MethodName(request_.method)) + " " + route_->pattern + " (needs " +
                     route_->access.ToString() + ")",
                 has_body);
      return false;
    }
  } catch (const std::exception& e) {
    core_.log->error("authenticator failed for request {}: {}", request_.request_id, e.what());
    ReplyError(500, "internal", "internal error (request id " + request_.request_id + ")",
               has_body);
    return false;
  }
  return true;
}

bool Connection::PrepareBody() {
  const bool has_body = !parser_->is_done();
  const auto encoding_header = request_.headers.Get("Content-Encoding");
  const auto encoding = BodyDecoder::ParseEncoding(encoding_header.value_or(std::string_view()));
  if (!encoding) {
    ReplyError(415, "unsupported_media_type",
               "Content-Encoding '" + std::string(*encoding_header) +
                   "' is not supported (use gzip, deflate or none)",
               has_body);
    return false;
  }
  const int64_t limit = route_->options.max_body_bytes > 0 ? route_->options.max_body_bytes
                                                           : core_.options.max_body_bytes;
  const auto length = parser_->content_length();
  if (length && *length > static_cast<uint64_t>(limit)) {
    ReplyError(413, "payload_too_large",
               "request body of " + std::to_string(*length) +
                   " bytes is larger than the limit of " + std::to_string(limit) + " bytes",
               has_body);
    return false;
  }
  parser_->body_limit(static_cast<uint64_t>(limit));  // bounds chunked bodies on the wire
  decoder_.Reset(
      *encoding, limit, &request_.body,
      *encoding == BodyDecoder::Encoding::kIdentity && length ? static_cast<int64_t>(*length) : 0);
  parser_->AttachDecoder(&decoder_);
  const auto expect = request_.headers.Get("Expect");
  send_continue_ =
      has_body && expect && EqualsIgnoreCase(*expect, "100-continue") && buffer_.size() == 0;
  return true;
}

void Connection::SendContinue() {
  static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
  asio::async_write(socket_, asio::buffer(kContinue.data(), kContinue.size()),
                    [self = shared_from_this()](error_code ec, size_t) {
                      if (ec) return self->Close();
                      self->stage_ = Stage::kBody;
                      self->Parse();
                    });
}

void Connection::OnBodyDone() {
  const Status finished = decoder_.Finish();
  if (!finished.ok()) return ReplyError(400, "bad_request", finished.message(), false);
  RunHandler();
}

void Connection::RunHandler() {
  SetPhase(kHandling, std::chrono::milliseconds(0));
  if (route_->async_handler) return RunAsyncHandler();
  try {
    response_ = route_->handler(request_);
  } catch (const std::exception& e) {
    core_.log->error("handler of {} {} failed (request id {}): {}", MethodName(route_->method),
                     route_->pattern, request_.request_id, e.what());
    response_ =
        Response::Error(500, "internal", "internal error (request id " + request_.request_id + ")");
  } catch (...) {
    core_.log->error("handler of {} {} failed (request id {}): unknown exception",
                     MethodName(route_->method), route_->pattern, request_.request_id);
    response_ =
        Response::Error(500, "internal", "internal error (request id " + request_.request_id + ")");
  }
  Reply();
}

}  // namespace pa::gateway

namespace pa::gateway {

// The responder keeps the connection alive until it is called; the answer is written from the
// connection's executor, like every other step of the connection. `answered` makes later calls
// (and the 500 of a handler that threw after answering) no-ops.
void Connection::RunAsyncHandler() {
  auto answered = std::make_shared<std::atomic<bool>>(false);
  Responder respond = [self = shared_from_this(), answered](Response r) {
    if (answered->exchange(true)) return;
    asio::post(self->socket_.get_executor(), [self, r = std::move(r)]() mutable {
      self->response_ = std::move(r);
      self->Reply();
    });
  };
  std::string failure;
  try {
    route_->async_handler(request_, respond);
    return;
  } catch (const std::exception& e) {
    failure = e.what();
  } catch (...) {
    failure = "unknown exception";
  }
  core_.log->error("handler of {} {} failed (request id {}): {}", MethodName(route_->method),
                   route_->pattern, request_.request_id, failure);
  respond(
      Response::Error(500, "internal", "internal error (request id " + request_.request_id + ")"));
}

}  // namespace pa::gateway
