// Runs PromQL test scripts written in the same little language as Prometheus's own test files
// (load / eval / clear), with our own cases whose expectations come from Prometheus 2.42:
//
//   load 5m                                     # one sample every 5m from t=0
//     http_requests{job="api"} 0+10x10 _ stale  # 0 10 20 ... 100, gap, staleness marker
//   eval instant at 50m sum(http_requests)      # expected result lines follow
//     {} 100
//   eval_fail instant at 0 foo[                 # must fail
//   eval_ordered instant at 50m sort(x)         # order matters
//   eval range from 0 to 10m step 5m x          # range query; expected: series + values
//     x{} 1 2 _
//   check_range from 0 to 1h step 70s rate(x[5m])  # range query == instant query at each step
//   clear
//
// Values compare with a relative tolerance of 1e-12 (Prometheus's own framework uses 1e-6; these
// expectations come from Prometheus 2.42 at full precision), NaN equal
// to NaN.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "promql/engine.h"

namespace pa::promql::testing {

// Each failure names the script line and what differed; empty when everything passed.
std::vector<std::string> RunScript(std::string_view script, const Engine& engine);

}  // namespace pa::promql::testing
