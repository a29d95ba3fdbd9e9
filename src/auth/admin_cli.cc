#include "auth/admin_cli.h"

#include <termios.h>
#include <unistd.h>

#include <iostream>

#include "auth/auth_service.h"
#include "auth/auth_store.h"
#include "auth/password.h"
#include "base/clock.h"
#include "base/strings.h"
#include "base/time_format.h"
#include "base/units.h"

namespace pa::auth {
namespace {

constexpr int kOk = 0;
constexpr int kFailed = 1;
constexpr int kBadInput = 2;

const Actor kCli{"cli", "", ""};

// One line from `in`; without echo when it is a terminal.
std::string ReadSecretLine(std::istream& in, std::ostream& err, const char* prompt) {
  const bool tty = &in == &std::cin && isatty(STDIN_FILENO);
  termios saved{};
  if (tty) {
    err << prompt << std::flush;
    tcgetattr(STDIN_FILENO, &saved);
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  std::string line;
  std::getline(in, line);
  if (tty) {
    tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    err << "\n";
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

int Report(const Status& st, std::ostream& err) {
  err << "primoart: " << st.message() << "\n";
  return st.code() == StatusCode::kInvalidArgument ? kBadInput : kFailed;
}

}  // namespace

int RunAdminCommand(const AdminCommand& c, storage::RelationalStore& db, std::istream& in,
                    std::ostream& out, std::ostream& err) {
  AuthStore store(db);
  AuthService service(store, nullptr, *Clock::System(), nullptr, {});
  using K = AdminCommand::Kind;
  switch (c.kind) {
    case K::kTokenCreate: {
      NewToken request{c.name, SplitList(c.scopes), {}, {}};
      if (!c.robot_id.empty()) request.robot_id = c.robot_id;
      if (!c.expires_in.empty()) {
        auto d = ParseDuration(c.expires_in);
        if (!d.ok()) return Report(d.status().WithContext("--expires-in"), err);
        request.expires_at = Clock::System()->NowMs() + d->count();
      }
      auto created = service.CreateToken(request, kCli);
      if (!created.ok()) return Report(created.status(), err);
      out << created->second << "\n";
      err << "created token " << created->first.id << " (" << created->first.name
          << "); it is shown only this once\n";
      return kOk;
    }
    case K::kTokenList: {
      auto tokens = store.ListTokens();
      if (!tokens.ok()) return Report(tokens.status(), err);
      for (const auto& t : *tokens) {
        out << t.id << "  " << t.hint << "  " << t.name << "  scopes=" << JoinList(t.scopes)
            << (t.robot_id ? "  robot=" + *t.robot_id : "") << (t.revoked_at ? "  revoked" : "")
            << "\n";
      }
      return kOk;
    }
    case K::kTokenRevoke: {
      Status st = service.RevokeToken(c.id, kCli);
      if (!st.ok()) return Report(st, err);
      err << "revoked token " << c.id << "\n";
      return kOk;
    }
    case K::kUserCreate: {
      auto role = ParseRole(c.role);
      if (!role)
        return Report(InvalidArgumentError("--role: expected admin, editor or viewer"), err);
      std::string password;
      const bool generated = !c.password_stdin;
      if (c.password_stdin) {
        password = ReadSecretLine(in, err, "password: ");
      } else {
        password = GeneratePassword();
      }
      auto user = service.CreateUser(c.username, *role, password, kCli);
      if (!user.ok()) return Report(user.status(), err);
      err << "created user " << user->username << " (" << RoleName(user->role) << ")\n";
      if (generated) out << password << "\n";
      return kOk;
    }
    case K::kUserPasswd: {
      auto user = store.GetUserByName(c.username);
      if (!user.ok()) return Report(user.status(), err);
      const std::string password = ReadSecretLine(in, err, "new password: ");
      UserPatch patch;
      patch.password = password;
      patch.disabled = false;
      auto updated = service.UpdateUser(user->id, patch, kCli);
      if (!updated.ok()) return Report(updated.status(), err);
      err << "password of " << c.username << " changed; their sessions were ended\n";
      return kOk;
    }
    case K::kUserList: {
      auto users = store.ListUsers();
      if (!users.ok()) return Report(users.status(), err);
      for (const auto& u : *users) {
        out << u.username << "  " << RoleName(u.role) << (u.disabled ? "  disabled" : "")
            << "  last_login=" << (u.last_login_at ? FormatRfc3339Ms(*u.last_login_at) : "never")
            << "\n";
      }
      return kOk;
    }
  }
  return kBadInput;
}

}  // namespace pa::auth
