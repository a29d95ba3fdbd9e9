#include "core/store_modules.h"

#include "base/logging.h"
#include "storage/stores.h"

namespace pa::core {
namespace {

// Publishes a store and reports its Ping() as the module's health.
template <typename Store>
class StoreModule final : public Module {
 public:
  explicit StoreModule(std::unique_ptr<Store> store) : store_(std::move(store)) {}
  Health CheckHealth() override {
    Status st = store_->Ping();
    if (!st.ok()) return Health::Failing(st.message());
    return Health::Ok();
  }
  std::optional<StoreInfo> store_info() const override {
    return StoreInfo{std::string(store_->backend()), store_->description()};
  }
  Store* store() { return store_.get(); }

 private:
  std::unique_ptr<Store> store_;
};

}  // namespace

Result<std::unique_ptr<Module>> NewDatabaseModule(Services& services) {
  const Config& cfg = services.cfg();
  auto store = storage::OpenRelationalStore(
      {.url = cfg.database_url, .pool_size = cfg.database_pool_size}, services.metrics);
  if (!store.ok()) return store.status();
  auto report = (*store)->Migrate(services.schemas);
  if (!report.ok()) return report.status().WithContext("migrations");
  auto log = log::Get("core");
  for (const auto& m : report->applied) {
    log->info("applied migration {} {} ({})", m.component, m.version, m.name);
  }
  log->info("database: {}", (*store)->description());
  auto module = std::make_unique<StoreModule<storage::RelationalStore>>(std::move(store).value());
  services.database = module->store();
  return std::unique_ptr<Module>(std::move(module));
}

Result<std::unique_ptr<Module>> NewArtifactsModule(Services& services) {
  const Config& cfg = services.cfg();
  auto store = storage::OpenArtifactStore({.url = cfg.artifacts_url,
                                           .s3_access_key = cfg.s3_access_key,
                                           .s3_secret_key = cfg.s3_secret_key},
                                          services.metrics);
  if (!store.ok()) return store.status();
  log::Get("core")->info("artifacts: {}", (*store)->description());
  auto module = std::make_unique<StoreModule<storage::ArtifactStore>>(std::move(store).value());
  services.artifacts = module->store();
  return std::unique_ptr<Module>(std::move(module));
}

Result<std::unique_ptr<Module>> NewMetricStoreModule(Services& services) {
  const Config& cfg = services.cfg();
  auto store = storage::OpenMetricStore({.url = cfg.metrics_url,
                                         .spool_dir = cfg.data_dir + "/metrics-spool",
                                         .retention = cfg.metrics_retention,
                                         .spool_max_bytes = cfg.metrics_spool_max},
                                        services.metrics);
  if (!store.ok()) return store.status();
  log::Get("core")->info("metrics: {}", (*store)->description());
  auto module = std::make_unique<StoreModule<storage::MetricStore>>(std::move(store).value());
  services.metric_store = module->store();
  return std::unique_ptr<Module>(std::move(module));
}

}  // namespace pa::core
