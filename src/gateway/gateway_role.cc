#include "gateway/gateway_role.h"

#include <thread>

#include "base/logging.h"
#include "core/module_manager.h"
#include "gateway/router.h"
#include "gateway/server.h"

namespace pa::gateway {
namespace {

class GatewayRole final : public core::Module {
 public:
  explicit GatewayRole(core::Services& s) : s_(s) {
    const core::Config& cfg = s.cfg();
    ServerOptions options;
    options.listen = cfg.listen;
    options.threads = cfg.http_threads;
    options.max_body_bytes = cfg.http_max_body;
    options.read_timeout = cfg.http_read_timeout;
    options.idle_timeout = cfg.http_idle_timeout;
    options.shutdown_grace = cfg.http_shutdown_grace;
    options.cors.allowed_origins = cfg.http_cors_origins;
    options.cors.allow_credentials = cfg.http_cors_credentials;
    server_ = std::make_unique<HttpServer>(options, router_, *s.metrics, nullptr);
    s.router = &router_;
    s.http_server = server_.get();
  }

  Status RegisterRoutes() {
    PA_RETURN_IF_ERROR(router_.Add(
        Method::kGet, "/healthz", Access::Public(),
        [](Request&) { return Response::Text(200, "ok\n"); }, {}, "gateway"));
    PA_RETURN_IF_ERROR(router_.Add(
        Method::kGet, "/readyz", Access::Public(), [this](Request&) { return Ready(); }, {},
        "gateway"));
    PA_RETURN_IF_ERROR(router_.Add(
        Method::kGet, "/metrics", s_.cfg().metrics_require_auth ? Access::Read() : Access::Public(),
        [this](Request&) {
          return Response::Text(200, s_.metrics->Expose(),
                                "text/plain; version=0.0.4; charset=utf-8");
        },
        {}, "gateway"));
    PA_RETURN_IF_ERROR(router_.Add(
        Method::kGet, "/api/v1/routes", Access::Admin(), [this](Request&) { return Routes(); }, {},
        "gateway"));
    return Status::Ok();
  }

  Status Start() override {
    return server_->Start();  // logs the address it listens on
  }

  void BeginShutdown() override { server_->Shutdown(); }
  void Stop() override { server_->Shutdown(); }

 private:
  Response Ready() {
    if (!s_.modules->started()) {
      return Response::Error(503, "not_ready", "PrimoART is starting or shutting down");
    }
    Json stores = Json::object();
    std::string failing;
    for (const auto& m : s_.modules->States()) {
      if (!m.store) continue;
      stores[m.name] = m.health.ok ? "ok" : m.health.message;
      if (!m.health.ok) failing += (failing.empty() ? "" : "; ") + m.name + ": " + m.health.message;
    }
    if (!failing.empty()) {
      return Response::Json(503,
                            {{"error", "not_ready"}, {"message", failing}, {"stores", stores}});
    }
    return Response::Json(200, {{"status", "ready"}, {"stores", stores}});
  }

  // The route table with each route's access rule: what the authorisation test walks, and a map
  // of the API for operators.
  Response Routes() {
    Json items = Json::array();
    for (const auto& r : router_.routes()) {
      items.push_back({{"method", MethodName(r->method)},
                       {"path", r->pattern},
                       {"access", r->access.ToString()},
                       {"robot_param", r->access.robot_param.empty() ? Json(nullptr)
                                                                     : Json(r->access.robot_param)},
                       {"role", r->owner}});
    }
    return Response::Json(200, {{"routes", items}});
  }

  core::Services& s_;
  Router router_;
  std::unique_ptr<HttpServer> server_;
};

}  // namespace

Result<std::unique_ptr<core::Module>> NewGatewayRole(core::Services& services) {
  auto role = std::make_unique<GatewayRole>(services);
  PA_RETURN_IF_ERROR(role->RegisterRoutes());
  return std::unique_ptr<core::Module>(std::move(role));
}

}  // namespace pa::gateway
