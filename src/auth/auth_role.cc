#include "auth/auth_role.h"

#include <charconv>
#include <cstdio>

#include "auth/auth_service.h"
#include "auth/authn.h"
#include "auth/password.h"
#include "auth/secret_token.h"
#include "base/logging.h"
#include "base/time_format.h"
#include "gateway/api.h"
#include "gateway/router.h"
#include "gateway/server.h"

namespace pa::auth {
namespace {

using gateway::Access;
using gateway::Method;
using gateway::Request;
using gateway::Response;
using gateway::ValidationErrors;

std::string ClientIp(const Request& req) {
  const std::string& addr = req.remote_addr;
  if (!addr.empty() && addr.front() == '[') return addr.substr(1, addr.find(']') - 1);
  const size_t colon = addr.rfind(':');
  return colon == std::string::npos ? addr : addr.substr(0, colon);
}

Actor ActorOf(const Request& req) { return {req.principal.name, req.principal.id, ClientIp(req)}; }

// A service error as an API answer: "field: problem" becomes a 422 naming the field.
Response FromServiceStatus(const Status& st) {
  if (st.code() == StatusCode::kInvalidArgument) {
    ValidationErrors errors;
    const size_t colon = st.message().find(": ");
    if (colon != std::string::npos) {
      errors.Add(st.message().substr(0, colon), st.message().substr(colon + 2));
    } else {
      errors.Add("", st.message());
    }
    return errors.ToResponse();
  }
  if (st.code() == StatusCode::kAlreadyExists) {
    return Response::Error(409, "conflict", st.message());
  }
  return Response::FromStatus(st);
}

// Reads optional/required string fields with type checks, collecting errors by path.
struct Fields {
  const Json& body;
  ValidationErrors& errors;

  std::optional<std::string> String(const char* name, bool required) {
    if (!body.contains(name) || body[name].is_null()) {
      if (required) errors.Add(name, "is required");
      return std::nullopt;
    }
    if (!body[name].is_string()) {
      errors.Add(name, "must be a string");
      return std::nullopt;
    }
    return body[name].get<std::string>();
  }
  void Only(std::initializer_list<const char*> allowed) {
    for (const auto& [key, value] : body.items()) {
      bool known = false;
      for (const char* a : allowed) known = known || key == a;
      if (!known) errors.Add(key, "unknown field");
    }
  }
};

// Parses the body as a JSON object or answers 400/415/422.
std::optional<Json> ObjectBody(const Request& req, Response& error) {
  auto body = gateway::RequireJsonBody(req);
  if (!body.ok()) {
    error = body.response;
    return std::nullopt;
  }
  if (!body.body->is_object()) {
    ValidationErrors errors;
    errors.Add("", "the body must be a JSON object");
    error = errors.ToResponse();
    return std::nullopt;
  }
  return std::move(body.body);
}

class AuthnModule final : public core::Module {
 public:
  explicit AuthnModule(core::Services& s)
      : store_(*s.database),
        authn_(store_, *s.clock, *s.metrics,
               {.cache_ttl = s.cfg().auth_cache_ttl, .session_idle = s.cfg().auth_session_idle}) {
    s.http_server->set_authenticator(&authn_);
    s.authn = &authn_;
  }

 private:
  AuthStore store_;
  Authn authn_;
};

class AuthRole final : public core::Module {
 public:
  explicit AuthRole(core::Services& s)
      : s_(s),
        store_(*s.database),
        service_(store_, s.authn, *s.clock, s.metrics,
                 {.session_ttl = s.cfg().auth_session_ttl,
                  .login_concurrency = s.cfg().auth_login_concurrency}) {}

  Status Bootstrap() {
    auto created = service_.EnsureAdmin(s_.cfg().admin_password);
    if (!created.ok()) return created.status();
    if (*created) {
      // Printed once, to the terminal, and never logged: logs are shipped and kept.
      std::fprintf(stderr,
                   "\n  PrimoART created the user 'admin' with the password:\n\n      %s\n\n"
                   "  It is shown only this once. Log in and change it (POST "
                   "/api/v1/auth/password),\n  or set PRIMOART_ADMIN_PASSWORD before the first "
                   "start.\n\n",
                   created->value().c_str());
      std::fflush(stderr);
    }
    return Status::Ok();
  }

