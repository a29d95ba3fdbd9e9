#include "data_set.h"

#include <cassert>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numbers>

namespace pa::differential {
namespace {

using storage::Labels;
using storage::Sample;
using storage::SeriesSamples;
using T = DataTimes;

// splitmix64: tiny, fast and identical everywhere (std:: distributions are not).
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform(); }
  int64_t Int(int64_t lo, int64_t hi) {  // inclusive
    return lo + static_cast<int64_t>(Next() % static_cast<uint64_t>(hi - lo + 1));
  }
  bool Chance(double p) { return Uniform() < p; }
  double Normal() {  // Box-Muller
    const double u1 = 1.0 - Uniform();
    const double u2 = Uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2 * std::numbers::pi * u2);
  }

 private:
  uint64_t state_;
};

struct Window {
  int64_t from = 0;
  int64_t to = 0;  // exclusive
  bool Contains(int64_t t) const { return t >= from && t < to; }
};

// When a target is scraped: every `interval` from kStart + phase, moved by up to ±jitter, only
// inside [from, to) and outside the gaps, with occasional runs of 1-3 missed scrapes.
struct Schedule {
  int64_t interval = T::kMinute;
  int64_t phase = 0;
  int64_t jitter = 0;
  int64_t from = T::kStart;
  int64_t to = T::kEnd;
  std::vector<Window> gaps;
  double miss_probability = 0;
};

std::vector<int64_t> Timestamps(const Schedule& s, Rng& rng) {
  std::vector<int64_t> out;
  out.reserve(static_cast<size_t>((T::kEnd - T::kStart) / s.interval + 1));
  int64_t missing = 0;
  for (int64_t base = T::kStart + s.phase; base < T::kEnd; base += s.interval) {
    const int64_t t = base + (s.jitter > 0 ? rng.Int(-s.jitter, s.jitter) : 0);
    if (t < s.from || t >= s.to || t < T::kStart || t >= T::kEnd) continue;
    bool in_gap = false;
    for (const Window& g : s.gaps) in_gap = in_gap || g.Contains(t);
    if (in_gap) continue;
    if (missing > 0) {
      --missing;
      continue;
    }
    if (s.miss_probability > 0 && rng.Chance(s.miss_probability)) {
      missing = rng.Int(0, 2);
      continue;
    }
    out.push_back(t);
  }
  return out;
}

Labels MakeLabels(std::initializer_list<std::pair<const char*, std::string>> pairs) {
  Labels labels;
  for (const auto& [name, value] : pairs) labels.push_back({name, value});
  const Status s = storage::NormalizeLabels(labels);
  assert(s.ok());
  (void)s;
  return labels;
}

// The restart (a time in `restarts`) in (prev, t], or -1.
int64_t RestartBetween(const std::vector<int64_t>& restarts, int64_t prev, int64_t t) {
  for (int64_t r : restarts) {
    if (r > prev && r <= t) return r;
  }
  return -1;
}

// A counter growing at about `per_second`, restarting from 0 at `restarts` and, rarely, at
// random (a process crash between two scrapes).
std::vector<Sample> Counter(const std::vector<int64_t>& ts, double per_second,
                            const std::vector<int64_t>& restarts, bool integral, Rng& rng) {
  std::vector<Sample> out;
  out.reserve(ts.size());
  double v = integral ? std::floor(rng.Uniform(0, 1e5)) : rng.Uniform(0, 1e5);
  int64_t prev = ts.empty() ? 0 : ts.front();
  for (int64_t t : ts) {
    // After a restart the counter only counts from the restart on.
    const int64_t restart = RestartBetween(restarts, prev, t);
    const int64_t since = restart >= 0 ? restart : prev;
    double inc = per_second * static_cast<double>(t - since) / 1000.0 * rng.Uniform(0.5, 1.5);
    if (integral) inc = std::floor(inc + rng.Uniform());
    const bool reset = restart >= 0 || rng.Chance(1.0 / 3000);
    v = reset ? inc : v + inc;
    out.push_back({t, v});
    prev = t;
  }
  return out;
}

struct Target {
  std::string job;
  std::string instance;
  Schedule schedule;
  std::vector<int64_t> restarts;
  std::vector<int64_t> ts;
};

std::string Instance(int i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "host-%02d:9100", i);
  return buf;
}

