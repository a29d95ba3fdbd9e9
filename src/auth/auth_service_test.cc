// AuthService + Authn over a real SQLite store with a fake clock: logins, sessions, tokens,
// expiry, revocation, authorisation, and what reaches the database.
#include "auth/auth_service.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "auth/auth_schema.h"
#include "auth/authn.h"
#include "base/random.h"
#include "storage/sqlite/sqlite_store.h"

namespace pa::auth {
namespace {

using gateway::Access;
using gateway::Permission;
using gateway::Request;

constexpr char kPassword[] = "correct horse battery";

class AuthServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("pa-auth-" + NewRequestId().substr(0, 10));
    auto db = storage::sqlite::Open({.path = (dir_ / "auth.db").string()});
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    ASSERT_TRUE(db_->Migrate({AuthSchema()}).ok());
    store_ = std::make_unique<AuthStore>(*db_);
    authn_ = std::make_unique<Authn>(*store_, clock_, registry_,
                                     AuthnOptions{.cache_ttl = std::chrono::seconds(5),
                                                  .session_idle = std::chrono::minutes(30)});
    service_ = std::make_unique<AuthService>(
        *store_, authn_.get(), clock_, &registry_,
        AuthServiceOptions{.session_ttl = std::chrono::hours(12), .login_concurrency = 2});
    ASSERT_TRUE(service_->CreateUser("alice", Role::kViewer, kPassword, {}).ok());
  }
  void TearDown() override {
    service_.reset();
    authn_.reset();
    store_.reset();
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  static Request WithBearer(const std::string& token) {
    Request r;
    r.headers.Add("Authorization", "Bearer " + token);
    return r;
  }

  std::filesystem::path dir_;
  FakeClock clock_;
  telemetry::Registry registry_;
  std::unique_ptr<storage::RelationalStore> db_;
  std::unique_ptr<AuthStore> store_;
  std::unique_ptr<Authn> authn_;
  std::unique_ptr<AuthService> service_;
};

TEST_F(AuthServiceTest, LoginGivesASessionUsableByBearerAndCookie) {
  auto login = service_->Login("alice", kPassword, "10.0.0.1", "test", nullptr);
  ASSERT_TRUE(login.ok()) << login.status().ToString();
  EXPECT_TRUE(login->token.starts_with("pas_"));
  auto p = authn_->Authenticate(WithBearer(login->token));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->name, "alice");
  EXPECT_EQ(p->role, "viewer");
  Request cookie;
  cookie.headers.Add("Cookie", "theme=dark; primoart_session=" + login->token);
  EXPECT_TRUE(authn_->Authenticate(cookie).ok());
}

TEST_F(AuthServiceTest, WrongPasswordFailsAndIsThrottledPerAddress) {
  for (int i = 0; i < 4; ++i) {
    auto r = service_->Login("alice", "wrong password!", "10.0.0.9", "", nullptr);
    EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated);
  }
  std::chrono::seconds wait(0);
  auto throttled = service_->Login("alice", kPassword, "10.0.0.9", "", &wait);
  EXPECT_EQ(throttled.status().code(), StatusCode::kResourceExhausted);
  EXPECT_GE(wait.count(), 1);
  // The real user, elsewhere, gets in.
  EXPECT_TRUE(service_->Login("alice", kPassword, "192.0.2.7", "", nullptr).ok());
  EXPECT_EQ(store_->GetUserByName("alice")->failed_logins, 0);
  // Unknown users fail the same way.
  EXPECT_EQ(service_->Login("mallory", kPassword, "10.0.0.2", "", nullptr).status().code(),
            StatusCode::kUnauthenticated);
}

TEST_F(AuthServiceTest, SessionsExpireAbsolutelyAndWhenIdleAndOnLogout) {
  auto login = service_->Login("alice", kPassword, "10.0.0.1", "", nullptr);
  ASSERT_TRUE(login.ok());
  clock_.Advance(std::chrono::minutes(31));  // idle longer than 30 min
  EXPECT_EQ(authn_->Authenticate(WithBearer(login->token)).status().code(),
            StatusCode::kUnauthenticated);

  auto second = service_->Login("alice", kPassword, "10.0.0.1", "", nullptr);
  ASSERT_TRUE(second.ok());
  for (int i = 0; i < 26; ++i) {  // used every 29 min: never idle, but 12 h is absolute
    clock_.Advance(std::chrono::minutes(29));
    const bool alive = authn_->Authenticate(WithBearer(second->token)).ok();
    EXPECT_EQ(alive, i < 24) << "after " << (i + 1) * 29 << " min";
  }

  auto third = service_->Login("alice", kPassword, "10.0.0.1", "", nullptr);
  ASSERT_TRUE(authn_->Authenticate(WithBearer(third->token)).ok());
  ASSERT_TRUE(service_->Logout(third->session.id, {"alice", "", ""}).ok());
  EXPECT_EQ(authn_->Authenticate(WithBearer(third->token)).status().code(),
            StatusCode::kUnauthenticated);
}

