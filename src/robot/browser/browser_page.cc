#include "robot/browser/browser_page.h"

#include <array>
#include <utility>

#include "base/digest.h"

namespace pa::robot::browser {
namespace {

bool IsMainFrameEvent(const Json& params, const std::string& main_frame) {
  auto it = params.find("frameId");
  return it != params.end() && it->is_string() && *it == main_frame;
}

std::string StringField(const Json& object, std::string_view key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Chromium's messages when the document an evaluation ran in went away.
bool IsContextGone(const Status& s) {
  const std::string& m = s.message();
  return m.find("context was destroyed") != std::string::npos ||
         m.find("Cannot find context") != std::string::npos ||
         m.find("navigated or closed") != std::string::npos;
}

}  // namespace

BrowserPage::BrowserPage(std::shared_ptr<CdpClient> cdp, std::string context_id)
    : cdp_(std::move(cdp)), context_id_(std::move(context_id)) {}

BrowserPage::~BrowserPage() = default;

Result<std::unique_ptr<BrowserPage>> BrowserPage::Open(std::shared_ptr<CdpClient> cdp,
                                                       const std::string& init_script,
                                                       SteadyTime deadline) {
  PA_ASSIGN_OR_RETURN(Json context,
                      cdp->Call("Target.createBrowserContext", Json::object(), "", deadline));
  std::unique_ptr<BrowserPage> page(new BrowserPage(cdp, StringField(context, "browserContextId")));
  auto setup = [&]() -> Status {
    PA_ASSIGN_OR_RETURN(
        Json target,
        cdp->Call("Target.createTarget",
                  {{"url", "about:blank"}, {"browserContextId", page->context_id_}}, "", deadline));
    page->target_id_ = StringField(target, "targetId");
    PA_ASSIGN_OR_RETURN(
        Json attached,
        cdp->Call("Target.attachToTarget", {{"targetId", page->target_id_}, {"flatten", true}}, "",
                  deadline));
    page->session_id_ = StringField(attached, "sessionId");
    BrowserPage* p = page.get();
    page->subscription_ =
        cdp->Subscribe(page->session_id_, [p](const CdpEvent* event) { p->OnEvent(event); });
    PA_RETURN_IF_ERROR(page->PageCall("Page.enable", Json::object(), deadline).status());
    PA_RETURN_IF_ERROR(
        page->PageCall("Page.setLifecycleEventsEnabled", {{"enabled", true}}, deadline).status());
    PA_ASSIGN_OR_RETURN(Json tree, page->PageCall("Page.getFrameTree", Json::object(), deadline));
    {
      std::lock_guard lock(page->state_.mu);
      const Json& frame = tree["frameTree"]["frame"];
      page->state_.main_frame = StringField(frame, "id");
      page->state_.url = StringField(frame, "url");
    }
    if (!init_script.empty()) {
      PA_RETURN_IF_ERROR(page->PageCall("Page.addScriptToEvaluateOnNewDocument",
                                        {{"source", init_script}}, deadline)
                             .status());
    }
    return Status::Ok();
  };
  Status s = setup();
  if (!s.ok()) {
    (void)page->Close(deadline);
    return s.WithContext("cannot open a browser page");
  }
  return page;
}

void BrowserPage::OnEvent(const CdpEvent* event) {
  std::lock_guard lock(state_.mu);
  if (event == nullptr) {
    state_.disconnected = true;
  } else if (event->method == "Page.lifecycleEvent") {
    if (IsMainFrameEvent(event->params, state_.main_frame) &&
        StringField(event->params, "name") == "load") {
      state_.loaded.insert(StringField(event->params, "loaderId"));
    }
  } else if (event->method == "Page.frameRequestedNavigation") {
    if (!IsMainFrameEvent(event->params, state_.main_frame)) return;
    state_.starts++;
    state_.requested = true;
  } else if (event->method == "Page.frameStartedLoading") {
    if (!IsMainFrameEvent(event->params, state_.main_frame)) return;
    state_.starts++;
    state_.loading = true;
    state_.requested = false;
  } else if (event->method == "Page.frameStoppedLoading" ||
             event->method == "Page.frameClearedScheduledNavigation") {
    if (!IsMainFrameEvent(event->params, state_.main_frame)) return;
    state_.requested = false;
    if (event->method == "Page.frameStoppedLoading") state_.loading = false;
  } else if (event->method == "Page.frameNavigated") {
    const Json& frame = event->params["frame"];
    if (frame.contains("parentId")) return;
    state_.requested = false;
    state_.main_frame = StringField(frame, "id");
    state_.url = StringField(frame, "url");
    state_.navigations++;
  } else if (event->method == "Page.navigatedWithinDocument") {
    if (IsMainFrameEvent(event->params, state_.main_frame)) {
      state_.url = StringField(event->params, "url");
    }
  } else if (event->method == "Page.javascriptDialogOpening") {
    // alert/confirm/prompt would block the page until a person answers: answer "OK".
    cdp_->Send("Page.handleJavaScriptDialog", {{"accept", true}}, session_id_);
    return;
  } else if (event->method == "Inspector.targetCrashed") {
    state_.crashed = true;
  } else if (event->method == "Inspector.detached") {
    state_.disconnected = true;
  } else {
    return;
  }
  state_.cv.notify_all();
}

Result<Json> BrowserPage::PageCall(std::string_view method, const Json& params,
                                   SteadyTime deadline) {
  if (crashed()) return AbortedError("the page crashed");
  return cdp_->Call(method, params, session_id_, deadline);
}

Status BrowserPage::WaitFor(const std::function<bool()>& done, SteadyTime deadline,
                            std::string_view what) {
  std::unique_lock lock(state_.mu);
  bool ok = state_.cv.wait_until(lock, deadline,
                                 [&] { return done() || state_.crashed || state_.disconnected; });
  if (state_.crashed) return AbortedError("the page crashed (renderer process gone)");
  if (state_.disconnected && !done()) return UnavailableError("browser connection lost");
  if (!ok) return DeadlineExceededError(std::string(what) + " did not happen in time");
  return Status::Ok();
}

Status BrowserPage::Close(SteadyTime deadline) {
  if (closed_) return Status::Ok();
  closed_ = true;
  if (context_id_.empty()) return Status::Ok();
  return cdp_
      ->Call("Target.disposeBrowserContext", {{"browserContextId", context_id_}}, "", deadline)
      .status();
}

Status BrowserPage::Navigate(const std::string& url, SteadyTime deadline, std::string* net_error) {
  net_error->clear();
  PA_ASSIGN_OR_RETURN(Json nav, PageCall("Page.navigate", {{"url", url}}, deadline));
  std::string error_text = StringField(nav, "errorText");
  if (!error_text.empty()) {
    *net_error = error_text;
    return UnavailableError("navigation to " + url + " failed: " + error_text);
  }
  const std::string loader = StringField(nav, "loaderId");
  if (loader.empty()) return Status::Ok();  // same-document navigation: nothing to load
  return WaitFor([&] { return state_.loaded.contains(loader); }, deadline,
                 "the load event of " + url);
}

int64_t BrowserPage::NavigationMark() const {
  std::lock_guard lock(state_.mu);
  return state_.starts;
}

Status BrowserPage::WaitForNavigationToSettle(int64_t mark, std::chrono::milliseconds grace,
                                              SteadyTime deadline) {
  {
    std::unique_lock lock(state_.mu);
    const SteadyTime grace_end = std::min(deadline, std::chrono::steady_clock::now() + grace);
    bool started = state_.cv.wait_until(lock, grace_end, [&] {
      return state_.starts > mark || state_.loading || state_.requested || state_.crashed ||
             state_.disconnected;
    });
    if (!started) return Status::Ok();
  }
  return WaitFor([&] { return !state_.loading && !state_.requested; }, deadline,
                 "the navigation the action started");
}

Result<Json> BrowserPage::Evaluate(std::string_view expression, SteadyTime deadline,
                                   std::optional<std::chrono::milliseconds> script_timeout) {
  Json params = {{"expression", expression},
                 {"returnByValue", true},
                 {"awaitPromise", true},
                 {"userGesture", true}};
  if (script_timeout) params["timeout"] = script_timeout->count();
  auto r = PageCall("Runtime.evaluate", params, deadline);
  if (!r.ok()) {
    if (IsContextGone(r.status())) return AbortedError("the page navigated during the script");
    return r.status();
  }
  if (auto ex = r->find("exceptionDetails"); ex != r->end()) {
    std::string text = StringField((*ex)["exception"], "description");
    if (text.empty()) text = StringField(*ex, "text");
    if (text.find("terminated") != std::string::npos) {
      return DeadlineExceededError("the script did not finish in time");
    }
    if (text.find("context was destroyed") != std::string::npos) {
      return AbortedError("the page navigated during the script");
    }
    return InvalidArgumentError(text);
  }
  const Json& result = (*r)["result"];
  if (auto v = result.find("value"); v != result.end()) return *v;
  if (auto u = result.find("unserializableValue"); u != result.end()) return *u;
  return Json();
}

Status BrowserPage::Click(double x, double y, SteadyTime deadline) {
  const std::array<Json, 3> events = {
      Json{{"type", "mouseMoved"}, {"x", x}, {"y", y}},
      Json{{"type", "mousePressed"},
           {"x", x},
           {"y", y},
           {"button", "left"},
           {"buttons", 1},
           {"clickCount", 1}},
      Json{{"type", "mouseReleased"},
           {"x", x},
           {"y", y},
           {"button", "left"},
           {"buttons", 0},
           {"clickCount", 1}},
  };
  for (const Json& e : events) {
    PA_RETURN_IF_ERROR(PageCall("Input.dispatchMouseEvent", e, deadline).status());
  }
  return Status::Ok();
}

Status BrowserPage::InsertText(std::string_view text, SteadyTime deadline) {
  return PageCall("Input.insertText", {{"text", text}}, deadline).status();
}

Status BrowserPage::DispatchKey(const Json& params, SteadyTime deadline) {
  return PageCall("Input.dispatchKeyEvent", params, deadline).status();
}

Result<std::string> BrowserPage::Screenshot(SteadyTime deadline) {
  PA_ASSIGN_OR_RETURN(Json shot, PageCall("Page.captureScreenshot", {{"format", "png"}}, deadline));
  std::optional<std::string> png = Base64Decode(StringField(shot, "data"));
  if (!png) return InternalError("the browser sent a screenshot that is not valid base64");
  return std::move(*png);
}

void BrowserPage::TerminateScripts() {
  cdp_->Send("Runtime.terminateExecution", Json::object(), session_id_);
}

Result<std::string> BrowserPage::Url(SteadyTime deadline) {
  auto info = cdp_->Call("Target.getTargetInfo", {{"targetId", target_id_}}, "", deadline);
  if (info.ok()) return StringField((*info)["targetInfo"], "url");
  std::lock_guard lock(state_.mu);
  if (state_.url.empty()) return info.status();
  return state_.url;
}

bool BrowserPage::crashed() const {
  std::lock_guard lock(state_.mu);
  return state_.crashed;
}

int BrowserPage::navigations() const {
  std::lock_guard lock(state_.mu);
  return state_.navigations;
}

}  // namespace pa::robot::browser
