#include "it_support.h"

#include <zlib.h>

#include <cstdlib>

#include "base/random.h"

namespace pa::testing {

std::string BackendName(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::kSqlite ? "sqlite" : "postgres";
}

bool BackendEnvironment(Backend backend, std::map<std::string, std::string>& env) {
  if (backend == Backend::kSqlite) return true;
  const char* url = std::getenv("PRIMOART_TEST_POSTGRES_URL");
  if (!url || !*url) {
    const char* require = std::getenv("PRIMOART_TEST_REQUIRE_SERVERS");
    if (require && std::string(require) == "1") {
      ADD_FAILURE() << "PRIMOART_TEST_POSTGRES_URL is not set";
    } else {
      // Records the skip; the caller sees `false` and returns.
      [] { GTEST_SKIP() << "PRIMOART_TEST_POSTGRES_URL is not set"; }();
    }
    return false;
  }
  std::string u(url);
  u += (u.find('?') == std::string::npos ? "?" : "&");
  u += "schema=it_" + NewRequestId().substr(0, 12);
  env["PRIMOART_DATABASE_URL"] = u;
  return true;
}

std::string Login(ServerProcess& server, const std::string& username, const std::string& password) {
  auto resp = server.Request("POST", "/api/v1/auth/login",
                             Json{{"username", username}, {"password", password}}.dump());
  EXPECT_TRUE(resp.ok()) << resp.status().ToString();
  if (!resp.ok()) return "";
  EXPECT_EQ(resp->status, 200) << resp->body;
  return ParseBody(*resp).value("token", "");
}

std::vector<std::pair<std::string, std::string>> Bearer(const std::string& token) {
  return {{"Authorization", "Bearer " + token}};
}

Json ParseBody(const HttpResponse& resp) {
  std::string error;
  auto doc = ParseJson(resp.body, &error);
  return doc ? *doc : Json();
}

bool BackendTest::StartServer(std::map<std::string, std::string> extra,
                              std::vector<std::string> args) {
  if (!BackendEnvironment(GetParam(), env_)) return false;
  env_["PRIMOART_ADMIN_PASSWORD"] = kAdminPassword;
  for (auto& [k, v] : extra) env_[k] = v;
  server_ = std::make_unique<ServerProcess>(ServerOptions{.args = args, .env = env_});
  Status st = server_->Start();
  EXPECT_TRUE(st.ok()) << st.ToString();
  if (!st.ok()) return false;
  admin_ = Login(*server_, "admin", kAdminPassword);
  return !admin_.empty();
}

std::string Gzip(std::string_view data) {
  z_stream zs{};
  deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, static_cast<uLong>(data.size())), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

}  // namespace pa::testing
