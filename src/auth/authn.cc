#include "auth/authn.h"

#include <strings.h>

#include "auth/secret_token.h"
#include "base/logging.h"

namespace pa::auth {
namespace {

using gateway::Permission;

constexpr uint32_t Bit(Permission p) { return static_cast<uint32_t>(p); }
constexpr size_t kMaxCacheEntries = 50000;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

}  // namespace

uint32_t PermissionsOf(const gateway::Principal& p) {
  if (!p.authenticated()) return 0;
  uint32_t bits = Bit(Permission::kAuthenticated);
  if (p.kind == "user") {
    bits |= Bit(Permission::kRead);
    if (p.role == "editor" || p.role == "admin") bits |= Bit(Permission::kWrite);
    if (p.role == "admin") bits |= Bit(Permission::kAdmin) | Bit(Permission::kIngest);
    return bits;
  }
  for (const auto& s : p.scopes) {
    if (s == "ingest") bits |= Bit(Permission::kIngest);
    if (s == "robot") bits |= Bit(Permission::kRobot);
    if (s == "read") bits |= Bit(Permission::kRead);
    if (s == "write") bits |= Bit(Permission::kRead) | Bit(Permission::kWrite);
    if (s == "admin") {
      bits |= Bit(Permission::kRead) | Bit(Permission::kWrite) | Bit(Permission::kAdmin) |
              Bit(Permission::kIngest);
    }
  }
  return bits;
}

namespace {
telemetry::Family<telemetry::Counter>& Checks(telemetry::Registry& metrics) {
  return metrics.AddCounter("primoart_auth_credential_checks_total",
                            "Credential verifications by source (cache or store) and result.",
                            {"source", "result"});
}
}  // namespace

Authn::Authn(AuthStore& store, Clock& clock, telemetry::Registry& metrics, AuthnOptions options)
    : Authn(store, clock, Checks(metrics), options) {}

Authn::Authn(AuthStore& store, Clock& clock, telemetry::Family<telemetry::Counter>& checks,
             AuthnOptions options)
    : store_(store),
      clock_(clock),
      options_(options),
      cache_ok_(checks.With({"cache", "ok"})),
      store_ok_(checks.With({"store", "ok"})),
      store_rejected_(checks.With({"store", "rejected"})),
      store_error_(checks.With({"store", "error"})),
      malformed_(checks.With({"format", "rejected"})) {}

std::string Authn::CredentialOf(const gateway::Request& req) {
  if (auto h = req.Header("Authorization")) {
    std::string_view v = Trim(*h);
    if (v.size() > 7 && strncasecmp(v.data(), "bearer ", 7) == 0)
      return std::string(Trim(v.substr(7)));
    return std::string(v);  // an unknown scheme: refused as malformed below
  }
  if (auto c = req.Header("Cookie")) {
    std::string_view cookies = *c;
    while (!cookies.empty()) {
      const size_t semi = cookies.find(';');
      std::string_view pair = Trim(cookies.substr(0, semi));
      cookies = semi == std::string_view::npos ? std::string_view() : cookies.substr(semi + 1);
      const size_t eq = pair.find('=');
      if (eq != std::string_view::npos && pair.substr(0, eq) == kSessionCookie) {
        return std::string(pair.substr(eq + 1));
      }
    }
  }
  return "";
}

Status Authn::CheckLive(Cached& c, int64_t now) {
  if (c.expires_at != 0 && now >= c.expires_at) {
    return UnauthenticatedError(c.is_session ? "session expired" : "token expired");
  }
  if (c.is_session && now - c.last_seen_at > options_.session_idle.count()) {
    return UnauthenticatedError("session expired (idle)");
  }
  return Status::Ok();
}

Result<Authn::Cached> Authn::Load(const std::string& credential, const std::string& hash) {
  Cached c;
  c.cached_at = clock_.MonotonicNow();
  if (credential.starts_with(kSessionTokenPrefix)) {
    auto found = store_.FindSession(hash);
    if (!found.ok()) {
      if (found.status().code() == StatusCode::kNotFound)
        return UnauthenticatedError("invalid session");
      return UnavailableError("credential store: " + found.status().message());
    }
    auto& [session, user] = *found;
    if (session.revoked_at) return UnauthenticatedError("session revoked");
    if (user.disabled) return UnauthenticatedError("user disabled");
    c.principal = {"user", user.id, user.username, std::string(RoleName(user.role)), {}, ""};
    c.credential_id = session.id;
    c.is_session = true;
    c.expires_at = session.expires_at;
    c.last_seen_at = session.last_seen_at;
    c.last_written_at = session.last_seen_at;
    return c;
  }
  auto token = store_.FindToken(hash);
  if (!token.ok()) {
    if (token.status().code() == StatusCode::kNotFound)
      return UnauthenticatedError("invalid token");
    return UnavailableError("credential store: " + token.status().message());
  }
  if (token->revoked_at) return UnauthenticatedError("token revoked");
  c.principal = {"token", token->id, token->name, "", token->scopes, token->robot_id.value_or("")};
  c.credential_id = token->id;
  c.expires_at = token->expires_at.value_or(0);
  c.last_written_at = token->last_used_at.value_or(0);
  return c;
}

Result<gateway::Principal> Authn::Authenticate(const gateway::Request& req) {
  const std::string credential = CredentialOf(req);
  if (credential.empty()) return UnauthenticatedError("no credentials");
  if (!WellFormedToken(credential, kApiTokenPrefix) &&
      !WellFormedToken(credential, kSessionTokenPrefix)) {
    malformed_.Inc();
    return UnauthenticatedError("malformed credential");
  }
  const std::string hash = HashToken(credential);
  const int64_t now = clock_.NowMs();
  {
    std::shared_lock lock(mu_);
    auto it = cache_.find(hash);
    if (it != cache_.end() && clock_.MonotonicNow() - it->second.cached_at < options_.cache_ttl) {
      Cached& c = it->second;
      Status live = CheckLive(c, now);
      if (live.ok() && now - c.last_written_at < options_.touch_interval.count()) {
        cache_ok_.Inc();
        return c.principal;
      }
    }
  }
  // A miss, an expired entry, or one due a last-seen write: go to the store.
  auto loaded = Load(credential, hash);
  if (!loaded.ok()) {
    (loaded.status().code() == StatusCode::kUnavailable ? store_error_ : store_rejected_).Inc();
    std::unique_lock lock(mu_);
    cache_.erase(hash);
    return loaded.status();
  }
  Cached c = std::move(loaded).value();
  PA_RETURN_IF_ERROR(CheckLive(c, now));
  if (now - c.last_written_at >= options_.touch_interval.count()) {
    Status st = c.is_session ? store_.TouchSession(c.credential_id, now)
                             : store_.TouchToken(c.credential_id, now);
    if (!st.ok()) log::Get("auth")->warn("could not record credential use: {}", st.message());
    c.last_written_at = now;
    c.last_seen_at = now;
  }
  store_ok_.Inc();
  gateway::Principal principal = c.principal;
  std::unique_lock lock(mu_);
  if (cache_.size() >= kMaxCacheEntries) cache_.clear();
  cache_[hash] = std::move(c);
  return principal;
}

bool Authn::Authorize(const gateway::Principal& p, const gateway::Access& access,
                      const gateway::Request& req) {
  if (access.is_public()) return true;
  const uint32_t held = PermissionsOf(p);
  const uint32_t non_robot = access.any_of & ~Bit(Permission::kRobot);
  if (held & non_robot) return true;
  if ((access.any_of & Bit(Permission::kRobot)) && (held & Bit(Permission::kRobot))) {
    if (access.robot_param.empty()) return true;  // the handler checks the robot id in the body
    return !p.robot_id.empty() && req.Param(access.robot_param) == p.robot_id;
  }
  return false;
}

void Authn::InvalidateCache() {
  std::unique_lock lock(mu_);
  cache_.clear();
}

}  // namespace pa::auth
