// Chromium: the robot's one headless Chromium process, started on demand, reused across runs and
// replaced when it dies, stops answering, or has served long enough to be suspected of leaking.
//
//   Chromium chromium({.max_runs = 200});
//   PA_ASSIGN_OR_RETURN(std::shared_ptr<CdpClient> cdp, chromium.Connection());
//   ... Target.createBrowserContext, run, dispose ...
//   chromium.RunFinished();              // counts the run; may schedule a recycle
//   metrics.Set("browser_restarts", chromium.stats().restarts);
//
// The browser runs in its own process group with a temporary user data directory (and HOME, so
// that crash-reporter databases land there too); Stop() and the destructor SIGKILL the group and
// any helper that left it (crashpad re-parents itself), reap the browser and delete the directory.
// The browser also gets PR_SET_PDEATHSIG, so a robot that dies does not leave it behind; note that
// Linux ties this to the *thread* that started it: call Connection() from long-lived threads.
//
// `--no-sandbox` is passed only when running as root (Chromium refuses to start otherwise).
//
// Thread-safety: every method may be called from any thread; they serialise on one mutex. The
// CdpClient returned by Connection() stays valid (possibly disconnected) while the caller holds it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/status.h"
#include "robot/browser/cdp_client.h"

namespace pa::robot::browser {

struct ChromiumOptions {
  std::string executable = "/usr/bin/chromium";
  bool visible = false;  // --browser-visible: a normal window instead of --headless=new
  int max_runs = 100;    // restart after this many runs; 0: never
  // Restart when the browser's processes together use more (PSS: resident memory with shared
  // pages split between sharers; about 400 MiB after a few runs); 0: never.
  int64_t max_memory_bytes = 1536ll << 20;
  std::chrono::milliseconds start_timeout{30000};
  std::string temp_parent;  // where the user data dir is created; "" = $TMPDIR or /tmp
  int window_width = 1366, window_height = 768;
  std::vector<std::string> extra_args;  // appended to the command line
};

struct ChromiumStats {
  int64_t starts = 0;    // processes started
  int64_t restarts = 0;  // starts that replaced a previous process (crash, recycle, hang)
  int64_t crashes = 0;   // of those, replacements of a process that had died or disconnected
  int64_t runs = 0;      // runs counted by RunFinished() since the current process started
  pid_t pid = 0;         // the current browser process, 0 when none
};

class Chromium {
 public:
  explicit Chromium(ChromiumOptions options = {});
  ~Chromium();  // Stop()
  Chromium(const Chromium&) = delete;
  Chromium& operator=(const Chromium&) = delete;

  // The DevTools connection to a healthy browser: starts one when there is none, and replaces
  // the current one first when it has exited, lost its connection, failed a health check, or is
  // due for recycling (max_runs, max_memory_bytes, MarkUnhealthy). Fails with kUnavailable (and
  // the end of the browser's log) when Chromium cannot be started, kNotFound when the
  // executable is missing.
  Result<std::shared_ptr<CdpClient>> Connection();

  // Counts one finished run against max_runs and checks the memory bound; a browser over either
  // is replaced at the next Connection().
  void RunFinished();

  // The browser misbehaved (a page it could not close, a call it never answered): kill it now so
  // it stops burning CPU; the next Connection() starts a new one.
  void MarkUnhealthy(std::string_view reason);

  // Kills the process group and helpers, waits for the browser, deletes the temporary
  // directory. Idempotent; the next Connection() starts afresh (not counted as a restart).
  void Stop();

  ChromiumStats stats() const;

  // The current temporary directory (user data dir and HOME inside); "" when none runs.
  std::string directory() const;

  // The memory of the browser's processes (summed PSS, shared pages split); 0 when none runs.
  int64_t MemoryBytes() const;

  // The command line that Connection() runs (without the user data dir), for logs and tests.
  std::vector<std::string> CommandLine(const std::string& user_data_dir) const;

 private:
  Status StartLocked();
  void KillLocked();
  bool HealthyLocked();

  const ChromiumOptions options_;
  mutable std::mutex mu_;
  pid_t pid_ = 0;
  std::string dir_;  // the temporary directory: user data, HOME, log
  std::shared_ptr<CdpClient> cdp_;
  bool reaped_ = false;           // pid_ has exited and been waited for; its group may linger
  bool recycle_ = false;          // replace at the next Connection()
  bool restart_pending_ = false;  // the next start replaces a browser (counts as a restart)
  ChromiumStats stats_;
};

// The processes of process group `pgid` (empty when none), from /proc.
std::vector<pid_t> ProcessGroupMembers(pid_t pgid);

// The processes whose command line contains `needle`, from /proc.
std::vector<pid_t> ProcessesMentioning(const std::string& needle);

}  // namespace pa::robot::browser
