#include "core/module_table.h"

#include "auth/auth_role.h"
#include "auth/auth_schema.h"
#include "core/core_role.h"
#include "core/core_schema.h"
#include "core/store_modules.h"
#include "gateway/gateway_role.h"

namespace pa::core {

std::vector<ModuleDef> ModuleTable() {
  using K = ModuleKind;
  // clang-format off
  // name        dependencies                          kind         description / init
  return {
      {"gateway",   {},                                            K::kRole,     "HTTP server and router: /healthz, /readyz, /metrics; every API goes through it", gateway::NewGatewayRole},
      {"database",  {},                                            K::kInternal, "relational store (database_url); applies every component's migrations", NewDatabaseModule},
      {"artifacts", {},                                            K::kInternal, "artifact store (artifacts_url)", NewArtifactsModule},
      {"authn",     {"gateway", "database"},                       K::kInternal, "verifies API tokens and sessions for the gateway", auth::NewAuthnModule},
      {"auth",      {"gateway", "database", "authn"},              K::kRole,     "login, users, API tokens, audit log", auth::NewAuthRole},
      {"core",      {"gateway", "database", "artifacts", "authn"}, K::kRole,     "status, runtime settings, instance registry", NewCoreRole},
      {"all",       {"gateway", "auth", "core"},                   K::kTarget,   "every role", nullptr},
  };
  // clang-format on
}

std::vector<storage::Schema> AllSchemas() { return {CoreSchema(), auth::AuthSchema()}; }

}  // namespace pa::core
