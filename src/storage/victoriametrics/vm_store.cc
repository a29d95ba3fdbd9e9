#include "storage/victoriametrics/vm_store.h"

#include <limits>
#include <mutex>
#include <thread>

#include "base/http_client.h"
#include "base/logging.h"
#include "base/time_format.h"
#include "storage/victoriametrics/endpoints.h"
#include "storage/victoriametrics/query_api.h"
#include "storage/victoriametrics/remote_write.h"
#include "storage/victoriametrics/shipper.h"
#include "storage/victoriametrics/spool/spool.h"

namespace pa::storage::victoriametrics {
namespace {

// Payload per spool record; the sender joins records into requests of max_request_bytes.
constexpr size_t kRecordBytes = size_t{1} << 20;

std::string FormatWall(Clock::WallTime t) {
  return FormatRfc3339Ms(
      std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count());
}

struct StoreMetrics {
  telemetry::Counter* appended_samples = nullptr;
  telemetry::Counter* spool_full = nullptr;
  ShipperMetrics shipper;
};

StoreMetrics RegisterMetrics(telemetry::Registry* r) {
  StoreMetrics m;
  if (!r) return m;
  m.appended_samples = &r->AddCounter("primoart_vm_appended_samples_total",
                                      "Samples written to the VictoriaMetrics spool.")
                            .With({});
  m.spool_full = &r->AddCounter("primoart_vm_spool_full_total",
                                "Appends refused because the VictoriaMetrics spool was full.")
                      .With({});
  m.shipper.shipped_samples =
      &r->AddCounter("primoart_vm_shipped_samples_total", "Samples delivered to VictoriaMetrics.")
           .With({});
  m.shipper.shipped_requests = &r->AddCounter("primoart_vm_shipped_requests_total",
                                              "Remote-write requests VictoriaMetrics accepted.")
                                    .With({});
  m.shipper.send_errors =
      &r->AddCounter("primoart_vm_send_errors_total",
                     "Remote-write requests that failed (VictoriaMetrics unreachable or erring).")
           .With({});
  m.shipper.rejected_samples =
      &r->AddCounter("primoart_vm_rejected_samples_total",
                     "Samples VictoriaMetrics refused as malformed (kept in <spool>/rejected).")
           .With({});
  m.shipper.lost_records = &r->AddCounter("primoart_vm_spool_lost_records_total",
                                          "Spool records skipped because they were corrupt.")
                                .With({});
  m.shipper.spool_bytes =
      &r->AddGauge("primoart_vm_spool_bytes", "Size of the VictoriaMetrics spool on disk.")
           .With({});
  m.shipper.spool_records = &r->AddGauge("primoart_vm_spool_records",
                                         "Spool records (parts of Append batches) not yet "
                                         "delivered to VictoriaMetrics.")
                                 .With({});
  m.shipper.oldest_unsent_seconds =
      &r->AddGauge("primoart_vm_oldest_unsent_seconds",
                   "Age of the oldest spooled record not yet delivered to VictoriaMetrics.")
           .With({});
  return m;
}

class VmStore final : public MetricStore {
 public:
  VmStore(Options options, Endpoints endpoints, std::unique_ptr<Spool> spool)
      : opt_(std::move(options)),
        ep_(std::move(endpoints)),
        clock_(opt_.clock ? opt_.clock : Clock::System()),
        m_(RegisterMetrics(opt_.metrics)),
        spool_(std::move(spool)),
        api_(&http_, ep_.api,
             QueryApiOptions{.nocache = !opt_.query_cache, .metadata_timeout = opt_.timeout}),
        shipper_(
            std::make_unique<Shipper>(spool_.get(), &http_,
                                      ShipperOptions{.write_url = ep_.write,
                                                     .spool_dir = opt_.spool_dir,
                                                     .max_request_bytes = opt_.max_request_bytes,
                                                     .timeout = opt_.timeout,
                                                     .retry_min = opt_.retry_min,
                                                     .retry_max = opt_.retry_max,
                                                     .clock = clock_},
                                      m_.shipper)) {}

  std::string_view backend() const override { return "victoriametrics"; }

  std::string description() const override {
    if (!ep_.cluster) {
      return "VictoriaMetrics at " + BaseOf(ep_.write) + " (spool " + opt_.spool_dir + ")";
    }
    return "VictoriaMetrics cluster, tenant " + opt_.tenant + " (insert " + opt_.insert_url +
           ", select " + (opt_.select_url.empty() ? opt_.insert_url : opt_.select_url) +
           "; spool " + opt_.spool_dir + ")";
  }

  Result<AppendResult> Append(const std::vector<SeriesSamples>& batch) override;

