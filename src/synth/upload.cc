#include "synth/upload.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <memory>

#include "base/json.h"
#include "base/logging.h"
#include "base/random.h"
#include "base/strings.h"
#include "base/time_format.h"
#include "gateway/api.h"
#include "gateway/multipart.h"
#include "synth/api_errors.h"

namespace pa::synth {
namespace {

using gateway::Request;
using gateway::Response;

constexpr size_t kMaxResultsPerRequest = 1000;

std::string Extension(std::string_view media_type) {
  if (media_type == "image/png") return ".png";
  if (media_type == "image/jpeg") return ".jpg";
  if (media_type == "image/webp") return ".webp";
  if (media_type == "application/har+json") return ".har";
  if (media_type == "application/json") return ".json";
  return ".txt";
}

Response Retryable(int status, const Status& st, int retry_after_s) {
  Response r =
      Response::Error(status, status == 429 ? "too_many_requests" : "unavailable", st.message());
  r.headers.Set("Retry-After", std::to_string(retry_after_s));
  return r;
}

// One artifact part, and what became of it.
struct Artifact {
  const gateway::MultipartPart* part;
  StoredArtifact stored;
  bool used = false;
};

// Deletes artifacts stored for results that were not stored after all.
void DeleteArtifacts(storage::ArtifactStore& store, const std::vector<StoredArtifact>& list) {
  for (const StoredArtifact& a : list) {
    if (Status st = store.Delete(a.storage_key); !st.ok()) {
      log::Get("synth")->warn("could not delete the unused artifact {}: {}", a.storage_key,
                              st.ToString());
    }
  }
}

// The version the run used: a robot of this project sends it as `transaction_version` (an
// optional field beyond the spec's model).
std::optional<int64_t> SentVersion(const Json& raw) {
  const auto it = raw.find("transaction_version");
  if (it == raw.end() || !it->is_number_integer()) return std::nullopt;
  const auto v = it->get<int64_t>();
  return v > 0 ? std::optional<int64_t>(v) : std::nullopt;
}

}  // namespace

bool IsAllowedArtifactType(std::string_view content_type) {
  const std::string t = MediaType(content_type);
  return t == "image/png" || t == "image/jpeg" || t == "image/webp" || t == "application/json" ||
         t == "application/har+json" || t == "text/plain";
}

void UploadHandler::Handle(Request& req, const gateway::Responder& respond) {
  const std::string media = MediaType(req.Header("Content-Type").value_or("application/json"));
  const bool multipart = media == "multipart/form-data";
  if (media != "application/json" && !multipart) {
    return respond(
        Response::Error(415, "unsupported_media_type",
                        "Content-Type '" + std::string(req.Header("Content-Type").value_or("")) +
                            "' is not accepted: use application/json or multipart/form-data"));
  }

  // 1. The body: JSON text, or a multipart body with the JSON in its `result` part.
  std::vector<gateway::MultipartPart> parts;
  std::string_view json_text = req.body;
  std::vector<Artifact> artifacts;
  if (multipart) {
    auto boundary = gateway::MultipartBoundary(*req.Header("Content-Type"));
    if (!boundary.ok())
      return respond(Response::Error(400, "bad_request", boundary.status().message()));
    auto parsed = gateway::ParseMultipart(
        req.body, *boundary, {.max_part_bytes = static_cast<size_t>(options_.artifact_max_bytes)});
    if (!parsed.ok()) {
      const bool too_big = parsed.status().code() == StatusCode::kResourceExhausted;
      return respond(Response::Error(too_big ? 413 : 400,
                                     too_big ? "payload_too_large" : "bad_request",
                                     parsed.status().message()));
    }
    parts = std::move(*parsed);
    const gateway::MultipartPart* result_part = nullptr;
    FieldErrors errors;
    for (const auto& p : parts) {
      if (p.name == "result") {
        if (result_part) errors.push_back({"result", "more than one `result` part"});
        result_part = &p;
      } else if (p.name == "artifact") {
        const std::string path = "artifact[" + p.filename.value_or("") + "]";
        if (!p.filename || p.filename->empty()) {
          errors.push_back({path, "an artifact part needs a filename"});
        } else if (!IsAllowedArtifactType(p.content_type)) {
          errors.push_back({path, "content type '" + p.content_type +
                                      "' is not accepted (PNG, JPEG, WebP, HAR/JSON, text)"});
        }
        for (const Artifact& other : artifacts) {
          if (other.part->filename == p.filename) {
            errors.push_back({path, "two artifact parts have this filename"});
          }
        }
        artifacts.push_back({&p, {}, false});
      }
    }
    if (!result_part)
      errors.push_back({"result", "is required: a part named `result` with the JSON"});
    if (!errors.empty()) return respond(ValidationResponse(errors));
    json_text = result_part->body;
  }
  std::string parse_error;
  std::optional<Json> doc = ParseJson(json_text, &parse_error);
  if (!doc) {
    return respond(
        Response::Error(400, "bad_request", "the body is not valid JSON: " + parse_error));
  }

  // 2. Validation of every result, every problem reported.
  const int64_t now = clock_.NowMs();
  FieldErrors errors;
  std::vector<TransactionResult> results;
  const bool is_array = doc->is_array();  // before its contents move into the results
  if (is_array) {
    if (doc->empty() || doc->size() > kMaxResultsPerRequest) {
      errors.push_back({"", "an array body holds 1 to 1000 results"});
    } else {
      results.reserve(doc->size());
      for (size_t i = 0; i < doc->size(); ++i) {
        auto r = ParseResult(std::move((*doc)[i]), now, "[" + std::to_string(i) + "].", &errors);
        if (r) results.push_back(std::move(*r));
      }
    }
  } else {
    if (multipart && !doc->is_object()) {
      errors.push_back({"result", "must be one result object"});
    } else if (auto r = ParseResult(std::move(*doc), now, "", &errors)) {
      results.push_back(std::move(*r));
    }
  }
  // Screenshots name artifact parts; only multipart uploads carry them.
  for (size_t i = 0; i < results.size(); ++i) {
    const std::string prefix = is_array ? "[" + std::to_string(i) + "]." : "";
    for (size_t k = 0; k < results[i].steps.size(); ++k) {
      const ResultStep& s = results[i].steps[k];
      if (!s.screenshot) continue;
      const auto it = std::find_if(artifacts.begin(), artifacts.end(), [&](const Artifact& a) {
        return a.part->filename == *s.screenshot;
      });
      if (it == artifacts.end()) {
        errors.push_back({prefix + "steps[" + std::to_string(s.position) + "].screenshot",
                          "no artifact part has the filename '" + *s.screenshot + "'"});
      }
    }
  }
  if (!errors.empty()) return respond(ValidationResponse(errors));

  // 3. A robot token uploads for its own robot only.
  const gateway::Principal& who = req.principal;
  const bool robot_only = !who.robot_id.empty() && std::find(who.scopes.begin(), who.scopes.end(),
                                                             "write") == who.scopes.end();
  if (robot_only) {
    for (const TransactionResult& r : results) {
      if (r.robot_id != who.robot_id) {
        return respond(Response::Error(
            403, "forbidden",
            "robot_id '" + r.robot_id + "' is not this token's robot '" + who.robot_id + "'"));
      }
    }
  }

  // 4. Artifacts into the artifact store (only for a result not stored already), ids into the
  // steps; they are linked to their results in the same transaction as the results.
  std::vector<UploadItem> items(results.size());
  std::vector<StoredArtifact> written;
  if (!artifacts.empty()) {
    TransactionResult& r = results[0];  // multipart carries exactly one result
    auto existing = db_.Query("SELECT 1 FROM synth_results WHERE run_id = $1", {r.run_id});
    if (!existing.ok()) return respond(Retryable(503, existing.status(), 5));
    const bool duplicate = !existing->empty();
    for (ResultStep& s : r.steps) {
      if (!s.screenshot) continue;
      auto it = std::find_if(artifacts.begin(), artifacts.end(),
                             [&](const Artifact& a) { return a.part->filename == *s.screenshot; });
      if (!it->used) {
        it->used = true;
        it->stored.step_index = s.index;
      }
    }
    for (Artifact& a : artifacts) {
      if (duplicate) break;
      const std::string id = NewId(now);
      const std::string media_type = MediaType(a.part->content_type);
      const std::string day = FormatRfc3339Ms(now).substr(0, 10);  // YYYY-MM-DD
      a.stored.id = id;
      a.stored.filename = *a.part->filename;
      a.stored.content_type = media_type;
      a.stored.size = static_cast<int64_t>(a.part->body.size());
      a.stored.storage_key = "synth/" + day.substr(0, 4) + "/" + day.substr(5, 2) + "/" +
                             day.substr(8, 2) + "/" + id + Extension(media_type);
      if (Status st = artifacts_.Put(a.stored.storage_key, a.part->body); !st.ok()) {
        DeleteArtifacts(artifacts_, written);
        return respond(Retryable(503, st, 5));
      }
      written.push_back(a.stored);
    }
    if (!duplicate) {
      for (ResultStep& s : r.steps) {
        if (!s.screenshot) continue;
        for (const Artifact& a : artifacts) {
          if (a.part->filename == *s.screenshot) s.screenshot = a.stored.id;
        }
      }
      items[0].artifacts = written;
    }
  }
  for (size_t i = 0; i < results.size(); ++i) {
    // A single result that needs no normalisation is stored as the very text received (valid
    // JSON, checked above): no second serialisation.
    const bool changed = NormalizeStored(results[i]);
    items[i].doc = changed || is_array ? results[i].raw.dump() : std::string(json_text);
    items[i].sent_version = SentVersion(results[i].raw);
    results[i].raw = Json();  // freed here, not on the writer's thread
    items[i].result = std::move(results[i]);
  }
  std::vector<std::string> run_ids;
  run_ids.reserve(items.size());
  for (const UploadItem& item : items) run_ids.push_back(item.result.run_id);

  // 5. Stored by the writer's next group commit; answered when durable.
  storage::ArtifactStore* store = &artifacts_;
  writer_.Submit(std::move(items), [respond, run_ids = std::move(run_ids), written,
                                    store](Result<std::vector<bool>> created) {
    if (!created.ok()) {
      DeleteArtifacts(*store, written);
      const StatusCode code = created.status().code();
      if (code == StatusCode::kResourceExhausted)
        return respond(Retryable(429, created.status(), 1));
      if (code == StatusCode::kUnavailable || code == StatusCode::kAborted) {
        return respond(Retryable(503, created.status(), 5));
      }
      return respond(Response::FromStatus(created.status()));
    }
    if (!written.empty() && !created->at(0)) DeleteArtifacts(*store, written);  // lost a race
    Json list = Json::array();
    int64_t accepted = 0;
    for (size_t i = 0; i < run_ids.size(); ++i) {
      const bool stored = (*created)[i];
      accepted += stored ? 1 : 0;
      list.push_back({{"run_id", run_ids[i]}, {"status", stored ? "created" : "duplicate"}});
    }
    respond(Response::Json(200, {{"accepted", accepted},
                                 {"duplicates", static_cast<int64_t>(run_ids.size()) - accepted},
                                 {"results", std::move(list)}}));
  });
}

}  // namespace pa::synth
