// Endpoints: the URLs of every request the VictoriaMetrics backend makes, for single-node and
// cluster VictoriaMetrics (see vm_store.h for the URL forms).
//
//   single-node  write  <insert>/api/v1/write
//                query  <select>/api/v1/query, …/query_range
//   cluster      write  <insert>/insert/<tenant>/prometheus/api/v1/write
//                query  <select>/select/<tenant>/prometheus/api/v1/query, …
//   both         health <insert>/health (and <select>/health when it differs)
//                flush  <flush url>/internal/force_flush for each flush URL (single-node:
//                       <insert> unless given)
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "storage/victoriametrics/vm_store.h"

namespace pa::storage::victoriametrics {

struct Endpoints {
  std::string write;
  std::string
      api;  // prefix of /query, /query_range, …: <select>[/select/<tenant>/prometheus]/api/v1
  std::vector<std::string> health;
  std::vector<std::string> flush;
  bool cluster = false;
};

// Checks the base URLs (http or https, a host, no query, no credentials) and the tenant
// ("accountID[:projectID]", each a 32-bit unsigned number); kInvalidArgument says which is wrong.
Result<Endpoints> MakeEndpoints(const Options& options);

}  // namespace pa::storage::victoriametrics
