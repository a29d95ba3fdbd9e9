// The `gateway` role: PrimoART's HTTP entry point. It owns the Router every other role registers
// its routes with and the HttpServer that serves them, and answers the operational endpoints:
//   GET /healthz   200 while the process lives (public)
//   GET /readyz    200 when started and every store answers; 503 naming the failing store (public)
//   GET /metrics   Prometheus text exposition of the process's own metrics (public, or read
//                  permission with metrics_require_auth)
//   GET /api/v1/routes   the route table with each route's access rule (admin)
// Its BeginShutdown() drains HTTP (stop accepting, finish in-flight requests) before any other
// module stops.
#pragma once

#include <memory>

#include "base/status.h"
#include "core/module.h"
#include "core/services.h"

namespace pa::gateway {

Result<std::unique_ptr<core::Module>> NewGatewayRole(core::Services& services);

}  // namespace pa::gateway
