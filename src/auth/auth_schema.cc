#include "auth/auth_schema.h"

namespace pa::auth {

storage::Schema AuthSchema() {
  return {"auth",
          {
              {1, "users, sessions, api tokens, audit log",
               R"sql(
CREATE TABLE auth_users (
  id                  TEXT PRIMARY KEY,
  username            TEXT NOT NULL UNIQUE,
  role                TEXT NOT NULL,
  password_hash       TEXT NOT NULL,
  disabled            BIGINT NOT NULL DEFAULT 0,
  failed_logins       BIGINT NOT NULL DEFAULT 0,
  created_at          BIGINT NOT NULL,
  updated_at          BIGINT NOT NULL,
  password_changed_at BIGINT NOT NULL,
  last_login_at       BIGINT
);
CREATE TABLE auth_sessions (
  id            TEXT PRIMARY KEY,
  token_hash    TEXT NOT NULL UNIQUE,
  user_id       TEXT NOT NULL REFERENCES auth_users (id) ON DELETE CASCADE,
  created_at    BIGINT NOT NULL,
  expires_at    BIGINT NOT NULL,
  last_seen_at  BIGINT NOT NULL,
  ip            TEXT NOT NULL,
  user_agent    TEXT NOT NULL,
  revoked_at    BIGINT
);
CREATE INDEX auth_sessions_user ON auth_sessions (user_id);
CREATE TABLE auth_tokens (
  id            TEXT PRIMARY KEY,
  name          TEXT NOT NULL,
  token_hash    TEXT NOT NULL UNIQUE,
  hint          TEXT NOT NULL,
  scopes        TEXT NOT NULL,
  robot_id      TEXT,
  created_by    TEXT NOT NULL,
  created_at    BIGINT NOT NULL,
  expires_at    BIGINT,
  last_used_at  BIGINT,
  revoked_at    BIGINT
);
CREATE TABLE auth_audit (
  id        TEXT PRIMARY KEY,
  at        BIGINT NOT NULL,
  action    TEXT NOT NULL,
  success   BIGINT NOT NULL,
  actor     TEXT NOT NULL,
  actor_id  TEXT,
  target    TEXT,
  ip        TEXT,
  details   TEXT NOT NULL
)
)sql",
               "", ""},
          }};
}

}  // namespace pa::auth
