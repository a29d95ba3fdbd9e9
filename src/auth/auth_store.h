// AuthStore: the auth tables in the relational store. Every change that must be audited takes
// its AuditEntry and writes both in one transaction, so the log never misses a change and never
// records one that did not happen.
//
// Errors: kAlreadyExists for a duplicate username; kNotFound for a missing row; store errors as
// RelationalStore reports them. Thread-safety: all methods may be called concurrently.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "auth/model.h"
#include "base/status.h"
#include "storage/relational_store.h"

namespace pa::auth {

class AuthStore {
 public:
  explicit AuthStore(storage::RelationalStore& db) : db_(db) {}

  // Users
  Status CreateUser(const User& user, const AuditEntry& audit);
  Result<User> GetUser(const std::string& id);
  Result<User> GetUserByName(const std::string& username);
  Result<std::vector<User>> ListUsers();
  Result<int64_t> CountUsers();
  // Writes role, disabled, password_hash, password_changed_at and updated_at of `user`.
  Status UpdateUser(const User& user, const AuditEntry& audit);
  // Deletes the user (their sessions go with them).
  Status DeleteUser(const std::string& id, const AuditEntry& audit);
  // Bumps the consecutive-failure count; returns the new count.
  Result<int64_t> RecordLoginFailure(const std::string& user_id);

  // Sessions
  // Records a successful login: the session, the user's reset failure count and last login, and
  // the audit entry, atomically.
  Status CreateSession(const Session& session, int64_t now, const AuditEntry& audit);
  // The live or dead session with this token hash, with its user; kNotFound if none.
  Result<std::pair<Session, User>> FindSession(const std::string& token_hash);
  Status TouchSession(const std::string& id, int64_t now);
  Status RevokeSession(const std::string& id, int64_t now, const AuditEntry& audit);
  // Revokes every live session of a user (after a password change or disabling).
  Status RevokeUserSessions(const std::string& user_id, int64_t now);

  // API tokens
  Status CreateToken(const ApiToken& token, const AuditEntry& audit);
  Result<ApiToken> FindToken(const std::string& token_hash);
  Result<ApiToken> GetToken(const std::string& id);
  Result<std::vector<ApiToken>> ListTokens();
  Status TouchToken(const std::string& id, int64_t now);
  Status RevokeToken(const std::string& id, int64_t now, const AuditEntry& audit);

  // Audit log
  Status AppendAudit(const AuditEntry& entry);
  // Newest first; `before_id` continues a previous page.
  Result<std::vector<AuditEntry>> ListAudit(int limit, const std::optional<std::string>& before_id);

 private:
  storage::RelationalStore& db_;
};

}  // namespace pa::auth
