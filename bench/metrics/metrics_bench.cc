// metrics_bench: the two halves of bench/metrics/run — loading the same generated data into the
// embedded store (through MetricStore::Append, one writer thread) or into VictoriaMetrics
// (through its /api/v1/import/prometheus, one client), and timing PromQL range queries over
// HTTP against either. It prints one JSON object per command for the run script to tabulate.
//
//   metrics_bench ingest-embedded DIR
//   metrics_bench ingest-vm URL VM_PID VM_DATA_DIR
//   metrics_bench query URL TOKEN QUERY START_S END_S STEP_S REPEAT
//
// Data (BENCH_SERIES series, BENCH_DAYS days at 60 s, ending at BENCH_END_S): half counters
// bench_requests_total{x, instance} growing by small random integers with a reset per day, half
// gauges bench_latency_seconds{x, instance} as a random walk with millisecond precision, scrape
// times jittered by up to ±20 ms. `x` takes 10 values, for `sum by (x)`.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "base/http_client.h"
#include "base/url.h"
#include "storage/embedded_tsdb/tsdb_store.h"

namespace {

using pa::storage::Labels;
using pa::storage::SeriesSamples;
using SteadyClock = std::chrono::steady_clock;

int64_t EnvInt(const char* name, int64_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoll(v) : fallback;
}

struct DataSet {
  std::vector<Labels> labels;
  // Time-major batches of about `batch` samples each: what scrapes of every series look like.
  std::vector<std::vector<SeriesSamples>> batches;
  int64_t samples = 0;
};

DataSet Generate() {
  const int64_t series = EnvInt("BENCH_SERIES", 1000);
  const int64_t days = EnvInt("BENCH_DAYS", 7);
  const int64_t end_ms = EnvInt("BENCH_END_S", 1795824000) * 1000;
  const int64_t batch = EnvInt("BENCH_BATCH", 10000);
  const int64_t step = 60000;
  const int64_t points = days * 86400000 / step;
  DataSet d;
  for (int64_t i = 0; i < series; ++i) {
    const bool counter = i % 2 == 0;
    d.labels.push_back({{"__name__", counter ? "bench_requests_total" : "bench_latency_seconds"},
                        {"instance", "host-" + std::to_string(i / 2)},
                        {"x", "x" + std::to_string(i % 10)}});
  }
  std::mt19937_64 rng(42);
  std::vector<double> value(series, 0.0);
  std::uniform_int_distribution<int> jitter(-20, 20), inc(0, 9), walk(-5, 5);
  const int64_t per_batch = std::max<int64_t>(1, batch / series);
  for (int64_t p0 = 0; p0 < points; p0 += per_batch) {
    std::vector<SeriesSamples> b(series);
    for (int64_t i = 0; i < series; ++i) b[i].labels = d.labels[i];
    for (int64_t p = p0; p < std::min(points, p0 + per_batch); ++p) {
      const int64_t t = end_ms - (points - 1 - p) * step;
      for (int64_t i = 0; i < series; ++i) {
        if (i % 2 == 0) {
          value[i] = (p % 1440 == 0) ? 0 : value[i] + inc(rng);
        } else {
          value[i] = std::max(0.0, std::round((value[i] + walk(rng) * 0.001) * 1000) / 1000);
        }
        b[i].samples.push_back({t + jitter(rng), value[i]});
        ++d.samples;
      }
    }
    d.batches.push_back(std::move(b));
  }
  return d;
}

double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// utime + stime of another process, from /proc/<pid>/stat.
double ProcessCpuSeconds(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(in, line);
  std::istringstream fields(line.substr(line.rfind(')') + 2));
  std::string f;
  double utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> f; ++i) {
    if (i == 14) utime = std::stod(f);
    if (i == 15) stime = std::stod(f);
  }
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

int64_t RssBytes(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
  }
  return 0;
}

int64_t DirBytes(const std::string& dir) {
  int64_t total = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) total += static_cast<int64_t>(e.file_size());
  }
  return total;
}

int IngestEmbedded(const std::string& dir) {
  DataSet d = Generate();
  const int64_t rss_before = RssBytes(getpid());
  auto store = pa::storage::embedded_tsdb::Open({.dir = dir});
  if (!store.ok()) {
    std::fprintf(stderr, "open: %s\n", store.status().ToString().c_str());
    return 1;
  }
  const double cpu0 = CpuSeconds();
  const auto t0 = SteadyClock::now();
  for (const auto& b : d.batches) {
    auto r = (*store)->Append(b);
    if (!r.ok() || r->accepted != static_cast<int64_t>(b.size() * b[0].samples.size())) {
      std::fprintf(stderr, "append: %s\n",
                   r.ok() ? "samples refused" : r.status().ToString().c_str());
      return 1;
    }
  }
  const double wall = std::chrono::duration<double>(SteadyClock::now() - t0).count();
  const double cpu = CpuSeconds() - cpu0;
  const int64_t rss_after = RssBytes(getpid());
  const auto c0 = SteadyClock::now();
  if (auto st = pa::storage::embedded_tsdb::Compact(**store); !st.ok()) {
    std::fprintf(stderr, "compact: %s\n", st.ToString().c_str());
    return 1;
  }
  const double compact = std::chrono::duration<double>(SteadyClock::now() - c0).count();
  store->reset();
  std::printf(
      "{\"samples\": %lld, \"series\": %zu, \"wall_s\": %.3f, \"cpu_s\": %.3f, "
      "\"compact_s\": %.3f, \"disk_bytes\": %lld, \"rss_delta_bytes\": %lld}\n",
      static_cast<long long>(d.samples), d.labels.size(), wall, cpu, compact,
      static_cast<long long>(DirBytes(dir)), static_cast<long long>(rss_after - rss_before));
  return 0;
}

