#include "robot/browser/chromium.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "base/logging.h"

extern char** environ;

namespace pa::robot::browser {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

constexpr auto kHealthCheckTimeout = std::chrono::seconds(5);
constexpr auto kReapTimeout = std::chrono::seconds(10);

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The last `max_bytes` of the browser's log, for error messages.
std::string LogTail(const std::string& dir, size_t max_bytes = 1500) {
  std::string log = ReadFile(fs::path(dir) / "chromium.log");
  if (log.size() > max_bytes) log = "..." + log.substr(log.size() - max_bytes);
  return log;
}

struct ProcStat {
  char state = '?';
  pid_t pgrp = 0;
};

bool ReadProcStat(pid_t pid, ProcStat* out) {
  std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return false;
  std::istringstream in(stat.substr(paren + 1));
  pid_t ppid = 0;
  in >> out->state >> ppid >> out->pgrp;
  return !in.fail();
}

std::vector<pid_t> AllPids() {
  std::vector<pid_t> pids;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    pids.push_back(static_cast<pid_t>(std::stol(name)));
  }
  return pids;
}

// Proportional set size (shared pages split between sharers), or RSS when smaps_rollup is
// unreadable: summing plain RSS over Chromium's processes counts shared libraries ten times.
int64_t ProcessMemory(pid_t pid) {
  std::istringstream in(ReadFile("/proc/" + std::to_string(pid) + "/smaps_rollup"));
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("Pss:")) return std::atoll(line.c_str() + 4) * 1024;
  }
  std::istringstream statm(ReadFile("/proc/" + std::to_string(pid) + "/statm"));
  int64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

struct ActivePort {
  int port = 0;
  std::string path;
};

// Chromium writes "<port>\n/devtools/browser/<uuid>" once its DevTools server listens.
bool ReadActivePort(const fs::path& file, ActivePort* out) {
  std::istringstream in(ReadFile(file));
  std::string port, path;
  if (!std::getline(in, port) || !std::getline(in, path)) return false;
  if (!path.starts_with("/devtools/browser/") || path.size() < 18 + 36) return false;
  out->port = std::atoi(port.c_str());
  out->path = path;
  return out->port > 0;
}

bool Exited(pid_t pid) {
  int status = 0;
  return waitpid(pid, &status, WNOHANG) == pid;
}

void CloseInheritedFds() {
#ifdef SYS_close_range
  if (syscall(SYS_close_range, 3u, ~0u, 0u) == 0) return;
#endif
  for (int fd = 3; fd < 65536; ++fd) close(fd);
}

}  // namespace

std::vector<pid_t> ProcessGroupMembers(pid_t pgid) {
  std::vector<pid_t> out;
  if (pgid <= 0) return out;
  for (pid_t pid : AllPids()) {
    ProcStat st;
    if (ReadProcStat(pid, &st) && st.pgrp == pgid && st.state != 'Z') out.push_back(pid);
  }
  return out;
}

std::vector<pid_t> ProcessesMentioning(const std::string& needle) {
  std::vector<pid_t> out;
  if (needle.empty()) return out;
  for (pid_t pid : AllPids()) {
    std::string cmdline = ReadFile("/proc/" + std::to_string(pid) + "/cmdline");
    ProcStat st;
    if (cmdline.find(needle) != std::string::npos && ReadProcStat(pid, &st) && st.state != 'Z') {
      out.push_back(pid);
    }
  }
  return out;
}

Chromium::Chromium(ChromiumOptions options) : options_(std::move(options)) {}

Chromium::~Chromium() { Stop(); }

