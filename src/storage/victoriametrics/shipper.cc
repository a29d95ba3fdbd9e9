#include "storage/victoriametrics/shipper.h"

#include <filesystem>
#include <fstream>

#include "base/logging.h"
#include "base/time_format.h"
#include "storage/victoriametrics/remote_write.h"

namespace pa::storage::victoriametrics {
namespace {

std::string Trimmed(std::string_view body) {
  while (!body.empty() && (body.back() == '\n' || body.back() == ' ')) body.remove_suffix(1);
  if (body.size() > 300) return std::string(body.substr(0, 300)) + "…";
  return std::string(body);
}

}  // namespace

Shipper::Shipper(Spool* spool, HttpClient* http, ShipperOptions options, ShipperMetrics metrics)
    : spool_(spool), http_(http), opt_(std::move(options)), m_(metrics) {
  if (!opt_.clock) opt_.clock = Clock::System();
  thread_ = std::thread([this] { Run(); });
}

Shipper::~Shipper() {
  {
    std::lock_guard l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  spool_->Wake();
  thread_.join();
}

std::optional<Shipper::Failure> Shipper::Failing() const {
  std::lock_guard l(mu_);
  return failing_;
}

void Shipper::SleepFor(std::chrono::milliseconds d) {
  std::unique_lock l(mu_);
  cv_.wait_for(l, d, [&] { return stop_; });
}

void Shipper::UpdateGauges() {
  if (!m_.spool_bytes && !m_.spool_records && !m_.oldest_unsent_seconds) return;
  const SpoolStats st = spool_->Stats();
  if (m_.spool_bytes) m_.spool_bytes->Set(static_cast<double>(st.bytes));
  if (m_.spool_records) m_.spool_records->Set(static_cast<double>(st.pending_records));
  if (m_.oldest_unsent_seconds) {
    double age = 0;
    if (st.oldest_pending) {
      age = std::chrono::duration<double>(opt_.clock->Now() - *st.oldest_pending).count();
    }
    m_.oldest_unsent_seconds->Set(std::max(0.0, age));
  }
}

Status Shipper::Send(const std::string& write_request) {
  HttpRequest req;
  req.method = "POST";
  req.url = opt_.write_url;
  req.headers = {{"Content-Type", "application/x-protobuf"},
                 {"Content-Encoding", "snappy"},
                 {"X-Prometheus-Remote-Write-Version", "0.1.0"}};
  req.body = CompressBody(write_request);
  req.timeout = opt_.timeout;
  Result<HttpResponse> resp = http_->Do(req);
  if (!resp.ok()) {
    return UnavailableError("VictoriaMetrics at " + opt_.write_url + ": " +
                            resp.status().message());
  }
  const int code = resp->status;
  if (code >= 200 && code < 300) return Status::Ok();
  const std::string body = Trimmed(resp->body);
  // VictoriaMetrics answers 400 for an unknown path too: that is a wrong URL, not bad data.
  const bool refused_data = (code == 400 || code == 413 || code == 422) &&
                            body.find("unsupported path") == std::string::npos;
  const std::string msg = "VictoriaMetrics at " + opt_.write_url + " answered HTTP " +
                          std::to_string(code) + ": " + body;
  return refused_data ? InvalidArgumentError(msg) : UnavailableError(msg);
}

void Shipper::Reject(const SpoolBatch& batch, int64_t samples, const Status& why) {
  auto log = log::Get("victoriametrics");
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(opt_.spool_dir) / "rejected";
  std::error_code ec;
  fs::create_directories(dir, ec);
  const fs::path file =
      dir / (std::to_string(batch.segment) + "-" + std::to_string(batch.begin) + ".record");
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  for (const auto& r : batch.records) out.write(r.data(), static_cast<std::streamsize>(r.size()));
  out.close();
  log->error("VictoriaMetrics refused {} samples; they are kept in {} and will not be retried: {}",
             samples, out ? file.string() : std::string("(could not be saved)"), why.message());
  if (m_.rejected_samples) m_.rejected_samples->Inc(static_cast<double>(samples));
}

void Shipper::Run() {
  auto log = log::Get("victoriametrics");
  std::chrono::milliseconds backoff = opt_.retry_min;
  int64_t isolate = 0;  // records still to send one by one after a refused request
  for (;;) {
    {
      std::lock_guard l(mu_);
      if (stop_) return;
    }
    UpdateGauges();
    Result<SpoolBatch> next =
        spool_->Next(isolate > 0 ? 0 : static_cast<size_t>(opt_.max_request_bytes),
                     std::chrono::milliseconds(1000));
    if (!next.ok()) {
      if (next.status().code() == StatusCode::kDataLoss) {
        const int64_t lost = spool_->SkipCorrupt();
        log->error("{}; skipped the rest of that segment ({} records lost)",
                   next.status().message(), lost);
        if (m_.lost_records) m_.lost_records->Inc(static_cast<double>(lost));
        continue;
      }
      log->error("{}", next.status().message());
      SleepFor(opt_.retry_max);
      continue;
    }
    const SpoolBatch& batch = *next;
    if (batch.records.empty()) continue;

    std::string write_request;
    write_request.reserve(static_cast<size_t>(batch.payload_bytes));
    int64_t samples = 0;
    for (const auto& r : batch.records) {
      uint32_t n = 0;
      std::string_view fragment;
      if (SplitRecord(r, &n, &fragment)) {
        samples += n;
        write_request.append(fragment);
      }
    }
    const Status st = Send(write_request);
    if (st.ok() || st.code() == StatusCode::kInvalidArgument) {
      if (st.ok()) {
        if (m_.shipped_samples) m_.shipped_samples->Inc(static_cast<double>(samples));
        if (m_.shipped_requests) m_.shipped_requests->Inc();
      } else if (batch.records.size() > 1) {
        isolate = static_cast<int64_t>(batch.records.size());
        log->warn("{}; sending its {} records one by one", st.message(), isolate);
        continue;
      } else {
        Reject(batch, samples, st);
      }
      // VictoriaMetrics answered: the outage (if any) is over before anyone sees the commit.
      backoff = opt_.retry_min;
      std::optional<Failure> was;
      {
        std::lock_guard l(mu_);
        was.swap(failing_);
      }
      if (was) {
        log->info("VictoriaMetrics reachable again (failing since {}); delivering the spool",
                  FormatRfc3339Ms(std::chrono::duration_cast<std::chrono::milliseconds>(
                                      was->since.time_since_epoch())
                                      .count()));
      }
      if (isolate > 0) --isolate;
      const Status committed = spool_->Commit(batch);
      if (!committed.ok()) log->error("{}", committed.message());
      continue;
    }

    if (m_.send_errors) m_.send_errors->Inc();
    bool first = false;
    {
      std::lock_guard l(mu_);
      if (!failing_) {
        failing_ = Failure{opt_.clock->Now(), st.message()};
        first = true;
      } else {
        failing_->error = st.message();
      }
    }
    if (first) log->warn("{}; keeping writes in the spool and retrying", st.message());
    SleepFor(backoff);
    backoff = std::min(backoff * 2, opt_.retry_max);
  }
}

}  // namespace pa::storage::victoriametrics
