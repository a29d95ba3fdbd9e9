// The foundation acceptance scenarios, against the real `primoart` binary: roles, operational
// endpoints, configuration errors, request limits, graceful shutdown and durability.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "it_support.h"

namespace pa::testing {
namespace {

// A raw TCP connection for the tests that must control exactly what is sent when.
class RawConnection {
 public:
  explicit RawConnection(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    timeval tv{30, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
  ~RawConnection() { close(fd_); }
  bool connected() const { return connected_; }
  bool Send(std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }
  // Reads until the peer closes, the timeout passes, or `stop_after` appears.
  std::string ReadAll(std::string_view stop_after = "") {
    std::string out;
    char buf[8192];
    for (;;) {
      const ssize_t n = recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
      if (!stop_after.empty() && out.find(stop_after) != std::string::npos) break;
    }
    return out;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

std::string GzipOfZeros(int64_t inflated_bytes) {
  z_stream zs{};
  deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY);
  std::string zeros(1 << 20, '\0');
  std::string out;
  char buf[1 << 16];
  int64_t left = inflated_bytes;
  int flush = Z_NO_FLUSH;
  while (flush != Z_FINISH) {
    const auto chunk =
        static_cast<uInt>(std::min<int64_t>(left, static_cast<int64_t>(zeros.size())));
    left -= chunk;
    flush = left == 0 ? Z_FINISH : Z_NO_FLUSH;
    zs.next_in = reinterpret_cast<Bytef*>(zeros.data());
    zs.avail_in = chunk;
    do {
      zs.next_out = reinterpret_cast<Bytef*>(buf);
      zs.avail_out = sizeof(buf);
      deflate(&zs, flush);
      out.append(buf, sizeof(buf) - zs.avail_out);
    } while (zs.avail_out == 0);
  }
  deflateEnd(&zs);
  return out;
}

class FoundationTest : public BackendTest {};

TEST_P(FoundationTest, OperationalEndpointsAndStatus) {
  if (!StartServer()) return;
  auto health = server_->Get("/healthz");
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->Header("x-request-id").value_or("").size(), 32u);  // generated

  auto ready = server_->Get("/readyz", {{"X-Request-Id", "it-ready-1"}});
  ASSERT_TRUE(ready.ok());
  EXPECT_EQ(ready->status, 200) << ready->body;
  EXPECT_EQ(ready->Header("x-request-id"), "it-ready-1");  // taken from the request
  Json rj = ParseBody(*ready);
  EXPECT_EQ(rj["stores"]["database"], "ok");
  EXPECT_EQ(rj["stores"]["artifacts"], "ok");
  EXPECT_EQ(rj["stores"]["metricstore"], "ok");

  auto status = server_->Get("/api/v1/status", Bearer(admin_));
  ASSERT_TRUE(status.ok());
  ASSERT_EQ(status->status, 200) << status->body;
  Json s = ParseBody(*status);
  EXPECT_FALSE(s["version"].get<std::string>().empty());
  EXPECT_FALSE(s["commit"].get<std::string>().empty());
  EXPECT_EQ(s["roles"], Json({"gateway", "auth", "metrics", "synth", "core"}));
  EXPECT_GE(s["uptime_seconds"].get<double>(), 0);
  std::map<std::string, std::string> backends;
  for (const auto& store : s["stores"]) {
    backends[store["name"]] = store["backend"];
    EXPECT_EQ(store["healthy"], true) << store.dump();
  }
  EXPECT_EQ(backends, (std::map<std::string, std::string>{
                          {"database", GetParam() == Backend::kSqlite ? "sqlite" : "postgresql"},
                          {"metricstore", "embedded"},
                          {"artifacts", "fs"}}));
  ASSERT_EQ(s["instances"].size(), 1u);
  EXPECT_EQ(s["instances"][0]["state"], "up");
  EXPECT_EQ(s["instances"][0]["pid"], server_->pid());

  auto metrics = server_->Get("/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_EQ(metrics->status, 200);
  for (const char* family :
       {"primoart_http_requests_total{route=\"/readyz\",method=\"GET\",status=\"200\"}",
        "primoart_http_request_duration_seconds_bucket", "primoart_http_requests_in_flight",
        "primoart_store_operation_duration_seconds_bucket{store=\"database\"",
        "process_resident_memory_bytes", "process_cpu_seconds_total", "process_open_fds",
        "primoart_build_info{"}) {
    EXPECT_NE(metrics->body.find(family), std::string::npos) << family;
  }
  // The access log names the request id.
  EXPECT_TRUE(server_->WaitForLog("\"request_id\":\"it-ready-1\""));
}

TEST_P(FoundationTest, RolesCoreStartsOnlyCoreAndGateway) {
  if (!BackendEnvironment(GetParam(), env_)) return;
  // A token made with the CLI before the server exists: --roles core has no login route.
  TempDir dir;
  auto env = env_;
  env["PRIMOART_DATA_DIR"] = dir.path();
  auto token = RunCommand(
      {PrimoartBinary(), "admin", "token", "create", "--name", "it", "--scopes", "read"}, env);
  ASSERT_EQ(token.exit_code, 0) << token.output;
  const std::string secret = token.output.substr(token.output.find("pa_"), 52);

  ServerProcess server({.args = {"serve", "--roles", "core"}, .env = env, .data_dir = dir.path()});
  ASSERT_TRUE(server.Start().ok());
  auto status = server.Get("/api/v1/status", Bearer(secret));
  ASSERT_TRUE(status.ok());
  ASSERT_EQ(status->status, 200) << status->body;
  EXPECT_EQ(ParseBody(*status)["roles"], Json({"gateway", "core"}));
  auto login = server.Request("POST", "/api/v1/auth/login", "{}");
  EXPECT_EQ(login->status, 404);  // the auth role is not running here
}

TEST_P(FoundationTest, BodyOver100MiBGets413WithoutBeingRead) {
  if (!StartServer()) return;
  RawConnection c(server_->port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.Send("PUT /api/v1/settings/big HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                     admin_ + "\r\nContent-Type: application/json\r\nContent-Length: " +
                     std::to_string(100 << 20) + "\r\n\r\n"));
  const std::string answer = c.ReadAll("\r\n\r\n");
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 413")) << answer;
  // Nothing was stored.
  auto get = server_->Get("/api/v1/settings/big", Bearer(admin_));
  EXPECT_EQ(get->status, 404);
}

TEST_P(FoundationTest, GzipBombGets413AndRssStaysBounded) {
  if (!StartServer()) return;
  const std::string bomb = GzipOfZeros(int64_t{1} << 30);  // 1 GiB of zeros
  ASSERT_LT(bomb.size(), 2u << 20);
  [[maybe_unused]] const int64_t before = server_->RssBytes();
  auto resp = server_->Request("PUT", "/api/v1/settings/bomb", bomb,
                               {{"Authorization", "Bearer " + admin_},
                                {"Content-Type", "application/json"},
                                {"Content-Encoding", "gzip"}});
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->status, 413) << resp->body;
  EXPECT_EQ(ParseBody(*resp)["error"], "payload_too_large");
  [[maybe_unused]] const int64_t after = server_->RssBytes();
  std::printf("gzip bomb (1 GiB inflated from %zu bytes): server RSS %lld -> %lld KiB\n",
              bomb.size(), static_cast<long long>(before >> 10),
              static_cast<long long>(after >> 10));
#ifndef PA_SANITIZE  // ASan's quarantine keeps freed memory resident on purpose
  EXPECT_LT(after - before, int64_t{64} << 20) << "RSS grew from " << before << " to " << after;
#endif
  EXPECT_EQ(server_->Get("/api/v1/settings/bomb", Bearer(admin_))->status, 404);
}

TEST_P(FoundationTest, SigtermDuringASlowRequestLetsItFinish) {
  if (!StartServer({{"PRIMOART_HTTP_SHUTDOWN_GRACE", "20s"}})) return;
  const std::string body = R"({"value": {"note": "sent slowly"}})";
  RawConnection c(server_->port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.Send("PUT /api/v1/settings/slow HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                     admin_ + "\r\nContent-Type: application/json\r\nContent-Length: " +
                     std::to_string(body.size()) + "\r\n\r\n" + body.substr(0, 10)));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the server is reading the body
  server_->Signal(SIGTERM);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  // New connections are refused while the in-flight request drains.
  RawConnection late(server_->port());
  EXPECT_FALSE(late.connected());
  ASSERT_TRUE(c.Send(body.substr(10)));
  const std::string answer = c.ReadAll("}");
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 201")) << answer;
  EXPECT_NE(answer.find("sent slowly"), std::string::npos);
  EXPECT_EQ(server_->Wait(), 0);
  EXPECT_NE(server_->log().find("shutting down"), std::string::npos);
}

TEST_P(FoundationTest, AcknowledgedWriteSurvivesKill9) {
  if (!StartServer()) return;
  for (int i = 0; i < 20; ++i) {
    auto put = server_->Request("PUT", "/api/v1/settings/durable." + std::to_string(i),
                                Json{{"value", i}}.dump(), Bearer(admin_));
    ASSERT_TRUE(put.ok());
    ASSERT_EQ(put->status, 201) << put->body;
  }
  server_->Kill9();  // right after the last acknowledgement
  ServerProcess again({.env = env_, .data_dir = server_->data_dir()});
  ASSERT_TRUE(again.Start().ok());
  const std::string token = Login(again, "admin", kAdminPassword);
  for (int i = 0; i < 20; ++i) {
    auto get = again.Get("/api/v1/settings/durable." + std::to_string(i), Bearer(token));
    ASSERT_TRUE(get.ok());
    ASSERT_EQ(get->status, 200) << "setting " << i << " lost: " << get->body;
    EXPECT_EQ(ParseBody(*get)["value"], i);
  }
}

TEST_P(FoundationTest, ReadyzNamesAFailingStore) {
  if (!StartServer()) return;
  // Replace the artifacts directory by a file: the store can no longer write.
  const std::string artifacts = server_->data_dir() + "/artifacts";
  std::filesystem::remove_all(artifacts);
  std::ofstream(artifacts) << "not a directory";
  auto ready = server_->Get("/readyz");
  ASSERT_TRUE(ready.ok());
  EXPECT_EQ(ready->status, 503);
  EXPECT_NE(ready->body.find("artifacts"), std::string::npos) << ready->body;
  EXPECT_EQ(server_->Get("/healthz")->status, 200);  // alive, just not ready
}

INSTANTIATE_TEST_SUITE_P(Backends, FoundationTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres), BackendName);

// ---- Not backend-specific --------------------------------------------------------------------

TEST(CommandLineTest, ListRolesShowsRolesAndDependencies) {
  auto r = RunCommand({PrimoartBinary(), "serve", "--list-roles"});
  EXPECT_EQ(r.exit_code, 0);
  // Each line: role, its dependencies, a description.
  EXPECT_TRUE(std::regex_search(r.output, std::regex("\\ncore +gateway,database,artifacts,"
                                                     "metricstore,authn +status")))
      << r.output;
  EXPECT_TRUE(std::regex_search(r.output, std::regex("\\nauth +gateway,database,authn +login")))
      << r.output;
  EXPECT_TRUE(
      std::regex_search(r.output, std::regex("\\nall +gateway,auth,metrics,synth,core +every")))
      << r.output;
}

TEST(CommandLineTest, BadConfigurationExits2NamingTheKeyOrStore) {
  TempDir dir;
  const std::string yaml = dir.path() + "/primoart.yaml";
  std::ofstream(yaml) << "listen: 127.0.0.1:0\nhttp:\n  max_bdy: 1MiB\n";
  auto unknown = RunCommand({PrimoartBinary(), "serve", "--config", yaml},
                            {{"PRIMOART_DATA_DIR", dir.path()}});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.output.find("http.max_bdy"), std::string::npos) << unknown.output;

