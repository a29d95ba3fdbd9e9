// ModuleManager: runs the modules a process was asked for, in dependency order.
//
// Modeled on Loki's module manager: the whole system is described by ONE table of ModuleDefs
// (src/core/module_table.cc) — name, dependencies, kind, and init function — so a reader sees at
// once what `--roles X` will start. Requested roles are expanded with their dependencies and
// initialised dependencies-first; the `all` target depends on every role.
//
//   ModuleManager modules(ModuleTable());
//   PA_RETURN_IF_ERROR(modules.Init({"core"}, services));   // core + gateway + stores
//   PA_RETURN_IF_ERROR(modules.Start());
//   ... wait for SIGTERM ...
//   modules.Shutdown();
//
// Thread-safety: Init/Start/Shutdown from one controlling thread; the const accessors from any
// thread once Init returned.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "core/module.h"

namespace pa::core {

struct Services;

enum class ModuleKind {
  kRole,      // selectable with --roles
  kInternal,  // started only as a dependency
  kTarget,    // a named group of roles (`all`)
};

struct ModuleDef {
  std::string name;
  std::vector<std::string> deps;
  ModuleKind kind = ModuleKind::kRole;
  std::string description;
  // Builds the module. Null for targets.
  std::function<Result<std::unique_ptr<Module>>(Services&)> init;
};

class ModuleManager {
 public:
  // Asserts the table is well formed (unique names, known dependencies, no cycles).
  explicit ModuleManager(std::vector<ModuleDef> table);
  ~ModuleManager();

  // The modules needed for `requested` (role or target names), dependencies first.
  // InvalidArgument names an unknown role and lists the known ones.
  Result<std::vector<const ModuleDef*>> Resolve(const std::vector<std::string>& requested) const;

  // Initialises the resolved modules in order. On failure the ones already built are stopped
  // and destroyed, and the error names the module.
  Status Init(const std::vector<std::string>& requested, Services& services);

  // Starts every initialised module in order; on failure shuts down what started.
  Status Start();

  // BeginShutdown in order, then Stop in reverse order, then destroys the modules. Idempotent.
  void Shutdown();

  struct ModuleState {
    std::string name;
    ModuleKind kind;
    Health health;
    std::optional<StoreInfo> store;  // set for store modules
  };
  // Health of every initialised module, in init order (calls CheckHealth on each).
  std::vector<ModuleState> States() const;

  // Names of the running modules of kind kRole, in init order.
  std::vector<std::string> RunningRoles() const;

  // True between a successful Start() and Shutdown().
  bool started() const { return started_.load(); }

  // The table as text for `primoart serve --list-roles`.
  std::string DescribeTable() const;

  const std::vector<ModuleDef>& table() const { return table_; }

 private:
  const ModuleDef* Find(const std::string& name) const;

  std::vector<ModuleDef> table_;
  struct Running {
    const ModuleDef* def;
    std::unique_ptr<Module> module;
  };
  std::vector<Running> running_;  // init order
  size_t started_count_ = 0;
  std::atomic<bool> started_{false};
  bool shut_down_ = false;
};

}  // namespace pa::core
