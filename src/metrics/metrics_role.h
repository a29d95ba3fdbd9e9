// The `metrics` role: PrimoART's metric store over HTTP.
//
//   GET|POST /prometheus/api/v1/query          PromQL at an instant            (read)
//   GET|POST /prometheus/api/v1/query_range    PromQL over a range             (read)
//   GET|POST /prometheus/api/v1/series         series matching match[]         (read)
//   GET|POST /prometheus/api/v1/labels         label names                     (read)
//   GET      /prometheus/api/v1/label/{name}/values                            (read)
//   GET      /prometheus/api/v1/status/buildinfo, /metadata, query_exemplars   (read)
//   POST     /api/v1/import/prometheus         text exposition in              (ingest)
// Shapes and errors are Prometheus's (prom_api.h), so Grafana can use
// http://<primoart>/prometheus as a Prometheus data source with a Bearer token of scope read.
// The store itself is the internal module `metricstore` (embedded engine or VictoriaMetrics).
#pragma once

#include <memory>

#include "base/status.h"
#include "core/module.h"
#include "core/services.h"

namespace pa::metrics {

Result<std::unique_ptr<core::Module>> NewMetricsRole(core::Services& services);

}  // namespace pa::metrics
