// Decorators that measure every store operation:
//   primoart_store_operation_duration_seconds{store, backend, operation}  (histogram)
//   primoart_store_errors_total{store, backend, operation, code}          (counter)
// `store` is the role of the store ("database", "artifacts"); `operation` the interface method.
// They add no behaviour of their own: results pass through unchanged.
#pragma once

#include <memory>

#include "base/telemetry.h"
#include "storage/artifact_store.h"
#include "storage/relational_store.h"

namespace pa::storage {

std::unique_ptr<RelationalStore> InstrumentRelationalStore(std::unique_ptr<RelationalStore> inner,
                                                           telemetry::Registry& registry);
std::unique_ptr<ArtifactStore> InstrumentArtifactStore(std::unique_ptr<ArtifactStore> inner,
                                                       telemetry::Registry& registry);

}  // namespace pa::storage
