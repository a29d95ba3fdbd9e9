// The auth modules.
//
// `authn` (internal): verifies credentials for the gateway on every request (see authn.h);
// every role with protected routes depends on it, so a process serving them can check tokens.
//
// `auth` (role): identity management, and the first admin on an empty database.
//   POST   /api/v1/auth/login      {"username","password"} → {"token","expires_at","user"} + cookie
//   (public) POST   /api/v1/auth/logout     ends the calling session (authenticated) GET
//   /api/v1/auth/me         the caller (authenticated) POST   /api/v1/auth/password
//   {"current_password","new_password"} (users) GET    /api/v1/users           POST /api/v1/users
//   {"username","role","password"}      (admin) GET    /api/v1/users/{id}      PATCH
//   {"role"?,"disabled"?,"password"?}   DELETE       (admin) GET    /api/v1/tokens          POST
//   /api/v1/tokens {"name","scopes","robot_id"?,"expires_at"?} (admin) GET    /api/v1/tokens/{id}
//   DELETE (revoke)                                         (admin) GET
//   /api/v1/audit?limit=&cursor=                                                   (admin)
#pragma once

#include <memory>

#include "base/status.h"
#include "core/module.h"
#include "core/services.h"

namespace pa::auth {

Result<std::unique_ptr<core::Module>> NewAuthnModule(core::Services& services);
Result<std::unique_ptr<core::Module>> NewAuthRole(core::Services& services);

}  // namespace pa::auth
