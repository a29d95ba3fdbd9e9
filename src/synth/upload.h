// The result upload, POST /api/v1/transactions/results/upload, exactly as
// ../shared/spec/transaction-result.md fixes it: JSON (one result or an array of 1..1000) or
// multipart/form-data (a `result` part and `artifact` file parts), gzip bodies (inflated by the
// gateway under the route's limit), every validation problem listed with its path (422), robot
// tokens limited to their own robot_id (403), artifacts stored before the results and linked by
// id, then the results handed to the ResultWriter; the 200 comes once they are durable.
//
// Nothing of a refused request is stored: validation happens before any write, and artifacts
// stored for a request whose results then fail (or turn out duplicates) are deleted again.
//
// Thread-safety: Handle may be called from any number of server threads at once.
#pragma once

#include <cstdint>

#include "base/clock.h"
#include "gateway/router.h"
#include "storage/artifact_store.h"
#include "storage/relational_store.h"
#include "synth/result_writer.h"

namespace pa::synth {

class UploadHandler {
 public:
  struct Options {
    int64_t artifact_max_bytes = 10 << 20;
  };
  UploadHandler(ResultWriter& writer, storage::ArtifactStore& artifacts,
                storage::RelationalStore& db, Clock& clock, Options options)
      : writer_(writer), artifacts_(artifacts), db_(db), clock_(clock), options_(options) {}

  void Handle(gateway::Request& req, const gateway::Responder& respond);

 private:
  ResultWriter& writer_;
  storage::ArtifactStore& artifacts_;
  storage::RelationalStore& db_;
  Clock& clock_;
  Options options_;
};

// The content types accepted for artifacts (screenshots, HAR files, logs); others are refused
// with 422 so that nothing served back from our origin can be active content.
bool IsAllowedArtifactType(std::string_view content_type);

}  // namespace pa::synth
