#include "synth/robots.h"

#include <algorithm>

#include "base/digest.h"
#include "base/json.h"
#include "base/time_format.h"
#include "gateway/api.h"

namespace pa::synth {
namespace {

using gateway::Access;
using gateway::Method;
using gateway::Permission;
using gateway::Request;
using gateway::Response;
using storage::kNull;
using storage::SqlValue;

constexpr size_t kMaxHeartbeatBytes = 64 * 1024;

bool IsRobotId(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == ':' ||
           c == '-';
  });
}

Json ParseOr(const std::string& text, Json fallback) {
  return ParseJson(text, nullptr).value_or(std::move(fallback));
}

// Whether a transaction's definition (the stored, shown form) is assigned to a robot.
bool Assigned(const Json& def, const std::string& location, const Json& labels) {
  if (auto it = def.find("locations"); it != def.end() && it->is_array() && !it->empty()) {
    if (std::find(it->begin(), it->end(), Json(location)) == it->end()) return false;
  }
  if (auto it = def.find("robot_selector"); it != def.end() && it->is_object()) {
    for (const auto& [k, v] : it->items()) {
      auto have = labels.find(k);
      if (have == labels.end() || *have != v) return false;
    }
  }
  return true;
}

// A string field of a JSON object, checked; errors under `path`.
std::optional<std::string> StringField(const Json& body, const char* key, size_t max,
                                       gateway::ValidationErrors& errors) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) {
    errors.Add(key, "must be a string");
    return std::nullopt;
  }
  const auto& s = it->get_ref<const std::string&>();
  if (s.size() > max) errors.Add(key, "must be at most " + std::to_string(max) + " bytes");
  if (!IsValidUtf8(s)) errors.Add(key, "must be valid UTF-8");
  return s;
}

}  // namespace

std::string RobotsApi::StatusOf(int64_t last_heartbeat_ms, int64_t now_ms) const {
  if (last_heartbeat_ms <= 0) return "offline";
  const int64_t silent = now_ms - last_heartbeat_ms;
  if (silent < options_.stale_after.count()) return "online";
  if (silent < options_.offline_after.count()) return "stale";
  return "offline";
}

Status RobotsApi::Register(gateway::Router& r) {
  auto add = [&](Method m, const char* path, Access a, Response (RobotsApi::*h)(Request&)) {
    return r.Add(
        m, path, std::move(a), [this, h](Request& q) { return (this->*h)(q); }, {}, "synth");
  };
  PA_RETURN_IF_ERROR(add(Method::kPost, "/api/v1/robots/register",
                         Access::Robot("", {Permission::kWrite}), &RobotsApi::RegisterRobot));
  PA_RETURN_IF_ERROR(add(Method::kPost, "/api/v1/robots/{id}/heartbeat", Access::Robot("id"),
                         &RobotsApi::Heartbeat));
  PA_RETURN_IF_ERROR(
      add(Method::kGet, "/api/v1/robots/{id}/config", Access::Robot("id"), &RobotsApi::Config));
  return add(Method::kGet, "/api/v1/robots", Access::Read(), &RobotsApi::List);
}

Response RobotsApi::RegisterRobot(Request& req) {
  auto body = gateway::RequireJsonBody(req);
  if (!body.ok()) return body.response;
  gateway::ValidationErrors errors;
  if (!body.body->is_object()) {
    errors.Add("", "the body must be a JSON object");
    return errors.ToResponse();
  }
  const Json& b = *body.body;
  std::string id = req.principal.robot_id;
  const auto given_id = StringField(b, "id", 128, errors);
  if (id.empty()) {
    if (!given_id) errors.Add("id", "is required with a token that is not bound to a robot");
    id = given_id.value_or("");
  } else if (given_id && *given_id != id) {
    return Response::FromStatus(PermissionDeniedError("this token belongs to robot '" + id + "'"));
  }
  if (!id.empty() && !IsRobotId(id)) errors.Add("id", "must be 1..128 of [A-Za-z0-9._:-]");
  const auto name = StringField(b, "name", 256, errors);
  const auto location = StringField(b, "location", 128, errors);
  const auto version = StringField(b, "version", 64, errors);
  Json labels = Json::object();
  if (auto it = b.find("labels"); it != b.end() && !it->is_null()) {
    if (!it->is_object() || it->size() > 64) {
      errors.Add("labels", "must be an object of at most 64 string values");
    } else {
      for (const auto& [k, v] : it->items()) {
        if (!v.is_string() || k.size() > 128 || v.get_ref<const std::string&>().size() > 1024) {
          errors.Add("labels." + k, "must be a string (keys <= 128, values <= 1024 bytes)");
        }
      }
      labels = *it;
    }
  }
  Json host = Json::object();
  if (auto it = b.find("host"); it != b.end() && !it->is_null()) {
    if (!it->is_object() || it->dump().size() > 4096) {
      errors.Add("host", "must be an object of at most 4 KiB");
    } else {
      host = *it;
    }
  }
  if (!errors.empty()) return errors.ToResponse();
  const int64_t now = clock_.NowMs();
  auto st = db_.Exec(
      "INSERT INTO synth_robots (id, name, location, labels, version, host, registered_at, "
      "last_heartbeat_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) ON CONFLICT (id) DO UPDATE SET "
      "name = excluded.name, location = excluded.location, labels = excluded.labels, "
      "version = excluded.version, host = excluded.host, last_heartbeat_at = "
      "excluded.last_heartbeat_at",
      {id, name.value_or(id), location.value_or(""), labels.dump(), version.value_or(""),
       host.dump(), now});
  if (!st.ok()) return Response::FromStatus(st.status());
  return Response::Json(200, {{"id", id},
                              {"heartbeat_interval_s", options_.heartbeat_interval.count() / 1000},
                              {"config_url", "/api/v1/robots/" + id + "/config"},
                              {"heartbeat_url", "/api/v1/robots/" + id + "/heartbeat"}});
}

