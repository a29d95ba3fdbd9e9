#include "core/core_role.h"

#include <unistd.h>

#include "base/logging.h"
#include "base/time_format.h"
#include "core/instances.h"
#include "core/job_scheduler.h"
#include "core/module_manager.h"
#include "core/settings.h"
#include "gateway/api.h"
#include "gateway/router.h"

namespace pa::core {
namespace {

using gateway::Access;
using gateway::Method;
using gateway::Request;
using gateway::Response;

std::string HostName() {
  char buf[256] = {0};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "localhost";
  return buf;
}

Json SettingJson(const Setting& s) {
  return {{"key", s.key},
          {"value", s.value},
          {"version", s.version},
          {"updated_at", FormatRfc3339Ms(s.updated_at_ms)},
          {"updated_by", s.updated_by}};
}

std::string Who(const Request& req) {
  return req.principal.authenticated() ? req.principal.name : "anonymous";
}

class CoreRole final : public Module {
 public:
  explicit CoreRole(Services& s)
      : s_(s),
        settings_(*s.database, *s.clock),
        instances_(*s.database, *s.clock, s.cfg().core_heartbeat_interval) {}

  Status RegisterRoutes() {
    auto& r = *s_.router;
    PA_RETURN_IF_ERROR(r.Add(
        Method::kGet, "/api/v1/status", Access::Read(), [this](Request&) { return GetStatus(); },
        {}, "core"));
    PA_RETURN_IF_ERROR(r.Add(
        Method::kGet, "/api/v1/settings", Access::Read(),
        [this](Request&) { return ListSettings(); }, {}, "core"));
    PA_RETURN_IF_ERROR(r.Add(
        Method::kGet, "/api/v1/settings/{key}", Access::Read(),
        [this](Request& q) { return GetSetting(q); }, {}, "core"));
    PA_RETURN_IF_ERROR(r.Add(
        Method::kPut, "/api/v1/settings/{key}", Access::Admin(),
        [this](Request& q) { return PutSetting(q); }, {.max_body_bytes = 2 * kMaxSettingBytes},
        "core"));
    PA_RETURN_IF_ERROR(r.Add(
        Method::kDelete, "/api/v1/settings/{key}", Access::Admin(),
        [this](Request& q) { return DeleteSetting(q); }, {}, "core"));
    s_.jobs->Add({.name = "core.heartbeat",
                  .interval = s_.cfg().core_heartbeat_interval,
                  .initial_delay = s_.cfg().core_heartbeat_interval,
                  .run = [this] { return Beat(); }});
    return Status::Ok();
  }

  Status Start() override {
    self_ = {s_.cfg().instance_id,
             HostName(),
             static_cast<int64_t>(getpid()),
             s_.modules->RunningRoles(),
             s_.cfg().listen,
             s_.build.version,
             std::chrono::duration_cast<std::chrono::milliseconds>(s_.started_at.time_since_epoch())
                 .count(),
             0};
    return instances_.Register(self_).WithContext("instance registry");
  }

  void Stop() override {
    if (self_.instance_id.empty()) return;
    Status st = instances_.Remove(self_.instance_id);
    if (!st.ok()) log::Get("core")->warn("could not leave the instance registry: {}", st.message());
  }

 private:
  Status Beat() {
    Status st = instances_.Heartbeat(self_.instance_id);
    // Someone removed our row (or the database was restored): register again.
    if (st.code() == StatusCode::kNotFound) return instances_.Register(self_);
    return st;
  }

