// The internal modules that open PrimoART's shared stores and publish them in Services:
// `database` (RelationalStore; also applies every component's migrations), `artifacts`
// (ArtifactStore) and `metricstore` (MetricStore). Their health is the store's Ping(), which
// /readyz and /api/v1/status report.
#pragma once

#include <memory>

#include "base/status.h"
#include "core/module.h"
#include "core/services.h"

namespace pa::core {

Result<std::unique_ptr<Module>> NewDatabaseModule(Services& services);
Result<std::unique_ptr<Module>> NewArtifactsModule(Services& services);
Result<std::unique_ptr<Module>> NewMetricStoreModule(Services& services);

}  // namespace pa::core
