// Comparing a query result of ours with Prometheus's, the way the differential suite judges
// them: same result type, same set of label sets, per series the same timestamps, values equal
// within a relative tolerance (NaN equals NaN, infinities equal themselves). Series order is not
// significant (Prometheus's own order is arbitrary) unless `ordered` — sort() and sort_desc() in
// an instant query — and then the sequence of values must match (ties may swap labels).
//
//   std::string diff = CompareValues(prometheus, ours, {.ordered = false});
//   if (!diff.empty()) ADD_FAILURE() << diff;
#pragma once

#include <cstddef>
#include <string>

#include "storage/metric_store.h"

namespace pa::differential {

struct CompareOptions {
  bool ordered = false;
  double relative_tolerance = 1e-9;
  // Below this magnitude values count as equal: rounding noise around zero (x - y where x == y
  // up to the last bit, summed in another order) has no meaningful relative error.
  double absolute_tolerance = 1e-12;
};

bool SameFloat(double want, double got, const CompareOptions& options);

// Empty when the values agree; otherwise a description of the differences (the first few).
std::string CompareValues(const storage::QueryValue& want, const storage::QueryValue& got,
                          const CompareOptions& options);

// The value as text, at most `max_series` series of at most `max_points` points each.
std::string FormatValue(const storage::QueryValue& v, size_t max_series = 6, size_t max_points = 6);

}  // namespace pa::differential
