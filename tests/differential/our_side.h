// The side under test in the differential suite: our PromQL engine, either over the embedded
// store (the default: Append the data set, then MetricStore::Query/QueryRange) or over a
// MemoryQuerier (PRIMOART_DIFF_STORAGE=memory: the engine alone, to tell engine bugs from
// storage bugs). Which ones exist depends on what the build has: the suite compiles while the
// engine and the store are still being written (PA_DIFF_HAVE_PROMQL / PA_DIFF_HAVE_EMBEDDED).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"
#include "data_set.h"
#include "storage/metric_store.h"

namespace pa::differential {

class OurSide {
 public:
  virtual ~OurSide() = default;
  virtual std::string description() const = 0;
  virtual Result<storage::QueryValue> Query(std::string_view promql, int64_t time) = 0;
  virtual Result<storage::QueryValue> QueryRange(std::string_view promql, int64_t start,
                                                 int64_t end, int64_t step) = 0;
};

// `storage` is "embedded" (also for "") or "memory" (the engine over an in-memory querier).
// An error when loading the data fails. `data` must outlive the result; `dir` is a scratch
// directory.
Result<std::unique_ptr<OurSide>> OpenOurSide(std::string_view storage, const DataSet& data,
                                             const std::string& dir);

}  // namespace pa::differential
