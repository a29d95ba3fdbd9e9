// ServerApi: the robot's calls to the PrimoART gateway (outbound only) — register, heartbeat,
// configuration poll with If-None-Match, result upload — with its robot token.
//
//   ServerApi api({.url = "https://primoart.example", .token = token}, http);
//   PA_ASSIGN_OR_RETURN(auto reg, api.Register({{"name", "msk-01"}, {"location", "msk"}}));
//   PA_ASSIGN_OR_RETURN(auto cfg, api.Config(reg.robot_id, etag));   // cfg.changed == false: 304
//
// Errors: a transport failure is the HttpClient's (kUnavailable, kDeadlineExceeded); an answer
// other than the expected one is kUnavailable for 429/5xx (worth retrying) and
// kPermissionDenied / kInvalidArgument / kNotFound for the 4xx (the message quotes the
// server's). Upload returns every answer as it is: the uploader decides per status.
// Thread-safety: every method may be called from any thread.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "base/http_client.h"
#include "base/json.h"
#include "base/status.h"

namespace pa::robot {

struct ServerOptions {
  std::string url;  // the gateway, e.g. http://127.0.0.1:8080 (no trailing path)
  std::string token;
  std::chrono::milliseconds timeout{30000};
  bool verify_tls = true;
};

class ServerApi {
 public:
  ServerApi(ServerOptions options, HttpClient& http);

  struct Registration {
    std::string robot_id;
    int heartbeat_interval_s = 30;
  };
  // POST /api/v1/robots/register with name, location, labels, version, host.
  Result<Registration> Register(const Json& info);
  // POST /api/v1/robots/{id}/heartbeat.
  Status Heartbeat(const std::string& robot_id, const Json& body);

  struct ConfigPoll {
    bool changed = false;  // false: 304, nothing new
    std::string etag;
    Json config;  // when changed
  };
  // GET /api/v1/robots/{id}/config with If-None-Match: `etag` (when not empty).
  Result<ConfigPoll> Config(const std::string& robot_id, const std::string& etag);

  struct Answer {
    int status = 0;
    std::optional<int> retry_after_s;
    std::string body;
  };
  // POST /api/v1/transactions/results/upload.
  Result<Answer> Upload(std::string body, const std::string& content_type);

  const ServerOptions& options() const { return options_; }

 private:
  Result<HttpResponse> Call(const std::string& method, const std::string& path, std::string body,
                            const std::string& content_type, const std::string& if_none_match);
  Status Expect(const HttpResponse& r, std::string_view what) const;

  const ServerOptions options_;
  HttpClient& http_;
};

}  // namespace pa::robot
