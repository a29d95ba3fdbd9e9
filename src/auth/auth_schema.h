// The auth component's tables: users, sessions, API tokens and the audit log.
#pragma once

#include "storage/relational_store.h"

namespace pa::auth {

storage::Schema AuthSchema();

}  // namespace pa::auth
