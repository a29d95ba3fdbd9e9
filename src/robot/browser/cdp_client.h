// CdpClient: a Chrome DevTools Protocol client over one WebSocket to a browser on this host.
//
// Commands are JSON messages with an id; the browser answers each id once and sends events in
// between. With flattened sessions (Target.attachToTarget {"flatten": true}) every page's traffic
// shares the browser connection and carries its `sessionId`; pass that id to Call() and to
// Subscribe() to talk to one page.
//
//   PA_ASSIGN_OR_RETURN(auto cdp, CdpClient::Connect(ws_url, Deadline(5s)));
//   PA_ASSIGN_OR_RETURN(Json r, cdp->Call("Target.createTarget", {{"url", "about:blank"}}, "",
//                                          Deadline(5s)));
//   CdpEventQueue loads(*cdp, session_id, {"Page.loadEventFired"});
//   PA_RETURN_IF_ERROR(loads.Next(Deadline(30s)).status());
//
// Robustness is the point: a dead browser or a hung page never hangs the caller. Every wait has
// a deadline (kDeadlineExceeded when it passes); when the connection closes, pending calls and
// event waits fail at once with kUnavailable, and so does every later call.
//
// Thread-safety: Call, Send, Subscribe and the accessors may be called from any thread; one
// internal I/O thread reads and writes the socket and runs event handlers.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/json.h"
#include "base/status.h"

namespace pa::robot::browser {

using SteadyTime = std::chrono::steady_clock::time_point;

// The point in time `timeout` from now.
inline SteadyTime Deadline(std::chrono::milliseconds timeout) {
  return std::chrono::steady_clock::now() + timeout;
}

struct CdpEvent {
  std::string method;      // "Page.loadEventFired"
  std::string session_id;  // "" for browser-level events
  Json params;             // an object (empty when the message had none)
};

class CdpClient {
 public:
  // Runs on the I/O thread for each event of the subscribed session (or disconnection, with
  // `event` null). It must not block and must not Call() (it may Send()).
  using EventHandler = std::function<void(const CdpEvent* event)>;

  // An active subscription; unsubscribes when destroyed (after which its handler is never
  // called again). Must not be destroyed inside its own handler.
  class Subscription {
   public:
    Subscription() = default;
    Subscription(Subscription&& other) noexcept;
    Subscription& operator=(Subscription&& other) noexcept;
    ~Subscription();

   private:
    friend class CdpClient;
    Subscription(CdpClient* client, uint64_t id) : client_(client), id_(id) {}
    CdpClient* client_ = nullptr;
    uint64_t id_ = 0;
  };

  // Connects to `ws_url` ("ws://127.0.0.1:PORT/devtools/browser/ID"; plain TCP only). Fails with
  // kInvalidArgument for another URL, kDeadlineExceeded when the handshake is not done by
  // `deadline`, kUnavailable when the connection is refused.
  static Result<std::unique_ptr<CdpClient>> Connect(std::string_view ws_url, SteadyTime deadline);

  // Closes the connection (without waiting for the browser) and joins the I/O thread. Every
  // Subscription must be destroyed before the client.
  ~CdpClient();
  CdpClient(const CdpClient&) = delete;
  CdpClient& operator=(const CdpClient&) = delete;

  // Sends `method` with `params` (an object, or null for none) to the browser (`session_id`
  // empty) or a page session, and waits for the answer until `deadline`. Returns the `result`
  // object; kDeadlineExceeded on timeout (a late answer is dropped), kUnavailable when the
  // connection is or becomes closed, kInternal with the browser's message for a protocol error.
  Result<Json> Call(std::string_view method, const Json& params, std::string_view session_id,
                    SteadyTime deadline);

  // Sends a command without waiting for its answer (which is dropped). Safe from handlers.
  void Send(std::string_view method, const Json& params, std::string_view session_id);

  // Calls `handler` for every later event whose session id is `session_id` ("" = browser-level).
  Subscription Subscribe(std::string session_id, EventHandler handler);

  // False once the connection has closed (browser exit, crash, Close()).
  bool connected() const;

  // Closes the socket; pending and later calls fail with kUnavailable. Idempotent.
  void Close();

 private:
  struct Impl;
  explicit CdpClient(std::unique_ptr<Impl> impl);
  void Unsubscribe(uint64_t id);

  std::unique_ptr<Impl> impl_;
};

// Collects the events named in `methods` of one session from its construction on, for a caller
// that waits for them in order. Thread-safety: Next() from one thread at a time.
class CdpEventQueue {
 public:
  CdpEventQueue(CdpClient& client, std::string session_id, std::vector<std::string> methods);

  // The oldest unread event; kDeadlineExceeded when none arrives by `deadline`, kUnavailable
  // when the connection has closed and nothing is left to read.
  Result<CdpEvent> Next(SteadyTime deadline);

  // The oldest unread event for which `match` is true (earlier ones are dropped); errors as Next.
  Result<CdpEvent> NextMatching(const std::function<bool(const CdpEvent&)>& match,
                                SteadyTime deadline);

 private:
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<CdpEvent> events;
    bool closed = false;
  };
  std::shared_ptr<State> state_;
  CdpClient::Subscription subscription_;  // last: unsubscribes before state_ goes
};

}  // namespace pa::robot::browser
