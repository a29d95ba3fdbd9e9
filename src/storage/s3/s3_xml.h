// The XML documents of the S3 REST API that the S3 ArtifactStore reads and writes: ListObjectsV2
// pages, error bodies, and the multipart upload exchange. Parsing is lenient about what it does
// not need and strict about what it does (a page without a continuation token while truncated is
// an error, not an endless loop). Internal to storage/s3.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "storage/artifact_store.h"

namespace pa::storage::s3 {

struct ListPage {
  std::vector<ObjectInfo> objects;  // keys as S3 returns them (with the store's prefix)
  bool truncated = false;
  std::string next_token;  // NextContinuationToken when truncated
};

// A ListBucketResult document; kInternal when it is not one.
Result<ListPage> ParseListPage(std::string_view xml);

struct S3Error {
  std::string code;     // e.g. "NoSuchKey"; empty when the body is not an S3 error document
  std::string message;  // S3's human-readable message
};

// The <Error> document of a failed request, or an empty S3Error.
S3Error ParseError(std::string_view xml);

// The UploadId of an InitiateMultipartUploadResult; kInternal when missing.
Result<std::string> ParseUploadId(std::string_view xml);

struct CompletedPart {
  int number = 0;
  std::string etag;  // as returned by UploadPart, quotes included
};

// The CompleteMultipartUpload request body.
std::string CompleteMultipartXml(const std::vector<CompletedPart>& parts);

}  // namespace pa::storage::s3
