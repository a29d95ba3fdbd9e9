// AuthService: what people and machines can do about identity — log in and out, manage users and
// API tokens, change their password — shared by the HTTP API (auth role) and the admin CLI
// (`primoart admin ...`, which works on the database without a server).
//
// Every change is audited in the same transaction as the change itself (AuthStore), and clears
// the credential cache of this process (Authn) so revocations apply at once.
//
// Errors: InvalidArgument "<field>: <problem>" for bad input (the API turns it into 422 with the
// field path); Unauthenticated for a failed login; ResourceExhausted for a throttled login (with
// the wait in `retry_after`); Unavailable when too many password checks run at once;
// AlreadyExists / NotFound as usual.
// Thread-safety: all methods may be called concurrently.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <semaphore>
#include <string>
#include <vector>

#include "auth/auth_store.h"
#include "auth/login_throttle.h"
#include "auth/model.h"
#include "base/clock.h"
#include "base/status.h"
#include "base/telemetry.h"

namespace pa::auth {

class Authn;

// Who is acting, for the audit log.
struct Actor {
  std::string name = "system";
  std::string id;
  std::string ip;
};

struct AuthServiceOptions {
  std::chrono::milliseconds session_ttl{12 * 3600 * 1000};
  int login_concurrency = 0;  // 0: hardware threads
};

struct LoginResult {
  std::string token;  // the session token, shown once
  Session session;
  User user;
};

struct NewToken {
  std::string name;
  std::vector<std::string> scopes;
  std::optional<std::string> robot_id;
  std::optional<int64_t> expires_at;
};

struct UserPatch {
  std::optional<Role> role;
  std::optional<bool> disabled;
  std::optional<std::string> password;
};

// Input checks shared with the API's validation; each returns InvalidArgument naming the rule.
Status ValidateUsername(std::string_view username);
Status ValidateRobotId(std::string_view robot_id);

class AuthService {
 public:
  // `authn` may be null (the CLI has no cache to clear).
  AuthService(AuthStore& store, Authn* authn, Clock& clock, telemetry::Registry* metrics,
              AuthServiceOptions options);
  ~AuthService();

  Result<LoginResult> Login(const std::string& username, const std::string& password,
                            const std::string& ip, const std::string& user_agent,
                            std::chrono::seconds* retry_after);
  Status Logout(const std::string& session_id, const Actor& actor);

  Result<User> CreateUser(const std::string& username, Role role, const std::string& password,
                          const Actor& actor);
  Result<User> UpdateUser(const std::string& id, const UserPatch& patch, const Actor& actor);
  Status DeleteUser(const std::string& id, const Actor& actor);
  Status ChangeOwnPassword(const std::string& user_id, const std::string& current,
                           const std::string& replacement, const Actor& actor);

  // Returns the stored token and the secret, which exists nowhere else.
  Result<std::pair<ApiToken, std::string>> CreateToken(const NewToken& request, const Actor& actor);
  Status RevokeToken(const std::string& id, const Actor& actor);

  // On an empty user table, creates `admin` with `password` (or a generated one) and returns the
  // password that was set when it was generated; nullopt when nothing was created.
  Result<std::optional<std::string>> EnsureAdmin(const std::string& password);

  AuthStore& store() { return store_; }

 private:
  AuditEntry Audit(std::string action, const Actor& actor, std::string target, bool success = true);
  void Invalidate();

  AuthStore& store_;
  Authn* authn_;
  Clock& clock_;
  AuthServiceOptions options_;
  LoginThrottle throttle_;
  std::unique_ptr<std::counting_semaphore<>> hashing_;
  telemetry::Family<telemetry::Counter>* logins_ = nullptr;
};

}  // namespace pa::auth
