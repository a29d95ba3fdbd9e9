// The acceptance scenario (label `slow`): steady writes while VictoriaMetrics is stopped for
// PRIMOART_TEST_VM_OUTAGE seconds (default 120) and restarted; afterwards every acknowledged
// sample is there, exactly once. Uses a VictoriaMetrics of its own (scripts/vm-test-server,
// deduplication off); runs when PRIMOART_TEST_VM_URL is set. Prints the rates it saw.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <thread>

#include "base/random.h"
#include "storage/victoriametrics/vm_store.h"
#include "storage/victoriametrics/vm_test_support.h"

namespace pa::storage::victoriametrics {
namespace {

using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;

int EnvSeconds(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoi(v) : fallback;
}

TEST(VmOutageTest, NoAcknowledgedSampleIsMissingAfterAnOutage) {
  std::string url;
  PA_VM_TEST_URL_OR_SKIP(url);
  const int outage_s = EnvSeconds("PRIMOART_TEST_VM_OUTAGE", 120);
  const int steady_s = EnvSeconds("PRIMOART_TEST_VM_STEADY", 5);  // before and after the outage
  testing::TempDir server_dir, spool;
  auto vm = testing::PrivateVm::Start(server_dir.path(), "-dedup.minScrapeInterval=0s");
  ASSERT_TRUE(vm.ok()) << vm.status().ToString();
  auto opened = Open({.insert_url = (*vm)->url(), .spool_dir = spool.path(), .retry_max = 1s});
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  MetricStore& store = **opened;

  // The writer: every 10 ms one Append of kSeries series with one sample each; sample k of
  // every series has timestamp base + k and value k.
  constexpr int kSeries = 20;
  const std::string name = "pa_vm_outage_" + std::to_string(FastRandom() % 1000000000);
  const int64_t base = Clock::System()->NowMs() / 1000 * 1000 - 3600 * 1000;
  std::atomic<bool> stop{false};
  std::atomic<int64_t> acked{0}, refused{0};
  std::thread writer([&] {
    for (int64_t k = 0; !stop; ++k) {
      std::vector<SeriesSamples> batch;
      for (int s = 0; s < kSeries; ++s) {
        batch.push_back(
            {{{"__name__", name}, {"s", std::to_string(s)}}, {{base + k, static_cast<double>(k)}}});
      }
      auto r = store.Append(batch);
      if (!r.ok()) {
        ++refused;
        break;  // samples must be contiguous for the check below
      }
      acked = k + 1;
      std::this_thread::sleep_for(10ms);
    }
  });

  std::this_thread::sleep_for(std::chrono::seconds(steady_s));
  ASSERT_TRUE((*vm)->Stop().ok());
  const int64_t at_stop = acked;
  const auto stopped = Steady::now();
  std::this_thread::sleep_for(std::chrono::seconds(outage_s));
  const int64_t during = acked - at_stop;
  ASSERT_TRUE((*vm)->Restart().ok());
  const auto restarted = Steady::now();
  std::this_thread::sleep_for(std::chrono::seconds(steady_s));
  stop = true;
  writer.join();
  const auto sync_start = Steady::now();
  const Status synced = store.Sync(300s);
  ASSERT_TRUE(synced.ok()) << synced.ToString();
  const double sync_s = std::chrono::duration<double>(Steady::now() - sync_start).count();
  EXPECT_EQ(refused, 0);

  const int64_t n = acked;
  const std::string window = "[" + std::to_string(n) + "ms]";
  auto count = store.Query("count_over_time(" + name + window + ")", base + n - 1, {});
  auto sum = store.Query("sum_over_time(" + name + window + ")", base + n - 1, {});
  ASSERT_TRUE(count.ok() && sum.ok()) << count.status().ToString() << sum.status().ToString();
  ASSERT_EQ(count->series.size(), static_cast<size_t>(kSeries));
  ASSERT_EQ(sum->series.size(), static_cast<size_t>(kSeries));
  for (int s = 0; s < kSeries; ++s) {
    EXPECT_EQ(count->series[s].points[0].v, static_cast<double>(n)) << s;
    EXPECT_EQ(sum->series[s].points[0].v, static_cast<double>(n) * (n - 1) / 2) << s;
  }
  std::printf(
      "outage %d s: %lld appends (%lld samples) acknowledged, %lld of them while "
      "VictoriaMetrics was down (%.0f samples/s); %.0f s after the restart the writer stopped "
      "and Sync took %.2f s more (%.1f s outage measured)\n",
      outage_s, static_cast<long long>(n), static_cast<long long>(n * kSeries),
      static_cast<long long>(during),
      static_cast<double>(during * kSeries) /
          std::chrono::duration<double>(restarted - stopped).count(),
      static_cast<double>(steady_s), sync_s,
      std::chrono::duration<double>(restarted - stopped).count());
}

}  // namespace
}  // namespace pa::storage::victoriametrics
