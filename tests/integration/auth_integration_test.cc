// The auth acceptance scenarios against the real binary, on SQLite and PostgreSQL: the whole
// route table under each kind of caller, throttling from several client addresses, secrets in
// the database, the admin CLI and bad input.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "it_support.h"

namespace pa::testing {
namespace {

bool IsWriteMethod(const std::string& m) {
  return m == "POST" || m == "PUT" || m == "PATCH" || m == "DELETE";
}

// Substitutes every {param} of a route pattern.
std::string Fill(const std::string& pattern, const std::string& robot_param,
                 const std::string& robot_value) {
  static const std::regex kParam("\\{([a-z_]+)\\}");
  std::string out;
  std::sregex_iterator it(pattern.begin(), pattern.end(), kParam), end;
  size_t last = 0;
  for (; it != end; ++it) {
    out += pattern.substr(last, it->position() - last);
    out += (*it)[1] == robot_param ? robot_value : "it-" + (*it)[1].str();
    last = it->position() + it->length();
  }
  return out + pattern.substr(last);
}

class AuthIT : public BackendTest {
 protected:
  std::string CreateToken(const Json& body) {
    auto resp = server_->Request("POST", "/api/v1/tokens", body.dump(), Bearer(admin_));
    EXPECT_TRUE(resp.ok());
    EXPECT_EQ(resp->status, 201) << resp->body;
    return ParseBody(*resp).value("token", "");
  }
  void CreateUser(const std::string& name, const std::string& role) {
    auto resp = server_->Request(
        "POST", "/api/v1/users",
        Json{{"username", name}, {"role", role}, {"password", "password of " + name}}.dump(),
        Bearer(admin_));
    ASSERT_EQ(resp->status, 201) << resp->body;
  }
};

TEST_P(AuthIT, EveryRouteIsGuardedAsItsTableSays) {
  if (!StartServer()) return;
  CreateUser("vera", "viewer");
  const std::string viewer = Login(*server_, "vera", "password of vera");
  ASSERT_FALSE(viewer.empty());
  const std::string robot_a =
      CreateToken({{"name", "robot A"}, {"scopes", {"robot"}}, {"robot_id", "robot-a"}});

  auto table = server_->Get("/api/v1/routes", Bearer(admin_));
  ASSERT_EQ(table->status, 200) << table->body;
  const Json routes = ParseBody(*table)["routes"];
  ASSERT_GE(routes.size(), 20u);  // grows as roles add routes; the walk covers them all
  int public_routes = 0, checked_viewer_denials = 0, robot_routes = 0, write_routes_denied = 0;
  for (const auto& r : routes) {
    const std::string method = r["method"], pattern = r["path"], access = r["access"];
    const std::string robot_param =
        r["robot_param"].is_null() ? "" : r["robot_param"].get<std::string>();
    SCOPED_TRACE(method + " " + pattern + " [" + access + "]");
    const std::string path = Fill(pattern, robot_param, "robot-b");
    const std::string body = IsWriteMethod(method) ? "{}" : "";

    auto anonymous = server_->Request(method, path, body);
    ASSERT_TRUE(anonymous.ok());
    if (access == "public") {
      ++public_routes;
      EXPECT_NE(anonymous->status, 401);
      continue;
    }
    EXPECT_EQ(anonymous->status, 401) << anonymous->body;
    EXPECT_EQ(anonymous->Header("www-authenticate").value_or(""), "Bearer");
    auto forged = server_->Request(method, path, body, Bearer("pa_forged"));
    EXPECT_EQ(forged->status, 401);

    // A viewer may read and use authenticated-only routes; nothing that needs more.
    const bool viewer_allowed = access.find("read") != std::string::npos ||
                                access.find("authenticated") != std::string::npos;
    // Logging out ends the session it is called with: use a throwaway one there.
    const std::string viewer_token =
        pattern.ends_with("/logout") ? Login(*server_, "vera", "password of vera") : viewer;
    auto as_viewer = server_->Request(method, path, body, Bearer(viewer_token));
    if (!viewer_allowed) {
      EXPECT_EQ(as_viewer->status, 403) << as_viewer->body;
      ++checked_viewer_denials;
    } else {
      EXPECT_NE(as_viewer->status, 403);
      EXPECT_NE(as_viewer->status, 401);
    }
    // Write routes (a write method on a route that read permission does not open — POST is also
    // how Grafana sends Prometheus queries, which stay readable) are all closed to viewers.
    if (IsWriteMethod(method) && !viewer_allowed) ++write_routes_denied;
    // Robot A's token on robot B's routes.
    if (!robot_param.empty()) {
      ++robot_routes;
      auto as_other_robot = server_->Request(method, path, body, Bearer(robot_a));
      EXPECT_EQ(as_other_robot->status, 403);
    }
  }
  EXPECT_EQ(public_routes, 4);  // healthz, readyz, metrics, login
  EXPECT_GT(checked_viewer_denials, 10);
  EXPECT_GE(write_routes_denied, 8);  // users, tokens, settings, metric import so far
  RecordProperty("robot_routes", robot_routes);
}

TEST_P(AuthIT, LoginThrottlingSparesTheRealUserElsewhere) {
  if (!StartServer()) return;
  HttpClient client;
  auto login_from = [&](const std::string& ip, const std::string& password) {
    auto resp = client.Do({.method = "POST",
                           .url = server_->base_url() + "/api/v1/auth/login",
                           .headers = {{"Content-Type", "application/json"}},
                           .body = Json{{"username", "admin"}, {"password", password}}.dump(),
                           .local_address = ip});
    EXPECT_TRUE(resp.ok()) << resp.status().ToString();
    return resp.ok() ? *resp : HttpResponse{};
  };
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(login_from("127.0.0.2", "guess " + std::to_string(i)).status, 401);
  auto throttled = login_from("127.0.0.2", "guess 5");
  EXPECT_EQ(throttled.status, 429) << throttled.body;
  EXPECT_GE(std::stoi(throttled.Header("retry-after").value_or("0")), 1);
  // Even the right password waits from the attacker's address...
  EXPECT_EQ(login_from("127.0.0.2", kAdminPassword).status, 429);
  // ...while the real admin, elsewhere, logs in.
  EXPECT_EQ(login_from("127.0.0.3", kAdminPassword).status, 200);

  auto audit = server_->Get("/api/v1/audit?limit=50", Bearer(admin_));
  ASSERT_EQ(audit->status, 200);
  int failures = 0;
  const Json entries = ParseBody(*audit)["entries"];
  for (const auto& e : entries) {
    if (e["action"] == "login" && e["success"] == false) {
      ++failures;
      EXPECT_EQ(e["ip"], "127.0.0.2");
    }
  }
  EXPECT_EQ(failures, 4);
}

TEST_P(AuthIT, SessionsTokensAndTheirEnd) {
  if (!StartServer()) return;
  auto me = server_->Get("/api/v1/auth/me", Bearer(admin_));
  ASSERT_EQ(me->status, 200);
  EXPECT_EQ(ParseBody(*me)["role"], "admin");

  // The login cookie works on its own.
  auto login = server_->Request("POST", "/api/v1/auth/login",
                                Json{{"username", "admin"}, {"password", kAdminPassword}}.dump());
  const std::string cookie = login->Header("set-cookie").value_or("");
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(cookie.find("SameSite=Strict"), std::string::npos);
  const std::string pair = cookie.substr(0, cookie.find(';'));
  EXPECT_EQ(server_->Get("/api/v1/auth/me", {{"Cookie", pair}})->status, 200);

  // Logout ends that session only.
  EXPECT_EQ(server_->Request("POST", "/api/v1/auth/logout", "", {{"Cookie", pair}})->status, 204);
  EXPECT_EQ(server_->Get("/api/v1/auth/me", {{"Cookie", pair}})->status, 401);
  EXPECT_EQ(server_->Get("/api/v1/auth/me", Bearer(admin_))->status, 200);

  // API tokens: shown once, listed without secret, revocable.
  auto created = server_->Request(
      "POST", "/api/v1/tokens", Json{{"name", "ci"}, {"scopes", {"read"}}}.dump(), Bearer(admin_));
  ASSERT_EQ(created->status, 201);
  const Json token = ParseBody(*created);
  const std::string secret = token["token"];
  EXPECT_TRUE(std::regex_match(secret, std::regex("pa_[0-9A-Za-z]{49}")));
  EXPECT_EQ(server_->Get("/api/v1/status", Bearer(secret))->status, 200);
  EXPECT_EQ(server_->Request("PUT", "/api/v1/settings/x", R"({"value":1})", Bearer(secret))->status,
            403);
  auto list = server_->Get("/api/v1/tokens", Bearer(admin_));
  EXPECT_EQ(list->body.find(secret), std::string::npos);
  EXPECT_NE(ParseBody(*list)["tokens"][0]["last_used_at"], nullptr);
  EXPECT_EQ(server_
                ->Request("DELETE", "/api/v1/tokens/" + token["id"].get<std::string>(), "",
                          Bearer(admin_))
                ->status,
            204);
  EXPECT_EQ(server_->Get("/api/v1/status", Bearer(secret))->status, 401);

  // An expiring token stops working when it expires.
  auto soon = server_->Request(
      "POST", "/api/v1/tokens",
      Json{{"name", "soon"}, {"scopes", {"read"}}, {"expires_at", "2020-01-01T00:00:00Z"}}.dump(),
      Bearer(admin_));
  EXPECT_EQ(soon->status, 422);
  EXPECT_EQ(ParseBody(*soon)["details"][0]["path"], "expires_at");
}

TEST_P(AuthIT, BadInputIsRefusedWholly) {
  if (!StartServer()) return;
  auto users_before = server_->Get("/api/v1/users", Bearer(admin_))->body;

  auto malformed = server_->Request("POST", "/api/v1/users", "{not json", Bearer(admin_));
  EXPECT_EQ(malformed->status, 400);
  EXPECT_EQ(ParseBody(*malformed)["error"], "bad_request");

  auto several = server_->Request(
      "POST", "/api/v1/users",
      Json{{"username", "Bad Name"}, {"role", "superuser"}, {"password", "short"}}.dump(),
      Bearer(admin_));
  ASSERT_EQ(several->status, 422);
  std::set<std::string> paths;
  const Json details = ParseBody(*several)["details"];
  for (const auto& d : details) paths.insert(d["path"].get<std::string>());
  EXPECT_EQ(paths, (std::set<std::string>{"username", "role", "password"}));

  auto weak = server_->Request("PATCH", "/api/v1/users/whatever",
                               Json{{"password", "2short"}}.dump(), Bearer(admin_));
  EXPECT_EQ(weak->status, 422);

  auto bad_scope =
      server_->Request("POST", "/api/v1/tokens",
                       Json{{"name", "x"}, {"scopes", {"read", "fly"}}}.dump(), Bearer(admin_));
  ASSERT_EQ(bad_scope->status, 422);
  EXPECT_EQ(ParseBody(*bad_scope)["details"][0]["path"], "scopes[1]");

  EXPECT_EQ(server_->Get("/api/v1/users", Bearer(admin_))->body, users_before);
  EXPECT_EQ(ParseBody(*server_->Get("/api/v1/tokens", Bearer(admin_)))["tokens"].size(), 0u);

  // The last admin cannot lock everyone out.
  const std::string admin_id = ParseBody(*server_->Get("/api/v1/auth/me", Bearer(admin_)))["id"];
  EXPECT_EQ(server_
                ->Request("PATCH", "/api/v1/users/" + admin_id, Json{{"role", "viewer"}}.dump(),
                          Bearer(admin_))
                ->status,
            409);
}

TEST_P(AuthIT, DatabaseDumpHoldsNoSecrets) {
  if (!StartServer()) return;
  const std::string token = CreateToken({{"name", "dump"}, {"scopes", {"ingest"}}});
  std::string dump;
  if (GetParam() == Backend::kSqlite) {
    server_->Kill9();  // read the files as they are on disk, WAL included
    for (const auto& f : std::filesystem::directory_iterator(server_->data_dir())) {
      if (!f.is_regular_file()) continue;
      std::ifstream in(f.path(), std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      dump += ss.str();
    }
  } else {
    std::string url = env_["PRIMOART_DATABASE_URL"];
    const std::string schema = url.substr(url.find("schema=") + 7);
    url = url.substr(0, url.find('?'));
    auto r = RunCommand({"/usr/lib/postgresql/15/bin/pg_dump", "--schema=" + schema, url});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    dump = r.output;
  }
  ASSERT_NE(dump.find("auth_users"), std::string::npos);
  EXPECT_EQ(dump.find(kAdminPassword), std::string::npos);
  EXPECT_EQ(dump.find(admin_), std::string::npos);
  EXPECT_EQ(dump.find(token), std::string::npos);
  std::smatch m;
  ASSERT_TRUE(
      std::regex_search(dump, m, std::regex("\\$argon2id\\$v=19\\$m=(\\d+),t=(\\d+),p=\\d+\\$")));
  EXPECT_GE(std::stoi(m[1]), 19456);
  EXPECT_GE(std::stoi(m[2]), 2);
}

TEST_P(AuthIT, FirstStartCreatesAdminOnceAndCliWorksWithoutServer) {
  if (!BackendEnvironment(GetParam(), env_)) return;
  TempDir dir;
  auto env = env_;
  env["PRIMOART_DATA_DIR"] = dir.path();
  {
    ServerProcess first({.env = env, .data_dir = dir.path()});
    ASSERT_TRUE(first.Start().ok());
    std::smatch m;
    const std::string log = first.log();
    ASSERT_TRUE(std::regex_search(log, m, std::regex("password:\\s+(\\S{20})\\s")));
    const std::string generated = m[1];
    EXPECT_FALSE(Login(first, "admin", generated).empty());
    first.Signal(SIGTERM);
    EXPECT_EQ(first.Wait(), 0);
    ServerProcess second({.env = env, .data_dir = dir.path()});
    ASSERT_TRUE(second.Start().ok());
    EXPECT_EQ(second.log().find("created the user"), std::string::npos);
  }
  // The CLI works on the database with no server running.
  auto user = RunCommand({PrimoartBinary(), "admin", "user", "create", "--username", "ops",
                          "--role", "editor", "--password-stdin"},
                         env, "a strong password\n");
  ASSERT_EQ(user.exit_code, 0) << user.output;
  auto dup = RunCommand({PrimoartBinary(), "admin", "user", "create", "--username", "ops", "--role",
                         "editor", "--password-stdin"},
                        env, "a strong password\n");
  EXPECT_EQ(dup.exit_code, 1) << dup.output;
  auto weak =
      RunCommand({PrimoartBinary(), "admin", "user", "passwd", "--username", "ops"}, env, "weak\n");
  EXPECT_EQ(weak.exit_code, 2) << weak.output;
  auto list = RunCommand({PrimoartBinary(), "admin", "user", "list"}, env);
  EXPECT_NE(list.output.find("ops  editor"), std::string::npos) << list.output;
  auto token = RunCommand({PrimoartBinary(), "admin", "token", "create", "--name", "robot-1",
                           "--scopes", "robot", "--robot-id", "robot-1"},
                          env);
  ASSERT_EQ(token.exit_code, 0) << token.output;
  const std::string secret = token.output.substr(token.output.find("pa_"), 52);

  ServerProcess third({.env = env, .data_dir = dir.path()});
  ASSERT_TRUE(third.Start().ok());
  auto me = third.Get("/api/v1/auth/me", Bearer(secret));
  ASSERT_EQ(me->status, 200) << me->body;
  EXPECT_EQ(ParseBody(*me)["robot_id"], "robot-1");
  EXPECT_FALSE(Login(third, "ops", "a strong password").empty());
}

TEST_P(AuthIT, UsersChangeTheirOwnPassword) {
  if (!StartServer()) return;
  CreateUser("olga", "editor");
  const std::string first = Login(*server_, "olga", "password of olga");
  const std::string second = Login(*server_, "olga", "password of olga");
  auto wrong = server_->Request(
      "POST", "/api/v1/auth/password",
      Json{{"current_password", "not it at all"}, {"new_password", "a new long password"}}.dump(),
      Bearer(first));
  ASSERT_EQ(wrong->status, 422);
  EXPECT_EQ(ParseBody(*wrong)["details"][0]["path"], "current_password");
  auto weak = server_->Request(
      "POST", "/api/v1/auth/password",
      Json{{"current_password", "password of olga"}, {"new_password", "short"}}.dump(),
      Bearer(first));
  ASSERT_EQ(weak->status, 422);
  EXPECT_EQ(ParseBody(*weak)["details"][0]["path"], "new_password");
  auto ok = server_->Request(
      "POST", "/api/v1/auth/password",
      Json{{"current_password", "password of olga"}, {"new_password", "a new long password"}}
          .dump(),
      Bearer(first));
  ASSERT_EQ(ok->status, 204) << ok->body;
  EXPECT_EQ(server_->Get("/api/v1/auth/me", Bearer(second))->status, 401);  // sessions ended
  auto old = server_->Request("POST", "/api/v1/auth/login",
                              Json{{"username", "olga"}, {"password", "password of olga"}}.dump());
  EXPECT_EQ(old->status, 401);
  EXPECT_FALSE(Login(*server_, "olga", "a new long password").empty());
  // Tokens have no password.
  const std::string token = CreateToken({{"name", "t"}, {"scopes", {"read"}}});
  EXPECT_EQ(server_->Request("POST", "/api/v1/auth/password", "{}", Bearer(token))->status, 403);
}

TEST_P(AuthIT, MetricsCanRequireAuthentication) {
  if (!StartServer({{"PRIMOART_METRICS_REQUIRE_AUTH", "true"}})) return;
  EXPECT_EQ(server_->Get("/metrics")->status, 401);
  const std::string reader = CreateToken({{"name", "prometheus"}, {"scopes", {"read"}}});
  auto scrape = server_->Get("/metrics", Bearer(reader));
  EXPECT_EQ(scrape->status, 200);
  EXPECT_NE(scrape->body.find("primoart_auth_logins_total{result=\"success\"}"), std::string::npos);
  EXPECT_EQ(server_->Get("/healthz")->status, 200);
}

TEST(AuthCommandLineTest, WeakAdminPasswordExits2) {
  TempDir dir;
  auto r = RunCommand({PrimoartBinary(), "serve"},
                      {{"PRIMOART_DATA_DIR", dir.path()},
                       {"PRIMOART_LISTEN", "127.0.0.1:" + std::to_string(FreePort())},
                       {"PRIMOART_ADMIN_PASSWORD", "short"}});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("admin_password"), std::string::npos) << r.output;
}

INSTANTIATE_TEST_SUITE_P(Backends, AuthIT, ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         BackendName);

}  // namespace
}  // namespace pa::testing