std::vector<Target> MakeTargets(Rng& rng) {
  std::vector<Target> targets;
  for (const char* job : {"api", "web"}) {
    for (int i = 0; i < 10; ++i) {
      Target t{.job = job, .instance = Instance(i)};
      t.schedule = {.interval = T::kMinute,
                    .phase = rng.Int(0, T::kMinute - 1),
                    .jitter = 25,
                    .miss_probability = 0.001};
      const std::string_view j = job;
      if (j == "api" && i == 7) {
        t.schedule.gaps.push_back({T::kApiDownStart, T::kApiDownEnd});
        t.restarts.push_back(T::kApiDownEnd);
      }
      if (j == "api" && i == 8) t.schedule.to = T::kApiGoneAt;
      if (j == "web" && i == 9) t.schedule.from = T::kWebNewStart;
      t.ts = Timestamps(t.schedule, rng);
      targets.push_back(std::move(t));
    }
  }
  return targets;
}

void AddHttpRequests(const std::vector<Target>& targets, Rng& rng, DataSet& data) {
  const std::pair<const char*, double> methods[] = {
      {"GET", 20}, {"POST", 5}, {"PUT", 1}, {"DELETE", 0.2}};
  const std::pair<const char*, double> statuses[] = {
      {"200", 1}, {"404", 0.05}, {"500", 0.01}, {"503", 0.002}};
  for (const Target& target : targets) {
    const double scale = (target.job == "web" ? 3.0 : 1.0) * rng.Uniform(0.5, 1.5);
    for (const auto& [method, mrate] : methods) {
      for (const auto& [status, srate] : statuses) {
        data.series.push_back(
            {MakeLabels({{"__name__", "http_requests_total"},
                         {"job", target.job},
                         {"instance", target.instance},
                         {"method", method},
                         {"status", status}}),
             Counter(target.ts, mrate * srate * scale, target.restarts, true, rng)});
      }
    }
  }
}

void AddHistograms(const std::vector<Target>& targets, Rng& rng, DataSet& data) {
  static constexpr double kBounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  static constexpr const char* kLe[] = {"0.005", "0.01", "0.025", "0.05", "0.1", "0.25",
                                        "0.5",   "1",    "2.5",   "5",    "10",  "+Inf"};
  constexpr size_t kBuckets = std::size(kLe);
  for (const Target& target : targets) {
    const double per_second = target.job == "api" ? 2.0 : 0.5;
    const double log_median = std::log(target.job == "api" ? 0.08 : 0.4);
    std::vector<std::vector<Sample>> buckets(kBuckets);
    std::vector<Sample> sum, count;
    std::vector<double> cum(kBuckets, 0);
    double total = 0, n_total = 0;
    int64_t prev = target.ts.empty() ? 0 : target.ts.front();
    for (int64_t t : target.ts) {
      const int64_t restart = RestartBetween(target.restarts, prev, t);
      if (restart >= 0 || rng.Chance(1.0 / 4000)) {
        std::fill(cum.begin(), cum.end(), 0);
        total = n_total = 0;
      }
      const int64_t since = restart >= 0 ? restart : prev;
      const double expected = per_second * static_cast<double>(t - since) / 1000.0;
      const int n = static_cast<int>(std::floor(expected * rng.Uniform(0.3, 1.7) + rng.Uniform()));
      for (int k = 0; k < n; ++k) {
        const double d = std::exp(log_median + 1.2 * rng.Normal());
        total += d;
        n_total += 1;
        for (size_t b = 0; b < kBuckets; ++b) {
          if (b + 1 == kBuckets || d <= kBounds[b]) cum[b] += 1;
        }
      }
      for (size_t b = 0; b < kBuckets; ++b) buckets[b].push_back({t, cum[b]});
      sum.push_back({t, total});
      count.push_back({t, n_total});
      prev = t;
    }
    for (size_t b = 0; b < kBuckets; ++b) {
      data.series.push_back({MakeLabels({{"__name__", "request_duration_seconds_bucket"},
                                         {"job", target.job},
                                         {"instance", target.instance},
                                         {"le", kLe[b]}}),
                             std::move(buckets[b])});
    }
    data.series.push_back({MakeLabels({{"__name__", "request_duration_seconds_sum"},
                                       {"job", target.job},
                                       {"instance", target.instance}}),
                           std::move(sum)});
    data.series.push_back({MakeLabels({{"__name__", "request_duration_seconds_count"},
                                       {"job", target.job},
                                       {"instance", target.instance}}),
                           std::move(count)});
  }
}