Response RobotsApi::Heartbeat(Request& req) {
  const std::string id(req.Param("id"));
  Json beat = Json::object();
  if (!req.body.empty()) {
    auto body = gateway::RequireJsonBody(req);
    if (!body.ok()) return body.response;
    if (!body.body->is_object() || req.body.size() > kMaxHeartbeatBytes) {
      gateway::ValidationErrors errors;
      errors.Add("", "the body must be a JSON object of at most 64 KiB");
      return errors.ToResponse();
    }
    beat = std::move(*body.body);
  }
  const int64_t now = clock_.NowMs();
  std::optional<std::string> version;
  if (auto it = beat.find("version"); it != beat.end() && it->is_string()) {
    version = it->get<std::string>().substr(0, 64);
  }
  auto changed = db_.Exec(
      "UPDATE synth_robots SET last_heartbeat_at = $2, heartbeat = $3, "
      "version = COALESCE($4, version) WHERE id = $1",
      {id, now, beat.dump(), version ? SqlValue(*version) : kNull});
  if (!changed.ok()) return Response::FromStatus(changed.status());
  if (*changed == 0) {
    return Response::Error(404, "not_found",
                           "robot '" + id + "' is not registered (POST /api/v1/robots/register)");
  }
  return Response::Json(200, {{"heartbeat_interval_s", options_.heartbeat_interval.count() / 1000},
                              {"config_url", "/api/v1/robots/" + id + "/config"}});
}

Response RobotsApi::Config(Request& req) {
  const std::string id(req.Param("id"));
  auto robot = db_.Query("SELECT location, labels FROM synth_robots WHERE id = $1", {id});
  if (!robot.ok()) return Response::FromStatus(robot.status());
  if (robot->empty()) {
    return Response::Error(404, "not_found",
                           "robot '" + id + "' is not registered (POST /api/v1/robots/register)");
  }
  const std::string location = robot->Text(0, 0);
  const Json labels = ParseOr(robot->Text(0, 1), Json::object());
  auto rows = db_.Query(
      "SELECT id, version, definition, secrets, run_requested_at FROM synth_transactions "
      "WHERE enabled = 1 AND external = 0 AND definition IS NOT NULL ORDER BY id");
  if (!rows.ok()) return Response::FromStatus(rows.status());
  Json transactions = Json::array();
  for (size_t i = 0; i < rows->size(); ++i) {
    Json def = ParseOr(rows->Text(i, 2), Json::object());
    if (!Assigned(def, location, labels)) continue;
    def.erase("secret_names");
    Json secrets = Json::object();
    if (!rows->IsNull(i, 3)) {
      auto plain = box_.Unseal(rows->Text(i, 3));
      if (!plain.ok()) {
        return Response::Error(500, "internal",
                               "the secrets of transaction '" + rows->Text(i, 0) +
                                   "' cannot be decrypted with this server's secret key");
      }
      secrets = ParseOr(*plain, Json::object());
    }
    def["secrets"] = std::move(secrets);
    def["version"] = rows->Int(i, 1);
    def["run_requested_at"] =
        rows->IsNull(i, 4) ? Json(nullptr) : Json(FormatRfc3339Ms(rows->Int(i, 4)));
    transactions.push_back(std::move(def));
  }
  const Json config = {{"robot_id", id},
                       {"location", location},
                       {"heartbeat_interval_s", options_.heartbeat_interval.count() / 1000},
                       {"upload",
                        {{"url", "/api/v1/transactions/results/upload"},
                         {"max_body_bytes", options_.upload_max_bytes},
                         {"max_artifact_bytes", options_.artifact_max_bytes},
                         {"max_results_per_request", 1000}}},
                       {"transactions", std::move(transactions)}};
  std::string text = config.dump();
  const std::string etag = "\"" + Sha256Hex(text).substr(0, 32) + "\"";
  if (auto inm = req.Header("If-None-Match"); inm && (*inm == etag || *inm == "*")) {
    Response r = Response::Empty(304);
    r.headers.Set("ETag", etag);
    return r;
  }
  Response r = Response::Text(200, std::move(text), "application/json");
  r.headers.Set("ETag", etag);
  r.headers.Set("Cache-Control", "no-cache");
  return r;
}