  auto malformed = RunCommand({PrimoartBinary(), "serve"},
                              {{"PRIMOART_DATA_DIR", dir.path()},
                               {"PRIMOART_DATABASE_URL", "postgresql://pa@localhost:99999/pa"}});
  EXPECT_EQ(malformed.exit_code, 2);
  EXPECT_NE(malformed.output.find("PRIMOART_DATABASE_URL"), std::string::npos) << malformed.output;

  const int closed_port = FreePort();
  auto unreachable =
      RunCommand({PrimoartBinary(), "serve"},
                 {{"PRIMOART_DATA_DIR", dir.path()},
                  {"PRIMOART_LISTEN", "127.0.0.1:" + std::to_string(FreePort())},
                  {"PRIMOART_DATABASE_URL",
                   "postgresql://pa:secret@127.0.0.1:" + std::to_string(closed_port) + "/pa"}});
  EXPECT_EQ(unreachable.exit_code, 2);
  EXPECT_NE(unreachable.output.find("database"), std::string::npos) << unreachable.output;
  EXPECT_NE(unreachable.output.find("127.0.0.1:" + std::to_string(closed_port)), std::string::npos)
      << unreachable.output;
  EXPECT_EQ(unreachable.output.find("secret"), std::string::npos) << unreachable.output;