  Status RegisterRoutes() {
    auto& r = *s_.router;
    auto add = [&](Method m, const char* path, Access a, Response (AuthRole::*h)(Request&)) {
      return r.Add(
          m, path, std::move(a), [this, h](Request& q) { return (this->*h)(q); }, {}, "auth");
    };
    PA_RETURN_IF_ERROR(
        add(Method::kPost, "/api/v1/auth/login", Access::Public(), &AuthRole::Login));
    PA_RETURN_IF_ERROR(
        add(Method::kPost, "/api/v1/auth/logout", Access::Authenticated(), &AuthRole::Logout));
    PA_RETURN_IF_ERROR(
        add(Method::kGet, "/api/v1/auth/me", Access::Authenticated(), &AuthRole::Me));
    PA_RETURN_IF_ERROR(add(Method::kPost, "/api/v1/auth/password", Access::Authenticated(),
                           &AuthRole::ChangePassword));
    PA_RETURN_IF_ERROR(add(Method::kGet, "/api/v1/users", Access::Admin(), &AuthRole::ListUsers));
    PA_RETURN_IF_ERROR(add(Method::kPost, "/api/v1/users", Access::Admin(), &AuthRole::CreateUser));
    PA_RETURN_IF_ERROR(
        add(Method::kGet, "/api/v1/users/{id}", Access::Admin(), &AuthRole::GetUser));
    PA_RETURN_IF_ERROR(
        add(Method::kPatch, "/api/v1/users/{id}", Access::Admin(), &AuthRole::PatchUser));
    PA_RETURN_IF_ERROR(
        add(Method::kDelete, "/api/v1/users/{id}", Access::Admin(), &AuthRole::DeleteUser));
    PA_RETURN_IF_ERROR(add(Method::kGet, "/api/v1/tokens", Access::Admin(), &AuthRole::ListTokens));
    PA_RETURN_IF_ERROR(
        add(Method::kPost, "/api/v1/tokens", Access::Admin(), &AuthRole::CreateToken));
    PA_RETURN_IF_ERROR(
        add(Method::kGet, "/api/v1/tokens/{id}", Access::Admin(), &AuthRole::GetToken));
    PA_RETURN_IF_ERROR(
        add(Method::kDelete, "/api/v1/tokens/{id}", Access::Admin(), &AuthRole::RevokeToken));
    PA_RETURN_IF_ERROR(add(Method::kGet, "/api/v1/audit", Access::Admin(), &AuthRole::Audit));
    return Status::Ok();
  }

 private:
  Response Login(Request& req) {
    Response error;
    auto body = ObjectBody(req, error);
    if (!body) return error;
    ValidationErrors errors;
    Fields f{*body, errors};
    auto username = f.String("username", true);
    auto password = f.String("password", true);
    f.Only({"username", "password"});
    if (!errors.empty()) return errors.ToResponse();
    std::chrono::seconds retry_after(0);
    auto result = service_.Login(*username, *password, ClientIp(req),
                                 std::string(req.Header("User-Agent").value_or("")), &retry_after);
    if (!result.ok()) {
      Response resp = Response::FromStatus(result.status());
      if (result.status().code() == StatusCode::kResourceExhausted) {
        resp.headers.Set("Retry-After", std::to_string(std::max<int64_t>(1, retry_after.count())));
      } else if (result.status().code() == StatusCode::kUnavailable) {
        resp.headers.Set("Retry-After", "1");
      }
      return resp;
    }
    const int64_t max_age = (result->session.expires_at - result->session.created_at) / 1000;
    Response resp =
        Response::Json(200, {{"token", result->token},
                             {"expires_at", FormatRfc3339Ms(result->session.expires_at)},
                             {"user", UserJson(result->user)}});
    std::string cookie = std::string(kSessionCookie) + "=" + result->token +
                         "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" + std::to_string(max_age);
    if (s_.cfg().auth_cookie_secure) cookie += "; Secure";
    resp.headers.Add("Set-Cookie", cookie);
    resp.headers.Set("Cache-Control", "no-store");
    return resp;
  }

  Response Logout(Request& req) {
    const std::string credential = Authn::CredentialOf(req);
    if (!credential.starts_with("pas_")) {
      return Response::Error(400, "bad_request",
                             "logout ends a login session; revoke API tokens with "
                             "DELETE /api/v1/tokens/{id}");
    }
    auto session = store_.FindSession(HashToken(credential));
    if (!session.ok()) return Response::FromStatus(session.status());
    Status st = service_.Logout(session->first.id, ActorOf(req));
    if (!st.ok() && st.code() != StatusCode::kNotFound) return Response::FromStatus(st);
    Response resp = Response::Empty(204);
    std::string cookie =
        std::string(kSessionCookie) + "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0";
    if (s_.cfg().auth_cookie_secure) cookie += "; Secure";
    resp.headers.Add("Set-Cookie", cookie);
    return resp;
  }