Response RobotsApi::List(Request&) {
  auto rows = db_.Query(
      "SELECT id, name, location, labels, version, host, registered_at, last_heartbeat_at, "
      "last_result_at, last_result_status FROM synth_robots ORDER BY id");
  if (!rows.ok()) return Response::FromStatus(rows.status());
  const int64_t now = clock_.NowMs();
  Json list = Json::array();
  auto time_or_null = [&](size_t i, size_t c) {
    return rows->IsNull(i, c) ? Json(nullptr) : Json(FormatRfc3339Ms(rows->Int(i, c)));
  };
  for (size_t i = 0; i < rows->size(); ++i) {
    const int64_t beat = rows->IsNull(i, 7) ? 0 : rows->Int(i, 7);
    list.push_back(
        {{"id", rows->Text(i, 0)},
         {"name", rows->Text(i, 1)},
         {"location", rows->Text(i, 2)},
         {"labels", ParseOr(rows->Text(i, 3), Json::object())},
         {"version", rows->Text(i, 4)},
         {"host", ParseOr(rows->Text(i, 5), Json::object())},
         {"status", StatusOf(beat, now)},
         {"registered_at", FormatRfc3339Ms(rows->Int(i, 6))},
         {"last_heartbeat_at", time_or_null(i, 7)},
         {"last_result_at", time_or_null(i, 8)},
         {"last_result_status", rows->IsNull(i, 9) ? Json(nullptr) : Json(rows->Text(i, 9))}});
  }
  return Response::Json(200, {{"robots", std::move(list)}});
}

Status RobotsApi::DetectMissedRuns() {
  const int64_t now = clock_.NowMs();
  PA_ASSIGN_OR_RETURN(storage::Rows robots,
                      db_.Query("SELECT location, labels, last_heartbeat_at FROM synth_robots"));
  std::vector<std::pair<std::string, Json>> online;
  for (size_t i = 0; i < robots.size(); ++i) {
    const int64_t beat = robots.IsNull(i, 2) ? 0 : robots.Int(i, 2);
    if (StatusOf(beat, now) == "online") {
      online.emplace_back(robots.Text(i, 0), ParseOr(robots.Text(i, 1), Json::object()));
    }
  }
  PA_ASSIGN_OR_RETURN(storage::Rows txs,
                      db_.Query("SELECT id, definition, interval_s, updated_at, missed_since "
                                "FROM synth_transactions WHERE external = 0"));
  for (size_t i = 0; i < txs.size(); ++i) {
    const std::string id = txs.Text(i, 0);
    const Json def = txs.IsNull(i, 1) ? Json::object() : ParseOr(txs.Text(i, 1), Json::object());
    const bool enabled = def.value("enabled", true);
    const bool assigned = enabled && std::any_of(online.begin(), online.end(), [&](const auto& r) {
                            return Assigned(def, r.first, r.second);
                          });
    bool missed = false;
    int64_t since = 0;
    if (assigned) {
      PA_ASSIGN_OR_RETURN(storage::Rows last, db_.Query("SELECT MAX(started_at) FROM synth_results "
                                                        "WHERE transaction_id = $1",
                                                        {id}));
      int64_t activity = txs.Int(i, 3);
      if (!last.empty() && !last.IsNull(0, 0)) activity = std::max(activity, last.Int(0, 0));
      since = activity + 3 * txs.Int(i, 2) * 1000;
      missed = now >= since;
    }
    const bool marked = !txs.IsNull(i, 4);
    if (missed && !marked) {
      PA_RETURN_IF_ERROR(db_.Exec("UPDATE synth_transactions SET missed_since = $2 "
                                  "WHERE id = $1 AND missed_since IS NULL",
                                  {id, since})
                             .status());
    } else if (!missed && marked) {
      PA_RETURN_IF_ERROR(
          db_.Exec("UPDATE synth_transactions SET missed_since = NULL WHERE id = $1", {id})
              .status());
    }
  }
  return Status::Ok();
}

}  // namespace pa::synth
