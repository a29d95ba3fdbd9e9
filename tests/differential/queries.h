// The differential suite's query table, and the instants and ranges every query is evaluated
// at. Each query runs as an instant query at every EvalInstants() time and as a range query over
// every EvalRanges() window, against Prometheus and against ours.
//
// Flags describe what Prometheus does with a query — the suite checks them against Prometheus
// first, so a typo in the table cannot pass as "both rejected it":
// - kErrorInstant / kErrorRange: Prometheus rejects it (parse, type or execution error) as an
//   instant / a range query, at every time; ours must reject it too.
// - kMayError: Prometheus rejects it at some times only (an execution error that depends on the
//   data, e.g. duplicate label sets); ours must agree evaluation by evaluation.
// - kOrdered: the instant result's order is significant (sort, sort_desc).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pa::differential {

enum QueryFlags : uint32_t {
  kOrdered = 1u << 0,
  kErrorInstant = 1u << 1,
  kErrorRange = 1u << 2,
  kError = kErrorInstant | kErrorRange,
  kMayError = 1u << 3,
};

struct DiffQuery {
  std::string_view expr;
  uint32_t flags = 0;
};

const std::vector<DiffQuery>& QueryTable();

struct EvalInstant {
  int64_t time;
  std::string_view why;
};
const std::vector<EvalInstant>& EvalInstants();

struct EvalRange {
  int64_t start;
  int64_t end;
  int64_t step;
  std::string_view why;
};
const std::vector<EvalRange>& EvalRanges();

// Constructs of Prometheus 2.42 our engine deliberately does not implement. A query refused with
// kUnimplemented counts as a failure unless the refusal names one of these.
const std::vector<std::string_view>& KnownUnsupported();

}  // namespace pa::differential
