#include "synth/synth_role.h"

#include "base/logging.h"
#include "core/job_scheduler.h"
#include "gateway/router.h"
#include "synth/metric_export.h"
#include "synth/result_writer.h"
#include "synth/results_api.h"
#include "synth/retention.h"
#include "synth/robots.h"
#include "synth/secret_box.h"
#include "synth/transactions.h"
#include "synth/upload.h"

namespace pa::synth {
namespace {

using gateway::Access;
using gateway::Method;
using gateway::Permission;

class SynthRole final : public core::Module {
 public:
  SynthRole(core::Services& s, SecretBox box)
      : s_(s),
        box_(std::move(box)),
        writer_(*s.database, *s.clock, *s.metrics, {}),
        exporter_(*s.database, *s.metric_store, *s.clock, *s.metrics),
        upload_(writer_, *s.artifacts, *s.database, *s.clock,
                {.artifact_max_bytes = s.cfg().synth_artifact_max_bytes}),
        transactions_(*s.database, *s.artifacts, *s.clock, box_),
        robots_(*s.database, *s.clock, box_,
                {.stale_after = s.cfg().synth_robot_stale_after,
                 .offline_after = s.cfg().synth_robot_offline_after,
                 .heartbeat_interval = s.cfg().synth_heartbeat_interval,
                 .upload_max_bytes = s.cfg().synth_upload_max_bytes,
                 .artifact_max_bytes = s.cfg().synth_artifact_max_bytes}),
        results_(*s.database, *s.artifacts, *s.clock) {
    writer_.set_on_commit(
        [this](std::vector<RunRecord> records) { exporter_.Enqueue(std::move(records)); });
  }

  Status Init() {
    PA_RETURN_IF_ERROR(s_.router->AddAsync(
        Method::kPost, "/api/v1/transactions/results/upload",
        Access::Robot("", {Permission::kWrite}),
        [this](gateway::Request& req, gateway::Responder respond) { upload_.Handle(req, respond); },
        {.max_body_bytes = s_.cfg().synth_upload_max_bytes}, "synth"));
    PA_RETURN_IF_ERROR(transactions_.Register(*s_.router));
    PA_RETURN_IF_ERROR(robots_.Register(*s_.router));
    PA_RETURN_IF_ERROR(results_.Register(*s_.router));
    s_.jobs->Add({.name = "synth.missed_runs",
                  .interval = std::chrono::seconds(30),
                  .initial_delay = std::chrono::seconds(30),
                  .run = [this] { return robots_.DetectMissedRuns(); }});
    s_.jobs->Add({.name = "synth.retention",
                  .interval = std::chrono::hours(1),
                  .initial_delay = std::chrono::minutes(1),
                  .run = [this] {
                    return DeleteResultsBefore(
                        *s_.database, *s_.artifacts,
                        s_.clock->NowMs() - s_.cfg().synth_result_retention.count());
                  }});
    return Status::Ok();
  }

  Status Start() override {
    // Metrics of results stored before a crash and not yet exported go first.
    PA_RETURN_IF_ERROR(exporter_.Init());
    exporter_.Start();
    writer_.Start();
    return Status::Ok();
  }

  void Stop() override {
    writer_.Stop();    // commits what the drained gateway handed over
    exporter_.Stop();  // and exports what it can of it
  }

 private:
  core::Services& s_;
  SecretBox box_;
  ResultWriter writer_;
  MetricExporter exporter_;
  UploadHandler upload_;
  TransactionsApi transactions_;
  RobotsApi robots_;
  ResultsApi results_;
};

}  // namespace

Result<std::unique_ptr<core::Module>> NewSynthRole(core::Services& services) {
  PA_ASSIGN_OR_RETURN(SecretBox box,
                      SecretBox::Open(services.cfg().secret_key, services.cfg().data_dir));
  auto role = std::make_unique<SynthRole>(services, std::move(box));
  PA_RETURN_IF_ERROR(role->Init());
  return std::unique_ptr<core::Module>(std::move(role));
}

}  // namespace pa::synth
