#include "auth/auth_store.h"

#include "base/strings.h"

namespace pa::auth {
namespace {

using storage::Params;
using storage::Rows;
using storage::SqlValue;
using storage::Transaction;

SqlValue Opt(const std::optional<int64_t>& v) { return v ? SqlValue(*v) : storage::kNull; }
SqlValue Opt(const std::optional<std::string>& v) { return v ? SqlValue(*v) : storage::kNull; }

constexpr const char* kUserColumns =
    "id, username, role, password_hash, disabled, failed_logins, created_at, updated_at, "
    "password_changed_at, last_login_at";

User UserFromRow(const Rows& rows, size_t r, size_t c = 0) {
  User u;
  u.id = rows.Text(r, c + 0);
  u.username = rows.Text(r, c + 1);
  u.role = ParseRole(rows.Text(r, c + 2)).value_or(Role::kViewer);
  u.password_hash = rows.Text(r, c + 3);
  u.disabled = rows.Int(r, c + 4) != 0;
  u.failed_logins = rows.Int(r, c + 5);
  u.created_at = rows.Int(r, c + 6);
  u.updated_at = rows.Int(r, c + 7);
  u.password_changed_at = rows.Int(r, c + 8);
  u.last_login_at = rows.OptInt(r, c + 9);
  return u;
}

constexpr const char* kTokenColumns =
    "id, name, token_hash, hint, scopes, robot_id, created_by, created_at, expires_at, "
    "last_used_at, revoked_at";

ApiToken TokenFromRow(const Rows& rows, size_t r) {
  ApiToken t;
  t.id = rows.Text(r, 0);
  t.name = rows.Text(r, 1);
  t.token_hash = rows.Text(r, 2);
  t.hint = rows.Text(r, 3);
  t.scopes = SplitList(rows.Text(r, 4));
  t.robot_id = rows.OptText(r, 5);
  t.created_by = rows.Text(r, 6);
  t.created_at = rows.Int(r, 7);
  t.expires_at = rows.OptInt(r, 8);
  t.last_used_at = rows.OptInt(r, 9);
  t.revoked_at = rows.OptInt(r, 10);
  return t;
}

Status WriteAudit(Transaction& tx, const AuditEntry& e) {
  return tx
      .Exec(
          "INSERT INTO auth_audit (id, at, action, success, actor, actor_id, target, ip, details) "
          "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
          {e.id, e.at, e.action, int64_t{e.success ? 1 : 0}, e.actor, e.actor_id, e.target, e.ip,
           e.details.dump()})
      .status();
}

Status ExpectOne(Result<int64_t> changed, const std::string& what) {
  if (!changed.ok()) return changed.status();
  if (*changed == 0) return NotFoundError(what + " not found");
  return Status::Ok();
}

}  // namespace

Status AuthStore::CreateUser(const User& u, const AuditEntry& audit) {
  return db_.InTransaction([&](Transaction& tx) -> Status {
    auto inserted = tx.Exec(
        std::string("INSERT INTO auth_users (") + kUserColumns +
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (username) DO NOTHING",
        {u.id, u.username, std::string(RoleName(u.role)), u.password_hash,
         int64_t{u.disabled ? 1 : 0}, u.failed_logins, u.created_at, u.updated_at,
         u.password_changed_at, Opt(u.last_login_at)});
    if (!inserted.ok()) return inserted.status();
    if (*inserted == 0) return AlreadyExistsError("user '" + u.username + "' already exists");
    return WriteAudit(tx, audit);
  });
}

Result<User> AuthStore::GetUser(const std::string& id) {
  PA_ASSIGN_OR_RETURN(
      auto rows,
      db_.Query(std::string("SELECT ") + kUserColumns + " FROM auth_users WHERE id = $1", {id}));
  if (rows.empty()) return NotFoundError("user not found");
  return UserFromRow(rows, 0);
}

Result<User> AuthStore::GetUserByName(const std::string& username) {
  PA_ASSIGN_OR_RETURN(auto rows, db_.Query(std::string("SELECT ") + kUserColumns +
                                               " FROM auth_users WHERE username = $1",
                                           {username}));
  if (rows.empty()) return NotFoundError("user '" + username + "' not found");
  return UserFromRow(rows, 0);
}

Result<std::vector<User>> AuthStore::ListUsers() {
  PA_ASSIGN_OR_RETURN(auto rows, db_.Query(std::string("SELECT ") + kUserColumns +
                                           " FROM auth_users ORDER BY username"));
  std::vector<User> out;
  for (size_t r = 0; r < rows.size(); ++r) out.push_back(UserFromRow(rows, r));
  return out;
}

Result<int64_t> AuthStore::CountUsers() {
  PA_ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT COUNT(*) FROM auth_users"));
  return rows.Int(0, 0);
}

Status AuthStore::UpdateUser(const User& u, const AuditEntry& audit) {
  return db_.InTransaction([&](Transaction& tx) -> Status {
    PA_RETURN_IF_ERROR(
        ExpectOne(tx.Exec("UPDATE auth_users SET role = $1, disabled = $2, password_hash = $3, "
                          "password_changed_at = $4, updated_at = $5 WHERE id = $6",
                          {std::string(RoleName(u.role)), int64_t{u.disabled ? 1 : 0},
                           u.password_hash, u.password_changed_at, u.updated_at, u.id}),
                  "user"));
    return WriteAudit(tx, audit);
  });
}

Status AuthStore::DeleteUser(const std::string& id, const AuditEntry& audit) {
  return db_.InTransaction([&](Transaction& tx) -> Status {
    PA_RETURN_IF_ERROR(tx.Exec("DELETE FROM auth_sessions WHERE user_id = $1", {id}).status());
    PA_RETURN_IF_ERROR(ExpectOne(tx.Exec("DELETE FROM auth_users WHERE id = $1", {id}), "user"));
    return WriteAudit(tx, audit);
  });
}

Result<int64_t> AuthStore::RecordLoginFailure(const std::string& user_id) {
  PA_ASSIGN_OR_RETURN(auto rows,
                      db_.Query("UPDATE auth_users SET failed_logins = failed_logins + 1 "
                                "WHERE id = $1 RETURNING failed_logins",
                                {user_id}));
  if (rows.empty()) return NotFoundError("user not found");
  return rows.Int(0, 0);
}

Status AuthStore::CreateSession(const Session& s, int64_t now, const AuditEntry& audit) {
  return db_.InTransaction([&](Transaction& tx) -> Status {
    PA_RETURN_IF_ERROR(
        tx.Exec("INSERT INTO auth_sessions (id, token_hash, user_id, created_at, expires_at, "
                "last_seen_at, ip, user_agent) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                {s.id, s.token_hash, s.user_id, s.created_at, s.expires_at, s.last_seen_at, s.ip,
                 s.user_agent})
            .status());
    PA_RETURN_IF_ERROR(ExpectOne(
        tx.Exec("UPDATE auth_users SET failed_logins = 0, last_login_at = $1 WHERE id = $2",
                {now, s.user_id}),
        "user"));
    return WriteAudit(tx, audit);
  });
}