void AddUp(const std::vector<Target>& targets, Rng& rng, DataSet& data) {
  for (const Target& target : targets) {
    // `up` keeps being written while the target is down (as 0), unlike the target's own series.
    Schedule s = target.schedule;
    s.gaps.clear();
    s.miss_probability = 0;
    std::vector<Sample> samples;
    for (int64_t t : Timestamps(s, rng)) {
      bool down = false;
      for (const Window& g : target.schedule.gaps) down = down || g.Contains(t);
      samples.push_back({t, down ? 0.0 : 1.0});
    }
    data.series.push_back(
        {MakeLabels({{"__name__", "up"}, {"job", target.job}, {"instance", target.instance}}),
         std::move(samples)});
  }
}

void AddCpuSeconds(Rng& rng, DataSet& data) {
  const std::pair<const char*, double> modes[] = {
      {"user", 0.3}, {"system", 0.1}, {"idle", 3.5}, {"iowait", 0.05}};
  for (int i = 0; i < 10; ++i) {
    Schedule s{.interval = 2 * T::kMinute, .phase = rng.Int(0, 2 * T::kMinute - 1), .jitter = 25};
    std::vector<int64_t> restarts;
    if (i == 3) {
      s.gaps.push_back({T::kRebootAt, T::kRebootAt + 10 * T::kMinute});
      restarts.push_back(T::kRebootAt + 10 * T::kMinute);
    }
    const std::vector<int64_t> ts = Timestamps(s, rng);
    for (const auto& [mode, rate] : modes) {
      data.series.push_back(
          {MakeLabels(
               {{"__name__", "cpu_seconds_total"}, {"instance", Instance(i)}, {"mode", mode}}),
           Counter(ts, rate, restarts, false, rng)});
    }
  }
}

void AddTemperatures(Rng& rng, DataSet& data) {
  const std::pair<const char*, double> sensors[] = {
      {"cpu", 55}, {"board", 40}, {"inlet", 22}, {"outdoor", -5}};
  for (int i = 0; i < 10; ++i) {
    Schedule s{.interval = T::kMinute, .phase = rng.Int(0, T::kMinute - 1), .jitter = 25};
    const std::vector<int64_t> ts = Timestamps(s, rng);
    for (const auto& [sensor, base] : sensors) {
      const double amplitude = rng.Uniform(2, 12);
      const double shift = rng.Uniform(0, 2 * std::numbers::pi);
      std::vector<Sample> samples;
      samples.reserve(ts.size());
      for (int64_t t : ts) {
        const double day_phase = 2 * std::numbers::pi * static_cast<double>(t % T::kDay) / T::kDay;
        samples.push_back({t, base + amplitude * std::sin(day_phase + shift) + 0.5 * rng.Normal()});
      }
      data.series.push_back({MakeLabels({{"__name__", "node_temperature_celsius"},
                                         {"instance", Instance(i)},
                                         {"sensor", sensor}}),
                             std::move(samples)});
    }
  }
}

void AddQueueDepth(Rng& rng, DataSet& data) {
  for (int q = 0; q < 10; ++q) {
    Schedule s{.interval = 15 * 1000, .phase = rng.Int(0, 14999)};
    std::vector<Sample> samples;
    double depth = static_cast<double>(rng.Int(0, 50));
    for (int64_t t : Timestamps(s, rng)) {
      depth = std::max(0.0, depth + static_cast<double>(rng.Int(-5, 5)));
      samples.push_back({t, depth});
    }
    data.series.push_back(
        {MakeLabels({{"__name__", "queue_depth"}, {"queue", "q" + std::to_string(q)}}),
         std::move(samples)});
  }
}

void AddDiskFree(Rng& rng, DataSet& data) {
  for (int i = 0; i < 10; ++i) {
    for (const char* device : {"sda", "sdb", "nvme0"}) {
      // Exactly every 5 m, no jitter: instants and ranges fall right on the lookback boundary.
      Schedule s{.interval = 5 * T::kMinute};
      double free = std::floor(rng.Uniform(1e11, 9e11));
      std::vector<Sample> samples;
      for (int64_t t : Timestamps(s, rng)) {
        free -= std::floor(rng.Uniform(0, 2e7));
        if (rng.Chance(0.002)) free += 1e10;  // a cleanup
        samples.push_back({t, free});
      }
      data.series.push_back(
          {MakeLabels(
               {{"__name__", "disk_free_bytes"}, {"instance", Instance(i)}, {"device", device}}),
           std::move(samples)});
    }
  }
}

