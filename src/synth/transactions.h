// TransactionsApi: the journeys robots replay, in the format of
// ../shared/spec/transaction-definition.md (JSON or YAML bodies).
//   GET    /api/v1/transactions               every transaction (read)
//   POST   /api/v1/transactions               create (write); 409 when the id exists (an
//                                             `external` one, created by uploads, is taken over)
//   POST   /api/v1/transactions/validate      check a definition without saving (write)
//   GET    /api/v1/transactions/{id}          the definition and its version (read)
//   PUT    /api/v1/transactions/{id}          replace it: a new version (write; If-Match: <version>
//                                             optional, 412 when stale)
//   DELETE /api/v1/transactions/{id}          with its results and artifacts (write)
//   GET    /api/v1/transactions/{id}/versions every version (read)
//   POST   /api/v1/transactions/{id}/run      ask for a run now: robots get it with their next
//                                             configuration poll (write)
// Secrets are write-only: sealed with the SecretBox in the database, never in an answer or a log
// (answers name them in `secret_names`), delivered only to robots (robots.h). A PUT without
// `secrets` keeps the stored ones; with `secrets`, the object given replaces them all.
// Validation errors are 422 with the spec's paths (steps[2].assert[0].in).
// Thread-safety: handlers run concurrently; every change is one database transaction.
#pragma once

#include <string>

#include "base/clock.h"
#include "base/status.h"
#include "gateway/router.h"
#include "storage/artifact_store.h"
#include "storage/relational_store.h"
#include "synth/secret_box.h"

namespace pa::synth {

class TransactionsApi {
 public:
  TransactionsApi(storage::RelationalStore& db, storage::ArtifactStore& artifacts, Clock& clock,
                  const SecretBox& box)
      : db_(db), artifacts_(artifacts), clock_(clock), box_(box) {}
  Status Register(gateway::Router& router);

 private:
  gateway::Response List(gateway::Request& req);
  gateway::Response Create(gateway::Request& req);
  gateway::Response Validate(gateway::Request& req);
  gateway::Response Get(gateway::Request& req);
  gateway::Response Put(gateway::Request& req);
  gateway::Response Delete(gateway::Request& req);
  gateway::Response Versions(gateway::Request& req);
  gateway::Response Run(gateway::Request& req);

  // Stores `def` as version `version` of its transaction inside `tx` (insert or update).
  Status Store(storage::Transaction& tx, const Json& shown, const std::string& sealed_secrets,
               int64_t version, bool insert, const std::string& who);
  Json Describe(const storage::Rows& rows, size_t i) const;
  gateway::Response Load(const std::string& id, int status);

  storage::RelationalStore& db_;
  storage::ArtifactStore& artifacts_;
  Clock& clock_;
  const SecretBox& box_;
};

}  // namespace pa::synth