std::string PromText(const std::vector<SeriesSamples>& batch) {
  std::string out;
  char num[64];
  for (const auto& s : batch) {
    std::string head(s.labels[0].value);
    head += '{';
    for (size_t i = 1; i < s.labels.size(); ++i) {
      if (i > 1) head += ',';
      head += s.labels[i].name + "=\"" + s.labels[i].value + "\"";
    }
    head += "} ";
    for (const auto& p : s.samples) {
      out += head;
      std::snprintf(num, sizeof(num), "%.17g %lld\n", p.v, static_cast<long long>(p.t));
      out += num;
    }
  }
  return out;
}

int IngestVm(const std::string& url, int pid, const std::string& data_dir) {
  DataSet d = Generate();
  std::vector<std::string> bodies;
  for (const auto& b : d.batches) bodies.push_back(PromText(b));
  d.batches.clear();
  pa::HttpClient http;
  const int64_t rss_before = RssBytes(pid);
  const double cpu0 = ProcessCpuSeconds(pid);
  const auto t0 = SteadyClock::now();
  for (const auto& body : bodies) {
    auto r = http.Do({.method = "POST", .url = url + "/api/v1/import/prometheus", .body = body});
    if (!r.ok() || r->status / 100 != 2) {
      std::fprintf(stderr, "import: %s\n",
                   r.ok() ? r->body.c_str() : r.status().ToString().c_str());
      return 1;
    }
  }
  const double wall = std::chrono::duration<double>(SteadyClock::now() - t0).count();
  // What VictoriaMetrics still has buffered counts as ingest work too.
  (void)http.Do({.url = url + "/internal/force_flush"});
  const double cpu = ProcessCpuSeconds(pid) - cpu0;
  const int64_t rss_after = RssBytes(pid);
  const auto c0 = SteadyClock::now();
  (void)http.Do({.url = url + "/internal/force_merge", .timeout = std::chrono::minutes(10)});
  // force_merge returns at once; the merge runs in the background. Wait for the size to settle.
  int64_t last = -1;
  for (int i = 0; i < 600; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    const int64_t now = DirBytes(data_dir);
    if (now == last) break;
    last = now;
  }
  const double compact = std::chrono::duration<double>(SteadyClock::now() - c0).count();
  std::printf(
      "{\"samples\": %lld, \"series\": %zu, \"wall_s\": %.3f, \"cpu_s\": %.3f, "
      "\"compact_s\": %.3f, \"disk_bytes\": %lld, \"rss_delta_bytes\": %lld}\n",
      static_cast<long long>(d.samples), d.labels.size(), wall, cpu, compact,
      static_cast<long long>(DirBytes(data_dir)), static_cast<long long>(rss_after - rss_before));
  return 0;
}

int Query(const std::string& url, const std::string& token, const std::string& query,
          const std::string& start, const std::string& end, const std::string& step, int repeat) {
  pa::HttpClient http;
  std::vector<double> ms;
  std::string form = "query=" + pa::PercentEncode(query) + "&start=" + start + "&end=" + end +
                     "&step=" + step + "&nocache=1";
  std::vector<std::pair<std::string, std::string>> headers = {
      {"Content-Type", "application/x-www-form-urlencoded"}};
  if (!token.empty() && token != "-") headers.emplace_back("Authorization", "Bearer " + token);
  size_t series = 0;
  for (int i = 0; i < repeat; ++i) {
    const auto t0 = SteadyClock::now();
    auto r = http.Do({.method = "POST",
                      .url = url + "/query_range",
                      .headers = headers,
                      .body = form,
                      .timeout = std::chrono::minutes(5)});
    ms.push_back(std::chrono::duration<double, std::milli>(SteadyClock::now() - t0).count());
    if (!r.ok() || r->status != 200) {
      std::fprintf(stderr, "query: %s\n",
                   r.ok() ? r->body.substr(0, 300).c_str() : r.status().ToString().c_str());
      return 1;
    }
    series = 0;
    for (size_t pos = 0; (pos = r->body.find("\"metric\"", pos)) != std::string::npos; ++pos)
      ++series;
  }
  std::sort(ms.begin(), ms.end());
  auto pct = [&](double q) {
    return ms[std::min(ms.size() - 1, static_cast<size_t>(q * ms.size()))];
  };
  std::printf("{\"p50_ms\": %.1f, \"p99_ms\": %.1f, \"series\": %zu}\n", pct(0.5), pct(0.99),
              series);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string cmd = argc > 1 ? argv[1] : "";
  if (cmd == "ingest-embedded" && argc == 3) return IngestEmbedded(argv[2]);
  if (cmd == "ingest-vm" && argc == 5) return IngestVm(argv[2], std::atoi(argv[3]), argv[4]);
  if (cmd == "query" && argc == 9) {
    return Query(argv[2], argv[3], argv[4], argv[5], argv[6], argv[7], std::atoi(argv[8]));
  }
  std::fprintf(stderr,
               "usage: metrics_bench ingest-embedded DIR\n"
               "       metrics_bench ingest-vm URL VM_PID VM_DATA_DIR\n"
               "       metrics_bench query URL TOKEN QUERY START_S END_S STEP_S REPEAT\n");
  return 2;
}
