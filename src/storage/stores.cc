#include "storage/stores.h"

#include "base/url.h"
#include "storage/embedded_tsdb/tsdb_store.h"
#include "storage/fs/fs_store.h"
#include "storage/instrumented_stores.h"
#include "storage/postgres/postgres_store.h"
#include "storage/s3/s3_store.h"
#include "storage/sqlite/sqlite_store.h"
#include "storage/victoriametrics/vm_store.h"

namespace pa::storage {
namespace {

bool IsPostgresScheme(const std::string& s) { return s == "postgresql" || s == "postgres"; }

// The local path of sqlite:// and file:// URLs: "sqlite:///abs/x.db" → "/abs/x.db",
// "sqlite://./rel/x.db" → "./rel/x.db", "sqlite://data/x.db" → "data/x.db".
std::string LocalPath(const Url& url) { return url.host + url.path; }

}  // namespace

Status ValidateDatabaseUrl(const std::string& text) {
  PA_ASSIGN_OR_RETURN(Url url, ParseUrl(text));
  if (url.scheme == "sqlite") {
    if (LocalPath(url).empty()) return InvalidArgumentError("sqlite:// URL has no file path");
    return Status::Ok();
  }
  if (IsPostgresScheme(url.scheme)) {
    if (url.host.empty()) return InvalidArgumentError("postgresql:// URL has no host");
    if (url.path.size() <= 1) {
      return InvalidArgumentError("postgresql:// URL has no database name (…/dbname)");
    }
    return Status::Ok();
  }
  return InvalidArgumentError(
      "unsupported scheme '" + url.scheme +
      "' (expected sqlite://<path> or postgresql://user:pass@host:port/db)");
}

Status ValidateArtifactsUrl(const std::string& text) {
  PA_ASSIGN_OR_RETURN(Url url, ParseUrl(text));
  if (url.scheme == "file") {
    if (LocalPath(url).empty()) return InvalidArgumentError("file:// URL has no directory");
    return Status::Ok();
  }
  if (url.scheme == "s3") return s3::OptionsFromUrl(url).status();
  return InvalidArgumentError("unsupported scheme '" + url.scheme +
                              "' (expected file://<dir> or s3://bucket?endpoint=...)");
}

Result<std::unique_ptr<RelationalStore>> OpenRelationalStore(const RelationalOptions& options,
                                                             telemetry::Registry* metrics) {
  PA_RETURN_IF_ERROR(ValidateDatabaseUrl(options.url));
  PA_ASSIGN_OR_RETURN(Url url, ParseUrl(options.url));
  std::unique_ptr<RelationalStore> store;
  if (url.scheme == "sqlite") {
    PA_ASSIGN_OR_RETURN(store, sqlite::Open({.path = LocalPath(url),
                                             .readers = options.pool_size,
                                             .busy_timeout = options.busy_timeout}));
  } else {
    PA_ASSIGN_OR_RETURN(store, postgres::Open({.url = options.url,
                                               .pool_size = options.pool_size,
                                               .connect_timeout = options.connect_timeout}));
  }
  if (metrics) store = InstrumentRelationalStore(std::move(store), *metrics);
  return store;
}

Result<std::unique_ptr<ArtifactStore>> OpenArtifactStore(const ArtifactOptions& options,
                                                         telemetry::Registry* metrics) {
  PA_RETURN_IF_ERROR(ValidateArtifactsUrl(options.url));
  PA_ASSIGN_OR_RETURN(Url url, ParseUrl(options.url));
  std::unique_ptr<ArtifactStore> store;
  if (url.scheme == "file") {
    PA_ASSIGN_OR_RETURN(store, fs::Open({.root = LocalPath(url)}));
  } else {
    PA_ASSIGN_OR_RETURN(s3::Options s3opts, s3::OptionsFromUrl(url));
    s3opts.access_key = options.s3_access_key;
    s3opts.secret_key = options.s3_secret_key;
    s3opts.timeout = options.timeout;
    s3opts.max_retries = options.max_retries;
    PA_ASSIGN_OR_RETURN(store, s3::Open(s3opts));
  }
  PA_RETURN_IF_ERROR(store->Ping());
  if (metrics) store = InstrumentArtifactStore(std::move(store), *metrics);
  return store;
}

Status ValidateMetricsUrl(const std::string& text) {
  PA_ASSIGN_OR_RETURN(Url url, ParseUrl(text));
  if (url.scheme == "embedded") {
    if (LocalPath(url).empty()) return InvalidArgumentError("embedded:// URL has no directory");
    return Status::Ok();
  }
  if (url.scheme.starts_with("victoriametrics+")) {
    return victoriametrics::OptionsFromUrl(text).status();
  }
  return InvalidArgumentError("unsupported scheme '" + url.scheme +
                              "' (expected embedded://<dir> or victoriametrics+http://host:port)");
}

Result<std::unique_ptr<MetricStore>> OpenMetricStore(const MetricOptions& options,
                                                     telemetry::Registry* metrics) {
  PA_RETURN_IF_ERROR(ValidateMetricsUrl(options.url));
  PA_ASSIGN_OR_RETURN(Url url, ParseUrl(options.url));
  if (url.scheme == "embedded") {
    return embedded_tsdb::Open(
        {.dir = LocalPath(url), .retention = options.retention, .metrics = metrics});
  }
  PA_ASSIGN_OR_RETURN(victoriametrics::Options vm, victoriametrics::OptionsFromUrl(options.url));
  vm.spool_dir = options.spool_dir;
  vm.spool_max_bytes = options.spool_max_bytes;
  vm.metrics = metrics;
  PA_ASSIGN_OR_RETURN(auto store, victoriametrics::Open(vm));
  PA_RETURN_IF_ERROR(store->Ping().WithContext("VictoriaMetrics at " + vm.select_url));
  return store;
}

}  // namespace pa::storage
