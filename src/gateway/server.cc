#include "gateway/server.h"

#include <pthread.h>
#include <sys/socket.h>

#include <algorithm>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <optional>
#include <thread>

#include "base/logging.h"
#include "gateway/connection.h"

namespace pa::gateway {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

// "host:port", "[v6]:port", ":port" (all IPv4 interfaces) or "localhost:port".
Result<tcp::endpoint> ParseListen(const std::string& listen) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos) {
    return InvalidArgumentError("listen address '" + listen + "' must be host:port");
  }
  std::string host = listen.substr(0, colon);
  const std::string port_text = listen.substr(colon + 1);
  int port = -1;
  if (!port_text.empty() && port_text.size() <= 5 &&
      std::all_of(port_text.begin(), port_text.end(),
                  [](char c) { return c >= '0' && c <= '9'; })) {
    port = std::stoi(port_text);
  }
  if (port < 0 || port > 65535) {
    return InvalidArgumentError("listen address '" + listen + "': bad port '" + port_text + "'");
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty() || host == "*") host = "0.0.0.0";
  if (host == "localhost") host = "127.0.0.1";
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (ec) {
    return InvalidArgumentError("listen address '" + listen + "': '" + host +
                                "' is not an IP address");
  }
  return tcp::endpoint(address, static_cast<uint16_t>(port));
}

std::string EndpointString(const tcp::endpoint& ep) {
  const std::string address = ep.address().to_string();
  return (ep.address().is_v6() ? "[" + address + "]" : address) + ":" + std::to_string(ep.port());
}

}  // namespace

// Threading: one io_context shared by `threads` threads, and handlers run inline on them.
//
// Handlers may block (database calls), so they cannot run on event-loop threads that each own
// their connections: one slow handler would stall every connection of its loop. With a shared
// io_context a thread blocked in a handler leaves the other threads to pick up every other
// connection's work. Handing each request from I/O threads to a handler pool instead costs two
// cross-thread hand-offs per request; measured with wrk on GET /healthz (2 cores, wrk on the same
// machine) it served 30-38k req/s against 62-68k for handlers inline with 4 threads (2 threads:
// ~52k, 8 threads: ~52-63k). Hence 2 × cores, at least 4: blocked handlers still leave threads
// for I/O, and there are not so many that they only fight over the scheduler.
class HttpServer::Impl {
 public:
  Impl(ServerOptions options, const Router& router, telemetry::Registry& metrics,
       Authenticator* auth)
      : core_(std::move(options), router, metrics, auth) {}

  ~Impl() { Shutdown(); }

  Status Start();
  void Shutdown();
  std::string bound_address() const { return bound_; }
  ServerCore& core() { return core_; }

 private:
  void Accept();
  void RunIo(int index);
  void RunSweeper();

  ServerCore core_;
  enum class State { kNew, kRunning, kStopped } state_ = State::kNew;
  std::string bound_;
  std::unique_ptr<asio::io_context> ioc_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::unique_ptr<tcp::acceptor> acceptor_;
  std::unique_ptr<asio::steady_timer> accept_retry_;
  int listen_fd_ = -1;
  std::vector<std::thread> threads_;
  std::thread sweeper_;
  std::mutex sweeper_mu_;
  std::condition_variable sweeper_cv_;
  bool sweeper_stop_ = false;
};

Status HttpServer::Impl::Start() {
  if (state_ != State::kNew) return FailedPreconditionError("gateway: server already started");
  PA_ASSIGN_OR_RETURN(const tcp::endpoint endpoint, ParseListen(core_.options.listen));
  const int threads = core_.options.threads > 0
                          ? core_.options.threads
                          : std::max(4, 2 * static_cast<int>(std::thread::hardware_concurrency()));
  ioc_ = std::make_unique<asio::io_context>(threads);
  acceptor_ = std::make_unique<tcp::acceptor>(*ioc_);
  boost::system::error_code ec;
  auto fail = [&](std::string_view step) {
    acceptor_.reset();
    ioc_.reset();
    return UnavailableError("gateway: cannot listen on " + core_.options.listen + " (" +
                            std::string(step) + "): " + ec.message());
  };
  acceptor_->open(endpoint.protocol(), ec);
  if (ec) return fail("socket");
  acceptor_->set_option(tcp::acceptor::reuse_address(true), ec);
  if (ec) return fail("SO_REUSEADDR");
  acceptor_->bind(endpoint, ec);
  if (ec) return fail("bind");
  acceptor_->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail("listen");
  bound_ = EndpointString(acceptor_->local_endpoint(ec));
  listen_fd_ = acceptor_->native_handle();
  accept_retry_ = std::make_unique<asio::steady_timer>(*ioc_);
  core_.stats.Prepare(core_.router);

  Accept();
  work_.emplace(ioc_->get_executor());
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this, i] { RunIo(i); });
  sweeper_ = std::thread([this] { RunSweeper(); });
  state_ = State::kRunning;
  core_.log->info("listening on {} ({} threads)", bound_, threads);
  return Status::Ok();
}

