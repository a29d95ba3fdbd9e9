#include "storage/instrumented_stores.h"

#include <chrono>
#include <string>

namespace pa::storage {
namespace {

// The two metric families, shared by every instrumented store of one registry.
struct StoreMetrics {
  telemetry::Family<telemetry::Histogram>* duration;
  telemetry::Family<telemetry::Counter>* errors;

  static StoreMetrics& For(telemetry::Registry& registry) {
    static std::mutex mu;
    static std::vector<std::pair<telemetry::Registry*, std::unique_ptr<StoreMetrics>>> all;
    std::lock_guard lock(mu);
    for (auto& [r, m] : all) {
      if (r == &registry) return *m;
    }
    auto m = std::make_unique<StoreMetrics>();
    m->duration =
        &registry.AddHistogram("primoart_store_operation_duration_seconds",
                               "Latency of store operations.", {"store", "backend", "operation"});
    m->errors = &registry.AddCounter("primoart_store_errors_total",
                                     "Store operations that failed, by status code.",
                                     {"store", "backend", "operation", "code"});
    all.emplace_back(&registry, std::move(m));
    return *all.back().second;
  }
};

// Times one operation and counts its failure, if any.
class OperationTimer {
 public:
  OperationTimer(StoreMetrics& m, const char* store, std::string_view backend, const char* op)
      : m_(m),
        store_(store),
        backend_(backend),
        op_(op),
        start_(std::chrono::steady_clock::now()) {}

  template <typename R>
  R Finish(R result) {
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    m_.duration->With({store_, backend_, op_}).Observe(secs);
    Status st;
    if constexpr (std::is_same_v<R, Status>) {
      st = result;
    } else {
      st = result.status();
    }
    // NotFound is an answer, not a store failure.
    if (!st.ok() && st.code() != StatusCode::kNotFound) {
      m_.errors->With({store_, backend_, op_, std::string(StatusCodeName(st.code()))}).Inc();
    }
    return result;
  }

 private:
  StoreMetrics& m_;
  const char* store_;
  std::string backend_;
  const char* op_;
  std::chrono::steady_clock::time_point start_;
};

class InstrumentedTransaction final : public Transaction {
 public:
  InstrumentedTransaction(std::unique_ptr<Transaction> inner, StoreMetrics& m,
                          std::string_view backend)
      : inner_(std::move(inner)), m_(m), backend_(backend) {}
  Result<Rows> Query(std::string_view sql, const Params& params) override {
    OperationTimer t(m_, "database", backend_, "tx_query");
    return t.Finish(inner_->Query(sql, params));
  }
  Result<int64_t> Exec(std::string_view sql, const Params& params) override {
    OperationTimer t(m_, "database", backend_, "tx_exec");
    return t.Finish(inner_->Exec(sql, params));
  }
  Status Commit() override {
    OperationTimer t(m_, "database", backend_, "commit");
    return t.Finish(inner_->Commit());
  }
  void CommitThen(std::function<void(Status)> durable) override {
    // Timed until the commit is visible (the sync overlaps the caller's next work); a commit
    // that could not be made durable is counted when that is known.
    OperationTimer t(m_, "database", backend_, "commit");
    inner_->CommitThen([m = &m_, backend = backend_, durable = std::move(durable)](Status st) {
      if (!st.ok()) {
        m->errors
            ->With({"database", std::string(backend), "commit",
                    std::string(StatusCodeName(st.code()))})
            .Inc();
      }
      durable(std::move(st));
    });
    (void)t.Finish(Status::Ok());
  }

 private:
  std::unique_ptr<Transaction> inner_;
  StoreMetrics& m_;
  std::string_view backend_;
};

class InstrumentedRelational final : public RelationalStore {
 public:
  InstrumentedRelational(std::unique_ptr<RelationalStore> inner, StoreMetrics& m)
      : inner_(std::move(inner)), m_(m) {}
  std::string_view backend() const override { return inner_->backend(); }
  std::string description() const override { return inner_->description(); }
  Result<Rows> Query(std::string_view sql, const Params& params) override {
    OperationTimer t(m_, "database", backend(), "query");
    return t.Finish(inner_->Query(sql, params));
  }
  Result<int64_t> Exec(std::string_view sql, const Params& params) override {
    OperationTimer t(m_, "database", backend(), "exec");
    return t.Finish(inner_->Exec(sql, params));
  }
  Result<std::unique_ptr<Transaction>> Begin() override {
    OperationTimer t(m_, "database", backend(), "begin");
    auto tx = t.Finish(inner_->Begin());
    if (!tx.ok()) return tx.status();
    return std::unique_ptr<Transaction>(
        new InstrumentedTransaction(std::move(tx).value(), m_, backend()));
  }
  Result<MigrationReport> Migrate(const std::vector<Schema>& schemas) override {
    OperationTimer t(m_, "database", backend(), "migrate");
    return t.Finish(inner_->Migrate(schemas));
  }
  Status Ping() override {
    OperationTimer t(m_, "database", backend(), "ping");
    return t.Finish(inner_->Ping());
  }

 private:
  std::unique_ptr<RelationalStore> inner_;
  StoreMetrics& m_;
};

class InstrumentedArtifacts final : public ArtifactStore {
 public:
  InstrumentedArtifacts(std::unique_ptr<ArtifactStore> inner, StoreMetrics& m)
      : inner_(std::move(inner)), m_(m) {}
  std::string_view backend() const override { return inner_->backend(); }
  std::string description() const override { return inner_->description(); }
  Status Put(std::string_view key, std::string_view data) override {
    OperationTimer t(m_, "artifacts", backend(), "put");
    return t.Finish(inner_->Put(key, data));
  }
  Status PutStream(std::string_view key, int64_t size, const ReadChunk& read) override {
    OperationTimer t(m_, "artifacts", backend(), "put_stream");
    return t.Finish(inner_->PutStream(key, size, read));
  }
  Result<std::string> Get(std::string_view key) override {
    OperationTimer t(m_, "artifacts", backend(), "get");
    return t.Finish(inner_->Get(key));
  }
  Status GetStream(std::string_view key, const WriteChunk& write) override {
    OperationTimer t(m_, "artifacts", backend(), "get_stream");
    return t.Finish(inner_->GetStream(key, write));
  }
  Result<ObjectInfo> Stat(std::string_view key) override {
    OperationTimer t(m_, "artifacts", backend(), "stat");
    return t.Finish(inner_->Stat(key));
  }
  Status Delete(std::string_view key) override {
    OperationTimer t(m_, "artifacts", backend(), "delete");
    return t.Finish(inner_->Delete(key));
  }
  Result<std::vector<ObjectInfo>> List(std::string_view prefix) override {
    OperationTimer t(m_, "artifacts", backend(), "list");
    return t.Finish(inner_->List(prefix));
  }
  Status Ping() override {
    OperationTimer t(m_, "artifacts", backend(), "ping");
    return t.Finish(inner_->Ping());
  }

 private:
  std::unique_ptr<ArtifactStore> inner_;
  StoreMetrics& m_;
};

}  // namespace

std::unique_ptr<RelationalStore> InstrumentRelationalStore(std::unique_ptr<RelationalStore> inner,
                                                           telemetry::Registry& registry) {
  return std::make_unique<InstrumentedRelational>(std::move(inner), StoreMetrics::For(registry));
}

std::unique_ptr<ArtifactStore> InstrumentArtifactStore(std::unique_ptr<ArtifactStore> inner,
                                                       telemetry::Registry& registry) {
  return std::make_unique<InstrumentedArtifacts>(std::move(inner), StoreMetrics::For(registry));
}

}  // namespace pa::storage