  auto bad_value = RunCommand({PrimoartBinary(), "serve", "--set", "http_threads=many"},
                              {{"PRIMOART_DATA_DIR", dir.path()}});
  EXPECT_EQ(bad_value.exit_code, 2);
  EXPECT_NE(bad_value.output.find("http_threads"), std::string::npos) << bad_value.output;
}

TEST(CommandLineTest, ConfigurationReferenceIsUpToDate) {
  auto keys = RunCommand({PrimoartBinary(), "config", "keys"});
  ASSERT_EQ(keys.exit_code, 0);
  std::ifstream in(std::string(PA_SOURCE_DIR) + "/docs/CONFIGURATION.md");
  std::stringstream doc;
  doc << in.rdbuf();
  EXPECT_NE(doc.str().find(keys.output), std::string::npos)
      << "docs/CONFIGURATION.md is out of date: regenerate its table with `primoart config keys`";
}

TEST(CommandLineTest, ConfigPrintMasksSecrets) {
  auto r = RunCommand({PrimoartBinary(), "config", "print"},
                      {{"PRIMOART_DATABASE_URL", "postgresql://pa:hunter2@db:5432/pa"},
                       {"PRIMOART_S3_SECRET_KEY", "s3cr3t"},
                       {"PRIMOART_ADMIN_PASSWORD", "admin password 1"}});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.find("hunter2"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("s3cr3t"), std::string::npos);
  EXPECT_EQ(r.output.find("admin password 1"), std::string::npos);
  EXPECT_NE(r.output.find("database_url: postgresql://pa:****@db:5432/pa"), std::string::npos);
}

}  // namespace
}  // namespace pa::testing
