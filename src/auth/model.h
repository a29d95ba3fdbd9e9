// The auth component's domain: users and their roles, API tokens and their scopes, sessions,
// and audit entries.
//
// Roles (people):  viewer — read everything;  editor — also create and change monitored objects;
//                  admin — everything, including users and tokens.
// Scopes (tokens): ingest — OTLP and RUM data in;  robot — one robot's own config, heartbeat and
//                  uploads (bound to robot_id);  read;  write (implies read);  admin (everything).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/json.h"

namespace pa::auth {

enum class Role { kViewer, kEditor, kAdmin };
std::optional<Role> ParseRole(std::string_view name);
std::string_view RoleName(Role role);

inline constexpr std::string_view kScopes[] = {"ingest", "robot", "read", "write", "admin"};
bool KnownScope(std::string_view scope);

struct User {
  std::string id;
  std::string username;
  Role role = Role::kViewer;
  std::string password_hash;
  bool disabled = false;
  int64_t failed_logins = 0;  // consecutive, reset by a successful login
  int64_t created_at = 0;
  int64_t updated_at = 0;
  int64_t password_changed_at = 0;
  std::optional<int64_t> last_login_at;
};

struct Session {
  std::string id;
  std::string token_hash;
  std::string user_id;
  int64_t created_at = 0;
  int64_t expires_at = 0;    // absolute expiry
  int64_t last_seen_at = 0;  // for idle expiry
  std::string ip;
  std::string user_agent;
  std::optional<int64_t> revoked_at;
};

struct ApiToken {
  std::string id;
  std::string name;
  std::string token_hash;
  std::string hint;
  std::vector<std::string> scopes;
  std::optional<std::string> robot_id;
  std::string created_by;
  int64_t created_at = 0;
  std::optional<int64_t> expires_at;
  std::optional<int64_t> last_used_at;
  std::optional<int64_t> revoked_at;
};

struct AuditEntry {
  std::string id;
  int64_t at = 0;
  std::string action;  // login, logout, user.create, user.update, user.delete, token.create, ...
  bool success = true;
  std::string actor;     // username or token name; "system" for the CLI and bootstrap
  std::string actor_id;  // user or token id, when known
  std::string target;    // what the action was about (username, token name)
  std::string ip;
  Json details = Json::object();
};

// JSON shapes the API returns (never with hashes).
Json UserJson(const User& user);
Json TokenJson(const ApiToken& token);
Json AuditJson(const AuditEntry& entry);

}  // namespace pa::auth
