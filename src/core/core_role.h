// The `core` role: the coordinator of a PrimoART deployment.
//
// It serves
//   GET    /api/v1/status            version, commit, roles, every store's backend and health,
//                                    uptime, and the instances of the deployment (read)
//   GET    /api/v1/settings          runtime settings (read)
//   GET    /api/v1/settings/{key}    (read)
//   PUT    /api/v1/settings/{key}    {"value": <JSON>}, optional If-Match: "<version>" (admin)
//   DELETE /api/v1/settings/{key}    optional If-Match (admin)
// and keeps this process in the instance registry (heartbeat job `core.heartbeat`).
#pragma once

#include <memory>

#include "base/status.h"
#include "core/module.h"
#include "core/services.h"

namespace pa::core {

Result<std::unique_ptr<Module>> NewCoreRole(Services& services);

}  // namespace pa::core
