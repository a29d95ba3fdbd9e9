#include "auth/model.h"

#include "base/time_format.h"

namespace pa::auth {

std::optional<Role> ParseRole(std::string_view name) {
  if (name == "viewer") return Role::kViewer;
  if (name == "editor") return Role::kEditor;
  if (name == "admin") return Role::kAdmin;
  return std::nullopt;
}

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kViewer:
      return "viewer";
    case Role::kEditor:
      return "editor";
    case Role::kAdmin:
      return "admin";
  }
  return "viewer";
}

bool KnownScope(std::string_view scope) {
  for (auto s : kScopes) {
    if (s == scope) return true;
  }
  return false;
}

namespace {
Json OptTime(const std::optional<int64_t>& t) {
  return t ? Json(FormatRfc3339Ms(*t)) : Json(nullptr);
}
}  // namespace

Json UserJson(const User& u) {
  return {{"id", u.id},
          {"username", u.username},
          {"role", RoleName(u.role)},
          {"disabled", u.disabled},
          {"created_at", FormatRfc3339Ms(u.created_at)},
          {"updated_at", FormatRfc3339Ms(u.updated_at)},
          {"password_changed_at", FormatRfc3339Ms(u.password_changed_at)},
          {"last_login_at", OptTime(u.last_login_at)}};
}

Json TokenJson(const ApiToken& t) {
  return {{"id", t.id},
          {"name", t.name},
          {"hint", t.hint},
          {"scopes", t.scopes},
          {"robot_id", t.robot_id ? Json(*t.robot_id) : Json(nullptr)},
          {"created_by", t.created_by},
          {"created_at", FormatRfc3339Ms(t.created_at)},
          {"expires_at", OptTime(t.expires_at)},
          {"last_used_at", OptTime(t.last_used_at)},
          {"revoked_at", OptTime(t.revoked_at)}};
}

Json AuditJson(const AuditEntry& e) {
  return {{"id", e.id},
          {"at", FormatRfc3339Ms(e.at)},
          {"action", e.action},
          {"success", e.success},
          {"actor", e.actor},
          {"actor_id", e.actor_id.empty() ? Json(nullptr) : Json(e.actor_id)},
          {"target", e.target.empty() ? Json(nullptr) : Json(e.target)},
          {"ip", e.ip.empty() ? Json(nullptr) : Json(e.ip)},
          {"details", e.details}};
}

}  // namespace pa::auth
