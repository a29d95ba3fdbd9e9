#include "robot/browser/cdp_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <map>
#include <optional>
#include <set>
#include <thread>
#include <utility>

namespace pa::robot::browser {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
using tcp = asio::ip::tcp;

// Screenshots of long pages arrive base64-encoded in one message.
constexpr size_t kMaxMessageBytes = 256u << 20;

struct WsUrl {
  std::string host, port, target;
};

Result<WsUrl> ParseWsUrl(std::string_view url) {
  constexpr std::string_view kScheme = "ws://";
  if (!url.starts_with(kScheme)) {
    return InvalidArgumentError("DevTools URL must start with ws://: " + std::string(url));
  }
  std::string_view rest = url.substr(kScheme.size());
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  size_t colon = authority.rfind(':');
  if (colon == std::string_view::npos || colon + 1 == authority.size() || colon == 0) {
    return InvalidArgumentError("DevTools URL needs host:port: " + std::string(url));
  }
  WsUrl out;
  out.host = std::string(authority.substr(0, colon));
  out.port = std::string(authority.substr(colon + 1));
  out.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  return out;
}

}  // namespace

struct CdpClient::Impl {
  struct Pending {
    bool done = false;
    Status status;
    Json result;
  };
  struct Sub {
    std::string session_id;
    EventHandler handler;
  };

  asio::io_context ioc{1};
  websocket::stream<beast::tcp_stream> ws{ioc};
  beast::flat_buffer read_buffer;
  std::deque<std::string> write_queue;  // I/O thread only
  bool writing = false;                 // I/O thread only
  std::thread thread;

  mutable std::mutex mu;
  std::condition_variable cv;
  bool connected = true;
  int64_t next_id = 1;
  std::map<int64_t, Pending> pending;

  std::mutex sub_mu;  // held while handlers run, so that unsubscribing waits for them
  std::map<uint64_t, Sub> subs;
  uint64_t next_sub_id = 1;
  bool subscribers_told = false;  // guarded by sub_mu

  // Marks the connection closed and fails every pending call. Any thread.
  void MarkClosed(const Status& why) {
    std::lock_guard lock(mu);
    if (!connected) return;
    connected = false;
    for (auto& [id, p] : pending) {
      if (!p.done) {
        p.done = true;
        p.status = why;
      }
    }
    cv.notify_all();
  }

  // Closed for good: tells the subscribers once. I/O thread.
  void OnDisconnected(const Status& why) {
    MarkClosed(why);
    std::lock_guard lock(sub_mu);
    if (subscribers_told) return;
    subscribers_told = true;
    for (auto& [id, sub] : subs) sub.handler(nullptr);
  }

