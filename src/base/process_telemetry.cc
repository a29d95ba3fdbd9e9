// process_* metrics as the Prometheus client libraries name them, read from /proc at scrape time.
#include <dirent.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include "base/telemetry.h"

namespace pa::telemetry {
namespace {

struct ProcStat {
  double cpu_seconds = 0;
  double virtual_bytes = 0;
  double resident_bytes = 0;
  double start_time_seconds = 0;
};

double BootTimeSeconds() {
  std::ifstream in("/proc/stat");
  std::string key;
  while (in >> key) {
    if (key == "btime") {
      double v = 0;
      in >> v;
      return v;
    }
    in.ignore(1 << 20, '\n');
  }
  return 0;
}

ProcStat ReadProcStat() {
  ProcStat s;
  std::ifstream in("/proc/self/stat");
  std::string line;
  std::getline(in, line);
  // Fields after the command name, which is in parentheses and may contain spaces.
  const size_t close = line.rfind(')');
  if (close == std::string::npos) return s;
  std::istringstream fields(line.substr(close + 2));
  std::string f;
  // Field 3 (state) is the first here; utime=14, stime=15, starttime=22, vsize=23, rss=24.
  double utime = 0, stime = 0, start = 0, vsize = 0, rss = 0;
  for (int i = 3; i <= 24 && fields >> f; ++i) {
    if (i == 14) utime = std::stod(f);
    if (i == 15) stime = std::stod(f);
    if (i == 22) start = std::stod(f);
    if (i == 23) vsize = std::stod(f);
    if (i == 24) rss = std::stod(f);
  }
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  s.cpu_seconds = (utime + stime) / ticks;
  s.virtual_bytes = vsize;
  s.resident_bytes = rss * static_cast<double>(sysconf(_SC_PAGESIZE));
  static const double boot = BootTimeSeconds();
  s.start_time_seconds = boot + start / ticks;
  return s;
}

double OpenFds() {
  DIR* dir = opendir("/proc/self/fd");
  if (!dir) return 0;
  double n = 0;
  while (dirent* e = readdir(dir)) {
    if (e->d_name[0] != '.') ++n;
  }
  closedir(dir);
  return n - 1;  // the directory handle itself
}

double MaxFds() {
  std::ifstream in("/proc/self/limits");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Max open files", 0) == 0) {
      std::istringstream fields(line.substr(14));
      double soft = 0;
      fields >> soft;
      return soft;
    }
  }
  return 0;
}

void Emit(std::string& out, const char* name, const char* type, const char* help, double v) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
  out += name;
  out += ' ';
  AppendValue(out, v);
  out += '\n';
}

}  // namespace

void AddProcessCollector(Registry& registry) {
  registry.AddCollector([](std::string& out) {
    const ProcStat s = ReadProcStat();
    Emit(out, "process_cpu_seconds_total", "counter",
         "Total user and system CPU time spent in seconds.", s.cpu_seconds);
    Emit(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
         s.resident_bytes);
    Emit(out, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.",
         s.virtual_bytes);
    Emit(out, "process_start_time_seconds", "gauge",
         "Start time of the process since unix epoch in seconds.", s.start_time_seconds);
    Emit(out, "process_open_fds", "gauge", "Number of open file descriptors.", OpenFds());
    Emit(out, "process_max_fds", "gauge", "Maximum number of open file descriptors.", MaxFds());
  });
}

}  // namespace pa::telemetry