  Result<std::vector<Labels>> Series(const std::vector<MatcherSet>& match, int64_t mint,
                                     int64_t maxt, int64_t limit) override {
    FreshenForRead();
    return api_.Series(match, mint, maxt, limit);
  }
  Result<std::vector<std::string>> LabelNames(const std::vector<MatcherSet>& match, int64_t mint,
                                              int64_t maxt) override {
    FreshenForRead();
    return api_.LabelNames(match, mint, maxt);
  }
  Result<std::vector<std::string>> LabelValues(const std::string& name,
                                               const std::vector<MatcherSet>& match, int64_t mint,
                                               int64_t maxt) override {
    FreshenForRead();
    return api_.LabelValues(name, match, mint, maxt);
  }
  Result<QueryValue> Query(std::string_view promql, int64_t time,
                           const QueryLimits& limits) override {
    FreshenForRead();
    return api_.Query(promql, time, limits);
  }
  Result<QueryValue> QueryRange(std::string_view promql, int64_t start, int64_t end, int64_t step,
                                const QueryLimits& limits) override {
    FreshenForRead();
    return api_.QueryRange(promql, start, end, step, limits);
  }

  Status Sync(std::chrono::milliseconds timeout) override;
  Status Ping() override;

 private:
  static std::string BaseOf(const std::string& write_url) {
    return write_url.substr(0, write_url.size() - std::string_view("/api/v1/write").size());
  }
  Status CheckLabels(const Labels& labels, size_t index) const;
  std::string Unreachable() const;
  Status MakeSearchable(std::chrono::steady_clock::time_point deadline);
  // Read-your-writes for queries: when samples were delivered since the last flush, ask
  // VictoriaMetrics to make them searchable (at most once a second; a failure only delays
  // visibility, so it is ignored). Without flush URLs (a cluster) this does nothing.
  void FreshenForRead();

  Options opt_;
  Endpoints ep_;
  Clock* clock_;
  StoreMetrics m_;
  HttpClient http_;
  std::unique_ptr<Spool> spool_;
  QueryApi api_;
  std::mutex flush_mu_;
  int64_t flushed_ = 0;  // committed spool records known to be searchable
  std::chrono::steady_clock::time_point last_flush_;
  // Last: stopped first, while the spool and the HTTP client still exist.
  std::unique_ptr<Shipper> shipper_;
};

Status VmStore::CheckLabels(const Labels& labels, size_t index) const {
  auto where = [&] {
    return "series " + std::to_string(index) + " (" + LabelsToString(labels) + ")";
  };
  if (labels.empty()) {
    return InvalidArgumentError("series " + std::to_string(index) + " has no labels");
  }
  if (static_cast<int64_t>(labels.size()) > opt_.max_labels) {
    return InvalidArgumentError(where() + " has " + std::to_string(labels.size()) +
                                " labels; VictoriaMetrics keeps at most " +
                                std::to_string(opt_.max_labels) + " (-maxLabelsPerTimeseries)");
  }
  for (const auto& l : labels) {
    if (static_cast<int64_t>(l.value.size()) > opt_.max_label_value_bytes) {
      return InvalidArgumentError(
          "series " + std::to_string(index) + ": value of label '" + l.name + "' is " +
          std::to_string(l.value.size()) + " bytes; VictoriaMetrics keeps at most " +
          std::to_string(opt_.max_label_value_bytes) + " (-maxLabelValueLen)");
    }
  }
  return Status::Ok();
}

std::string VmStore::Unreachable() const {
  if (auto f = shipper_->Failing()) {
    return "VictoriaMetrics unreachable since " + FormatWall(f->since) + " (" + f->error + ")";
  }
  return "VictoriaMetrics is not keeping up";
}

Result<AppendResult> VmStore::Append(const std::vector<SeriesSamples>& batch) {
  const int64_t now = clock_->NowMs();
  const int64_t newest = now + opt_.max_future.count();
  const int64_t oldest = opt_.retention.count() > 0 ? now - opt_.retention.count()
                                                    : std::numeric_limits<int64_t>::min();
  AppendResult result;
  std::vector<SeriesSamples> clean;
  clean.reserve(batch.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    SeriesSamples s;
    s.labels = batch[i].labels;
    PA_RETURN_IF_ERROR(NormalizeLabels(s.labels).WithContext("series " + std::to_string(i)));
    PA_RETURN_IF_ERROR(CheckLabels(s.labels, i));
    s.samples.reserve(batch[i].samples.size());
    for (const Sample& sample : batch[i].samples) {
      if (sample.t > newest) {
        ++result.too_new;
      } else if (sample.t < oldest) {
        ++result.too_old;
      } else {
        s.samples.push_back(sample);
      }
    }
    result.accepted += static_cast<int64_t>(s.samples.size());
    if (!s.samples.empty()) clean.push_back(std::move(s));
  }
  if (clean.empty()) return result;

  Status st = spool_->Append(EncodeRecords(clean, kRecordBytes));
  if (st.code() == StatusCode::kResourceExhausted) {
    if (m_.spool_full) m_.spool_full->Inc();
    return UnavailableError(st.message() + ": " + Unreachable() + "; retry later");
  }
  PA_RETURN_IF_ERROR(st);
  if (m_.appended_samples) m_.appended_samples->Inc(static_cast<double>(result.accepted));
  return result;
}

Status VmStore::Sync(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const int64_t target = spool_->Stats().appended_records;
  if (!spool_->WaitCommitted(target, deadline)) {
    const SpoolStats st = spool_->Stats();
    std::string msg = "metric spool: " + std::to_string(st.pending_records) + " records (" +
                      std::to_string(st.bytes) + " bytes) not yet delivered after " +
                      std::to_string(timeout.count()) + " ms";
    if (auto f = shipper_->Failing()) msg += ": " + Unreachable();
    return DeadlineExceededError(msg);
  }
  return MakeSearchable(deadline);
}

void VmStore::FreshenForRead() {
  if (ep_.flush.empty()) return;
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard l(flush_mu_);
    if (spool_->Stats().committed_records <= flushed_ ||
        now - last_flush_ < std::chrono::seconds(1)) {
      return;
    }
  }
  (void)MakeSearchable(now + std::chrono::seconds(2));
}

// VictoriaMetrics buffers ingested rows for a second or two before search sees them;
// /internal/force_flush makes them visible at once.
Status VmStore::MakeSearchable(std::chrono::steady_clock::time_point deadline) {
  std::lock_guard l(flush_mu_);
  last_flush_ = std::chrono::steady_clock::now();
  const int64_t committed = spool_->Stats().committed_records;
  if (committed <= flushed_) return Status::Ok();
  if (ep_.flush.empty()) {
    const auto wait = std::min<std::chrono::steady_clock::duration>(
        opt_.visibility_delay, deadline - std::chrono::steady_clock::now());
    if (wait.count() > 0) std::this_thread::sleep_for(wait);
  }
  for (const auto& url : ep_.flush) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return DeadlineExceededError("Sync: no time left for " + url);
    HttpRequest req;
    req.url = url;
    req.timeout = std::min(left, opt_.timeout);
    Result<HttpResponse> resp = http_.Do(req);
    if (!resp.ok()) return Status(resp.status().code(), url + ": " + resp.status().message());
    if (resp->status < 200 || resp->status >= 300) {
      return UnavailableError(url + " answered HTTP " + std::to_string(resp->status) + ": " +
                              resp->body.substr(0, 300));
    }
  }
  flushed_ = committed;
  return Status::Ok();
}