  void CloseSocket() {
    beast::error_code ignored;
    beast::get_lowest_layer(ws).socket().shutdown(tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(ws).socket().close(ignored);
  }

  void StartRead() {
    ws.async_read(read_buffer, [this](beast::error_code ec, size_t) {
      if (ec) {
        OnDisconnected(UnavailableError("browser connection closed: " + ec.message()));
        CloseSocket();
        return;
      }
      std::string_view text(static_cast<const char*>(read_buffer.data().data()),
                            read_buffer.size());
      Json message = Json::parse(text, nullptr, /*allow_exceptions=*/false);
      read_buffer.consume(read_buffer.size());
      if (message.is_object()) Dispatch(message);
      StartRead();
    });
  }

  void Dispatch(Json& message) {
    auto id = message.find("id");
    if (id != message.end() && id->is_number_integer()) {
      std::lock_guard lock(mu);
      auto it = pending.find(id->get<int64_t>());
      if (it == pending.end()) return;  // abandoned after its deadline
      Pending& p = it->second;
      p.done = true;
      if (auto error = message.find("error"); error != message.end()) {
        std::string text = error->dump();
        if (error->is_object() && (*error)["message"].is_string()) {
          text = (*error)["message"].get<std::string>();
        }
        if (error->is_object() && error->contains("data"))
          text += " (" + (*error)["data"].dump() + ")";
        p.status = InternalError(text.empty() ? "protocol error" : text);
      } else if (auto result = message.find("result"); result != message.end()) {
        p.result = std::move(*result);
      } else {
        p.result = Json::object();
      }
      cv.notify_all();
      return;
    }
    auto method = message.find("method");
    if (method == message.end() || !method->is_string()) return;
    CdpEvent event;
    event.method = method->get<std::string>();
    if (auto s = message.find("sessionId"); s != message.end() && s->is_string()) {
      event.session_id = s->get<std::string>();
    }
    if (auto p = message.find("params"); p != message.end() && p->is_object()) {
      event.params = std::move(*p);
    } else {
      event.params = Json::object();
    }
    std::lock_guard lock(sub_mu);
    for (auto& [sid, sub] : subs) {
      if (sub.session_id == event.session_id) sub.handler(&event);
    }
  }

  // I/O thread.
  void QueueWrite(std::string message) {
    write_queue.push_back(std::move(message));
    if (!writing) WriteNext();
  }

  void WriteNext() {
    if (write_queue.empty()) {
      writing = false;
      return;
    }
    writing = true;
    ws.text(true);
    ws.async_write(asio::buffer(write_queue.front()), [this](beast::error_code ec, size_t) {
      write_queue.pop_front();
      if (ec) {
        writing = false;
        write_queue.clear();
        OnDisconnected(UnavailableError("browser connection closed: " + ec.message()));
        CloseSocket();
        return;
      }
      WriteNext();
    });
  }

  std::string Encode(int64_t id, std::string_view method, const Json& params,
                     std::string_view session_id) {
    Json message = {{"id", id}, {"method", method}};
    if (!params.is_null()) message["params"] = params;
    if (!session_id.empty()) message["sessionId"] = session_id;
    return message.dump(-1, ' ', false, Json::error_handler_t::replace);
  }
};

CdpClient::CdpClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

CdpClient::~CdpClient() {
  Close();
  if (impl_->thread.joinable()) impl_->thread.join();
}

Result<std::unique_ptr<CdpClient>> CdpClient::Connect(std::string_view ws_url,
                                                      SteadyTime deadline) {
  PA_ASSIGN_OR_RETURN(WsUrl url, ParseWsUrl(ws_url));
  auto impl = std::make_unique<Impl>();
  Impl& m = *impl;
  std::optional<Status> outcome;
  tcp::resolver resolver(m.ioc);
  auto remaining = [&] {
    return std::max(deadline - std::chrono::steady_clock::now(), SteadyTime::duration::zero());
  };
  resolver.async_resolve(
      url.host, url.port, [&](beast::error_code ec, tcp::resolver::results_type results) {
        if (ec) {
          outcome = UnavailableError("cannot resolve " + url.host + ": " + ec.message());
          return;
        }
        beast::get_lowest_layer(m.ws).expires_after(
            std::chrono::duration_cast<std::chrono::milliseconds>(remaining()));
        beast::get_lowest_layer(m.ws).async_connect(results, [&](beast::error_code ec,
                                                                 const tcp::endpoint&) {
          if (ec) {
            outcome =
                UnavailableError("cannot connect to " + std::string(ws_url) + ": " + ec.message());
            return;
          }
          m.ws.async_handshake(url.host + ":" + url.port, url.target, [&](beast::error_code ec) {
            outcome = ec ? UnavailableError("DevTools handshake with " + std::string(ws_url) +
                                            " failed: " + ec.message())
                         : Status::Ok();
          });
        });
      });
  m.ioc.run_until(deadline);
  if (!outcome) {
    return DeadlineExceededError("no DevTools connection to " + std::string(ws_url) +
                                 " before the deadline");
  }
  if (!outcome->ok()) return *outcome;

  beast::get_lowest_layer(m.ws).expires_never();
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = std::chrono::seconds(5);
  timeouts.idle_timeout = websocket::stream_base::none();
  timeouts.keep_alive_pings = false;
  m.ws.set_option(timeouts);
  m.ws.read_message_max(kMaxMessageBytes);
  m.ioc.restart();
  m.StartRead();
  m.thread = std::thread([&m] { m.ioc.run(); });
  return std::unique_ptr<CdpClient>(new CdpClient(std::move(impl)));
}

Result<Json> CdpClient::Call(std::string_view method, const Json& params,
                             std::string_view session_id, SteadyTime deadline) {
  Impl& m = *impl_;
  int64_t id = 0;
  {
    std::lock_guard lock(m.mu);
    if (!m.connected) {
      return UnavailableError("browser connection closed (" + std::string(method) + ")");
    }
    id = m.next_id++;
    m.pending.emplace(id, Impl::Pending{});
  }
  std::string message = m.Encode(id, method, params, session_id);
  asio::post(m.ioc,
             [&m, message = std::move(message)]() mutable { m.QueueWrite(std::move(message)); });
  std::unique_lock lock(m.mu);
  auto it = m.pending.find(id);
  m.cv.wait_until(lock, deadline, [&] { return it->second.done; });
  Impl::Pending p = std::move(it->second);
  m.pending.erase(it);
  if (!p.done) {
    return DeadlineExceededError("browser did not answer " + std::string(method) + " in time");
  }
  if (!p.status.ok()) return p.status.WithContext(method);
  return std::move(p.result);
}

void CdpClient::Send(std::string_view method, const Json& params, std::string_view session_id) {
  Impl& m = *impl_;
  int64_t id = 0;
  {
    std::lock_guard lock(m.mu);
    if (!m.connected) return;
    id = m.next_id++;  // not in `pending`: the answer is dropped
  }
  std::string message = m.Encode(id, method, params, session_id);
  asio::post(m.ioc,
             [&m, message = std::move(message)]() mutable { m.QueueWrite(std::move(message)); });
}

CdpClient::Subscription CdpClient::Subscribe(std::string session_id, EventHandler handler) {
  Impl& m = *impl_;
  std::lock_guard lock(m.sub_mu);
  uint64_t id = m.next_sub_id++;
  if (m.subscribers_told || !connected()) handler(nullptr);
  m.subs.emplace(id, Impl::Sub{std::move(session_id), std::move(handler)});
  return Subscription(this, id);
}

void CdpClient::Unsubscribe(uint64_t id) {
  std::lock_guard lock(impl_->sub_mu);
  impl_->subs.erase(id);
}

bool CdpClient::connected() const {
  std::lock_guard lock(impl_->mu);
  return impl_->connected;
}

void CdpClient::Close() {
  Impl& m = *impl_;
  m.MarkClosed(UnavailableError("browser connection closed by the robot"));
  asio::post(m.ioc, [&m] { m.CloseSocket(); });
}

CdpClient::Subscription::Subscription(Subscription&& other) noexcept
    : client_(std::exchange(other.client_, nullptr)), id_(other.id_) {}

CdpClient::Subscription& CdpClient::Subscription::operator=(Subscription&& other) noexcept {
  if (this != &other) {
    if (client_ != nullptr) client_->Unsubscribe(id_);
    client_ = std::exchange(other.client_, nullptr);
    id_ = other.id_;
  }
  return *this;
}

CdpClient::Subscription::~Subscription() {
  if (client_ != nullptr) client_->Unsubscribe(id_);
}

// ---- CdpEventQueue ---------------------------------------------------------------------------

CdpEventQueue::CdpEventQueue(CdpClient& client, std::string session_id,
                             std::vector<std::string> methods)
    : state_(std::make_shared<State>()) {
  auto wanted = std::make_shared<std::set<std::string>>(methods.begin(), methods.end());
  subscription_ =
      client.Subscribe(std::move(session_id), [state = state_, wanted](const CdpEvent* event) {
        std::lock_guard lock(state->mu);
        if (event == nullptr) {
          state->closed = true;
        } else if (wanted->contains(event->method)) {
          state->events.push_back(*event);
        } else {
          return;
        }
        state->cv.notify_all();
      });
}

Result<CdpEvent> CdpEventQueue::Next(SteadyTime deadline) {
  return NextMatching([](const CdpEvent&) { return true; }, deadline);
}

Result<CdpEvent> CdpEventQueue::NextMatching(const std::function<bool(const CdpEvent&)>& match,
                                             SteadyTime deadline) {
  std::unique_lock lock(state_->mu);
  while (true) {
    while (!state_->events.empty()) {
      CdpEvent event = std::move(state_->events.front());
      state_->events.pop_front();
      if (match(event)) return event;
    }
    if (state_->closed) return UnavailableError("browser connection closed");
    if (state_->cv.wait_until(lock, deadline) == std::cv_status::timeout &&
        state_->events.empty()) {
      if (state_->closed) return UnavailableError("browser connection closed");
      return DeadlineExceededError("event did not arrive in time");
    }
  }
}

}  // namespace pa::robot::browser
