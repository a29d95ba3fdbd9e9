#include "robot/agent/transaction_run.h"

#include "base/time_format.h"
#include "robot/net_steps.h"

namespace pa::robot {
namespace {

void SetIf(Json& obj, const char* key, const std::optional<double>& v) {
  if (v) obj[key] = *v;
}

}  // namespace

Json ResultStepToJson(const synth::ResultStep& s) {
  Json j = {{"index", s.index},
            {"name", s.name},
            {"started_at", FormatRfc3339Ms(s.started_at_ms)},
            {"finished_at", FormatRfc3339Ms(s.finished_at_ms)},
            {"duration_ms", s.duration_ms},
            {"status", std::string(synth::ToString(s.status))}};
  if (s.error_message) j["error_message"] = *s.error_message;
  Json t = Json::object();
  SetIf(t, "dns_ms", s.timings.dns_ms);
  SetIf(t, "connect_ms", s.timings.connect_ms);
  SetIf(t, "tls_ms", s.timings.tls_ms);
  SetIf(t, "ttfb_ms", s.timings.ttfb_ms);
  SetIf(t, "download_ms", s.timings.download_ms);
  SetIf(t, "dom_content_loaded_ms", s.timings.dom_content_loaded_ms);
  SetIf(t, "load_ms", s.timings.load_ms);
  SetIf(t, "lcp_ms", s.timings.lcp_ms);
  SetIf(t, "cls", s.timings.cls);
  SetIf(t, "inp_ms", s.timings.inp_ms);
  if (!t.empty()) j["timings"] = std::move(t);
  if (s.http) {
    Json h = Json::object();
    if (s.http->method) h["method"] = *s.http->method;
    if (s.http->url) h["url"] = *s.http->url;
    if (s.http->status_code) h["status_code"] = *s.http->status_code;
    if (s.http->response_bytes) h["response_bytes"] = *s.http->response_bytes;
    j["http"] = std::move(h);
  }
  if (s.screenshot) j["screenshot"] = *s.screenshot;
  if (!s.assertions.empty()) {
    Json a = Json::array();
    for (const synth::StepAssertion& x : s.assertions) {
      a.push_back({{"type", x.type}, {"passed", x.passed}, {"message", x.message}});
    }
    j["assertions"] = std::move(a);
  }
  if (s.details.is_object() && !s.details.empty()) j["details"] = s.details;
  return j;
}

int RetryDelayS(const synth::RetryPolicy& policy, int n) {
  if (n < 1) return 0;
  switch (policy.backoff) {
    case synth::Backoff::kFixed:
      return policy.delay_s;
    case synth::Backoff::kLinear:
      return policy.delay_s * n;
    case synth::Backoff::kExponential:
      return policy.delay_s * (1 << std::min(n - 1, 16));
  }
  return policy.delay_s;
}

TransactionRunner::TransactionRunner(BrowserStepFn browser, Clock* clock)
    : browser_(std::move(browser)), clock_(clock) {}

RunOutput TransactionRunner::Run(const RunInput& in, const std::atomic<bool>* cancel) {
  const synth::TransactionDefinition& def = *in.def;
  RunContext ctx(def.variables, def.secrets, clock_);
  StepOptions options = in.step_options;
  options.clock = clock_;
  options.deadline = std::min(
      options.deadline, std::chrono::steady_clock::now() + std::chrono::seconds(def.timeout_s));
  RunOutput out;
  out.run_id = in.run_id;
  const int64_t started = clock_->NowMs();
  Json steps = Json::array();
  std::optional<synth::ResultError> error;
  bool stop = false;
  for (size_t i = 0; i < def.steps.size(); ++i) {
    const synth::Step& step = def.steps[i];
    const auto index = static_cast<int64_t>(i);
    if (stop) {
      steps.push_back(ResultStepToJson(SkippedStep(step, index, clock_->NowMs())));
      continue;
    }
    StepRun run;
    if (cancel && cancel->load()) {
      run.result = SkippedStep(step, index, clock_->NowMs());
      run.result.status = synth::StepStatus::kError;
      run.result.error_message = "the robot is shutting down; the run was cancelled";
      run.error_type = StepErrorType::kOther;
    } else if (std::chrono::steady_clock::now() >= options.deadline) {
      run.result = SkippedStep(step, index, clock_->NowMs());
      run.result.status = synth::StepStatus::kError;
      run.result.error_message =
          "the run's timeout (" + std::to_string(def.timeout_s) + " s) passed before this step";
      run.error_type = StepErrorType::kTimeout;
    } else if (std::holds_alternative<synth::BrowserStep>(step.kind)) {
      if (browser_) {
        run = browser_(step, index, ctx, options, &out.artifacts);
      } else {
        run.result = SkippedStep(step, index, clock_->NowMs());
        run.result.status = synth::StepStatus::kError;
        run.result.error_message = "this robot has no browser (chromium) to run browser steps";
        run.error_type = StepErrorType::kOther;
      }
    } else {
      run = RunStep(step, index, ctx, options, http_);
    }
    if (run.error_type) {
      if (!error) error = ToResultError(run);
      if (!step.continue_on_failure) stop = true;
    }
    steps.push_back(ResultStepToJson(run.result));
  }
  const int64_t finished = std::max(clock_->NowMs(), started);
  out.success = !error;
  Json r = {{"run_id", in.run_id},
            {"transaction_id", def.id},
            {"transaction_name", def.name},
            {"robot_id", in.robot_id},
            {"started_at", FormatRfc3339Ms(started)},
            {"finished_at", FormatRfc3339Ms(finished)},
            {"duration_ms", finished - started},
            {"status", out.success ? "success" : "error"},
            {"steps", std::move(steps)}};
  if (in.version) r["transaction_version"] = *in.version;
  if (!in.location.empty()) r["location"] = in.location;
  if (error) {
    Json e = {{"type", error->type}, {"message", ctx.Mask(error->message)}};
    if (error->step_index) e["step_index"] = *error->step_index;
    r["error"] = std::move(e);
  }
  Json attributes = {{"robot", "primoart-robot"}};
  if (def.application) attributes["application"] = ctx.Mask(*def.application);
  if (in.attempt > 1) attributes["attempt"] = std::to_string(in.attempt);
  r["attributes"] = std::move(attributes);
  out.result = std::move(r);
  return out;
}

}  // namespace pa::robot
