// The synth component's tables (transactions and their versions, robots, results, steps,
// artifacts, the derived-metric outbox and its counters). Applied by `primoart migrate` and at
// start-up, like every component's schema (storage/migrations.h).
#pragma once

#include "storage/relational_store.h"

namespace pa::synth {

storage::Schema SynthSchema();

}  // namespace pa::synth
