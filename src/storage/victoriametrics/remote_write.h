// Prometheus remote write (protocol 1.0) encoding: series → the protobuf of a WriteRequest, and
// the snappy block compression the protocol wraps it in.
//
//   std::vector<std::string> records = EncodeTimeSeries(batch, 1 << 20);  // spool records
//   std::string body = CompressBody(Concatenate(records));                // one HTTP body
//
// A serialized WriteRequest is a sequence of `timeseries` fields, so concatenating the encodings
// of several batches yields one valid WriteRequest: the spool keeps each Append's records as
// they are and the sender joins consecutive records into one request without re-encoding.
// Values travel as their float64 bits, staleness markers included.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "storage/metric_store.h"

namespace pa::storage::victoriametrics {

// Encodes `batch` (labels already normalised) as WriteRequest fragments of about `target_bytes`
// each (a fragment ends after the series that crosses the target; a series with more than
// `max_samples_per_series` samples is split into several TimeSeries with the same labels).
// Each fragment is prefixed by its sample count (4 bytes, little-endian). Series without
// samples are left out.
std::vector<std::string> EncodeRecords(const std::vector<SeriesSamples>& batch, size_t target_bytes,
                                       size_t max_samples_per_series = 10000);

// The sample count and the WriteRequest fragment of a record made by EncodeRecords; false when
// the record is too short.
bool SplitRecord(std::string_view record, uint32_t* samples, std::string_view* fragment);

// Snappy block format, as remote write wants (Content-Encoding: snappy).
std::string CompressBody(std::string_view write_request);

// The inverse, for tests: a WriteRequest back into series (kInvalidArgument when malformed).
Result<std::vector<SeriesSamples>> DecodeWriteRequest(std::string_view write_request);
Result<std::string> DecompressBody(std::string_view body);

}  // namespace pa::storage::victoriametrics
