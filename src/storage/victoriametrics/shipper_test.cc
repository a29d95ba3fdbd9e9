// The sender against a scripted stand-in for VictoriaMetrics (FakeVm): batching, retries,
// refusals.
#include "storage/victoriametrics/shipper.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "storage/victoriametrics/remote_write.h"
#include "storage/victoriametrics/vm_test_support.h"

namespace pa::storage::victoriametrics {
namespace {

using namespace std::chrono_literals;
using testing::FakeVm;
using testing::TempDir;

std::vector<std::string> Record(const std::string& name, int samples) {
  SeriesSamples s{{{"__name__", name}}, {}};
  for (int i = 0; i < samples; ++i) s.samples.push_back({i, static_cast<double>(i)});
  return EncodeRecords({s}, 1 << 20);
}

// Names of the series in a remote-write body.
std::vector<std::string> Names(const std::string& body) {
  std::vector<std::string> out;
  auto raw = DecompressBody(body);
  EXPECT_TRUE(raw.ok());
  auto series = DecodeWriteRequest(raw.ok() ? *raw : "");
  EXPECT_TRUE(series.ok());
  if (series.ok()) {
    for (const auto& s : *series) out.emplace_back(LabelValue(s.labels, "__name__"));
  }
  return out;
}

struct Fixture {
  TempDir dir;
  std::unique_ptr<Spool> spool;
  HttpClient http;
  telemetry::Counter shipped, requests, errors, rejected;

  Fixture() { spool = std::move(*Spool::Open({.dir = dir.path() + "/spool"})); }

  std::unique_ptr<Shipper> Start(const FakeVm& vm, int64_t max_request_bytes = 1 << 20) {
    return std::make_unique<Shipper>(spool.get(), &http,
                                     ShipperOptions{.write_url = vm.url() + "/api/v1/write",
                                                    .spool_dir = dir.path() + "/spool",
                                                    .max_request_bytes = max_request_bytes,
                                                    .timeout = 5000ms,
                                                    .retry_min = 10ms,
                                                    .retry_max = 50ms},
                                     ShipperMetrics{.shipped_samples = &shipped,
                                                    .shipped_requests = &requests,
                                                    .send_errors = &errors,
                                                    .rejected_samples = &rejected});
  }
  bool Drained() {
    return spool->WaitCommitted(spool->Stats().appended_records,
                                std::chrono::steady_clock::now() + 30s);
  }
};

TEST(ShipperTest, JoinsRecordsIntoRequestsInOrder) {
  std::mutex mu;
  std::vector<std::vector<std::string>> requests;
  FakeVm vm([&](const FakeVm::Request& r) {
    EXPECT_EQ(r.path, "/api/v1/write");
    std::lock_guard l(mu);
    requests.push_back(Names(r.body));
    return FakeVm::Reply{204, ""};
  });
  Fixture f;
  for (int i = 0; i < 10; ++i)
    ASSERT_TRUE(f.spool->Append(Record("m" + std::to_string(i), 1)).ok());
  auto shipper = f.Start(vm);
  ASSERT_TRUE(f.Drained());
  shipper.reset();
  std::vector<std::string> all;
  for (const auto& r : requests) all.insert(all.end(), r.begin(), r.end());
  EXPECT_EQ(all,
            (std::vector<std::string>{"m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "m9"}));
  EXPECT_LT(requests.size(), 10u);  // joined
  EXPECT_EQ(f.shipped.Value(), 10);
  EXPECT_EQ(f.errors.Value(), 0);
}

TEST(ShipperTest, RetriesWhileVictoriaMetricsFailsAndRemembersSinceWhen) {
  std::atomic<int> calls{0};
  FakeVm vm([&](const FakeVm::Request&) {
    return ++calls <= 3 ? FakeVm::Reply{503, "overloaded"} : FakeVm::Reply{204, ""};
  });
  Fixture f;
  ASSERT_TRUE(f.spool->Append(Record("m", 5)).ok());
  auto shipper = f.Start(vm);
  ASSERT_TRUE(f.Drained());
  EXPECT_EQ(calls, 4);
  EXPECT_EQ(f.errors.Value(), 3);
  EXPECT_EQ(f.shipped.Value(), 5);
  EXPECT_FALSE(shipper->Failing().has_value());  // cleared by the success
}

TEST(ShipperTest, FailingSaysSinceWhenAndWhy) {
  FakeVm vm([&](const FakeVm::Request&) { return FakeVm::Reply{500, "disk full"}; });
  Fixture f;
  ASSERT_TRUE(f.spool->Append(Record("m", 1)).ok());
  auto shipper = f.Start(vm);
  for (int i = 0; i < 1000 && !shipper->Failing(); ++i) std::this_thread::sleep_for(5ms);
  auto failing = shipper->Failing();
  ASSERT_TRUE(failing.has_value());
  EXPECT_NE(failing->error.find("disk full"), std::string::npos) << failing->error;
  EXPECT_EQ(f.spool->Stats().pending_records, 1);  // nothing committed
}

TEST(ShipperTest, RefusedRecordIsSetAsideAndTheOthersDelivered) {
  std::mutex mu;
  std::vector<std::string> delivered;
  FakeVm vm([&](const FakeVm::Request& r) {
    const auto names = Names(r.body);
    if (std::find(names.begin(), names.end(), "poison") != names.end()) {
      return FakeVm::Reply{400, "cannot unmarshal: bad data"};
    }
    std::lock_guard l(mu);
    delivered.insert(delivered.end(), names.begin(), names.end());
    return FakeVm::Reply{204, ""};
  });
  Fixture f;
  ASSERT_TRUE(f.spool->Append(Record("a", 1)).ok());
  ASSERT_TRUE(f.spool->Append(Record("poison", 3)).ok());
  ASSERT_TRUE(f.spool->Append(Record("b", 1)).ok());
  auto shipper = f.Start(vm);
  ASSERT_TRUE(f.Drained());
  shipper.reset();
  EXPECT_EQ(delivered, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(f.rejected.Value(), 3);
  // Kept on disk, not dropped.
  int kept = 0;
  for (const auto& e : std::filesystem::directory_iterator(f.dir.path() + "/spool/rejected")) {
    ++kept;
    EXPECT_GT(std::filesystem::file_size(e.path()), 0u);
  }
  EXPECT_EQ(kept, 1);
}

TEST(ShipperTest, UnknownPathIsAWrongUrlNotBadData) {
  std::atomic<int> calls{0};
  FakeVm vm([&](const FakeVm::Request&) {
    return ++calls <= 2 ? FakeVm::Reply{400, "unsupported path requested: /api/v1/write"}
                        : FakeVm::Reply{204, ""};
  });
  Fixture f;
  ASSERT_TRUE(f.spool->Append(Record("m", 2)).ok());
  auto shipper = f.Start(vm);
  ASSERT_TRUE(f.Drained());
  EXPECT_EQ(f.rejected.Value(), 0);
  EXPECT_EQ(f.shipped.Value(), 2);  // retried until delivered
}

}  // namespace
}  // namespace pa::storage::victoriametrics
