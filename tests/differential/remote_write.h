// Prometheus remote-write 1.0 encoding (a snappy-framed protobuf WriteRequest), written by hand
// for the one thing the differential suite needs it for: getting staleness markers into the
// real Prometheus. OpenMetrics text cannot carry them (a NaN there is an ordinary NaN), but a
// remote-written sample keeps its exact bits.
//
//   PA_ASSIGN_OR_RETURN(HttpResponse r, client.Do({.method = "POST", .url = url + "/api/v1/write",
//       .headers = RemoteWriteHeaders(), .body = EncodeRemoteWrite(series)}));
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "storage/metric_store.h"

namespace pa::differential {

// The body of a remote-write request: prometheus.WriteRequest (labels as given, which must be
// sorted), compressed with snappy's block format (literals only: correct, just not smaller).
std::string EncodeRemoteWrite(const std::vector<storage::SeriesSamples>& series);

std::vector<std::pair<std::string, std::string>> RemoteWriteHeaders();

// The uncompressed protobuf, and snappy's block format on its own (for the harness tests).
std::string EncodeWriteRequest(const std::vector<storage::SeriesSamples>& series);
std::string SnappyLiteralBlock(const std::string& data);

}  // namespace pa::differential
