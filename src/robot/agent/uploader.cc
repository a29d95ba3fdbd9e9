#include "robot/agent/uploader.h"

#include <pthread.h>

#include <algorithm>

#include "base/logging.h"
#include "base/random.h"

namespace pa::robot {

std::string MultipartBody(const OutboxEntry& entry, std::string* boundary) {
  *boundary = "primoart-" + std::to_string(FastRandom()) + std::to_string(FastRandom());
  std::string body;
  body += "--" + *boundary + "\r\n";
  body += "Content-Disposition: form-data; name=\"result\"\r\n";
  body += "Content-Type: application/json\r\n\r\n";
  body += entry.result_json;
  for (const OutboxArtifact& a : entry.artifacts) {
    std::string filename;
    for (char c : a.filename) filename += c == '"' ? std::string("%22") : std::string(1, c);
    body += "\r\n--" + *boundary + "\r\n";
    body += "Content-Disposition: form-data; name=\"artifact\"; filename=\"" + filename + "\"\r\n";
    body += "Content-Type: " + a.content_type + "\r\n\r\n";
    body += a.data;
  }
  body += "\r\n--" + *boundary + "--\r\n";
  return body;
}

Uploader::Uploader(Outbox& outbox, ServerApi& api, telemetry::Registry& metrics, Options options)
    : outbox_(outbox),
      api_(api),
      uploads_(metrics.AddCounter("primoart_robot_uploaded_results_total",
                                  "Results that left the outbox, by outcome (created, duplicate, "
                                  "dead_letter).",
                                  {"outcome"})),
      upload_errors_(metrics
                         .AddCounter("primoart_robot_upload_errors_total",
                                     "Upload attempts that failed (network, 429, 5xx, refused).")
                         .With({})),
      options_(options) {}

Uploader::~Uploader() { Stop(); }

void Uploader::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { Loop(); });
}

void Uploader::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Uploader::Wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

void Uploader::Configure(size_t max_batch, int64_t max_body_bytes) {
  std::lock_guard lock(mu_);
  options_.max_batch = std::max<size_t>(1, max_batch);
  options_.max_body_bytes = std::max<int64_t>(64 << 10, max_body_bytes);
}

void Uploader::Loop() {
  pthread_setname_np(pthread_self(), "robot-upload");
  auto wait = std::chrono::milliseconds(0);
  for (;;) {
    {
      std::unique_lock lock(mu_);
      if (wait.count() > 0) {
        // A retry is due: only stopping ends the wait early (a new result must not hurry a
        // server that asked us to back off).
        cv_.wait_for(lock, wait, [&] { return stopping_; });
      } else if (outbox_.stats().entries == 0) {
        cv_.wait_for(lock, std::chrono::seconds(5), [&] { return stopping_ || woken_; });
      } else {
        // More is waiting (the rest of a backlog, or a refused batch's results one by one).
        cv_.wait_for(lock, std::chrono::milliseconds(10), [&] { return stopping_; });
      }
      if (stopping_) return;
      woken_ = false;
    }
    wait = Pass();
  }
}

std::chrono::milliseconds Uploader::Backoff(std::optional<int> retry_after_s) {
  Options o;
  {
    std::lock_guard lock(mu_);
    o = options_;
  }
  ++failures_;
  const int shift = std::min(failures_ - 1, 16);
  auto delay = std::min(o.max_backoff, o.min_backoff * (int64_t{1} << shift));
  // Jitter, so that robots cut off together do not come back together: 50..150 %.
  const double factor = 0.5 + static_cast<double>(FastRandom() % 1001) / 1000.0;
  delay =
      std::chrono::milliseconds(static_cast<int64_t>(static_cast<double>(delay.count()) * factor));
  if (retry_after_s) delay = std::max(delay, std::chrono::milliseconds(*retry_after_s * 1000LL));
  return delay;
}

