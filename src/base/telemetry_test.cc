#include "base/telemetry.h"

#include <gtest/gtest.h>

#include <thread>

namespace pa::telemetry {
namespace {

TEST(MetricsTest, CounterExposition) {
  Registry r;
  auto& c = r.AddCounter("primoart_test_total", "Things counted.", {"route", "status"});
  c.With({"/x", "200"}).Inc();
  c.With({"/x", "200"}).Inc(2);
  c.With({"/y\"z", "500"}).Inc();
  const std::string text = r.Expose();
  EXPECT_NE(text.find("# HELP primoart_test_total Things counted.\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE primoart_test_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("primoart_test_total{route=\"/x\",status=\"200\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("primoart_test_total{route=\"/y\\\"z\",status=\"500\"} 1\n"),
            std::string::npos);
}

TEST(MetricsTest, HistogramBucketsAreCumulative) {
  Registry r;
  auto& h = r.AddHistogram("lat_seconds", "Latency.", {}, {0.1, 1});
  h.With({}).Observe(0.05);
  h.With({}).Observe(0.5);
  h.With({}).Observe(5);
  const std::string text = r.Expose();
  EXPECT_NE(text.find("lat_seconds_bucket{le=\"0.1\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("lat_seconds_bucket{le=\"1\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("lat_seconds_bucket{le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("lat_seconds_sum 5.55\n"), std::string::npos);
  EXPECT_NE(text.find("lat_seconds_count 3\n"), std::string::npos);
}

TEST(MetricsTest, ConcurrentIncrementsAreNotLost) {
  Registry r;
  auto& c = r.AddCounter("n_total", "n", {"k"});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) c.With({"a"}).Inc();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.With({"a"}).Value(), 40000);
}

TEST(MetricsTest, ProcessCollector) {
  Registry r;
  AddProcessCollector(r);
  const std::string text = r.Expose();
  for (const char* name :
       {"process_resident_memory_bytes ", "process_cpu_seconds_total ", "process_open_fds ",
        "process_max_fds ", "process_start_time_seconds "}) {
    EXPECT_NE(text.find(std::string("\n") + name), std::string::npos) << name;
  }
  EXPECT_EQ(text.find("process_resident_memory_bytes 0\n"), std::string::npos);
}

}  // namespace
}  // namespace pa::telemetry