Result<std::pair<Session, User>> AuthStore::FindSession(const std::string& token_hash) {
  PA_ASSIGN_OR_RETURN(
      auto rows,
      db_.Query(std::string("SELECT s.id, s.token_hash, s.user_id, s.created_at, s.expires_at, "
                            "s.last_seen_at, s.ip, s.user_agent, s.revoked_at, ") +
                    "u.id, u.username, u.role, u.password_hash, u.disabled, u.failed_logins, "
                    "u.created_at, u.updated_at, u.password_changed_at, u.last_login_at "
                    "FROM auth_sessions s JOIN auth_users u ON u.id = s.user_id "
                    "WHERE s.token_hash = $1",
                {token_hash}));
  if (rows.empty()) return NotFoundError("session not found");
  Session s{rows.Text(0, 0), rows.Text(0, 1), rows.Text(0, 2), rows.Int(0, 3),   rows.Int(0, 4),
            rows.Int(0, 5),  rows.Text(0, 6), rows.Text(0, 7), rows.OptInt(0, 8)};
  return std::make_pair(std::move(s), UserFromRow(rows, 0, 9));
}

Status AuthStore::TouchSession(const std::string& id, int64_t now) {
  return db_.Exec("UPDATE auth_sessions SET last_seen_at = $1 WHERE id = $2", {now, id}).status();
}

