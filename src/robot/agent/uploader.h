// Uploader: drains the Outbox to the server, oldest first, on its own thread.
//
// Results without artifacts go together as one JSON array (up to the server's
// max_results_per_request and max_body_bytes), a result with artifacts alone as multipart. An
// entry leaves the outbox only when the server answered 200 for it ("created" or "duplicate":
// uploads are idempotent by run_id, so a retry after a lost answer stores nothing twice).
// Network errors, 429 and 5xx are retried with exponential backoff and jitter, waiting at least
// what Retry-After says; any other 4xx is final: a batch is then retried one result at a time,
// and a single result the server refuses goes to the dead-letter folder.
//
// Thread-safety: Wake and Configure from any thread; Start/Stop from the owner.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "base/telemetry.h"
#include "robot/agent/outbox.h"
#include "robot/agent/server_api.h"

namespace pa::robot {

class Uploader {
 public:
  struct Options {
    size_t max_batch = 100;
    int64_t max_body_bytes = 8 << 20;
    std::chrono::milliseconds min_backoff{1000};
    std::chrono::milliseconds max_backoff{60000};
  };
  Uploader(Outbox& outbox, ServerApi& api, telemetry::Registry& metrics, Options options);
  ~Uploader();

  void Start();
  // Ends after the request in flight, if any.
  void Stop();
  // Something new is in the outbox.
  void Wake();
  // The server's upload limits (from the robot configuration).
  void Configure(size_t max_batch, int64_t max_body_bytes);

  // One attempt over the oldest entries: returns how long to wait before the next (zero when
  // everything went, or something went and more may be waiting). Public for tests.
  std::chrono::milliseconds Pass();

 private:
  void Loop();
  std::chrono::milliseconds Backoff(std::optional<int> retry_after_s);

  Outbox& outbox_;
  ServerApi& api_;
  telemetry::Family<telemetry::Counter>& uploads_;  // {outcome}
  telemetry::Counter& upload_errors_;

  std::mutex mu_;
  std::condition_variable cv_;
  Options options_;  // mu_
  bool woken_ = false;
  bool stopping_ = false;
  int failures_ = 0;              // consecutive; the uploader thread's
  std::set<std::string> single_;  // entries to send alone (a batch with them was refused)
  std::thread thread_;
};

// The multipart/form-data body of one result with its artifacts; `boundary` is set.
std::string MultipartBody(const OutboxEntry& entry, std::string* boundary);

}  // namespace pa::robot
