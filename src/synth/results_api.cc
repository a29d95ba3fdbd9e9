#include "synth/results_api.h"

#include <charconv>
#include <set>
#include <string>

#include "base/json.h"
#include "base/time_format.h"
#include "gateway/api.h"
#include "synth/result_query.h"

namespace pa::synth {
namespace {

using gateway::Access;
using gateway::Method;
using gateway::Request;
using gateway::Response;
using gateway::ValidationErrors;
using storage::Params;
using storage::Rows;

constexpr int64_t kDefaultLimit = 100;
constexpr int64_t kMaxLimit = 1000;

// A filter given as `name=` (an empty form field) is no filter.
std::optional<std::string> NonEmptyQuery(const Request& req, std::string_view name) {
  std::optional<std::string> v = req.Query(name);
  if (v && v->empty()) return std::nullopt;
  return v;
}

std::optional<int64_t> ReadLimit(const Request& req, ValidationErrors& errors) {
  const std::optional<std::string> text = NonEmptyQuery(req, "limit");
  if (!text) return kDefaultLimit;
  int64_t limit = 0;
  const auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), limit);
  if (ec != std::errc() || ptr != text->data() + text->size() || limit < 1 || limit > kMaxLimit) {
    errors.Add("limit", "must be an integer from 1 to " + std::to_string(kMaxLimit));
    return std::nullopt;
  }
  return limit;
}

// The columns ResultSummary reads, in its order.
constexpr const char* kSummaryColumns =
    "run_id, transaction_id, tx_version, robot_id, location, started_at, finished_at, "
    "duration_ms, status, error_type, error_message, received_at";

Json ResultSummary(const Rows& rows, size_t r) {
  Json out = Json::object();
  out["run_id"] = rows.Text(r, 0);
  out["transaction_id"] = rows.Text(r, 1);
  out["tx_version"] = rows.IsNull(r, 2) ? Json(nullptr) : Json(rows.Int(r, 2));
  out["robot_id"] = rows.Text(r, 3);
  out["location"] = rows.Text(r, 4);
  out["started_at"] = FormatRfc3339Ms(rows.Int(r, 5));
  out["finished_at"] = FormatRfc3339Ms(rows.Int(r, 6));
  out["duration_ms"] = rows.Double(r, 7);
  out["status"] = rows.Text(r, 8);
  if (rows.IsNull(r, 9)) {
    out["error"] = nullptr;
  } else {
    out["error"] = {{"type", rows.Text(r, 9)}, {"message", rows.OptText(r, 10).value_or("")}};
  }
  out["received_at"] = FormatRfc3339Ms(rows.Int(r, 11));
  return out;
}

std::string ArtifactUrl(const std::string& id) { return "/api/v1/artifacts/" + id; }

// A file name safe inside a quoted header parameter on every browser: [A-Za-z0-9._-] kept,
// everything else '_', at most 128 bytes, no leading '.'.
std::string AsciiFilename(std::string_view name) {
  std::string out;
  for (const char c : name.substr(0, 128)) {
    const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '.' || c == '_' || c == '-';
    out += keep ? c : '_';
  }
  while (!out.empty() && out.front() == '.') out.erase(0, 1);
  if (out.find_first_not_of("._-") == std::string::npos) return "artifact";
  return out;
}

// RFC 5987 ext-value of a UTF-8 name (filename*=UTF-8''...), so browsers show "Скриншот.png".
std::string Rfc5987(std::string_view name) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = "UTF-8''";
  for (const char c : name) {
    const auto u = static_cast<unsigned char>(c);
    const bool attr_char = (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') ||
                           (u >= '0' && u <= '9') ||
                           std::string_view("!#$&+-.^_`|~").find(c) != std::string_view::npos;
    if (attr_char) {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    }
  }
  return out;
}

