// Services: what modules share. The process owner fills the first block before init; modules
// fill the second block during their init for the modules that depend on them (a module may only
// use a field set by one of its dependencies — the module table guarantees they were initialised
// first).
#pragma once

#include <string>
#include <vector>

#include "base/clock.h"
#include "base/telemetry.h"
#include "core/config.h"
#include "storage/relational_store.h"

namespace pa::gateway {
class Router;
class HttpServer;
}  // namespace pa::gateway
namespace pa::storage {
class ArtifactStore;
class MetricStore;
}  // namespace pa::storage
namespace pa::auth {
class Authn;
}  // namespace pa::auth

namespace pa::core {

class JobScheduler;
class ModuleManager;

struct BuildInfo {
  std::string version;
  std::string commit;
};

struct Services {
  // Set by the process owner (src/app) before init.
  const LoadedConfig* config = nullptr;
  Clock* clock = nullptr;
  telemetry::Registry* metrics = nullptr;
  JobScheduler* jobs = nullptr;
  const ModuleManager* modules = nullptr;
  BuildInfo build;
  Clock::WallTime started_at;
  // Every component's schema; the database module migrates them all, so every instance of a
  // split deployment sees the same schema whatever roles it runs.
  std::vector<storage::Schema> schemas;

  // Published by modules during init.
  gateway::Router* router = nullptr;             // gateway
  gateway::HttpServer* http_server = nullptr;    // gateway
  storage::RelationalStore* database = nullptr;  // database
  storage::ArtifactStore* artifacts = nullptr;   // artifacts
  auth::Authn* authn = nullptr;                  // authn
  storage::MetricStore* metric_store = nullptr;  // metricstore

  const Config& cfg() const { return config->config; }
};

}  // namespace pa::core
