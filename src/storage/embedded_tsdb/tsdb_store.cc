#include "storage/embedded_tsdb/tsdb_store.h"

#include <algorithm>
#include <set>

#include "promql/engine.h"
#include "storage/embedded_tsdb/db.h"

namespace pa::storage::embedded_tsdb {
namespace {

class EmbeddedStore final : public MetricStore {
 public:
  explicit EmbeddedStore(std::unique_ptr<Db> db) : db_(std::move(db)) {}

  std::string_view backend() const override { return "embedded"; }
  std::string description() const override { return "embedded://" + db_->dir(); }

  Result<AppendResult> Append(const std::vector<SeriesSamples>& batch) override {
    return db_->Append(batch);
  }

  Result<std::vector<Labels>> Series(const std::vector<MatcherSet>& match, int64_t mint,
                                     int64_t maxt, int64_t limit) override {
    return db_->NewQuerier()->MatchingSeries(match, mint, maxt, limit);
  }

  Result<std::vector<std::string>> LabelNames(const std::vector<MatcherSet>& match, int64_t mint,
                                              int64_t maxt) override {
    PA_ASSIGN_OR_RETURN(std::vector<Labels> series,
                        db_->NewQuerier()->MatchingSeries(match, mint, maxt, 0));
    std::set<std::string> names;
    for (const Labels& labels : series) {
      for (const Label& l : labels) names.insert(l.name);
    }
    return std::vector<std::string>(names.begin(), names.end());
  }

  Result<std::vector<std::string>> LabelValues(const std::string& name,
                                               const std::vector<MatcherSet>& match, int64_t mint,
                                               int64_t maxt) override {
    PA_ASSIGN_OR_RETURN(std::vector<Labels> series,
                        db_->NewQuerier()->MatchingSeries(match, mint, maxt, 0));
    std::set<std::string> values;
    for (const Labels& labels : series) {
      const std::string_view v = LabelValue(labels, name);
      if (!v.empty()) values.emplace(v);
    }
    return std::vector<std::string>(values.begin(), values.end());
  }

  Result<QueryValue> Query(std::string_view promql, int64_t time,
                           const QueryLimits& limits) override {
    auto querier = db_->NewQuerier();
    return engine_.Instant(*querier, promql, time, limits);
  }

  Result<QueryValue> QueryRange(std::string_view promql, int64_t start, int64_t end, int64_t step,
                                const QueryLimits& limits) override {
    auto querier = db_->NewQuerier();
    return engine_.Range(*querier, promql, start, end, step, limits);
  }

  // Acknowledged samples are visible at once.
  Status Sync(std::chrono::milliseconds) override { return Status::Ok(); }
  // Unavailable once the WAL could not be written (appends fail from then on).
  Status Ping() override { return db_->Health(); }

  Db& db() { return *db_; }

 private:
  std::unique_ptr<Db> db_;
  promql::Engine engine_;
};

Result<EmbeddedStore*> AsEmbedded(MetricStore& store) {
  auto* embedded = dynamic_cast<EmbeddedStore*>(&store);
  if (!embedded) {
    return InvalidArgumentError("the metric store is " + std::string(store.backend()) +
                                ", not embedded");
  }
  return embedded;
}

}  // namespace

Result<std::unique_ptr<MetricStore>> Open(const Options& options) {
  PA_ASSIGN_OR_RETURN(std::unique_ptr<Db> db, Db::Open(options));
  return std::unique_ptr<MetricStore>(std::make_unique<EmbeddedStore>(std::move(db)));
}

Result<Stats> GetStats(MetricStore& store) {
  PA_ASSIGN_OR_RETURN(EmbeddedStore * embedded, AsEmbedded(store));
  return embedded->db().GetStats();
}

Result<std::unique_ptr<Querier>> NewQuerier(MetricStore& store) {
  PA_ASSIGN_OR_RETURN(EmbeddedStore * embedded, AsEmbedded(store));
  return std::unique_ptr<Querier>(embedded->db().NewQuerier());
}

Status Compact(MetricStore& store) {
  PA_ASSIGN_OR_RETURN(EmbeddedStore * embedded, AsEmbedded(store));
  return embedded->db().Compact();
}

}  // namespace pa::storage::embedded_tsdb