std::vector<std::string> Chromium::CommandLine(const std::string& user_data_dir) const {
  std::vector<std::string> args = {options_.executable};
  if (!options_.visible) args.push_back("--headless=new");
  if (geteuid() == 0) args.push_back("--no-sandbox");
  const std::vector<std::string> common = {
      "--remote-debugging-port=0",
      "--remote-debugging-address=127.0.0.1",
      "--no-first-run",
      "--no-default-browser-check",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--disable-extensions",
      "--disable-component-extensions-with-background-pages",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-default-apps",
      "--disable-sync",
      "--disable-breakpad",
      "--disable-crash-reporter",
      "--disable-client-side-phishing-detection",
      "--disable-domain-reliability",
      "--disable-background-timer-throttling",
      "--disable-backgrounding-occluded-windows",
      "--disable-renderer-backgrounding",
      "--disable-ipc-flooding-protection",
      "--disable-hang-monitor",
      "--disable-popup-blocking",
      "--disable-prompt-on-repost",
      "--disable-features=Translate,OptimizationHints,MediaRouter,DialMediaRouteProvider,"
      "AcceptCHFrame,AutoExpandDetailsElement,CertificateTransparencyComponentUpdater,"
      "InterestFeedContentSuggestions,PaintHolding",
      "--metrics-recording-only",
      "--mute-audio",
      "--password-store=basic",
      "--use-mock-keychain",
      "--hide-scrollbars",
      "--force-color-profile=srgb",
      "--window-size=" + std::to_string(options_.window_width) + "," +
          std::to_string(options_.window_height),
  };
  args.insert(args.end(), common.begin(), common.end());
  args.push_back("--user-data-dir=" + user_data_dir);
  args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
  args.push_back("about:blank");
  return args;
}

Status Chromium::StartLocked() {
  if (access(options_.executable.c_str(), X_OK) != 0) {
    return NotFoundError("browser executable " + options_.executable +
                         " not found (install the `chromium` package)");
  }
  std::string parent = options_.temp_parent;
  if (parent.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    parent = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
  }
  std::string pattern = parent + "/primoart-chromium.XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {
    return UnavailableError("cannot create a browser directory in " + parent + ": " +
                            std::strerror(errno));
  }
  dir_ = pattern;
  const fs::path profile = fs::path(dir_) / "profile";
  const fs::path home = fs::path(dir_) / "home";
  std::error_code ec;
  fs::create_directories(profile, ec);
  fs::create_directories(home, ec);

  // Everything the child needs is prepared before fork(): after it only async-signal-safe calls.
  std::vector<std::string> args = CommandLine(profile.string());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view kv(*e);
    if (kv.starts_with("HOME=") || kv.starts_with("XDG_CONFIG_HOME=") ||
        kv.starts_with("XDG_CACHE_HOME=")) {
      continue;
    }
    env_strings.emplace_back(kv);
  }
  env_strings.push_back("HOME=" + home.string());
  env_strings.push_back("XDG_CONFIG_HOME=" + (home / ".config").string());
  env_strings.push_back("XDG_CACHE_HOME=" + (home / ".cache").string());
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  const std::string log_path = dir_ + "/chromium.log";
  int log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (log_fd < 0 || null_fd < 0) {
    if (log_fd >= 0) close(log_fd);
    if (null_fd >= 0) close(null_fd);
    return UnavailableError("cannot open " + log_path + ": " + std::strerror(errno));
  }
  const pid_t robot = getpid();

  pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != robot) _exit(127);
    dup2(null_fd, 0);
    dup2(log_fd, 1);
    dup2(log_fd, 2);
    CloseInheritedFds();
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  close(log_fd);
  close(null_fd);
  if (pid < 0) return UnavailableError(std::string("fork failed: ") + std::strerror(errno));
  setpgid(pid, pid);  // also here, so that a kill right after fork() reaches the group
  pid_ = pid;
  reaped_ = false;

  const SteadyTime deadline = Deadline(options_.start_timeout);
  ActivePort active;
  while (!ReadActivePort(profile / "DevToolsActivePort", &active)) {
    if (Exited(pid_)) {
      reaped_ = true;
      Status s = UnavailableError("chromium exited at start: " + LogTail(dir_));
      KillLocked();
      return s;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      Status s = UnavailableError("chromium did not open its DevTools port within " +
                                  std::to_string(options_.start_timeout.count()) +
                                  " ms: " + LogTail(dir_));
      KillLocked();
      return s;
    }
    std::this_thread::sleep_for(milliseconds(20));
  }
  const std::string url = "ws://127.0.0.1:" + std::to_string(active.port) + active.path;
  auto cdp = CdpClient::Connect(url, deadline);
  if (!cdp.ok()) {
    Status s = cdp.status().WithContext("chromium DevTools");
    KillLocked();
    return s;
  }
  cdp_ = std::shared_ptr<CdpClient>(std::move(*cdp));
  stats_.starts++;
  stats_.runs = 0;
  stats_.pid = pid_;
  recycle_ = false;
  log::Get("robot")->info("chromium started: pid {}, {}", pid_, url);
  return Status::Ok();
}