std::string ContentDisposition(std::string_view filename) {
  const std::string ascii = AsciiFilename(filename);
  std::string header = "inline; filename=\"" + ascii + "\"";
  if (ascii != filename && !filename.empty() && filename.size() <= 256 && IsValidUtf8(filename)) {
    header += "; filename*=" + Rfc5987(filename);
  }
  return header;
}

}  // namespace

Status ResultsApi::Register(gateway::Router& router) {
  auto add = [&](const char* pattern, Response (ResultsApi::*handler)(Request&)) {
    return router.Add(
        Method::kGet, pattern, Access::Read(),
        [this, handler](Request& req) { return (this->*handler)(req); }, {}, "synth");
  };
  PA_RETURN_IF_ERROR(add("/api/v1/transactions/{id}/results", &ResultsApi::ListResults));
  PA_RETURN_IF_ERROR(add("/api/v1/transactions/{id}/stats", &ResultsApi::Stats));
  PA_RETURN_IF_ERROR(add("/api/v1/results/{run_id}", &ResultsApi::GetResult));
  PA_RETURN_IF_ERROR(add("/api/v1/artifacts/{id}", &ResultsApi::GetArtifact));
  PA_RETURN_IF_ERROR(add("/api/v1/overview", &ResultsApi::Overview));
  return Status::Ok();
}

std::optional<Response> ResultsApi::RequireTransaction(std::string_view id) {
  auto rows = db_.Query("SELECT 1 FROM synth_transactions WHERE id = $1", {std::string(id)});
  if (!rows.ok()) return Response::FromStatus(rows.status());
  if (rows->empty()) {
    return Response::Error(404, "not_found", "there is no transaction '" + std::string(id) + "'");
  }
  return std::nullopt;
}

Response ResultsApi::ListResults(Request& req) {
  const std::string id(req.Param("id"));
  ValidationErrors errors;
  const std::optional<TimeRange> range = ReadTimeRange(req, clock_.NowMs(), errors);
  const std::optional<std::string> status = NonEmptyQuery(req, "status");
  if (status && *status != "success" && *status != "error") {
    errors.Add("status", "must be 'success' or 'error'");
  }
  const std::optional<std::string> robot = NonEmptyQuery(req, "robot");
  const std::optional<std::string> location = NonEmptyQuery(req, "location");
  const std::optional<int64_t> limit = ReadLimit(req, errors);
  std::optional<ResultCursor> cursor;
  if (const std::optional<std::string> text = NonEmptyQuery(req, "cursor")) {
    cursor = DecodeCursor(*text);
    if (!cursor) errors.Add("cursor", "is not a cursor this API returned");
  }
  if (!errors.empty()) return errors.ToResponse();
  if (auto missing = RequireTransaction(id)) return *missing;

  // At most 16 statement texts (the filters present), so the statement caches stay small.
  std::string sql = std::string("SELECT ") + kSummaryColumns +
                    " FROM synth_results WHERE transaction_id = $1 AND started_at >= $2 AND "
                    "started_at <= $3";
  Params params{id, range->from, range->to};
  int n = 3;
  auto param = [&](storage::SqlValue v) {
    params.Add(std::move(v));
    return "$" + std::to_string(++n);
  };
  if (status) sql += " AND status = " + param(*status);
  if (robot) sql += " AND robot_id = " + param(*robot);
  if (location) sql += " AND location = " + param(*location);
  if (cursor) {
    const std::string at = param(cursor->started_at);
    const std::string run = param(cursor->run_id);
    sql += " AND (started_at < " + at + " OR (started_at = " + at + " AND run_id < " + run + "))";
  }
  sql += " ORDER BY started_at DESC, run_id DESC LIMIT " + param(*limit + 1);

  auto rows = db_.Query(sql, params);
  if (!rows.ok()) return Response::FromStatus(rows.status());
  const size_t page = std::min(rows->size(), static_cast<size_t>(*limit));
  Json results = Json::array();
  for (size_t r = 0; r < page; ++r) results.push_back(ResultSummary(*rows, r));
  Json next = nullptr;
  if (rows->size() > page) next = EncodeCursor({rows->Int(page - 1, 5), rows->Text(page - 1, 0)});
  Json out = Json::object();
  out["results"] = std::move(results);
  out["next_cursor"] = std::move(next);
  return Response::Json(200, out);
}

