// S3Client: the request layer under the S3 ArtifactStore — builds path-style or virtual-hosted
// URLs with canonically encoded paths and sorted queries (libcurl 7.88 signs them as given), signs
// with SigV4, retries 5xx/429/network failures with exponential backoff and full jitter, and turns
// S3 answers into Status values. Internal to storage/s3.
//
// Thread-safety: Send() may be called from any number of threads at once.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/http_client.h"
#include "storage/s3/s3_store.h"

namespace pa::storage::s3 {

struct S3Call {
  std::string method = "GET";
  std::string object;  // the full object name in the bucket (store prefix included); empty: bucket
  std::vector<std::pair<std::string, std::string>> query;  // raw values, any order
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Hex SHA-256 of `body` when the caller already has it (saves hashing again per attempt).
  std::string body_sha256;
  // Streams a 2xx response body here; the call is then retried only before the first byte.
  WriteChunk sink;
  bool large = false;  // object data: `timeout` bounds stalls, not the whole transfer
};

// Checks options given in code (OptionsFromUrl checks its own) and normalizes the endpoint to
// scheme://host[:port]; kInvalidArgument says which field is wrong.
Result<Options> CheckOptions(Options options);

// "/bucket/a/b" or "/a/b" style path with each segment RFC 3986-encoded ('/' kept).
std::string EncodePath(std::string_view path);
// "a=1&b=x%2Fy": sorted by name, RFC 3986-encoded, "=" always present (canonical SigV4 form).
std::string CanonicalQuery(std::vector<std::pair<std::string, std::string>> query);

class S3Client {
 public:
  explicit S3Client(Options options);

  // The URL of `object` (or of the bucket when empty) with the query appended.
  std::string UrlFor(std::string_view object,
                     const std::vector<std::pair<std::string, std::string>>& query) const;

  // Sends `call`, retrying as described above. Returns the final response of any status (the
  // caller maps it with ErrorFor) or the transport error as kUnavailable/kInvalidArgument.
  Result<HttpResponse> Send(S3Call call);

  // OK for 2xx; otherwise the Status for `resp` (see s3_store.h). `what` names the operation,
  // e.g. "GET screenshots/x.png".
  Status ErrorFor(const HttpResponse& resp, std::string_view what) const;

  const Options& options() const { return options_; }

 private:
  Options options_;
  HttpClient http_;
};

}  // namespace pa::storage::s3
