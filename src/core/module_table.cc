#include "core/module_table.h"

#include "auth/auth_role.h"
#include "auth/auth_schema.h"
#include "core/core_role.h"
#include "core/core_schema.h"
#include "core/store_modules.h"
#include "gateway/gateway_role.h"
#include "metrics/metrics_role.h"
#include "synth/synth_role.h"
#include "synth/synth_schema.h"

namespace pa::core {

std::vector<ModuleDef> ModuleTable() {
  using K = ModuleKind;
  // clang-format off
  // name        dependencies                          kind         description / init
  return {
      {"gateway",   {},                                            K::kRole,     "HTTP server and router: /healthz, /readyz, /metrics; every API goes through it", gateway::NewGatewayRole},
      {"database",  {},                                            K::kInternal, "relational store (database_url); applies every component's migrations", NewDatabaseModule},
      {"artifacts", {},                                            K::kInternal, "artifact store (artifacts_url)", NewArtifactsModule},
      {"metricstore", {},                                          K::kInternal, "metric store (metrics_url): embedded engine or VictoriaMetrics", NewMetricStoreModule},
      {"authn",     {"gateway", "database"},                       K::kInternal, "verifies API tokens and sessions for the gateway", auth::NewAuthnModule},
      {"auth",      {"gateway", "database", "authn"},              K::kRole,     "login, users, API tokens, audit log", auth::NewAuthRole},
      {"metrics",   {"gateway", "metricstore", "authn"},           K::kRole,     "Prometheus-compatible query API and metric import", metrics::NewMetricsRole},
      {"core",      {"gateway", "database", "artifacts", "metricstore", "authn"}, K::kRole, "status, runtime settings, instance registry", NewCoreRole},
      {"synth",     {"gateway", "database", "artifacts", "metricstore", "authn"}, K::kRole, "transactions, robots, result upload and queries", synth::NewSynthRole},
      {"all",       {"gateway", "auth", "metrics", "synth", "core"}, K::kTarget, "every role", nullptr},
  };
  // clang-format on
}

std::vector<storage::Schema> AllSchemas() {
  return {CoreSchema(), auth::AuthSchema(), synth::SynthSchema()};
}

}  // namespace pa::core