std::chrono::milliseconds Uploader::Pass() {
  Options o;
  {
    std::lock_guard lock(mu_);
    o = options_;
  }
  const std::vector<std::string> names = outbox_.Oldest(o.max_batch);
  if (names.empty()) {
    failures_ = 0;
    return std::chrono::milliseconds(0);
  }
  // The batch: the oldest entry, and after it more JSON-only ones while they fit.
  std::vector<OutboxEntry> batch;
  int64_t bytes = 2;
  for (const std::string& name : names) {
    auto e = outbox_.Read(name);
    if (!e.ok()) {
      if (e.status().code() == StatusCode::kDataLoss) {
        (void)outbox_.DeadLetter(name, e.status().message());
        uploads_.With({"dead_letter"}).Inc();
      } else {
        (void)outbox_.Remove(name);  // gone already
      }
      if (batch.empty()) return std::chrono::milliseconds(0);
      break;
    }
    const bool alone = !e->artifacts.empty() || single_.contains(name);
    if (!batch.empty() &&
        (alone || bytes + static_cast<int64_t>(e->result_json.size()) + 1 > o.max_body_bytes)) {
      break;
    }
    bytes += static_cast<int64_t>(e->result_json.size()) + 1;
    batch.push_back(std::move(*e));
    if (alone) break;
  }

  std::string body, content_type;
  if (batch.size() == 1 && !batch[0].artifacts.empty()) {
    std::string boundary;
    body = MultipartBody(batch[0], &boundary);
    content_type = "multipart/form-data; boundary=" + boundary;
  } else {
    body = "[";
    for (size_t i = 0; i < batch.size(); ++i) {
      if (i > 0) body += ',';
      body += batch[i].result_json;
    }
    body += "]";
    content_type = "application/json";
  }
  auto answer = api_.Upload(std::move(body), content_type);
  auto log = log::Get("robot");
  if (!answer.ok()) {
    upload_errors_.Inc();
    const auto delay = Backoff(std::nullopt);
    log->warn("upload of {} result(s) failed, retry in {} ms: {}", batch.size(), delay.count(),
              answer.status().ToString());
    return delay;
  }
  if (answer->status == 200) {
    failures_ = 0;
    std::string error;
    const auto doc = ParseJson(answer->body, &error);
    std::map<std::string, std::string> outcome;
    if (doc && doc->is_object()) {
      for (const Json& r : doc->value("results", Json::array())) {
        if (r.is_object()) outcome[r.value("run_id", "")] = r.value("status", "created");
      }
    }
    for (const OutboxEntry& e : batch) {
      const auto it = outcome.find(e.run_id);
      uploads_.With({it != outcome.end() && it->second == "duplicate" ? "duplicate" : "created"})
          .Inc();
      single_.erase(e.name);
      if (Status st = outbox_.Remove(e.name); !st.ok()) log->warn("{}", st.ToString());
    }
    return std::chrono::milliseconds(0);
  }
  upload_errors_.Inc();
  if (answer->status == 429 || answer->status >= 500) {
    const auto delay = Backoff(answer->retry_after_s);
    log->warn("upload of {} result(s): HTTP {}, retry in {} ms", batch.size(), answer->status,
              delay.count());
    return delay;
  }
  // Refused for good. A batch: each of its results alone next, to find the one(s) at fault.
  failures_ = 0;
  if (batch.size() > 1) {
    for (const OutboxEntry& e : batch) single_.insert(e.name);
    return std::chrono::milliseconds(0);
  }
  const std::string reason =
      "HTTP " + std::to_string(answer->status) + ": " + answer->body.substr(0, 2000);
  single_.erase(batch[0].name);
  if (Status st = outbox_.DeadLetter(batch[0].name, reason); !st.ok()) {
    log->error("{}", st.ToString());
    return Backoff(std::nullopt);
  }
  uploads_.With({"dead_letter"}).Inc();
  return std::chrono::milliseconds(0);
}

}  // namespace pa::robot
