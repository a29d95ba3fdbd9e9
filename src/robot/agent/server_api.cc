#include "robot/agent/server_api.h"

#include <charconv>

namespace pa::robot {
namespace {

std::optional<int> RetryAfter(const HttpResponse& r) {
  const auto v = r.Header("retry-after");
  if (!v) return std::nullopt;
  int s = 0;
  const auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), s);
  if (ec != std::errc() || s < 0) return std::nullopt;
  return s;
}

// The server's own words, for messages: its `message` field or the start of the body.
std::string Said(const HttpResponse& r) {
  std::string error;
  if (auto doc = ParseJson(r.body, &error); doc && doc->is_object()) {
    std::string out = doc->value("message", "");
    if (auto d = doc->find("details"); d != doc->end() && d->is_array()) out += " " + d->dump();
    if (!out.empty()) return out;
  }
  return r.body.substr(0, 300);
}

ServerOptions WithoutTrailingSlash(ServerOptions o) {
  while (!o.url.empty() && o.url.back() == '/') o.url.pop_back();
  return o;
}

}  // namespace

ServerApi::ServerApi(ServerOptions options, HttpClient& http)
    : options_(WithoutTrailingSlash(std::move(options))), http_(http) {}

Result<HttpResponse> ServerApi::Call(const std::string& method, const std::string& path,
                                     std::string body, const std::string& content_type,
                                     const std::string& if_none_match) {
  HttpRequest req;
  req.method = method;
  req.url = options_.url + path;
  req.headers.push_back({"Authorization", "Bearer " + options_.token});
  req.headers.push_back({"User-Agent", "primoart-robot"});
  if (!content_type.empty()) req.headers.push_back({"Content-Type", content_type});
  if (!if_none_match.empty()) req.headers.push_back({"If-None-Match", if_none_match});
  req.body = std::move(body);
  req.timeout = options_.timeout;
  req.verify_tls = options_.verify_tls;
  return http_.Do(req);
}

Status ServerApi::Expect(const HttpResponse& r, std::string_view what) const {
  if (r.status >= 200 && r.status < 300) return Status::Ok();
  std::string msg = std::string(what) + ": HTTP " + std::to_string(r.status) + ": " + Said(r);
  if (r.status == 401 || r.status == 403) return PermissionDeniedError(std::move(msg));
  if (r.status == 404) return NotFoundError(std::move(msg));
  if (r.status == 429 || r.status >= 500) return UnavailableError(std::move(msg));
  return InvalidArgumentError(std::move(msg));
}

Result<ServerApi::Registration> ServerApi::Register(const Json& info) {
  PA_ASSIGN_OR_RETURN(HttpResponse r,
                      Call("POST", "/api/v1/robots/register", info.dump(), "application/json", ""));
  PA_RETURN_IF_ERROR(Expect(r, "register"));
  std::string error;
  const auto doc = ParseJson(r.body, &error);
  if (!doc || !doc->is_object() || !(*doc)["id"].is_string()) {
    return UnavailableError("register: the server's answer is not a registration: " +
                            r.body.substr(0, 200));
  }
  Registration reg;
  reg.robot_id = (*doc)["id"].get<std::string>();
  reg.heartbeat_interval_s = doc->value("heartbeat_interval_s", 30);
  return reg;
}

Status ServerApi::Heartbeat(const std::string& robot_id, const Json& body) {
  PA_ASSIGN_OR_RETURN(HttpResponse r, Call("POST", "/api/v1/robots/" + robot_id + "/heartbeat",
                                           body.dump(), "application/json", ""));
  return Expect(r, "heartbeat");
}

Result<ServerApi::ConfigPoll> ServerApi::Config(const std::string& robot_id,
                                                const std::string& etag) {
  PA_ASSIGN_OR_RETURN(HttpResponse r,
                      Call("GET", "/api/v1/robots/" + robot_id + "/config", "", "", etag));
  ConfigPoll poll;
  if (r.status == 304) {
    poll.etag = etag;
    return poll;
  }
  PA_RETURN_IF_ERROR(Expect(r, "configuration"));
  std::string error;
  auto doc = ParseJson(r.body, &error);
  if (!doc || !doc->is_object()) {
    return UnavailableError("configuration: not a JSON object: " + error);
  }
  poll.changed = true;
  poll.etag = r.Header("etag").value_or("");
  poll.config = std::move(*doc);
  return poll;
}

Result<ServerApi::Answer> ServerApi::Upload(std::string body, const std::string& content_type) {
  PA_ASSIGN_OR_RETURN(HttpResponse r, Call("POST", "/api/v1/transactions/results/upload",
                                           std::move(body), content_type, ""));
  return Answer{r.status, RetryAfter(r), std::move(r.body)};
}

}  // namespace pa::robot
