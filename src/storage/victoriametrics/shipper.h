// Shipper: the background thread that delivers the spool to VictoriaMetrics, oldest record
// first, through remote write.
//
// It joins consecutive spool records into one request of at most max_request_bytes, and commits
// them (so the spool may delete them) only after a 2xx. While VictoriaMetrics is unreachable
// (refused connection, timeout, 5xx, 429, a wrong URL) it retries the same request with
// exponential backoff, forever: the spool's bound, not the shipper, turns a long outage into
// errors for producers. A request VictoriaMetrics refuses as malformed (400/413/422) is split
// into single records; a single refused record is moved to <spool dir>/rejected/ and logged
// (it is never retried, so it cannot block the spool, and never silently dropped).
// Thread-safety: Failing() from any thread; construction starts the thread, destruction stops it.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "base/clock.h"
#include "base/http_client.h"
#include "base/telemetry.h"
#include "storage/victoriametrics/spool/spool.h"

namespace pa::storage::victoriametrics {

struct ShipperOptions {
  std::string write_url;
  std::string spool_dir;  // for rejected/
  int64_t max_request_bytes = int64_t{4} << 20;
  std::chrono::milliseconds timeout{30000};
  std::chrono::milliseconds retry_min{100};
  std::chrono::milliseconds retry_max{5000};
  Clock* clock = nullptr;
};

// Optional self-metrics; null members are not updated.
struct ShipperMetrics {
  telemetry::Counter* shipped_samples = nullptr;
  telemetry::Counter* shipped_requests = nullptr;
  telemetry::Counter* send_errors = nullptr;
  telemetry::Counter* rejected_samples = nullptr;
  telemetry::Counter* lost_records = nullptr;  // corrupt spool records skipped
  telemetry::Gauge* spool_bytes = nullptr;
  telemetry::Gauge* spool_records = nullptr;
  telemetry::Gauge* oldest_unsent_seconds = nullptr;
};

class Shipper {
 public:
  Shipper(Spool* spool, HttpClient* http, ShipperOptions options, ShipperMetrics metrics);
  ~Shipper();
  Shipper(const Shipper&) = delete;
  Shipper& operator=(const Shipper&) = delete;

  struct Failure {
    Clock::WallTime since;  // first failure of the current outage
    std::string error;      // the latest one
  };
  // Set while deliveries fail; cleared by the next success.
  std::optional<Failure> Failing() const;

 private:
  void Run();
  // OK on 2xx; kInvalidArgument when VictoriaMetrics refused the data; kUnavailable otherwise.
  Status Send(const std::string& write_request);
  void Reject(const SpoolBatch& batch, int64_t samples, const Status& why);
  void UpdateGauges();
  void SleepFor(std::chrono::milliseconds d);

  Spool* spool_;
  HttpClient* http_;
  ShipperOptions opt_;
  ShipperMetrics m_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::optional<Failure> failing_;
  std::thread thread_;
};

}  // namespace pa::storage::victoriametrics
