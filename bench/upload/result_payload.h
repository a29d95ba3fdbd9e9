// ResultPayload: the request bodies of bench/upload — one TransactionResultBaseModel object
// (the upload contract, spec transaction-result.md) of about 4 KB with 10 steps, as a browser robot
// of a shop would send it: Cyrillic step names, per-step timings and http objects, one result in
// ten an error with its `error` object.
//
//   pa::bench::ResultPayload payload("bench-1a2b", /*seed=*/42);
//   std::string body = payload.Next(NowUnixMs());   // run_id "bench-1a2b-0", then "-1", ...
//
// Every result is valid under the spec: a unique run_id `<prefix>-<counter>`, started_at within
// the hour before `now_ms`, steps back to back inside the transaction's interval.
// Not thread-safe: one instance per generating thread.
#pragma once

#include <cstdint>
#include <random>
#include <string>

namespace pa::bench {

class ResultPayload {
 public:
  ResultPayload(std::string run_id_prefix, uint64_t seed);

  // The next body; the counter in its run_id goes up by one per call.
  std::string Next(int64_t now_ms);

  // How many bodies Next() has produced.
  int64_t count() const { return counter_; }

 private:
  double Uniform(double lo, double hi);
  void AppendStep(std::string& out, int index, int64_t start_ms, int64_t duration_ms, bool failed);

  std::string prefix_;
  int64_t counter_ = 0;
  std::mt19937_64 rng_;
};

}  // namespace pa::bench
