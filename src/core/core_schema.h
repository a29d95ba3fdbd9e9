// The core component's tables: runtime settings and the instance registry.
#pragma once

#include "storage/relational_store.h"

namespace pa::core {

storage::Schema CoreSchema();

}  // namespace pa::core
