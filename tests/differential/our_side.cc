#include "our_side.h"

#include <fmt/format.h>

#include <algorithm>

#include "base/clock.h"
#include "memory_querier.h"
#include "promql/engine.h"
#include "storage/embedded_tsdb/tsdb_store.h"

namespace pa::differential {
namespace {

using storage::QueryValue;

class EngineOnMemory : public OurSide {
 public:
  explicit EngineOnMemory(const DataSet& data) : querier_(AllSeries(data)) {}
  std::string description() const override { return "promql::Engine over MemoryQuerier"; }
  Result<QueryValue> Query(std::string_view promql, int64_t time) override {
    return engine_.Instant(querier_, promql, time, limits_);
  }
  Result<QueryValue> QueryRange(std::string_view promql, int64_t start, int64_t end,
                                int64_t step) override {
    return engine_.Range(querier_, promql, start, end, step, limits_);
  }

 private:
  MemoryQuerier querier_;
  promql::Engine engine_;
  storage::QueryLimits limits_;
};

class EmbeddedStore : public OurSide {
 public:
  Status Open(const DataSet& data, const std::string& dir) {
    // The store's clock stands just after the data, so retention and max_future accept all of it.
    clock_.SetWall(
        Clock::WallTime(std::chrono::milliseconds(DataTimes::kLiveEnd + DataTimes::kMinute)));
    PA_ASSIGN_OR_RETURN(store_, storage::embedded_tsdb::Open({.dir = dir, .clock = &clock_}));
    constexpr size_t kBatch = 64;
    storage::AppendResult total;
    for (const auto* all : {&data.series, &data.live}) {
      for (size_t i = 0; i < all->size(); i += kBatch) {
        const size_t end = std::min(all->size(), i + kBatch);
        std::vector<storage::SeriesSamples> batch(all->begin() + i, all->begin() + end);
        PA_ASSIGN_OR_RETURN(storage::AppendResult r, store_->Append(batch));
        total.accepted += r.accepted;
        total.too_old += r.too_old;
        total.too_new += r.too_new;
        total.duplicates += r.duplicates;
      }
    }
    if (total.accepted != data.SampleCount()) {
      return InternalError(fmt::format(
          "embedded store accepted {} of {} samples ({} too old, {} too new, {} duplicates)",
          total.accepted, data.SampleCount(), total.too_old, total.too_new, total.duplicates));
    }
    return store_->Sync(std::chrono::seconds(60));
  }
  std::string description() const override {
    return "embedded store (" + store_->description() + ")";
  }
  Result<QueryValue> Query(std::string_view promql, int64_t time) override {
    return store_->Query(promql, time, limits_);
  }
  Result<QueryValue> QueryRange(std::string_view promql, int64_t start, int64_t end,
                                int64_t step) override {
    return store_->QueryRange(promql, start, end, step, limits_);
  }

 private:
  FakeClock clock_;
  std::unique_ptr<storage::MetricStore> store_;
  storage::QueryLimits limits_;
};

}  // namespace

Result<std::unique_ptr<OurSide>> OpenOurSide(std::string_view storage, const DataSet& data,
                                             const std::string& dir) {
  if (storage.empty()) storage = "embedded";
  if (storage == "embedded") {
    auto side = std::make_unique<EmbeddedStore>();
    PA_RETURN_IF_ERROR(side->Open(data, dir).WithContext("loading the embedded store"));
    return std::unique_ptr<OurSide>(std::move(side));
  }
  if (storage == "memory") {
    return std::unique_ptr<OurSide>(std::make_unique<EngineOnMemory>(data));
  }
  return InvalidArgumentError("PRIMOART_DIFF_STORAGE must be embedded or memory, not '" +
                              std::string(storage) + "'");
}

}  // namespace pa::differential