void AddBatchJobs(Rng& rng, DataSet& data) {
  for (int j = 0; j < 10; ++j) {
    Schedule s{.interval = T::kHour, .phase = rng.Int(0, T::kHour - 1)};
    double last_success = static_cast<double>(T::kStart / 1000 - rng.Int(0, 86400));
    std::vector<Sample> samples;
    for (int64_t t : Timestamps(s, rng)) {
      if (rng.Chance(0.8)) last_success = static_cast<double>(t / 1000 - rng.Int(1, 600));
      samples.push_back({t, last_success});
    }
    data.series.push_back({MakeLabels({{"__name__", "batch_last_success_timestamp_seconds"},
                                       {"job", "backup-" + std::to_string(j)}}),
                           std::move(samples)});
  }
}

void AddSensorReadings(Rng& rng, DataSet& data) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (int site = 0; site < 10; ++site) {
    const int64_t phase = rng.Int(0, T::kMinute - 1);
    for (int k = 0; k < 5; ++k) {
      Schedule s{.interval = T::kMinute, .phase = phase, .jitter = 30};
      s.gaps.push_back({T::kSensorGapStart, T::kSensorGapEnd});
      for (int64_t g = rng.Int(0, 3); g > 0; --g) {
        const int64_t from = T::kStart + rng.Int(0, 7 * T::kDay);
        s.gaps.push_back({from, from + rng.Int(6, 90) * T::kMinute});
      }
      const double base = rng.Uniform(-20, 20);
      std::vector<Sample> samples;
      for (int64_t t : Timestamps(s, rng)) {
        const bool all_nan = site == 9;
        const double v = base + 5 * rng.Normal();
        samples.push_back({t, all_nan || rng.Chance(0.01) ? nan : v});
      }
      char name[16];
      std::snprintf(name, sizeof(name), "s%02d", site);
      data.series.push_back({MakeLabels({{"__name__", "sensor_reading"},
                                         {"site", name},
                                         {"sensor", "t" + std::to_string(k)}}),
                             std::move(samples)});
    }
  }
}

// Label values beyond ASCII and with characters that need escaping in every format involved.
void AddRoomTemperatures(Rng& rng, DataSet& data) {
  for (const char* room : {"K\u00fcche", "B\u00fcro 1", "Bad", "\u65e5\u672c",
                           "quote\"and\\backslash", "line\nbreak"}) {
    Schedule s{.interval = T::kMinute, .phase = rng.Int(0, T::kMinute - 1), .jitter = 25};
    const double base = rng.Uniform(15, 25);
    std::vector<Sample> samples;
    for (int64_t t : Timestamps(s, rng)) samples.push_back({t, base + rng.Normal()});
    data.series.push_back(
        {MakeLabels({{"__name__", "room_temperature"}, {"room", room}}), std::move(samples)});
  }
}

void AddShardLoad(Rng& rng, DataSet& data) {
  for (int c = 0; c < 4; ++c) {
    for (int shard = 0; shard < 60; ++shard) {
      Schedule s{.interval = 5 * T::kMinute};
      if (shard >= 40 && shard < 45) s.to = T::kShardsGoneAt;
      if (shard >= 50) s.from = T::kShardsNewStart;
      std::vector<Sample> samples;
      for (int64_t t : Timestamps(s, rng)) samples.push_back({t, rng.Uniform(0, 100)});
      data.series.push_back({MakeLabels({{"__name__", "shard_load"},
                                         {"cluster", "c" + std::to_string(c)},
                                         {"shard", std::to_string(shard)}}),
                             std::move(samples)});
    }
  }
}

