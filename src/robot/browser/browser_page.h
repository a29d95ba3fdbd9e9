// BrowserPage: one page in its own, fresh browser context (no cookies, storage or cache shared
// with any other run), and the primitive operations the runner's actions are made of:
// navigate-and-wait-for-load, evaluate, mouse and keyboard input, screenshots.
//
//   PA_ASSIGN_OR_RETURN(auto page, BrowserPage::Open(cdp, deadline));
//   PA_RETURN_IF_ERROR(page->Navigate("http://shop/", deadline, &net_error));
//   PA_ASSIGN_OR_RETURN(Json title, page->Evaluate("document.title", deadline));
//   Status closed = page->Close(Deadline(5s));   // disposes the context; check it
//
// It follows the main frame through CDP events (navigation requested, committed, load, stopped
// loading, renderer crash), so that an action can wait until a navigation it started has
// finished. Every operation takes a deadline and fails with kDeadlineExceeded when it passes
// (a hung page), kUnavailable when the browser connection is lost, kAborted when the renderer
// crashed or the page's document was replaced while the call ran (callers that poll retry).
//
// Thread-safety: one thread drives a page; the event bookkeeping is internally synchronised.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "base/json.h"
#include "base/status.h"
#include "robot/browser/cdp_client.h"

namespace pa::robot::browser {

class BrowserPage {
 public:
  // Creates a browser context and an about:blank page in it, attaches a flattened session,
  // enables the events it follows and injects `init_script` (may be empty) into every document.
  static Result<std::unique_ptr<BrowserPage>> Open(std::shared_ptr<CdpClient> cdp,
                                                   const std::string& init_script,
                                                   SteadyTime deadline);
  // Unsubscribes; does not dispose the context (call Close(), which can fail).
  ~BrowserPage();
  BrowserPage(const BrowserPage&) = delete;
  BrowserPage& operator=(const BrowserPage&) = delete;

  // Disposes the browser context and with it the page. An error means the browser did not
  // comply in time: treat it as unhealthy.
  Status Close(SteadyTime deadline);

  // Navigates the main frame to `url` and waits for its load event. A navigation the network
  // refused (DNS, connection, TLS, aborted) returns kUnavailable and sets `*net_error` to
  // Chromium's code ("net::ERR_CONNECTION_REFUSED"); other errors leave it empty.
  Status Navigate(const std::string& url, SteadyTime deadline, std::string* net_error);

  // A mark to take before an input action, for WaitForNavigationToSettle.
  int64_t NavigationMark() const;

  // When the main frame is loading, or a navigation began since `mark` or begins within `grace`
  // (a click that submits a form navigates a moment later), waits until it has stopped loading.
  Status WaitForNavigationToSettle(int64_t mark, std::chrono::milliseconds grace,
                                   SteadyTime deadline);

  // Evaluates `expression` in the page (promises awaited) and returns its value as JSON
  // (undefined → null). A thrown exception is kInvalidArgument with its description; a
  // navigation that replaced the document meanwhile is kAborted. With `script_timeout`, V8
  // stops the script itself after that long.
  Result<Json> Evaluate(std::string_view expression, SteadyTime deadline,
                        std::optional<std::chrono::milliseconds> script_timeout = std::nullopt);

  // A left click at viewport CSS pixel (x, y): move, press, release.
  Status Click(double x, double y, SteadyTime deadline);
  // Types `text` into the focused element as one input (IME-style insertion).
  Status InsertText(std::string_view text, SteadyTime deadline);
  // Sends Input.dispatchKeyEvent with `params`.
  Status DispatchKey(const Json& params, SteadyTime deadline);

  // The viewport as PNG bytes.
  Result<std::string> Screenshot(SteadyTime deadline);

  // Interrupts the script running in the page (an endless loop), without waiting.
  void TerminateScripts();

  // The main frame's URL as the browser knows it (works while the renderer is busy).
  Result<std::string> Url(SteadyTime deadline);

  bool crashed() const;
  int navigations() const;  // main-frame documents committed so far

 private:
  struct State {
    mutable std::mutex mu;
    std::condition_variable cv;
    std::string main_frame;
    std::string url;
    bool loading = false;
    bool requested = false;  // a navigation was requested and has not started loading yet
    int navigations = 0;
    int64_t starts = 0;            // navigations requested or started in the main frame
    std::set<std::string> loaded;  // loader ids whose load event fired
    bool crashed = false;
    bool disconnected = false;
  };

  BrowserPage(std::shared_ptr<CdpClient> cdp, std::string context_id);
  void OnEvent(const CdpEvent* event);
  Result<Json> PageCall(std::string_view method, const Json& params, SteadyTime deadline);
  // Waits until `done` holds under the state lock; kAborted on a crash, kUnavailable on
  // disconnection, kDeadlineExceeded on the deadline with `what` in the message.
  Status WaitFor(const std::function<bool()>& done, SteadyTime deadline, std::string_view what);

  std::shared_ptr<CdpClient> cdp_;
  std::string context_id_;
  std::string target_id_;
  std::string session_id_;
  bool closed_ = false;
  State state_;
  CdpClient::Subscription subscription_;  // last: goes first, before state_
};

}  // namespace pa::robot::browser
