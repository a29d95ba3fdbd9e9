#include "core/module_manager.h"

#include <algorithm>
#include <cassert>
#include <functional>
#include <set>

#include "base/logging.h"

namespace pa::core {

ModuleManager::ModuleManager(std::vector<ModuleDef> table) : table_(std::move(table)) {
  std::set<std::string> names;
  for (const auto& def : table_) {
    [[maybe_unused]] const bool unique = names.insert(def.name).second;
    assert(unique && "module defined twice");
  }
  for (const auto& def : table_) {
    for ([[maybe_unused]] const auto& dep : def.deps)
      assert(names.count(dep) && "unknown dependency");
    assert((def.kind == ModuleKind::kTarget) == !def.init && "targets have no init, modules do");
  }
  // Resolving every target and role fails on a cycle anywhere in the table.
  std::vector<std::string> visible;
  for (const auto& def : table_) {
    if (def.kind != ModuleKind::kInternal) visible.push_back(def.name);
  }
  [[maybe_unused]] auto resolved = Resolve(visible);
  assert(resolved.ok() && "module table has a cycle");
}

ModuleManager::~ModuleManager() { Shutdown(); }

const ModuleDef* ModuleManager::Find(const std::string& name) const {
  for (const auto& def : table_) {
    if (def.name == name) return &def;
  }
  return nullptr;
}

Result<std::vector<const ModuleDef*>> ModuleManager::Resolve(
    const std::vector<std::string>& requested) const {
  std::vector<const ModuleDef*> order;
  std::set<std::string> done, visiting;
  std::function<Status(const ModuleDef&)> visit = [&](const ModuleDef& def) -> Status {
    if (done.count(def.name)) return Status::Ok();
    if (!visiting.insert(def.name).second) {
      return InternalError("module dependency cycle through '" + def.name + "'");
    }
    for (const auto& dep : def.deps) PA_RETURN_IF_ERROR(visit(*Find(dep)));
    visiting.erase(def.name);
    done.insert(def.name);
    if (def.kind != ModuleKind::kTarget) order.push_back(&def);
    return Status::Ok();
  };
  for (const auto& name : requested) {
    const ModuleDef* def = Find(name);
    if (!def || def->kind == ModuleKind::kInternal) {
      std::string known;
      for (const auto& d : table_) {
        if (d.kind == ModuleKind::kInternal) continue;
        known += known.empty() ? "" : ", ";
        known += d.name;
      }
      return InvalidArgumentError("unknown role '" + name + "' (known: " + known + ")");
    }
    PA_RETURN_IF_ERROR(visit(*def));
  }
  return order;
}

Status ModuleManager::Init(const std::vector<std::string>& requested, Services& services) {
  assert(running_.empty() && "Init called twice");
  PA_ASSIGN_OR_RETURN(auto order, Resolve(requested));
  auto log = log::Get("core");
  for (const ModuleDef* def : order) {
    auto module = def->init(services);
    if (!module.ok()) {
      Shutdown();
      return module.status().WithContext(def->name);
    }
    log->debug("initialised module {}", def->name);
    running_.push_back({def, std::move(module).value()});
  }
  return Status::Ok();
}

Status ModuleManager::Start() {
  for (auto& r : running_) {
    Status st = r.module->Start();
    if (!st.ok()) {
      Shutdown();
      return st.WithContext(r.def->name);
    }
    ++started_count_;
  }
  started_ = true;
  return Status::Ok();
}

void ModuleManager::Shutdown() {
  if (shut_down_ || running_.empty()) return;
  shut_down_ = true;
  started_ = false;
  for (auto& r : running_) r.module->BeginShutdown();
  for (auto it = running_.rbegin(); it != running_.rend(); ++it) it->module->Stop();
  // Destroy in reverse order too: dependents hold pointers into their dependencies.
  while (!running_.empty()) running_.pop_back();
}

std::vector<ModuleManager::ModuleState> ModuleManager::States() const {
  std::vector<ModuleState> out;
  for (const auto& r : running_) {
    out.push_back({r.def->name, r.def->kind, r.module->CheckHealth(), r.module->store_info()});
  }
  return out;
}

std::vector<std::string> ModuleManager::RunningRoles() const {
  std::vector<std::string> out;
  for (const auto& r : running_) {
    if (r.def->kind == ModuleKind::kRole) out.push_back(r.def->name);
  }
  return out;
}

std::string ModuleManager::DescribeTable() const {
  auto deps_of = [](const ModuleDef& def) {
    std::string deps;
    for (const auto& d : def.deps) deps += (deps.empty() ? "" : ",") + d;
    return deps.empty() ? std::string("-") : deps;
  };
  size_t name_width = 4, deps_width = 10;
  for (const auto& def : table_) {
    name_width = std::max(name_width, def.name.size());
    deps_width = std::max(deps_width, deps_of(def).size());
  }
  auto pad = [](std::string s, size_t n) {
    if (s.size() < n) s.resize(n, ' ');
    return s + "  ";
  };
  std::string out = pad("ROLE", name_width) + pad("DEPENDS ON", deps_width) + "DESCRIPTION\n";
  auto emit = [&](ModuleKind kind) {
    for (const auto& def : table_) {
      if (def.kind != kind) continue;
      out += pad(def.name, name_width) + pad(deps_of(def), deps_width) + def.description + "\n";
    }
  };
  emit(ModuleKind::kRole);
  emit(ModuleKind::kTarget);
  out += "\nInternal modules (started as dependencies):\n";
  emit(ModuleKind::kInternal);
  return out;
}

}  // namespace pa::core
