#include "server_process.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "base/random.h"

extern char** environ;

namespace pa::testing {
namespace {

std::string TestTmpRoot() {
  const char* dir = std::getenv("PRIMOART_TEST_TMPDIR");
  return dir && *dir ? dir : std::filesystem::temp_directory_path().string();
}

std::vector<char*> CStrings(std::vector<std::string>& items) {
  std::vector<char*> out;
  for (auto& s : items) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace

TempDir::TempDir() {
  path_ = TestTmpRoot() + "/pa-it-" + NewRequestId().substr(0, 12);
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

std::string PrimoartBinary() {
  const char* bin = std::getenv("PRIMOART_BIN");
  return bin && *bin ? bin : PA_PRIMOART_BINARY;
}

std::map<std::string, std::string> ServerEnvironment(
    const std::map<std::string, std::string>& extra) {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view entry(*e);
    const size_t eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    std::string name(entry.substr(0, eq));
    if (name.starts_with("PRIMOART_")) continue;  // tests say exactly what the server sees
    env[name] = std::string(entry.substr(eq + 1));
  }
  for (const auto& [k, v] : extra) env[k] = v;
  return env;
}

CommandResult RunCommand(const std::vector<std::string>& argv,
                         const std::map<std::string, std::string>& env,
                         const std::string& stdin_data) {
  int out_pipe[2], in_pipe[2];
  if (pipe(out_pipe) != 0 || pipe(in_pipe) != 0) return {};
  std::vector<std::string> args = argv;
  std::vector<std::string> envs;
  for (const auto& [k, v] : ServerEnvironment(env)) envs.push_back(k + "=" + v);
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(in_pipe[0], 0);
    dup2(out_pipe[1], 1);
    dup2(out_pipe[1], 2);
    close(out_pipe[0]);
    close(in_pipe[1]);
    auto cargs = CStrings(args);
    auto cenv = CStrings(envs);
    execve(cargs[0], cargs.data(), cenv.data());
    _exit(127);
  }
  close(out_pipe[1]);
  close(in_pipe[0]);
  if (!stdin_data.empty()) {
    [[maybe_unused]] ssize_t n = write(in_pipe[1], stdin_data.data(), stdin_data.size());
  }
  close(in_pipe[1]);
  CommandResult result;
  char buf[4096];
  ssize_t n;
  while ((n = read(out_pipe[0], buf, sizeof(buf))) > 0) result.output.append(buf, n);
  close(out_pipe[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

ServerProcess::ServerProcess(ServerOptions options) : options_(std::move(options)) {
  data_dir_ = options_.data_dir.empty() ? own_dir_.path() : options_.data_dir;
}

ServerProcess::~ServerProcess() {
  if (running()) Kill9();
  if (::testing::Test::HasFailure()) {
    std::fprintf(stderr, "---- primoart log (%s) ----\n%s\n---- end of log ----\n",
                 data_dir_.c_str(), log().substr(0, 20000).c_str());
  }
}

std::string ServerProcess::log() const {
  std::ifstream in(data_dir_ + "/server.log");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string all = ss.str();
  return log_offset_ < all.size() ? all.substr(log_offset_) : "";
}

bool ServerProcess::WaitForLog(std::string_view needle, std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (log().find(needle) == std::string::npos) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

Status ServerProcess::Spawn() {
  std::map<std::string, std::string> extra = options_.env;
  if (!extra.count("PRIMOART_LISTEN")) {
    port_ = FreePort();
    extra["PRIMOART_LISTEN"] = "127.0.0.1:" + std::to_string(port_);
  } else {
    port_ = std::stoi(extra["PRIMOART_LISTEN"].substr(extra["PRIMOART_LISTEN"].rfind(':') + 1));
  }
  if (!extra.count("PRIMOART_DATA_DIR")) extra["PRIMOART_DATA_DIR"] = data_dir_;
  if (!extra.count("PRIMOART_LOG_LEVEL")) extra["PRIMOART_LOG_LEVEL"] = "info";
  std::vector<std::string> args = {PrimoartBinary()};
  args.insert(args.end(), options_.args.begin(), options_.args.end());
  std::vector<std::string> envs;
  for (const auto& [k, v] : ServerEnvironment(extra)) envs.push_back(k + "=" + v);
  const std::string log_path = data_dir_ + "/server.log";
  std::error_code ec;
  log_offset_ =
      std::filesystem::exists(log_path, ec) ? std::filesystem::file_size(log_path, ec) : 0;
  pid_ = fork();
  if (pid_ < 0) return InternalError("fork failed");
  if (pid_ == 0) {
    const int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    auto cargs = CStrings(args);
    auto cenv = CStrings(envs);
    execve(cargs[0], cargs.data(), cenv.data());
    _exit(127);
  }
  exit_code_ = -1;
  return Status::Ok();
}

Status ServerProcess::Start() {
  PA_RETURN_IF_ERROR(Spawn());
  const auto deadline = std::chrono::steady_clock::now() + options_.ready_timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!running()) {
      return UnavailableError("primoart exited with code " + std::to_string(exit_code_) +
                              "; log:\n" + log());
    }
    auto resp = client_.Do({.url = base_url() + "/healthz", .timeout = std::chrono::seconds(2)});
    if (resp.ok() && resp->status == 200) return Status::Ok();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return DeadlineExceededError("primoart did not answer /healthz in time; log:\n" + log());
}

bool ServerProcess::running() const {
  if (pid_ <= 0) return false;
  int status = 0;
  const pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == 0) return true;
  auto* self = const_cast<ServerProcess*>(this);
  if (r == pid_) {
    self->exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  self->pid_ = -1;
  return false;
}

void ServerProcess::Signal(int sig) {
  if (pid_ > 0) kill(pid_, sig);
}

int ServerProcess::Wait(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (running()) {
    if (std::chrono::steady_clock::now() > deadline) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return exit_code_;
}

void ServerProcess::Kill9() {
  Signal(SIGKILL);
  Wait();
}

int64_t ServerProcess::RssBytes() const {
  std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
  }
  return -1;
}

Result<HttpResponse> ServerProcess::Request(
    const std::string& method, const std::string& path, const std::string& body,
    std::vector<std::pair<std::string, std::string>> headers) {
  if (!body.empty()) {
    bool has_type = false;
    for (const auto& [k, v] : headers)
      has_type = has_type || strcasecmp(k.c_str(), "content-type") == 0;
    if (!has_type) headers.emplace_back("Content-Type", "application/json");
  }
  return client_.Do({.method = method,
                     .url = base_url() + path,
                     .headers = std::move(headers),
                     .body = body,
                     .timeout = std::chrono::seconds(60)});
}

}  // namespace pa::testing
