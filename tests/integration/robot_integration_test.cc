// The robot end to end: the real `primoart` server, the real `primoart-robot` and the test web
// application (tests/webapp/webapp.py). A transaction defined through the API runs on the robot
// and its results are queryable through the server; a server outage loses no run.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "base/json.h"
#include "base/time_format.h"
#include "it_support.h"

namespace pa::testing {
namespace {

using namespace std::chrono_literals;

// A child process in its own process group, output to a file, killed (group) on destruction.
class Child {
 public:
  Child(std::vector<std::string> argv, std::map<std::string, std::string> env, std::string log)
      : log_(std::move(log)) {
    pid_ = fork();
    if (pid_ == 0) {
      setpgid(0, 0);
      const int fd = open(log_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      dup2(fd, 1);
      dup2(fd, 2);
      for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
      std::vector<char*> args;
      for (std::string& a : argv) args.push_back(a.data());
      args.push_back(nullptr);
      execvp(args[0], args.data());
      _exit(127);
    }
  }
  ~Child() {
    if (pid_ > 0) {
      kill(-pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  // SIGTERM, then waits for the exit code.
  int Terminate(std::chrono::seconds timeout = 60s) {
    kill(pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    int status = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(20ms);
    }
    return -1;
  }
  std::string Log() const {
    std::ifstream in(log_);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

 private:
  std::string log_;
  pid_t pid_ = -1;
};

class RobotIT : public BackendTest {
 protected:
  // Starts the web application; fills http_port_.
  bool StartWebapp() {
    const std::string out = dir_.path() + "/webapp.out";
    webapp_ = std::make_unique<Child>(
        std::vector<std::string>{"python3", std::string(PA_SOURCE_DIR) + "/tests/webapp/webapp.py"},
        std::map<std::string, std::string>{}, out);
    for (int i = 0; i < 200; ++i) {
      std::ifstream in(out);
      std::string line;
      if (std::getline(in, line) && line.starts_with("{")) {
        std::string error;
        auto doc = ParseJson(line, &error);
        if (doc && doc->is_object()) {
          http_port_ = (*doc)["http"].get<int>();
          return true;
        }
      }
      std::this_thread::sleep_for(50ms);
    }
    ADD_FAILURE() << "the web application did not start: " << webapp_->Log();
    return false;
  }

  std::string RobotToken(const std::string& robot_id) {
    auto resp = server_->Request(
        "POST", "/api/v1/tokens",
        Json{{"name", robot_id}, {"scopes", {"robot"}}, {"robot_id", robot_id}}.dump(),
        Bearer(admin_));
    EXPECT_TRUE(resp.ok() && resp->status == 201) << (resp.ok() ? resp->body : "");
    return resp.ok() ? ParseBody(*resp).value("token", "") : "";
  }

  void Define(const Json& def) {
    auto resp = server_->Request("POST", "/api/v1/transactions", def.dump(), Bearer(admin_));
    ASSERT_TRUE(resp.ok());
    ASSERT_EQ(resp->status, 201) << resp->body;
  }

  std::unique_ptr<Child> StartRobot(const std::string& token, const std::string& data,
                                    std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {PA_ROBOT_BINARY,
                                     "--server",
                                     server_->base_url(),
                                     "--token",
                                     token,
                                     "--data",
                                     data,
                                     "--location",
                                     "msk",
                                     "--config-poll",
                                     "1s",
                                     "--concurrency",
                                     "4"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return std::make_unique<Child>(argv, std::map<std::string, std::string>{},
                                   dir_.path() + "/robot.log");
  }

  // All stored results of `tx` (run ids), through the paged API.
  std::vector<Json> Results(const std::string& tx, ServerProcess& server,
                            const std::string& admin) {
    std::vector<Json> out;
    std::string cursor;
    for (;;) {
      auto resp = server.Get("/api/v1/transactions/" + tx + "/results?limit=1000" +
                                 (cursor.empty() ? "" : "&cursor=" + cursor),
                             Bearer(admin));
      if (!resp.ok() || resp->status != 200) return out;
      const Json body = ParseBody(*resp);
      for (const Json& r : body["results"]) out.push_back(r);
      if (!body["next_cursor"].is_string()) return out;
      cursor = body["next_cursor"].get<std::string>();
    }
  }

  TempDir dir_;
  std::unique_ptr<Child> webapp_;
  int http_port_ = 0;
};

// A transaction defined through the API runs on the robot; its results, steps, timings,
// extractions and masked secrets are queryable through the server.
TEST_P(RobotIT, TransactionDefinedThroughTheApiRunsOnTheRobot) {
  if (!StartServer() || !StartWebapp()) return;
  const std::string base = "http://127.0.0.1:" + std::to_string(http_port_);
  Define({{"id", "shop.api"},
          {"name", "Магазин API"},
          {"interval_s", 10},
          {"timeout_s", 10},
          {"variables", {{"base", base}}},
          {"secrets", {{"api_key", "sekret-4111-1111"}}},
          {"steps",
           {{{"name", "Товары"},
             {"type", "http"},
             {"request", {{"url", "{{base}}/api/items?key={{api_key}}"}}},
             {"assert",
              {{{"type", "status"}, {"in", {200}}},
               {{"type", "json_path"}, {"path", "$.items[0].id"}, {"equals", 184467}}}},
             {"extract", {{{"var", "item"}, {"from", "json_path"}, {"path", "$.items[0].id"}}}}},
            {{"name", "Вход"},
             {"type", "http"},
             {"request",
              {{"method", "POST"},
               {"url", "{{base}}/login"},
               {"headers", {{"Content-Type", "application/x-www-form-urlencoded"}}},
               {"body", "user=u{{item}}&password={{api_key}}"},
               {"follow_redirects", true}}},
             {"assert", {{{"type", "body_contains"}, {"value", "Welcome, u184467"}}}}},
            {{"name", "Порт"}, {"type", "tcp"}, {"host", "127.0.0.1"}, {"port", http_port_}}}}});
  // A browser journey that ends on a failed assertion: its screenshot is uploaded with it.
  Define({{"id", "shop.browser"},
          {"name", "Вход через браузер"},
          {"interval_s", 10},
          {"timeout_s", 10},
          {"variables", {{"base", base}}},
          {"secrets", {{"pw", "browser-secret-77"}}},
          {"steps",
           {{{"name", "Вход"},
             {"type", "browser"},
             {"actions",
              {{{"action", "navigate"}, {"url", "{{base}}/form"}},
               {{"action", "fill"}, {"selector", "#user"}, {"value", "alice"}},
               {{"action", "fill"}, {"selector", "#password"}, {"value", "{{pw}}"}},
               {{"action", "click"}, {"selector", "#submit"}},
               {{"action", "wait_for_text"}, {"text", "Welcome, alice"}}}}},
            {{"name", "Спасибо"},
             {"type", "browser"},
             {"actions",
              {{{"action", "navigate"}, {"url", "{{base}}/"}},
               {{"action", "assert_text"}, {"text", "Спасибо"}, {"selector", "h1"}}}}}}}});
  const std::string token = RobotToken("robot-e2e");
  // What an earlier life of the robot left in its outbox: a result it ran (uploaded now) and
  // one for another robot's id (refused with 403: kept in dead-letter, not retried).
  std::filesystem::create_directories(dir_.path() + "/robot/outbox");
  // Entry names start with their creation time in ms (13 digits), which the age bound reads.
  const int64_t left_at = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
  const std::string left_name = std::to_string(left_at) + "-000001.result";
  const std::string foreign_name = std::to_string(left_at) + "-000002.result";
  auto leave = [&](const std::string& name, const std::string& run_id, const std::string& robot) {
    const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    const std::string result = Json{{"run_id", run_id},
                                    {"transaction_id", "shop.api"},
                                    {"robot_id", robot},
                                    {"started_at", FormatRfc3339Ms(now - 60000)},
                                    {"finished_at", FormatRfc3339Ms(now - 59000)},
                                    {"status", "success"},
                                    {"steps",
                                     {{{"index", 0},
                                       {"name", "Товары"},
                                       {"started_at", FormatRfc3339Ms(now - 60000)},
                                       {"finished_at", FormatRfc3339Ms(now - 59000)},
                                       {"status", "success"}}}}}
                                   .dump();
    std::ofstream(dir_.path() + "/robot/outbox/" + name) << Json{{"run_id", run_id},
                                                                 {"created_ms", now},
                                                                 {"result_size", result.size()},
                                                                 {"artifacts", Json::array()}}
                                                                .dump()
                                                         << "\n"
                                                         << result;
  };
  leave(left_name, "left-over-1", "robot-e2e");
  leave(foreign_name, "foreign-1", "robot-other");
  const int metrics_port = FreePort();
  auto robot = StartRobot(token, dir_.path() + "/robot",
                          {"--metrics-listen", "127.0.0.1:" + std::to_string(metrics_port)});

  std::string run_id;  // of a run made now (not the left-over)
  for (int i = 0; i < 300 && run_id.empty(); ++i) {
    std::this_thread::sleep_for(100ms);
    for (const Json& r : Results("shop.api", *server_, admin_)) {
      if (r["run_id"] != "left-over-1") run_id = r["run_id"].get<std::string>();
    }
  }
  ASSERT_FALSE(run_id.empty()) << robot->Log();
  auto detail = server_->Get("/api/v1/results/" + run_id, Bearer(admin_));
  ASSERT_EQ(detail->status, 200);
  const Json r = ParseBody(*detail);
  EXPECT_EQ(r["status"], "success") << r.dump(2);
  EXPECT_EQ(r["robot_id"], "robot-e2e");
  EXPECT_EQ(r["location"], "msk");
  EXPECT_EQ(r["tx_version"], 1);
  ASSERT_EQ(r["steps"].size(), 3u);
  EXPECT_EQ(r["steps"][0]["name"], "Товары");
  EXPECT_EQ(r["steps"][0]["http"]["status_code"], 200);
  EXPECT_TRUE(r["steps"][0]["timings"].contains("ttfb_ms"));
  EXPECT_EQ(r["steps"][0]["assertions"].size(), 2u);
  EXPECT_EQ(r["steps"][1]["status"], "success");
  EXPECT_EQ(r["steps"][2]["name"], "Порт");
  // The secret went to the web application but appears nowhere in the result, nor in the log.
  EXPECT_EQ(detail->body.find("sekret-4111-1111"), std::string::npos) << detail->body;
  EXPECT_NE(detail->body.find("key=***"), std::string::npos);

  // The browser run: first step passed with web vitals, second failed with a screenshot.
  std::vector<Json> browser_runs;
  for (int i = 0; i < 300 && browser_runs.empty(); ++i) {
    std::this_thread::sleep_for(100ms);
    browser_runs = Results("shop.browser", *server_, admin_);
  }
  ASSERT_FALSE(browser_runs.empty()) << robot->Log();
  auto bdetail = server_->Get("/api/v1/results/" + browser_runs[0]["run_id"].get<std::string>(),
                              Bearer(admin_));
  ASSERT_EQ(bdetail->status, 200);
  const Json b = ParseBody(*bdetail);
  EXPECT_EQ(b["status"], "error") << b.dump(2);
  EXPECT_EQ(b["error"]["type"], "assertion");
  EXPECT_EQ(b["error"]["step_index"], 1);
  ASSERT_EQ(b["steps"].size(), 2u);
  EXPECT_EQ(b["steps"][0]["status"], "success") << b.dump(2);
  EXPECT_TRUE(b["steps"][0]["timings"].contains("load_ms")) << b.dump(2);
  ASSERT_TRUE(b["steps"][1].contains("screenshot_url")) << b.dump(2);
  auto png = server_->Get(b["steps"][1]["screenshot_url"].get<std::string>(), Bearer(admin_));
  ASSERT_EQ(png->status, 200);
  EXPECT_EQ(png->Header("content-type").value_or(""), "image/png");
  EXPECT_EQ(png->body.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_EQ(bdetail->body.find("browser-secret-77"), std::string::npos);

  // The left-over result arrived; the foreign one waits in dead-letter with the reason.
  EXPECT_EQ(server_->Get("/api/v1/results/left-over-1", Bearer(admin_))->status, 200);
  EXPECT_EQ(server_->Get("/api/v1/results/foreign-1", Bearer(admin_))->status, 404);
  std::ifstream reason(dir_.path() + "/robot/dead-letter/" + foreign_name + ".reason");
  std::string why;
  std::getline(reason, why);
  EXPECT_NE(why.find("HTTP 403"), std::string::npos) << why << robot->Log();

  // The robot's own metrics: runs by status, the browser it started, the refused upload.
  HttpClient http;
  auto own = http.Do({.url = "http://127.0.0.1:" + std::to_string(metrics_port) + "/metrics"});
  ASSERT_TRUE(own.ok() && own->status == 200);
  EXPECT_NE(own->body.find("primoart_robot_runs_total{status=\"error\"}"), std::string::npos)
      << own->body;
  EXPECT_NE(own->body.find("primoart_robot_browser_starts_total 1"), std::string::npos)
      << own->body;
  EXPECT_NE(own->body.find("primoart_robot_uploaded_results_total{outcome=\"dead_letter\"} 1"),
            std::string::npos)
      << own->body;
  EXPECT_NE(own->body.find("primoart_robot_outbox_entries"), std::string::npos);

  EXPECT_EQ(robot->Terminate(), 0) << robot->Log();
  EXPECT_EQ(robot->Log().find("sekret-4111-1111"), std::string::npos);
  EXPECT_EQ(robot->Log().find("browser-secret-77"), std::string::npos);
  EXPECT_NE(robot->Log().find("registered as robot robot-e2e"), std::string::npos);

  // The robot shows as online with its version.
  auto robots = server_->Get("/api/v1/robots", Bearer(admin_));
  ASSERT_EQ(robots->status, 200);
  EXPECT_NE(robots->body.find("robot-e2e"), std::string::npos);
}

// `primoart-robot run --file`: the readable table, the JSON, and hangs that end as timeouts
// within the run's timeout — an HTTP body that never ends and a page that never loads — with
// the run after them working.
TEST_P(RobotIT, RunFileReportsAndHangsEndAsTimeouts) {
  if (!StartWebapp()) return;
  const std::string base = "http://127.0.0.1:" + std::to_string(http_port_);
  const std::string file = dir_.path() + "/hang.json";
  std::ofstream(file)
      << Json{{"id", "hang"},
              {"name", "Hang"},
              {"timeout_s", 4},
              {"steps",
               {{{"name", "body never ends"},
                 {"type", "http"},
                 {"request", {{"url", base + "/hang"}}}},
                {{"name", "after"}, {"type", "http"}, {"request", {{"url", base + "/"}}}}}}}
             .dump();
  const auto t0 = std::chrono::steady_clock::now();
  CommandResult hang = RunCommand({PA_ROBOT_BINARY, "run", "--file", file, "--json"});
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(hang.exit_code, 1) << hang.output;
  EXPECT_LT(took, 15s);  // the run's timeout is 4 s; generous for a loaded CI machine
  const size_t json_at = hang.output.find("{\n");
  ASSERT_NE(json_at, std::string::npos) << hang.output;
  std::string error;
  const auto doc = ParseJson(hang.output.substr(json_at), &error);
  ASSERT_TRUE(doc) << error << hang.output;
  EXPECT_EQ((*doc)["error"]["type"], "timeout");
  EXPECT_EQ((*doc)["steps"][1]["status"], "skipped");

  const std::string page = dir_.path() + "/page.json";
  std::ofstream(page)
      << Json{{"id", "page"},
              {"name", "Страница"},
              {"timeout_s", 5},
              {"steps",
               {{{"name", "never loads"},
                 {"type", "browser"},
                 {"actions", {{{"action", "navigate"}, {"url", base + "/hang"}}}}},
                {{"name", "after"}, {"type", "http"}, {"request", {{"url", base + "/"}}}}}}}
             .dump();
  CommandResult never =
      RunCommand({PA_ROBOT_BINARY, "run", "--file", page, "--artifacts-dir", dir_.path()});
  EXPECT_EQ(never.exit_code, 1) << never.output;
  EXPECT_NE(never.output.find("FAIL Страница"), std::string::npos) << never.output;
  EXPECT_NE(never.output.find("error (timeout, step 0)"), std::string::npos) << never.output;

  const std::string ok = dir_.path() + "/ok.json";
  std::ofstream(ok) << Json{{"id", "ok"},
                            {"name", "OK"},
                            {"steps",
                             {{{"name", "items"},
                               {"type", "http"},
                               {"request", {{"url", base + "/api/items"}}},
                               {"assert",
                                {{{"type", "json_path"}, {"path", "$.total"}, {"equals", 2}}}}}}}}
                           .dump();
  CommandResult fine = RunCommand({PA_ROBOT_BINARY, "run", "--file", ok});
  EXPECT_EQ(fine.exit_code, 0) << fine.output;
  EXPECT_NE(fine.output.find("PASS OK (ok)"), std::string::npos) << fine.output;
  EXPECT_NE(fine.output.find("json_path"), std::string::npos) << fine.output;

  // A definition with mistakes: exit 2, every problem with its path.
  const std::string bad = dir_.path() + "/bad.json";
  std::ofstream(bad) << R"({"id": "bad", "name": "Bad", "steps": [{"type": "http"}]})";
  CommandResult refused = RunCommand({PA_ROBOT_BINARY, "run", "--file", bad});
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  EXPECT_NE(refused.output.find("steps[0].name"), std::string::npos) << refused.output;
}

// The server is stopped for a while (PRIMOART_TEST_ROBOT_OUTAGE_S, 300 s in CI) while the robot
// keeps running 10 transactions every 10 s; after the server is back, every run of the outage
// arrives exactly once.
TEST_P(RobotIT, RunsDuringAServerOutageArriveExactlyOnce) {
  if (!StartServer() || !StartWebapp()) return;
  const char* outage_env = std::getenv("PRIMOART_TEST_ROBOT_OUTAGE_S");
  const int outage_s = outage_env ? std::atoi(outage_env) : 300;
  const std::string base = "http://127.0.0.1:" + std::to_string(http_port_);
  for (int i = 0; i < 10; ++i) {
    Define({{"id", "outage." + std::to_string(i)},
            {"name", "Outage " + std::to_string(i)},
            {"interval_s", 10},
            {"timeout_s", 5},
            {"steps",
             {{{"name", "home"},
               {"type", "http"},
               {"request", {{"url", base + "/"}}},
               {"assert", {{{"type", "status"}, {"in", {200}}}}}}}}});
  }
  const std::string token = RobotToken("robot-outage");
  const int metrics_port = FreePort();
  auto robot = StartRobot(token, dir_.path() + "/robot",
                          {"--metrics-listen", "127.0.0.1:" + std::to_string(metrics_port)});
  // Running and uploading before the outage.
  size_t before = 0;
  for (int i = 0; i < 300 && before < 10; ++i) {
    std::this_thread::sleep_for(100ms);
    before = 0;
    for (int t = 0; t < 10; ++t)
      before += Results("outage." + std::to_string(t), *server_, admin_).size();
  }
  ASSERT_GE(before, 10u) << robot->Log();

  const int port = server_->port();
  server_->Signal(SIGTERM);
  ASSERT_EQ(server_->Wait(), 0);
  std::this_thread::sleep_for(std::chrono::seconds(outage_s));
  std::map<std::string, std::string> env = env_;
  env["PRIMOART_LISTEN"] = "127.0.0.1:" + std::to_string(port);
  ServerProcess again({.env = env, .data_dir = server_->data_dir()});
  ASSERT_TRUE(again.Start().ok());
  const std::string admin = Login(again, "admin", kAdminPassword);

  // Wait until the robot's outbox is empty, then stop it: its last words count its runs.
  HttpClient http;
  auto outbox_entries = [&]() -> int {
    auto resp = http.Do({.url = "http://127.0.0.1:" + std::to_string(metrics_port) + "/metrics"});
    if (!resp.ok()) return -1;
    const size_t at = resp->body.find("\nprimoart_robot_outbox_entries ");
    return at == std::string::npos ? -1 : std::atoi(resp->body.c_str() + at + 31);
  };
  for (int i = 0; i < 600 && outbox_entries() != 0; ++i) std::this_thread::sleep_for(100ms);
  ASSERT_EQ(outbox_entries(), 0) << robot->Log();
  ASSERT_EQ(robot->Terminate(), 0);
  const std::string log = robot->Log();
  const size_t summary = log.find("stopped after ");
  ASSERT_NE(summary, std::string::npos) << log;
  const int runs = std::atoi(log.c_str() + summary + 14);
  EXPECT_NE(log.find("0 left in the outbox, 0 dropped, 0 in dead-letter", summary),
            std::string::npos)
      << log.substr(summary);

  // Exactly once: the server holds one result per run the robot made, each run id once.
  size_t stored = 0;
  std::set<std::string> ids;
  for (int t = 0; t < 10; ++t) {
    for (const Json& r : Results("outage." + std::to_string(t), again, admin)) {
      ++stored;
      ids.insert(r["run_id"].get<std::string>());
    }
  }
  EXPECT_EQ(ids.size(), stored);
  EXPECT_EQ(stored, static_cast<size_t>(runs));
  // About one run per transaction and 10 s of outage: far more than before it.
  EXPECT_GE(stored, before + static_cast<size_t>(outage_s / 10) * 10 * 8 / 10);
}

INSTANTIATE_TEST_SUITE_P(Backends, RobotIT, ::testing::Values(Backend::kSqlite), BackendName);

}  // namespace
}  // namespace pa::testing