Status VmStore::Ping() {
  for (const auto& url : ep_.health) {
    HttpRequest req;
    req.url = url;
    req.timeout = std::min(opt_.timeout, std::chrono::milliseconds(5000));
    Result<HttpResponse> resp = http_.Do(req);
    if (!resp.ok())
      return UnavailableError("VictoriaMetrics at " + url + ": " + resp.status().message());
    if (resp->status != 200) {
      return UnavailableError("VictoriaMetrics at " + url + " answered HTTP " +
                              std::to_string(resp->status));
    }
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<MetricStore>> Open(const Options& options) {
  PA_ASSIGN_OR_RETURN(Endpoints endpoints, MakeEndpoints(options));
  if (options.spool_dir.empty()) {
    return InvalidArgumentError("VictoriaMetrics: no spool directory given");
  }
  if (options.max_request_bytes < 1024 || options.max_labels < 1 ||
      options.max_label_value_bytes < 1 || options.retry_min.count() <= 0 ||
      options.retry_max < options.retry_min || options.retention.count() < 0 ||
      options.max_future.count() < 0) {
    return InvalidArgumentError("VictoriaMetrics: an option is out of range");
  }
  SpoolRecovery recovery;
  PA_ASSIGN_OR_RETURN(
      std::unique_ptr<Spool> spool,
      Spool::Open(
          {.dir = options.spool_dir, .max_bytes = options.spool_max_bytes, .clock = options.clock},
          &recovery));
  auto log = log::Get("victoriametrics");
  for (const auto& p : recovery.problems) log->warn("metric spool: {}", p);
  if (recovery.records > 0) {
    log->info("metric spool {}: {} records ({} bytes) from an earlier run to deliver",
              options.spool_dir, recovery.records, recovery.bytes);
  }
  return std::unique_ptr<MetricStore>(
      std::make_unique<VmStore>(options, std::move(endpoints), std::move(spool)));
}

}  // namespace pa::storage::victoriametrics