  Response Me(Request& req) {
    // Built field by field: nlohmann's initializer lists deep-copy, and this route is as hot as
    // authentication itself (clients call it to learn who they are).
    const auto& p = req.principal;
    Json perms = Json::array();
    const uint32_t bits = PermissionsOf(p);
    const std::pair<gateway::Permission, const char*> kNames[] = {
        {gateway::Permission::kRead, "read"},
        {gateway::Permission::kWrite, "write"},
        {gateway::Permission::kAdmin, "admin"},
        {gateway::Permission::kIngest, "ingest"},
        {gateway::Permission::kRobot, "robot"}};
    for (const auto& [bit, name] : kNames) {
      if (bits & static_cast<uint32_t>(bit)) perms.push_back(name);
    }
    Json out = Json::object();
    out["kind"] = p.kind;
    out["id"] = p.id;
    out["name"] = p.name;
    out["permissions"] = std::move(perms);
    if (p.kind == "user") {
      out["role"] = p.role;
      if (auto u = store_.GetUser(p.id); u.ok()) out["user"] = UserJson(*u);
    } else {
      out["scopes"] = p.scopes;
      out["robot_id"] = p.robot_id.empty() ? Json(nullptr) : Json(p.robot_id);
    }
    return Response::Json(200, out);
  }

  Response ChangePassword(Request& req) {
    if (req.principal.kind != "user") {
      return Response::Error(403, "forbidden", "only users have passwords");
    }
    Response error;
    auto body = ObjectBody(req, error);
    if (!body) return error;
    ValidationErrors errors;
    Fields f{*body, errors};
    auto current = f.String("current_password", true);
    auto replacement = f.String("new_password", true);
    f.Only({"current_password", "new_password"});
    if (replacement) {
      if (Status st = CheckPasswordPolicy(*replacement); !st.ok()) {
        errors.Add("new_password", st.message());
      }
    }
    if (!errors.empty()) return errors.ToResponse();
    Status st = service_.ChangeOwnPassword(req.principal.id, *current, *replacement, ActorOf(req));
    if (st.code() == StatusCode::kPermissionDenied) {
      ValidationErrors wrong;
      wrong.Add("current_password", "does not match");
      return wrong.ToResponse();
    }
    if (!st.ok()) return FromServiceStatus(st);
    return Response::Empty(204);
  }

  Response ListUsers(Request&) {
    auto users = store_.ListUsers();
    if (!users.ok()) return Response::FromStatus(users.status());
    Json items = Json::array();
    for (const auto& u : *users) items.push_back(UserJson(u));
    return Response::Json(200, {{"users", items}});
  }

  Response CreateUser(Request& req) {
    Response error;
    auto body = ObjectBody(req, error);
    if (!body) return error;
    ValidationErrors errors;
    Fields f{*body, errors};
    auto username = f.String("username", true);
    auto role_name = f.String("role", true);
    auto password = f.String("password", true);
    f.Only({"username", "role", "password"});
    std::optional<Role> role;
    if (role_name && !(role = ParseRole(*role_name))) {
      errors.Add("role", "unknown role '" + *role_name + "' (viewer, editor, admin)");
    }
    if (username) {
      if (Status st = ValidateUsername(*username); !st.ok()) errors.Add("username", st.message());
    }
    if (password) {
      if (Status st = CheckPasswordPolicy(*password); !st.ok())
        errors.Add("password", st.message());
    }
    if (!errors.empty()) return errors.ToResponse();
    auto user = service_.CreateUser(*username, *role, *password, ActorOf(req));
    if (!user.ok()) return FromServiceStatus(user.status());
    return Response::Json(201, UserJson(*user));
  }

  Response GetUser(Request& req) {
    auto user = store_.GetUser(std::string(req.Param("id")));
    if (!user.ok()) return Response::FromStatus(user.status());
    return Response::Json(200, UserJson(*user));
  }

  // The last enabled admin cannot be demoted, disabled or deleted: nobody could undo it.
  Status GuardLastAdmin(const std::string& id) {
    PA_ASSIGN_OR_RETURN(auto users, store_.ListUsers());
    int admins = 0;
    bool target_is_admin = false;
    for (const auto& u : users) {
      if (u.role == Role::kAdmin && !u.disabled) {
        ++admins;
        target_is_admin = target_is_admin || u.id == id;
      }
    }
    if (target_is_admin && admins == 1) {
      return FailedPreconditionError("this is the last enabled admin; create another admin first");
    }
    return Status::Ok();
  }

  Response PatchUser(Request& req) {
    const std::string id(req.Param("id"));
    Response error;
    auto body = ObjectBody(req, error);
    if (!body) return error;
    ValidationErrors errors;
    Fields f{*body, errors};
    f.Only({"role", "disabled", "password"});
    UserPatch patch;
    if (auto role_name = f.String("role", false)) {
      patch.role = ParseRole(*role_name);
      if (!patch.role)
        errors.Add("role", "unknown role '" + *role_name + "' (viewer, editor, admin)");
    }
    if (body->contains("disabled")) {
      if ((*body)["disabled"].is_boolean()) {
        patch.disabled = (*body)["disabled"].get<bool>();
      } else {
        errors.Add("disabled", "must be true or false");
      }
    }
    if (auto password = f.String("password", false)) {
      if (Status st = CheckPasswordPolicy(*password); !st.ok())
        errors.Add("password", st.message());
      patch.password = *password;
    }
    if (!errors.empty()) return errors.ToResponse();
    if ((patch.role && *patch.role != Role::kAdmin) || (patch.disabled && *patch.disabled)) {
      if (Status st = GuardLastAdmin(id); !st.ok()) return Response::FromStatus(st);
    }
    auto user = service_.UpdateUser(id, patch, ActorOf(req));
    if (!user.ok()) return FromServiceStatus(user.status());
    return Response::Json(200, UserJson(*user));
  }