  Response GetStatus() {
    const int64_t now = s_.clock->NowMs();
    const int64_t started =
        std::chrono::duration_cast<std::chrono::milliseconds>(s_.started_at.time_since_epoch())
            .count();
    // One health check per module: stores are pinged once and reported in both lists.
    Json modules = Json::array();
    Json stores = Json::array();
    for (const auto& m : s_.modules->States()) {
      const char* kind = m.kind == ModuleKind::kRole ? "role" : "internal";
      modules.push_back({{"name", m.name},
                         {"kind", kind},
                         {"healthy", m.health.ok},
                         {"message", m.health.message}});
      if (!m.store) continue;
      stores.push_back({{"name", m.name},
                        {"backend", m.store->backend},
                        {"location", m.store->location},
                        {"healthy", m.health.ok},
                        {"message", m.health.ok ? "" : m.health.message}});
    }
    Json instances = Json::array();
    if (auto list = instances_.List(); list.ok()) {
      for (const auto& i : *list) {
        instances.push_back({{"instance_id", i.instance_id},
                             {"hostname", i.hostname},
                             {"pid", i.pid},
                             {"roles", i.roles},
                             {"listen", i.listen},
                             {"version", i.version},
                             {"started_at", FormatRfc3339Ms(i.started_at_ms)},
                             {"heartbeat_at", FormatRfc3339Ms(i.heartbeat_at_ms)},
                             {"state", instances_.StateOf(i)}});
      }
    }
    return Response::Json(200, {{"version", s_.build.version},
                                {"commit", s_.build.commit},
                                {"instance_id", s_.cfg().instance_id},
                                {"started_at", FormatRfc3339Ms(started)},
                                {"uptime_seconds", static_cast<double>(now - started) / 1000.0},
                                {"roles", s_.modules->RunningRoles()},
                                {"modules", modules},
                                {"stores", stores},
                                {"instances", instances}});
  }

  Response ListSettings() {
    auto list = settings_.List();
    if (!list.ok()) return Response::FromStatus(list.status());
    Json items = Json::array();
    for (const auto& s : *list) items.push_back(SettingJson(s));
    return Response::Json(200, {{"settings", items}});
  }

  Response GetSetting(Request& req) {
    const std::string key(req.Param("key"));
    auto s = settings_.Get(key);
    if (!s.ok()) return Response::FromStatus(s.status());
    Response resp = Response::Json(200, SettingJson(*s));
    resp.headers.Set("ETag", "\"" + std::to_string(s->version) + "\"");
    return resp;
  }

  Response PutSetting(Request& req) {
    const std::string key(req.Param("key"));
    gateway::ValidationErrors errors;
    if (auto st = SettingsRepository::ValidateKey(key); !st.ok()) errors.Add("key", st.message());
    auto body = gateway::RequireJsonBody(req);
    if (!body.ok()) return body.response;
    if (!body.body->is_object()) {
      errors.Add("", "body must be an object {\"value\": ...}");
    } else {
      if (!body.body->contains("value")) errors.Add("value", "is required");
      for (const auto& [field, v] : body.body->items()) {
        if (field != "value") errors.Add(field, "unknown field");
      }
    }
    auto expected = gateway::IfMatchVersion(req);
    if (!expected.ok()) errors.Add("If-Match", expected.status().message());
    if (!errors.empty()) return errors.ToResponse();
    const Json& value = (*body.body)["value"];
    if (value.dump().size() > kMaxSettingBytes) {
      errors.Add("value", "larger than " + std::to_string(kMaxSettingBytes) + " bytes");
      return errors.ToResponse();
    }
    auto put = settings_.Put(key, value, *expected, Who(req));
    if (!put.ok()) {
      if (put.status().code() == StatusCode::kFailedPrecondition) {
        return Response::Error(412, "precondition_failed", put.status().message());
      }
      return Response::FromStatus(put.status());
    }
    Response resp = Response::Json(put->second ? 201 : 200, SettingJson(put->first));
    resp.headers.Set("ETag", "\"" + std::to_string(put->first.version) + "\"");
    return resp;
  }

  Response DeleteSetting(Request& req) {
    auto expected = gateway::IfMatchVersion(req);
    if (!expected.ok()) return Response::FromStatus(expected.status());
    Status st = settings_.Delete(std::string(req.Param("key")), *expected);
    if (st.code() == StatusCode::kFailedPrecondition) {
      return Response::Error(412, "precondition_failed", st.message());
    }
    if (!st.ok()) return Response::FromStatus(st);
    return Response::Empty(204);
  }

  Services& s_;
  SettingsRepository settings_;
  InstanceRegistry instances_;
  Instance self_;
};

}  // namespace

Result<std::unique_ptr<Module>> NewCoreRole(Services& services) {
  auto role = std::make_unique<CoreRole>(services);
  PA_RETURN_IF_ERROR(role->RegisterRoutes());
  return std::unique_ptr<Module>(std::move(role));
}

}  // namespace pa::core