TEST_F(AuthServiceTest, TokensScopesExpiryAndRevocation) {
  EXPECT_EQ(service_->CreateToken({"r", {"robot"}, {}, {}}, {}).status().message(),
            "robot_id: required with scope robot");
  EXPECT_EQ(service_->CreateToken({"r", {"fly"}, {}, {}}, {}).status().code(),
            StatusCode::kInvalidArgument);
  auto robot = service_->CreateToken({"robot A", {"robot"}, "robot-a", {}}, {});
  ASSERT_TRUE(robot.ok()) << robot.status().ToString();
  auto p = authn_->Authenticate(WithBearer(robot->second));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->robot_id, "robot-a");

  Request own = WithBearer(robot->second);
  own.params = {{"id", "robot-a"}};
  Request other = WithBearer(robot->second);
  other.params = {{"id", "robot-b"}};
  const Access robot_route = Access::Robot("id", {Permission::kWrite});
  EXPECT_TRUE(authn_->Authorize(*p, robot_route, own));
  EXPECT_FALSE(authn_->Authorize(*p, robot_route, other));
  EXPECT_FALSE(authn_->Authorize(*p, Access::Read(), own));

  auto expiring = service_->CreateToken({"e", {"read"}, {}, clock_.NowMs() + 60000}, {});
  ASSERT_TRUE(expiring.ok());
  EXPECT_TRUE(authn_->Authenticate(WithBearer(expiring->second)).ok());
  clock_.Advance(std::chrono::seconds(61));
  EXPECT_EQ(authn_->Authenticate(WithBearer(expiring->second)).status().message(), "token expired");

  ASSERT_TRUE(service_->RevokeToken(robot->first.id, {}).ok());
  EXPECT_EQ(authn_->Authenticate(WithBearer(robot->second)).status().code(),
            StatusCode::kUnauthenticated);
  EXPECT_EQ(authn_->Authenticate(WithBearer("pa_notatoken")).status().code(),
            StatusCode::kUnauthenticated);
}

TEST_F(AuthServiceTest, RolesGrantPermissions) {
  gateway::Principal viewer{"user", "1", "v", "viewer", {}, ""};
  gateway::Principal editor{"user", "2", "e", "editor", {}, ""};
  gateway::Principal admin{"user", "3", "a", "admin", {}, ""};
  Request r;
  EXPECT_TRUE(authn_->Authorize(viewer, Access::Read(), r));
  EXPECT_FALSE(authn_->Authorize(viewer, Access::Write(), r));
  EXPECT_TRUE(authn_->Authorize(editor, Access::Write(), r));
  EXPECT_FALSE(authn_->Authorize(editor, Access::Admin(), r));
  EXPECT_TRUE(authn_->Authorize(admin, Access::Admin(), r));
  EXPECT_TRUE(authn_->Authorize(viewer, Access::Authenticated(), r));
  EXPECT_FALSE(authn_->Authorize(gateway::Principal{}, Access::Authenticated(), r));
}

TEST_F(AuthServiceTest, DatabaseHoldsNoSecrets) {
  auto token = service_->CreateToken({"ci", {"write"}, {}, {}}, {});
  auto login = service_->Login("alice", kPassword, "10.0.0.1", "", nullptr);
  ASSERT_TRUE(token.ok() && login.ok());
  db_.reset();  // close, so the file (and WAL) can be read whole
  std::string bytes;
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    bytes += ss.str();
  }
  EXPECT_EQ(bytes.find(kPassword), std::string::npos);
  EXPECT_EQ(bytes.find(token->second), std::string::npos);
  EXPECT_EQ(bytes.find(login->token), std::string::npos);
  EXPECT_NE(bytes.find("$argon2id$v=19$m=19456,t=2,p=1$"), std::string::npos);
}

TEST_F(AuthServiceTest, EnsureAdminOnlyOnAnEmptyDatabase) {
  auto none = service_->EnsureAdmin("");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());  // alice exists already
  ASSERT_TRUE(store_->DeleteUser(store_->GetUserByName("alice")->id, AuditEntry{"x", 1, "t"}).ok());
  EXPECT_EQ(service_->EnsureAdmin("short").status().code(), StatusCode::kInvalidArgument);
  auto generated = service_->EnsureAdmin("");
  ASSERT_TRUE(generated.ok() && generated->has_value());
  EXPECT_TRUE(service_->Login("admin", **generated, "10.0.0.1", "", nullptr).ok());
}

}  // namespace
}  // namespace pa::auth