// Series ending in staleness markers the way Prometheus writes them when a target or a series
// disappears, in [kEnd, kLiveEnd): every 15 s unless said otherwise.
void AddStalenessSeries(Rng& rng, DataSet& data) {
  constexpr int64_t L = T::kEnd;
  constexpr int64_t kStep = 15 * 1000;
  const double stale = storage::StaleNaN();
  auto add = [&](const char* name, const std::string& c, std::vector<Sample> samples) {
    data.live.push_back({MakeLabels({{"__name__", name}, {"case", c}}), std::move(samples)});
  };
  auto gauge = [&](int64_t from, int64_t to, int64_t step, std::vector<Sample>& out) {
    for (int64_t t = from; t < to; t += step) out.push_back({t, rng.Uniform(-10, 10)});
  };
  std::vector<Sample> s;
  // Ends for good.
  gauge(L, L + 20 * T::kMinute, kStep, s);
  s.push_back({L + 20 * T::kMinute, stale});
  add("stale_demo", "ends", std::move(s));
  // Goes stale and comes back within the lookback.
  s.clear();
  gauge(L, L + 10 * T::kMinute, kStep, s);
  s.push_back({L + 10 * T::kMinute, stale});
  gauge(L + 13 * T::kMinute, T::kLiveEnd, kStep, s);
  add("stale_demo", "gap", std::move(s));
  // Ordinary NaNs and a staleness marker.
  s.clear();
  for (int64_t t = L, i = 0; t < T::kLiveEnd; t += 30 * 1000, ++i) {
    if (t == L + 30 * T::kMinute) {
      s.push_back({t, stale});
      t += 30 * 1000;
    }
    s.push_back({t, i % 7 == 3 ? std::numeric_limits<double>::quiet_NaN() : rng.Uniform(0, 1)});
  }
  add("stale_demo", "nan", std::move(s));
  // The marker comes 4 m after the last sample, inside the lookback.
  s.clear();
  gauge(L, L + 15 * T::kMinute, T::kMinute, s);
  s.push_back({L + 19 * T::kMinute, stale});
  add("stale_demo", "late", std::move(s));
  // One sample, stale 1 ms later; back much later.
  s = {{L + 5 * T::kMinute, 42}, {L + 5 * T::kMinute + 1, stale}};
  gauge(L + 30 * T::kMinute, T::kLiveEnd, kStep, s);
  add("stale_demo", "blip", std::move(s));
  // Random staleness markers.
  for (int m = 0; m < 10; ++m) {
    s.clear();
    for (int64_t t = L + m * 1000; t < T::kLiveEnd; t += kStep) {
      if (rng.Chance(0.05)) {
        s.push_back({t, stale});
        t += kStep * rng.Int(0, 20);
        continue;
      }
      s.push_back({t, rng.Uniform(0, 100)});
    }
    add("stale_demo", "m" + std::to_string(m), std::move(s));
  }
  // Counters going stale at L+25m and back at L+26m: continuing ("a") or restarted ("b").
  for (const char* c : {"a", "b"}) {
    s.clear();
    double v = 1000;
    for (int64_t t = L; t < T::kLiveEnd; t += kStep) {
      if (t == L + 25 * T::kMinute) {
        s.push_back({t, stale});
        t += T::kMinute - kStep;
        if (std::string_view(c) == "b") v = 0;
        continue;
      }
      v += std::floor(rng.Uniform(0, 30));
      s.push_back({t, v});
    }
    add("stale_counter_total", c, std::move(s));
  }
}

// Records that the series added since the last call form family `name`.
void EndFamily(DataSet& data, std::string name, std::string type) {
  const size_t first =
      data.families.empty() ? 0 : data.families.back().first + data.families.back().count;
  data.families.push_back({std::move(name), std::move(type), first, data.series.size() - first});
}

}  // namespace

int64_t DataSet::SampleCount() const {
  int64_t n = 0;
  for (const auto& s : series) n += static_cast<int64_t>(s.samples.size());
  for (const auto& s : live) n += static_cast<int64_t>(s.samples.size());
  return n;
}

DataSet GenerateDataSet(uint64_t seed) {
  Rng rng(seed);
  DataSet data;
  const std::vector<Target> targets = MakeTargets(rng);
  AddHttpRequests(targets, rng, data);
  EndFamily(data, "http_requests", "counter");
  AddHistograms(targets, rng, data);
  EndFamily(data, "request_duration_seconds", "histogram");
  AddUp(targets, rng, data);
  EndFamily(data, "up", "gauge");
  AddCpuSeconds(rng, data);
  EndFamily(data, "cpu_seconds", "counter");
  AddTemperatures(rng, data);
  EndFamily(data, "node_temperature_celsius", "gauge");
  AddQueueDepth(rng, data);
  EndFamily(data, "queue_depth", "gauge");
  AddDiskFree(rng, data);
  EndFamily(data, "disk_free_bytes", "gauge");
  AddBatchJobs(rng, data);
  EndFamily(data, "batch_last_success_timestamp_seconds", "gauge");
  AddSensorReadings(rng, data);
  EndFamily(data, "sensor_reading", "gauge");
  AddShardLoad(rng, data);
  EndFamily(data, "shard_load", "gauge");
  AddRoomTemperatures(rng, data);
  EndFamily(data, "room_temperature", "gauge");
  AddStalenessSeries(rng, data);
  return data;
}

}  // namespace pa::differential