Status AuthStore::RevokeSession(const std::string& id, int64_t now, const AuditEntry& audit) {
  return db_.InTransaction([&](Transaction& tx) -> Status {
    PA_RETURN_IF_ERROR(ExpectOne(
        tx.Exec("UPDATE auth_sessions SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
                {now, id}),
        "session"));
    return WriteAudit(tx, audit);
  });
}

Status AuthStore::RevokeUserSessions(const std::string& user_id, int64_t now) {
  return db_
      .Exec("UPDATE auth_sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
            {now, user_id})
      .status();
}

Status AuthStore::CreateToken(const ApiToken& t, const AuditEntry& audit) {
  return db_.InTransaction([&](Transaction& tx) -> Status {
    PA_RETURN_IF_ERROR(tx.Exec(std::string("INSERT INTO auth_tokens (") + kTokenColumns +
                                   ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                               {t.id, t.name, t.token_hash, t.hint, JoinList(t.scopes),
                                Opt(t.robot_id), t.created_by, t.created_at, Opt(t.expires_at),
                                Opt(t.last_used_at), Opt(t.revoked_at)})
                           .status());
    return WriteAudit(tx, audit);
  });
}

Result<ApiToken> AuthStore::FindToken(const std::string& token_hash) {
  PA_ASSIGN_OR_RETURN(auto rows, db_.Query(std::string("SELECT ") + kTokenColumns +
                                               " FROM auth_tokens WHERE token_hash = $1",
                                           {token_hash}));
  if (rows.empty()) return NotFoundError("token not found");
  return TokenFromRow(rows, 0);
}

Result<ApiToken> AuthStore::GetToken(const std::string& id) {
  PA_ASSIGN_OR_RETURN(
      auto rows,
      db_.Query(std::string("SELECT ") + kTokenColumns + " FROM auth_tokens WHERE id = $1", {id}));
  if (rows.empty()) return NotFoundError("token not found");
  return TokenFromRow(rows, 0);
}

Result<std::vector<ApiToken>> AuthStore::ListTokens() {
  PA_ASSIGN_OR_RETURN(auto rows, db_.Query(std::string("SELECT ") + kTokenColumns +
                                           " FROM auth_tokens ORDER BY id"));
  std::vector<ApiToken> out;
  for (size_t r = 0; r < rows.size(); ++r) out.push_back(TokenFromRow(rows, r));
  return out;
}

Status AuthStore::TouchToken(const std::string& id, int64_t now) {
  return db_.Exec("UPDATE auth_tokens SET last_used_at = $1 WHERE id = $2", {now, id}).status();
}

Status AuthStore::RevokeToken(const std::string& id, int64_t now, const AuditEntry& audit) {
  return db_.InTransaction([&](Transaction& tx) -> Status {
    PA_RETURN_IF_ERROR(ExpectOne(
        tx.Exec("UPDATE auth_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
                {now, id}),
        "live token"));
    return WriteAudit(tx, audit);
  });
}

Status AuthStore::AppendAudit(const AuditEntry& entry) {
  return db_.InTransaction([&](Transaction& tx) { return WriteAudit(tx, entry); });
}

Result<std::vector<AuditEntry>> AuthStore::ListAudit(int limit,
                                                     const std::optional<std::string>& before_id) {
  const std::string columns = "id, at, action, success, actor, actor_id, target, ip, details";
  auto rows = before_id
                  ? db_.Query("SELECT " + columns +
                                  " FROM auth_audit WHERE id < $1 ORDER BY id DESC LIMIT $2",
                              {*before_id, int64_t{limit}})
                  : db_.Query("SELECT " + columns + " FROM auth_audit ORDER BY id DESC LIMIT $1",
                              {int64_t{limit}});
  if (!rows.ok()) return rows.status();
  std::vector<AuditEntry> out;
  for (size_t r = 0; r < rows->size(); ++r) {
    AuditEntry e;
    e.id = rows->Text(r, 0);
    e.at = rows->Int(r, 1);
    e.action = rows->Text(r, 2);
    e.success = rows->Int(r, 3) != 0;
    e.actor = rows->Text(r, 4);
    e.actor_id = rows->OptText(r, 5).value_or("");
    e.target = rows->OptText(r, 6).value_or("");
    e.ip = rows->OptText(r, 7).value_or("");
    std::string error;
    e.details = ParseJson(rows->Text(r, 8), &error).value_or(Json::object());
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace pa::auth
