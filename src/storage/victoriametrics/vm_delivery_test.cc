// Delivery through the spool when VictoriaMetrics is down, the spool is full, or PrimoART is
// killed: against a VictoriaMetrics of the test's own (scripts/vm-test-server), which the tests
// stop and restart, started without deduplication so that "exactly once" can be checked.
// Runs when PRIMOART_TEST_VM_URL is set (the sign that VictoriaMetrics tests are wanted).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/random.h"
#include "storage/victoriametrics/vm_store.h"
#include "storage/victoriametrics/vm_test_support.h"

namespace pa::storage::victoriametrics {
namespace {

using namespace std::chrono_literals;
using testing::PrivateVm;
using testing::RefusingPort;
using testing::TempDir;

class VmDeliveryTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string why;
    if (testing::SharedVmUrl(&why).empty()) return;
    server_dir_ = new TempDir();
    auto vm = PrivateVm::Start(server_dir_->path(), "-dedup.minScrapeInterval=0s");
    if (vm.ok()) {
      vm_ = vm->release();
    } else {
      start_error_ = new Status(vm.status());
    }
  }
  static void TearDownTestSuite() {
    delete vm_;
    delete server_dir_;
    delete start_error_;
    vm_ = nullptr;
    server_dir_ = nullptr;
    start_error_ = nullptr;
  }

  void SetUp() override {
    std::string url;
    PA_VM_TEST_URL_OR_SKIP(url);
    ASSERT_TRUE(vm_) << (start_error_ ? start_error_->ToString() : "no server");
    name_ = "pa_vm_delivery_" + std::to_string(FastRandom() % 1000000000);
    base_ = Clock::System()->NowMs() / 1000 * 1000 - 1800 * 1000;
  }

  std::unique_ptr<MetricStore> OpenStore(Options o) {
    if (o.insert_url.empty()) o.insert_url = vm_->url();
    if (o.spool_dir.empty()) o.spool_dir = spool_.path();
    o.retry_min = 20ms;
    o.retry_max = 200ms;
    auto store = Open(o);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(*store) : nullptr;
  }

  // count_over_time and sum_over_time of series `labels` over [base_, base_ + span].
  std::pair<double, double> CountAndSum(MetricStore& store, const std::string& selector,
                                        int64_t span) {
    const std::string window = "[" + std::to_string(span + 1) + "ms]";
    auto c = store.Query("count_over_time(" + selector + window + ")", base_ + span, {});
    auto s = store.Query("sum_over_time(" + selector + window + ")", base_ + span, {});
    EXPECT_TRUE(c.ok() && s.ok()) << c.status().ToString() << s.status().ToString();
    if (!c.ok() || !s.ok() || c->series.size() != 1 || s->series.size() != 1) return {-1, -1};
    return {c->series[0].points[0].v, s->series[0].points[0].v};
  }

  static PrivateVm* vm_;
  static TempDir* server_dir_;
  static Status* start_error_;
  std::string name_;
  int64_t base_ = 0;
  TempDir spool_;
};

PrivateVm* VmDeliveryTest::vm_ = nullptr;
TempDir* VmDeliveryTest::server_dir_ = nullptr;
Status* VmDeliveryTest::start_error_ = nullptr;

TEST_F(VmDeliveryTest, OutageKeepsAppendsAndDeliversEachSampleOnce) {
  auto store = OpenStore({});
  ASSERT_TRUE(store);
  constexpr int kSeries = 10;
  int64_t t = 0;  // ms after base_
  auto append = [&](int samples) {
    std::vector<SeriesSamples> batch;
    for (int s = 0; s < kSeries; ++s) {
      SeriesSamples ss{{{"__name__", name_}, {"s", std::to_string(s)}}, {}};
      for (int i = 0; i < samples; ++i) {
        ss.samples.push_back({base_ + t + i, static_cast<double>(t + i)});
      }
      batch.push_back(ss);
    }
    t += samples;
    return store->Append(batch);
  };
  ASSERT_TRUE(append(10).ok());
  ASSERT_TRUE(store->Sync(30s).ok());

  ASSERT_TRUE(vm_->Stop().ok());
  for (int i = 0; i < 20; ++i) {
    auto r = append(5);
    ASSERT_TRUE(r.ok()) << r.status().ToString();  // writes go on while VictoriaMetrics is down
  }
  const Status down = store->Sync(500ms);
  EXPECT_EQ(down.code(), StatusCode::kDeadlineExceeded);
  EXPECT_NE(down.message().find("unreachable since"), std::string::npos) << down.message();
  EXPECT_EQ(store->Ping().code(), StatusCode::kUnavailable);
  ASSERT_TRUE(vm_->Restart().ok());

  const Status synced = store->Sync(60s);
  ASSERT_TRUE(synced.ok()) << synced.ToString();
  const double n = static_cast<double>(t);  // samples per series: timestamps 0..t-1
  for (int s = 0; s < kSeries; ++s) {
    auto [count, sum] = CountAndSum(*store, name_ + "{s=\"" + std::to_string(s) + "\"}", t - 1);
    EXPECT_EQ(count, n) << s;
    EXPECT_EQ(sum, n * (n - 1) / 2) << s;
  }
}

