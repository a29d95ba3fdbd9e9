// Authenticator: the seam between the gateway and whoever verifies credentials (the auth role).
//
// For every non-public route the server calls Authenticate() after reading the request head and
// before reading the body, then checks the route's Access against the Principal: no or bad
// credentials → 401, a valid credential without the permission → 403. A body is never read for a
// request that will be refused.
//
// Thread-safety: Authenticate() is called concurrently from every server thread; implementations
// must be thread-safe and fast (cache verified tokens).
#pragma once

#include "base/status.h"
#include "gateway/http.h"
#include "gateway/router.h"

namespace pa::gateway {

class Authenticator {
 public:
  virtual ~Authenticator() = default;

  // The caller's identity from the request's headers (Authorization, Cookie). kUnauthenticated
  // when there is no credential or it is invalid, expired or revoked; kUnavailable when the
  // credential store cannot be reached.
  virtual Result<Principal> Authenticate(const Request& request) = 0;

  // Whether `principal` may call a route declaring `access` with these path parameters.
  virtual bool Authorize(const Principal& principal, const Access& access,
                         const Request& request) = 0;
};

}  // namespace pa::gateway