void Chromium::KillLocked() {
  if (cdp_) {
    cdp_->Close();
    cdp_.reset();
  }
  if (pid_ > 0) {
    kill(-pid_, SIGKILL);  // the group outlives its leader while helpers remain
    if (!reaped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  // Crashpad handlers leave the group (they daemonise); they mention the directory in their
  // command line because HOME points into it.
  const SteadyTime deadline = Deadline(kReapTimeout);
  while (!dir_.empty() || pid_ > 0) {
    std::vector<pid_t> left = ProcessGroupMembers(pid_);
    for (pid_t p : ProcessesMentioning(dir_)) left.push_back(p);
    if (left.empty() || std::chrono::steady_clock::now() > deadline) {
      if (!left.empty())
        log::Get("robot")->warn("{} chromium processes survive SIGKILL", left.size());
      break;
    }
    for (pid_t p : left) kill(p, SIGKILL);
    if (pid_ > 0) kill(-pid_, SIGKILL);
    std::this_thread::sleep_for(milliseconds(20));
  }
  if (!dir_.empty()) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
    dir_.clear();
  }
  pid_ = 0;
  reaped_ = false;
  stats_.pid = 0;
}

bool Chromium::HealthyLocked() {
  if (pid_ <= 0 || !cdp_ || !cdp_->connected()) return false;
  if (Exited(pid_)) {
    reaped_ = true;
    return false;
  }
  return cdp_->Call("Browser.getVersion", nullptr, "", Deadline(kHealthCheckTimeout)).ok();
}

Result<std::shared_ptr<CdpClient>> Chromium::Connection() {
  std::lock_guard lock(mu_);
  bool replacing = restart_pending_;
  if (pid_ > 0) {
    if (!recycle_) {
      if (HealthyLocked()) return cdp_;
      stats_.crashes++;
      log::Get("robot")->warn("chromium (pid {}) died or stopped answering; restarting", pid_);
    }
    KillLocked();
    replacing = true;
  }
  restart_pending_ = replacing;  // kept when the start fails, so the next success counts
  PA_RETURN_IF_ERROR(StartLocked());
  if (replacing) stats_.restarts++;
  restart_pending_ = false;
  return cdp_;
}

void Chromium::RunFinished() {
  std::lock_guard lock(mu_);
  if (pid_ <= 0) return;
  stats_.runs++;
  if (options_.max_runs > 0 && stats_.runs >= options_.max_runs) recycle_ = true;
  if (options_.max_memory_bytes > 0) {
    int64_t rss = 0;
    for (pid_t p : ProcessGroupMembers(pid_)) rss += ProcessMemory(p);
    if (rss > options_.max_memory_bytes) {
      log::Get("robot")->info("chromium uses {} MiB (bound {} MiB); recycling", rss >> 20,
                              options_.max_memory_bytes >> 20);
      recycle_ = true;
    }
  }
}

void Chromium::MarkUnhealthy(std::string_view reason) {
  std::lock_guard lock(mu_);
  if (pid_ <= 0) return;
  log::Get("robot")->warn("chromium (pid {}) killed: {}", pid_, reason);
  KillLocked();
  restart_pending_ = true;
}

void Chromium::Stop() {
  std::lock_guard lock(mu_);
  KillLocked();
  restart_pending_ = false;
}

ChromiumStats Chromium::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

std::string Chromium::directory() const {
  std::lock_guard lock(mu_);
  return dir_;
}

int64_t Chromium::MemoryBytes() const {
  std::lock_guard lock(mu_);
  int64_t total = 0;
  for (pid_t p : ProcessGroupMembers(pid_)) total += ProcessMemory(p);
  return total;
}

}  // namespace pa::robot::browser