TEST_F(VmDeliveryTest, FullSpoolRefusesWithUnavailableAndLosesNothing) {
  RefusingPort dead;
  int acked = 0;
  constexpr int kPerAppend = 20;
  {
    auto store = OpenStore({.insert_url = dead.url(), .spool_max_bytes = 64 << 10});
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->Append({{{{"__name__", name_}}, {{0 + base_, 0}}}}).ok());
    ++acked;
    // Let the sender fail once, so the error can say since when.
    EXPECT_EQ(store->Sync(300ms).code(), StatusCode::kDeadlineExceeded);
    Status st;
    for (;;) {
      SeriesSamples s{{{"__name__", name_}}, {}};
      for (int i = 0; i < kPerAppend; ++i) {
        const int64_t k = static_cast<int64_t>(acked - 1) * kPerAppend + i + 1;
        s.samples.push_back({base_ + k, static_cast<double>(k)});
      }
      auto r = store->Append({s});
      if (!r.ok()) {
        st = r.status();
        break;
      }
      ++acked;
      ASSERT_LT(acked, 100000) << "the spool never filled";
    }
    EXPECT_EQ(st.code(), StatusCode::kUnavailable) << st.ToString();
    EXPECT_NE(st.message().find("metric spool full"), std::string::npos) << st.message();
    EXPECT_NE(st.message().find("unreachable since"), std::string::npos) << st.message();
    // Still full: retryable, not a one-off.
    SeriesSamples again{{{"__name__", name_}}, {}};
    for (int i = 0; i < kPerAppend; ++i) again.samples.push_back({base_ + 1000000 + i, 1});
    EXPECT_EQ(store->Append({again}).status().code(), StatusCode::kUnavailable);
  }
  // VictoriaMetrics is back (a new store on the same spool, pointing at a live server).
  auto store = OpenStore({});
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->Sync(60s).ok());
  const int64_t samples = 1 + static_cast<int64_t>(acked - 1) * kPerAppend;
  auto [count, sum] = CountAndSum(*store, name_, samples - 1);
  EXPECT_EQ(count, static_cast<double>(samples));
  EXPECT_EQ(sum, static_cast<double>(samples) * (samples - 1) / 2);
}

// kill -9 of a process right after Append returned OK, while VictoriaMetrics is unreachable:
// a new store on the same spool delivers every acknowledged sample.
TEST_F(VmDeliveryTest, KillNineAfterAppendLosesNothing) {
  RefusingPort dead;
  int pipefd[2];
  ASSERT_EQ(pipe(pipefd), 0);
  const std::string spool_dir = spool_.path();
  const std::string name = name_;
  const int64_t base = base_;
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // The child: no gtest from here on, and _exit without destructors.
    close(pipefd[0]);
    auto store = Open({.insert_url = dead.url(), .spool_dir = spool_dir});
    if (!store.ok()) _exit(2);
    for (int32_t i = 0; i < 1000000; ++i) {
      auto r =
          (*store)->Append({{{{"__name__", name}}, {{base + i * 10, static_cast<double>(i)}}}});
      if (!r.ok()) _exit(3);
      if (write(pipefd[1], &i, sizeof(i)) != sizeof(i)) _exit(4);
    }
    _exit(0);
  }
  close(pipefd[1]);
  int32_t last = -1, i;
  while (read(pipefd[0], &i, sizeof(i)) == sizeof(i)) {
    last = i;
    if (last == 300) kill(pid, SIGKILL);
  }
  close(pipefd[0]);
  int wstatus = 0;
  waitpid(pid, &wstatus, 0);
  ASSERT_TRUE(WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL) << "child status " << wstatus;
  const int64_t acked = last + 1;
  ASSERT_GE(acked, 301);

  auto store = OpenStore({});
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->Sync(60s).ok());
  // Values 0..n-1, each once: n is acked, or acked+1 when the append in flight at the kill had
  // reached the disk without being acknowledged.
  auto [count, sum] = CountAndSum(*store, name_, (acked + 1) * 10);
  const double n = count;
  EXPECT_TRUE(n == acked || n == acked + 1) << n << " samples, " << acked << " acknowledged";
  EXPECT_EQ(sum, n * (n - 1) / 2);
}

}  // namespace
}  // namespace pa::storage::victoriametrics
