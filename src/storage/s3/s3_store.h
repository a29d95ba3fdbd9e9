// The S3 backend of ArtifactStore (AWS S3, MinIO, any S3-compatible server), over libcurl with
// its AWS Signature V4 signing.
//
// URL form: s3://bucket[/prefix]?endpoint=http://host:port&region=us-east-1&path_style=true
// (endpoint defaults to https://s3.<region>.amazonaws.com; path_style defaults to false, i.e.
// virtual-hosted buckets; MinIO wants true). Requests that fail with 5xx, 429 or a network error
// are retried with exponential backoff and jitter; large objects are streamed both ways.
//
// Retries and streams: every request body is held in memory (a whole small object, or one part of
// a multipart upload), so every upload request can be retried and is signed with its SHA-256.
// A GetStream is retried only until its first byte reached the caller's sink; after that a
// failure ends it with kUnavailable (the sink cannot take bytes back).
// Errors: 404 → kNotFound, 403 → kPermissionDenied (with S3's error code and message), a missing
// bucket → kFailedPrecondition, 5xx/429/network failures after the retries → kUnavailable.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "base/url.h"
#include "storage/artifact_store.h"

namespace pa::storage::s3 {

struct Options {
  std::string bucket;
  std::string prefix;    // optional key prefix inside the bucket, without leading/trailing '/'
  std::string endpoint;  // scheme://host[:port]
  std::string region = "us-east-1";
  bool path_style = false;
  std::string access_key;
  std::string secret_key;
  // Bounds a small request as a whole, and a large transfer (object data) as the longest time
  // without progress.
  std::chrono::milliseconds timeout{30000};
  int max_retries = 4;                              // retries after the first attempt
  std::chrono::milliseconds retry_base_delay{200};  // doubles per retry, with jitter
  std::chrono::milliseconds retry_max_delay{5000};
  int list_page_size = 1000;  // max-keys per ListObjectsV2 request (1..1000)
  // PutStream of more than this many bytes becomes a multipart upload in parts of this size
  // (at least 5 MiB, the S3 minimum); one part at a time is held in memory.
  int64_t part_size = int64_t{8} << 20;
};

// Reads bucket, prefix, endpoint, region and path_style from an s3:// URL; unknown query
// parameters, a missing or malformed bucket, a bad endpoint URL or a path_style other than
// true|false are kInvalidArgument with a message saying which.
Result<Options> OptionsFromUrl(const Url& url);

// Checks the options (not the connection: see Ping). The store never logs or returns the secret.
Result<std::unique_ptr<ArtifactStore>> Open(const Options& options);

}  // namespace pa::storage::s3