Response ResultsApi::GetResult(Request& req) {
  const std::string run_id(req.Param("run_id"));
  auto rows = db_.Query(
      "SELECT tx_version, location, received_at, doc FROM synth_results WHERE run_id = $1",
      {run_id});
  if (!rows.ok()) return Response::FromStatus(rows.status());
  if (rows->empty())
    return Response::Error(404, "not_found", "there is no result '" + run_id + "'");
  std::string parse_error;
  std::optional<Json> doc = ParseJson(rows->Text(0, 3), &parse_error);
  if (!doc || !doc->is_object()) {
    return Response::Error(500, "internal",
                           "the stored document of result '" + run_id + "' is not a JSON object");
  }
  auto artifacts = db_.Query(
      "SELECT id, filename, content_type, size, step_index FROM synth_artifacts "
      "WHERE run_id = $1 ORDER BY id",
      {run_id});
  if (!artifacts.ok()) return Response::FromStatus(artifacts.status());

  Json list = Json::array();
  std::set<std::string> ids;
  for (size_t r = 0; r < artifacts->size(); ++r) {
    const std::string& id = artifacts->Text(r, 0);
    ids.insert(id);
    Json a = Json::object();
    a["id"] = id;
    a["filename"] = artifacts->Text(r, 1);
    a["content_type"] = artifacts->Text(r, 2);
    a["size"] = artifacts->Int(r, 3);
    a["step_index"] = artifacts->IsNull(r, 4) ? Json(nullptr) : Json(artifacts->Int(r, 4));
    a["url"] = ArtifactUrl(id);
    list.push_back(std::move(a));
  }
  Json& out = *doc;
  out["received_at"] = FormatRfc3339Ms(rows->Int(0, 2));
  out["tx_version"] = rows->IsNull(0, 0) ? Json(nullptr) : Json(rows->Int(0, 0));
  out["location"] = rows->Text(0, 1);
  if (auto steps = out.find("steps"); steps != out.end() && steps->is_array()) {
    for (Json& step : *steps) {
      if (!step.is_object()) continue;
      const auto shot = step.find("screenshot");
      if (shot == step.end() || !shot->is_string()) continue;
      const std::string id = shot->get<std::string>();
      // Only a file of this run: a JSON upload may name a screenshot that was never sent.
      if (ids.contains(id)) step["screenshot_url"] = ArtifactUrl(id);
    }
  }
  out["artifacts"] = std::move(list);
  return Response::Json(200, out);
}

Response ResultsApi::GetArtifact(Request& req) {
  const std::string id(req.Param("id"));
  auto rows = db_.Query(
      "SELECT filename, content_type, storage_key FROM synth_artifacts WHERE id = $1", {id});
  if (!rows.ok()) return Response::FromStatus(rows.status());
  if (rows->empty()) return Response::Error(404, "not_found", "there is no artifact '" + id + "'");
  auto bytes = artifacts_.Get(rows->Text(0, 2));
  if (!bytes.ok()) {
    if (bytes.status().code() == StatusCode::kNotFound) {
      return Response::Error(404, "not_found",
                             "the file of artifact '" + id + "' is no longer stored");
    }
    return Response::FromStatus(bytes.status());
  }
  Response resp;
  resp.status = 200;
  resp.content_type = rows->Text(0, 1);
  resp.body = std::move(bytes).value();
  resp.headers.Set("Content-Disposition", ContentDisposition(rows->Text(0, 0)));
  resp.headers.Set("X-Content-Type-Options", "nosniff");
  // Served from our origin: even a file a browser would render must not run as a page of it.
  resp.headers.Set("Content-Security-Policy", "sandbox");
  resp.headers.Set("Cache-Control", "private, max-age=86400");
  return resp;
}

}  // namespace pa::synth
