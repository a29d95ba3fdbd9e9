// libFuzzer target for the PromQL parser and, for queries that parse, the evaluator over a
// small fixed data set. Build with clang (see CMakeLists.txt), run with a corpus directory:
//   build-fuzz/src/promql/promql_fuzzer -max_total_time=60 corpus/
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "promql/engine.h"
#include "promql/syntax/parser.h"
#include "promql/testing/memory_querier.h"

namespace {

pa::promql::testing::MemoryQuerier* Data() {
  static auto* q = [] {
    auto* m = new pa::promql::testing::MemoryQuerier();
    m->Add({{"__name__", "up"}, {"job", "a"}}, {{0, 1}, {60000, 0}, {120000, 1}});
    m->Add({{"__name__", "up"}, {"job", "b"}}, {{0, 1}, {90000, pa::storage::StaleNaN()}});
    m->Add({{"__name__", "x_bucket"}, {"le", "0.5"}}, {{0, 1}, {60000, 3}});
    m->Add({{"__name__", "x_bucket"}, {"le", "+Inf"}}, {{0, 2}, {60000, 5}});
    return m;
  }();
  return q;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view query(reinterpret_cast<const char*>(data), size);
  auto expr = pa::promql::ParseExpr(query);
  if (!expr.ok()) return 0;
  pa::storage::QueryLimits limits;
  limits.max_samples = 100000;
  limits.timeout = std::chrono::milliseconds(200);
  static const pa::promql::Engine engine;
  (void)engine.Instant(*Data(), query, 100000, limits);
  (void)engine.Range(*Data(), query, 0, 180000, 30000, limits);
  return 0;
}
