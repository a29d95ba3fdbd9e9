// Deleting synthetic results: by age (the retention job) and all of one transaction (when the
// transaction is deleted). A result goes with its steps and artifacts.
//
//   PA_RETURN_IF_ERROR(DeleteResultsBefore(db, artifacts, now_ms - retention_ms));
//
// Order, so that nothing is left unreachable: per batch, the artifact objects are deleted first,
// then the rows (artifacts, steps, results) in one database transaction. A failed object delete
// stops there with its error and keeps every row of the batch, so the next run finds the same
// results again and retries (an object already deleted is kNotFound then, which counts as done).
// An object whose row is kept can be missing meanwhile: its download answers 404.
//
// Thread-safety: may run while results are uploaded and read; two concurrent runs over the same
// results only repeat each other's deletes.
#pragma once

#include <cstdint>
#include <string_view>

#include "base/status.h"
#include "storage/artifact_store.h"
#include "storage/relational_store.h"

namespace pa::synth {

// Deletes the results with started_at < cutoff_ms, `batch` results per database transaction
// (batch >= 1, else kInvalidArgument). Two kinds of results are kept whatever their age, because
// the derived metrics rely on synth_results.seq (metric_export.h): the one with the highest seq
// (the writer numbers new results after it) and those not yet exported to the metric store
// (seq > synth_metric_export.exported_seq, when the exporter has a cursor). `deleted`, when not
// null, receives the number of results deleted (also when an error stops the run).
Status DeleteResultsBefore(storage::RelationalStore& db, storage::ArtifactStore& artifacts,
                           int64_t cutoff_ms, int64_t batch = 1000, int64_t* deleted = nullptr);

// Deletes every result of `transaction_id` with its steps and artifacts, in batches as above.
// The transaction's own rows (definition, versions) are the caller's.
Status DeleteTransactionData(storage::RelationalStore& db, storage::ArtifactStore& artifacts,
                             std::string_view transaction_id, int64_t batch = 1000,
                             int64_t* deleted = nullptr);

}  // namespace pa::synth