  Response DeleteUser(Request& req) {
    const std::string id(req.Param("id"));
    if (Status st = GuardLastAdmin(id); !st.ok()) return Response::FromStatus(st);
    Status st = service_.DeleteUser(id, ActorOf(req));
    if (!st.ok()) return FromServiceStatus(st);
    return Response::Empty(204);
  }

  Response ListTokens(Request&) {
    auto tokens = store_.ListTokens();
    if (!tokens.ok()) return Response::FromStatus(tokens.status());
    Json items = Json::array();
    for (const auto& t : *tokens) items.push_back(TokenJson(t));
    return Response::Json(200, {{"tokens", items}});
  }

  Response CreateToken(Request& req) {
    Response error;
    auto body = ObjectBody(req, error);
    if (!body) return error;
    ValidationErrors errors;
    Fields f{*body, errors};
    f.Only({"name", "scopes", "robot_id", "expires_at"});
    NewToken request;
    request.name = f.String("name", true).value_or("");
    request.robot_id = f.String("robot_id", false);
    if (!body->contains("scopes")) {
      errors.Add("scopes", "is required");
    } else if (!(*body)["scopes"].is_array()) {
      errors.Add("scopes", "must be an array of strings");
    } else {
      const Json& scopes = (*body)["scopes"];
      for (size_t i = 0; i < scopes.size(); ++i) {
        if (!scopes[i].is_string()) {
          errors.Add("scopes[" + std::to_string(i) + "]", "must be a string");
        } else {
          request.scopes.push_back(scopes[i].get<std::string>());
        }
      }
    }
    if (auto expires = f.String("expires_at", false)) {
      auto ms = ParseRfc3339Ms(*expires);
      if (!ms.ok()) {
        errors.Add("expires_at", ms.status().message());
      } else {
        request.expires_at = *ms;
      }
    }
    if (!errors.empty()) return errors.ToResponse();
    auto created = service_.CreateToken(request, ActorOf(req));
    if (!created.ok()) return FromServiceStatus(created.status());
    Json out = TokenJson(created->first);
    out["token"] = created->second;
    Response resp = Response::Json(201, out);
    resp.headers.Set("Cache-Control", "no-store");
    return resp;
  }

  Response GetToken(Request& req) {
    auto token = store_.GetToken(std::string(req.Param("id")));
    if (!token.ok()) return Response::FromStatus(token.status());
    return Response::Json(200, TokenJson(*token));
  }

  Response RevokeToken(Request& req) {
    Status st = service_.RevokeToken(std::string(req.Param("id")), ActorOf(req));
    if (!st.ok()) return FromServiceStatus(st);
    return Response::Empty(204);
  }

  Response Audit(Request& req) {
    int limit = 100;
    ValidationErrors errors;
    if (auto l = req.Query("limit")) {
      auto [ptr, ec] = std::from_chars(l->data(), l->data() + l->size(), limit);
      if (ec != std::errc() || ptr != l->data() + l->size() || limit < 1 || limit > 1000) {
        errors.Add("limit", "must be an integer 1..1000");
      }
    }
    if (!errors.empty()) return errors.ToResponse();
    auto entries = store_.ListAudit(limit, req.Query("cursor"));
    if (!entries.ok()) return Response::FromStatus(entries.status());
    Json items = Json::array();
    for (const auto& e : *entries) items.push_back(AuditJson(e));
    Json next =
        static_cast<int>(entries->size()) == limit ? Json(entries->back().id) : Json(nullptr);
    return Response::Json(200, {{"entries", items}, {"next_cursor", next}});
  }

  core::Services& s_;
  AuthStore store_;
  AuthService service_;
};

}  // namespace

Result<std::unique_ptr<core::Module>> NewAuthnModule(core::Services& services) {
  return std::unique_ptr<core::Module>(new AuthnModule(services));
}

Result<std::unique_ptr<core::Module>> NewAuthRole(core::Services& services) {
  auto role = std::make_unique<AuthRole>(services);
  PA_RETURN_IF_ERROR(role->Bootstrap());
  PA_RETURN_IF_ERROR(role->RegisterRoutes());
  return std::unique_ptr<core::Module>(std::move(role));
}

}  // namespace pa::auth
