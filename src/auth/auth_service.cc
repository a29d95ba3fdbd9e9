#include "auth/auth_service.h"

#include <thread>

#include "auth/authn.h"
#include "auth/password.h"
#include "auth/secret_token.h"
#include "base/random.h"

namespace pa::auth {
namespace {

constexpr auto kHashSlotWait = std::chrono::seconds(5);

}  // namespace

Status ValidateUsername(std::string_view u) {
  if (u.empty() || u.size() > 64) return InvalidArgumentError("must be 1..64 characters");
  for (size_t i = 0; i < u.size(); ++i) {
    const char c = u[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    (i > 0 && (c == '.' || c == '_' || c == '-' || c == '@'));
    if (!ok) {
      return InvalidArgumentError(
          "may contain lower-case letters, digits and . _ - @, and must start with a letter or "
          "digit");
    }
  }
  return Status::Ok();
}

Status ValidateRobotId(std::string_view id) {
  if (id.empty() || id.size() > 128) return InvalidArgumentError("must be 1..128 characters");
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == ':' || c == '-';
    if (!ok) return InvalidArgumentError("may contain A-Z a-z 0-9 . _ : -");
  }
  return Status::Ok();
}

AuthService::AuthService(AuthStore& store, Authn* authn, Clock& clock, telemetry::Registry* metrics,
                         AuthServiceOptions options)
    : store_(store), authn_(authn), clock_(clock), options_(options), throttle_(clock) {
  int slots = options_.login_concurrency;
  if (slots <= 0) slots = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  hashing_ = std::make_unique<std::counting_semaphore<>>(slots);
  if (metrics) {
    logins_ =
        &metrics->AddCounter("primoart_auth_logins_total", "Login attempts by result.", {"result"});
  }
}

AuthService::~AuthService() = default;

AuditEntry AuthService::Audit(std::string action, const Actor& actor, std::string target,
                              bool success) {
  AuditEntry e;
  e.at = clock_.NowMs();
  e.id = NewId(e.at);
  e.action = std::move(action);
  e.success = success;
  e.actor = actor.name;
  e.actor_id = actor.id;
  e.target = std::move(target);
  e.ip = actor.ip;
  return e;
}

void AuthService::Invalidate() {
  if (authn_) authn_->InvalidateCache();
}

Result<LoginResult> AuthService::Login(const std::string& username, const std::string& password,
                                       const std::string& ip, const std::string& user_agent,
                                       std::chrono::seconds* retry_after) {
  auto count = [&](const char* result) {
    if (logins_) logins_->With({result}).Inc();
  };
  auto user = store_.GetUserByName(username);
  if (!user.ok() && user.status().code() != StatusCode::kNotFound) return user.status();
  const int64_t account_failures = user.ok() ? user->failed_logins : 0;
  if (auto wait = throttle_.Check(username, ip, account_failures)) {
    if (retry_after) *retry_after = *wait;
    count("throttled");
    return ResourceExhaustedError("too many failed logins; retry in " +
                                  std::to_string(wait->count()) + " s");
  }
  if (!hashing_->try_acquire_for(kHashSlotWait)) {
    count("overloaded");
    return UnavailableError("too many logins in progress");
  }
  bool verified = false;
  if (user.ok() && !user->disabled) {
    verified = VerifyPassword(password, user->password_hash);
  } else {
    BurnVerificationTime(password);
  }
  hashing_->release();

  Actor actor{user.ok() ? user->username : username, user.ok() ? user->id : "", ip};
  if (!verified) {
    throttle_.RecordFailure(username, ip);
    if (user.ok()) (void)store_.RecordLoginFailure(user->id);
    AuditEntry audit = Audit("login", actor, username, /*success=*/false);
    audit.details = {{"reason", !user.ok()       ? "unknown user"
                                : user->disabled ? "user disabled"
                                                 : "wrong password"}};
    (void)store_.AppendAudit(audit);
    count("failure");
    return UnauthenticatedError("invalid username or password");
  }
  throttle_.RecordSuccess(username, ip);
  LoginResult out;
  out.token = NewSecretToken(kSessionTokenPrefix);
  const int64_t now = clock_.NowMs();
  out.session = {
      NewId(now), HashToken(out.token),      user->id, now, now + options_.session_ttl.count(), now,
      ip,         user_agent.substr(0, 512), {}};
  AuditEntry audit = Audit("login", actor, username);
  audit.details = {{"session_id", out.session.id}};
  PA_RETURN_IF_ERROR(store_.CreateSession(out.session, now, audit));
  out.user = std::move(user).value();
  out.user.failed_logins = 0;
  out.user.last_login_at = now;
  count("success");
  return out;
}

Status AuthService::Logout(const std::string& session_id, const Actor& actor) {
  Status st = store_.RevokeSession(session_id, clock_.NowMs(), Audit("logout", actor, actor.name));
  Invalidate();
  return st;
}

Result<User> AuthService::CreateUser(const std::string& username, Role role,
                                     const std::string& password, const Actor& actor) {
  PA_RETURN_IF_ERROR(ValidateUsername(username).WithContext("username"));
  PA_RETURN_IF_ERROR(CheckPasswordPolicy(password).WithContext("password"));
  PA_ASSIGN_OR_RETURN(std::string hash, HashPassword(password));
  const int64_t now = clock_.NowMs();
  User u;
  u.id = NewId(now);
  u.username = username;
  u.role = role;
  u.password_hash = std::move(hash);
  u.created_at = u.updated_at = u.password_changed_at = now;
  AuditEntry audit = Audit("user.create", actor, username);
  audit.details = {{"role", RoleName(role)}};
  PA_RETURN_IF_ERROR(store_.CreateUser(u, audit));
  return u;
}

Result<User> AuthService::UpdateUser(const std::string& id, const UserPatch& patch,
                                     const Actor& actor) {
  if (patch.password)
    PA_RETURN_IF_ERROR(CheckPasswordPolicy(*patch.password).WithContext("password"));
  PA_ASSIGN_OR_RETURN(User u, store_.GetUser(id));
  const int64_t now = clock_.NowMs();
  Json changes = Json::object();
  if (patch.role && *patch.role != u.role) {
    changes["role"] = {{"from", RoleName(u.role)}, {"to", RoleName(*patch.role)}};
    u.role = *patch.role;
  }
  if (patch.disabled && *patch.disabled != u.disabled) {
    changes["disabled"] = *patch.disabled;
    u.disabled = *patch.disabled;
  }
  if (patch.password) {
    PA_ASSIGN_OR_RETURN(u.password_hash, HashPassword(*patch.password));
    u.password_changed_at = now;
    changes["password"] = "changed";
  }
  u.updated_at = now;
  AuditEntry audit =
      Audit(changes.contains("role") ? "user.role_change" : "user.update", actor, u.username);
  audit.details = changes;
  PA_RETURN_IF_ERROR(store_.UpdateUser(u, audit));
  if (patch.password || (patch.disabled && *patch.disabled)) {
    PA_RETURN_IF_ERROR(store_.RevokeUserSessions(u.id, now));
  }
  Invalidate();
  return u;
}

Status AuthService::DeleteUser(const std::string& id, const Actor& actor) {
  PA_ASSIGN_OR_RETURN(User u, store_.GetUser(id));
  Status st = store_.DeleteUser(id, Audit("user.delete", actor, u.username));
  Invalidate();
  return st;
}

Status AuthService::ChangeOwnPassword(const std::string& user_id, const std::string& current,
                                      const std::string& replacement, const Actor& actor) {
  PA_RETURN_IF_ERROR(CheckPasswordPolicy(replacement).WithContext("new_password"));
  PA_ASSIGN_OR_RETURN(User u, store_.GetUser(user_id));
  if (!hashing_->try_acquire_for(kHashSlotWait)) return UnavailableError("server busy");
  const bool ok = VerifyPassword(current, u.password_hash);
  hashing_->release();
  if (!ok) {
    (void)store_.AppendAudit(Audit("user.password_change", actor, u.username, false));
    return PermissionDeniedError("current_password: does not match");
  }
  const int64_t now = clock_.NowMs();
  PA_ASSIGN_OR_RETURN(u.password_hash, HashPassword(replacement));
  u.password_changed_at = u.updated_at = now;
  PA_RETURN_IF_ERROR(store_.UpdateUser(u, Audit("user.password_change", actor, u.username)));
  // Other sessions of this user end; the caller logs in again where needed.
  PA_RETURN_IF_ERROR(store_.RevokeUserSessions(u.id, now));
  Invalidate();
  return Status::Ok();
}

Result<std::pair<ApiToken, std::string>> AuthService::CreateToken(const NewToken& req,
                                                                  const Actor& actor) {
  if (req.name.empty() || req.name.size() > 128) {
    return InvalidArgumentError("name: must be 1..128 characters");
  }
  if (req.scopes.empty()) return InvalidArgumentError("scopes: at least one scope is required");
  bool robot = false;
  for (size_t i = 0; i < req.scopes.size(); ++i) {
    if (!KnownScope(req.scopes[i])) {
      return InvalidArgumentError("scopes[" + std::to_string(i) + "]: unknown scope '" +
                                  req.scopes[i] + "' (ingest, robot, read, write, admin)");
    }
    robot = robot || req.scopes[i] == "robot";
  }
  if (robot && !req.robot_id) return InvalidArgumentError("robot_id: required with scope robot");
  if (!robot && req.robot_id) return InvalidArgumentError("robot_id: only with scope robot");
  if (req.robot_id) PA_RETURN_IF_ERROR(ValidateRobotId(*req.robot_id).WithContext("robot_id"));
  const int64_t now = clock_.NowMs();
  if (req.expires_at && *req.expires_at <= now) {
    return InvalidArgumentError("expires_at: must be in the future");
  }
  const std::string secret = NewSecretToken(kApiTokenPrefix);
  ApiToken t;
  t.id = NewId(now);
  t.name = req.name;
  t.token_hash = HashToken(secret);
  t.hint = TokenHint(secret);
  t.scopes = req.scopes;
  t.robot_id = req.robot_id;
  t.created_by = actor.name;
  t.created_at = now;
  t.expires_at = req.expires_at;
  AuditEntry audit = Audit("token.create", actor, t.name);
  audit.details = {{"token_id", t.id}, {"scopes", t.scopes}};
  if (t.robot_id) audit.details["robot_id"] = *t.robot_id;
  PA_RETURN_IF_ERROR(store_.CreateToken(t, audit));
  return std::make_pair(std::move(t), secret);
}

Status AuthService::RevokeToken(const std::string& id, const Actor& actor) {
  PA_ASSIGN_OR_RETURN(ApiToken t, store_.GetToken(id));
  AuditEntry audit = Audit("token.revoke", actor, t.name);
  audit.details = {{"token_id", t.id}};
  Status st = store_.RevokeToken(id, clock_.NowMs(), audit);
  Invalidate();
  return st;
}

Result<std::optional<std::string>> AuthService::EnsureAdmin(const std::string& password) {
  PA_ASSIGN_OR_RETURN(int64_t users, store_.CountUsers());
  if (users > 0) return std::optional<std::string>();
  const bool generated = password.empty();
  const std::string pw = generated ? GeneratePassword() : password;
  auto created = CreateUser("admin", Role::kAdmin, pw, Actor{"system", "", ""});
  if (!created.ok()) {
    // Another instance bootstrapped at the same moment: its admin stands.
    if (created.status().code() == StatusCode::kAlreadyExists) return std::optional<std::string>();
    if (created.status().code() == StatusCode::kInvalidArgument) {
      return InvalidArgumentError("admin_password: " + created.status().message());
    }
    return created.status();
  }
  return generated ? std::optional<std::string>(pw) : std::optional<std::string>();
}

}  // namespace pa::auth
