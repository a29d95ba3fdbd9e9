// Authn: verifies the credential on every request for the gateway (it implements
// gateway::Authenticator) — API tokens (`pa_...`) and session tokens (`pas_...`), sent as
// `Authorization: Bearer <token>` or, for sessions, the `primoart_session` cookie — and decides
// whether the principal may call a route.
//
// Verified credentials are cached for `cache_ttl` (default 5 s) so an authenticated request costs
// a hash and a map lookup, not a database round trip. Changes made through this process (logout,
// revocation, password or role change) clear the cache at once; other instances of a split
// deployment see them within `cache_ttl`. Session idle time and token last-use are written back
// at most once a minute per credential.
//
// Permissions: users by role (viewer: read; editor: read, write; admin: read, write, admin,
// ingest); tokens by scope (write implies read; admin implies everything but robot). A robot
// token passes a robot route only for the robot named in the route's path parameter.
//
// Thread-safety: all methods may be called concurrently.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include "auth/auth_store.h"
#include "base/clock.h"
#include "base/telemetry.h"
#include "gateway/authenticator.h"

namespace pa::auth {

inline constexpr std::string_view kSessionCookie = "primoart_session";

struct AuthnOptions {
  std::chrono::milliseconds cache_ttl{5000};
  std::chrono::milliseconds session_idle{3600000};
  std::chrono::milliseconds touch_interval{60000};
};

class Authn final : public gateway::Authenticator {
 public:
  Authn(AuthStore& store, Clock& clock, telemetry::Registry& metrics, AuthnOptions options);

  Result<gateway::Principal> Authenticate(const gateway::Request& request) override;
  bool Authorize(const gateway::Principal& principal, const gateway::Access& access,
                 const gateway::Request& request) override;

  // Forgets every cached credential (after any change to users, sessions or tokens).
  void InvalidateCache();

  // The credential a request carries (bearer token, else session cookie); empty if none.
  static std::string CredentialOf(const gateway::Request& request);

 private:
  Authn(AuthStore& store, Clock& clock, telemetry::Family<telemetry::Counter>& checks,
        AuthnOptions options);

  struct Cached {
    gateway::Principal principal;
    std::string credential_id;  // session or token id
    bool is_session = false;
    int64_t expires_at = 0;    // 0: never
    int64_t last_seen_at = 0;  // sessions: for idle expiry
    int64_t last_written_at = 0;
    Clock::MonoTime cached_at;
  };
  Result<Cached> Load(const std::string& credential, const std::string& hash);
  Status CheckLive(Cached& c, int64_t now);

  AuthStore& store_;
  Clock& clock_;
  AuthnOptions options_;
  // primoart_auth_credential_checks_total children, resolved once: this is the hot path.
  telemetry::Counter& cache_ok_;
  telemetry::Counter& store_ok_;
  telemetry::Counter& store_rejected_;
  telemetry::Counter& store_error_;
  telemetry::Counter& malformed_;
  std::shared_mutex mu_;
  std::unordered_map<std::string, Cached> cache_;  // by token hash
};

// The permissions a principal holds, as a bitmask of gateway::Permission.
uint32_t PermissionsOf(const gateway::Principal& principal);

}  // namespace pa::auth