void HttpServer::Impl::Accept() {
  acceptor_->async_accept([this](boost::system::error_code ec, tcp::socket socket) {
    if (core_.draining.load(std::memory_order_acquire)) return;
    if (ec) {
      // Out of descriptors or memory: wait a little instead of spinning on the error.
      core_.log->warn("accept failed: {}", ec.message());
      accept_retry_->expires_after(std::chrono::milliseconds(100));
      accept_retry_->async_wait([this](boost::system::error_code) {
        if (!core_.draining.load(std::memory_order_acquire)) Accept();
      });
      return;
    }
    boost::system::error_code opt_ec;
    socket.set_option(tcp::no_delay(true), opt_ec);
    socket.non_blocking(true, opt_ec);
    const auto remote = socket.remote_endpoint(opt_ec);
    if (!opt_ec) {
      std::make_shared<Connection>(core_, std::move(socket), EndpointString(remote))->Start();
    }
    Accept();
  });
}

void HttpServer::Impl::RunIo(int index) {
  const std::string name = "gw-io-" + std::to_string(index);
  pthread_setname_np(pthread_self(), name.c_str());
  while (true) {
    // Asio lets exceptions thrown by a completion handler out of run(); the connections catch
    // the handlers' own, so this is a last line (e.g. bad_alloc) that keeps the thread serving.
    try {
      ioc_->run();
      return;
    } catch (const std::exception& e) {
      core_.log->error("io thread {}: {}", index, e.what());
    }
  }
}

void HttpServer::Impl::RunSweeper() {
  pthread_setname_np(pthread_self(), "gw-sweeper");
  const auto shortest = std::min(core_.options.read_timeout, core_.options.idle_timeout);
  const auto tick =
      std::clamp(shortest / 4, std::chrono::milliseconds(10), std::chrono::milliseconds(500));
  std::unique_lock lock(sweeper_mu_);
  while (!sweeper_cv_.wait_for(lock, tick, [this] { return sweeper_stop_; })) {
    const int64_t now = core_.NowMs();
    std::lock_guard connections(core_.mu);
    for (Connection* c : core_.connections) c->Sweep(now);
  }
}

void HttpServer::Impl::Shutdown() {
  if (state_ == State::kNew) state_ = State::kStopped;
  if (state_ != State::kRunning) return;
  state_ = State::kStopped;
  core_.draining.store(true, std::memory_order_seq_cst);
  // shutdown(2) on a listening socket makes Linux stop listening at once: new connections are
  // refused from here on, and the pending accept completes with an error.
  ::shutdown(listen_fd_, SHUT_RDWR);
  {
    std::unique_lock lock(core_.mu);
    for (Connection* c : core_.connections) c->CloseIfIdle();
    const auto deadline = std::chrono::steady_clock::now() + core_.options.shutdown_grace;
    if (!core_.all_closed.wait_until(lock, deadline,
                                     [this] { return core_.connections.empty(); })) {
      core_.log->warn("shutdown: closing {} connections still open after {} ms",
                      core_.connections.size(), core_.options.shutdown_grace.count());
      for (Connection* c : core_.connections) c->ForceClose();
      // A handler still running is not interrupted; its connection closes when it returns.
      core_.all_closed.wait(lock, [this] { return core_.connections.empty(); });
    }
  }
  {
    std::lock_guard lock(sweeper_mu_);
    sweeper_stop_ = true;
  }
  sweeper_cv_.notify_all();
  sweeper_.join();
  work_.reset();
  ioc_->stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
  // Destroying the io_context destroys handlers that never ran, and with them their connections;
  // the core they unregister from is still alive here.
  accept_retry_.reset();
  acceptor_.reset();
  ioc_.reset();
  core_.log->info("stopped listening on {}", bound_);
}

HttpServer::HttpServer(ServerOptions options, const Router& router, telemetry::Registry& metrics,
                       Authenticator* auth)
    : impl_(std::make_unique<Impl>(std::move(options), router, metrics, auth)) {}

HttpServer::~HttpServer() = default;

Status HttpServer::Start() { return impl_->Start(); }

std::string HttpServer::bound_address() const { return impl_->bound_address(); }

void HttpServer::Shutdown() { impl_->Shutdown(); }

void HttpServer::set_authenticator(Authenticator* auth) {
  impl_->core().auth.store(auth, std::memory_order_release);
}

int64_t HttpServer::in_flight() const {
  return impl_->core().in_flight.load(std::memory_order_relaxed);
}

}  // namespace pa::gateway
