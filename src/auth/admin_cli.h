// `primoart admin ...`: identity administration straight on the configured database, without a
// running server (the first token for a robot, a forgotten admin password):
//
//   primoart admin token create --name N --scopes robot --robot-id R [--expires-in 90d]
//   primoart admin token list | revoke --id ID
//   primoart admin user create --username U --role admin|editor|viewer [--password-stdin]
//   primoart admin user passwd --username U          (new password from stdin)
//   primoart admin user list
//
// A created token is the only thing written to stdout, so `T=$(primoart admin token create ...)`
// works. Every change is audited with actor "cli".
#pragma once

#include <iosfwd>
#include <string>

#include "storage/relational_store.h"

namespace pa::auth {

struct AdminCommand {
  enum class Kind { kTokenCreate, kTokenList, kTokenRevoke, kUserCreate, kUserPasswd, kUserList };
  Kind kind = Kind::kUserList;
  std::string name;    // token name
  std::string scopes;  // comma-separated
  std::string robot_id;
  std::string expires_in;  // duration, e.g. 90d
  std::string id;          // token id
  std::string username;
  std::string role;
  bool password_stdin = false;
};

// Runs the command; returns the process exit code (0 ok, 1 failed, 2 bad input).
int RunAdminCommand(const AdminCommand& command, storage::RelationalStore& db, std::istream& in,
                    std::ostream& out, std::ostream& err);

}  // namespace pa::auth
