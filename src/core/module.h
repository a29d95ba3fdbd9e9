// Module: one unit of PrimoART that the module manager initialises, starts, health-checks and
// stops — a role a user can select (core, gateway, auth, synth, ...) or an internal building
// block roles depend on (the database, the artifact store).
//
// Lifecycle, driven by ModuleManager:
//   init (the ModuleDef's init function, dependencies first): build the module, register HTTP
//       routes and background jobs, publish what dependents need in Services;
//   Start() (dependencies first): begin serving;
//   BeginShutdown() (dependencies first, so the gateway goes first): stop taking new work — the
//       gateway stops accepting and drains in-flight requests here while every store is still open;
//   Stop() (dependents first): release resources. Also called, without Start(), on a module
//       whose init succeeded when a later module's init failed.
// Thread-safety: lifecycle calls come from the controlling thread; CheckHealth() may be called
// from any thread at any time after init.
#pragma once

#include <optional>
#include <string>

#include "base/status.h"

namespace pa::core {

struct Health {
  bool ok = true;
  std::string message;  // what is wrong, when !ok; optional detail when ok
  static Health Ok(std::string detail = "") { return {true, std::move(detail)}; }
  static Health Failing(std::string why) { return {false, std::move(why)}; }
};

struct StoreInfo {
  std::string backend;   // "sqlite", "postgresql", "fs", "s3", "embedded", "victoriametrics"
  std::string location;  // where the data is, without secrets
};

class Module {
 public:
  virtual ~Module() = default;
  virtual Status Start() { return Status::Ok(); }
  virtual void BeginShutdown() {}
  virtual void Stop() {}
  virtual Health CheckHealth() { return Health::Ok(); }
  // For modules that are stores: what /readyz and /api/v1/status report about them.
  virtual std::optional<StoreInfo> store_info() const { return std::nullopt; }
};

}  // namespace pa::core
