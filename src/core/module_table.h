// The module table: every role and internal module of PrimoART, its dependencies and its init
// function — the single place to read to know what `primoart serve --roles X` starts.
#pragma once

#include <vector>

#include "core/module_manager.h"
#include "storage/relational_store.h"

namespace pa::core {

std::vector<ModuleDef> ModuleTable();

// The relational schema of every component, whatever roles run (see Services::schemas).
std::vector<storage::Schema> AllSchemas();

}  // namespace pa::core
