#include "synth/transactions.h"

#include "base/json.h"
#include "base/time_format.h"
#include "gateway/api.h"
#include "synth/api_errors.h"
#include "synth/definition.h"
#include "synth/retention.h"

namespace pa::synth {
namespace {

using gateway::Access;
using gateway::Method;
using gateway::Request;
using gateway::Response;
using storage::kNull;
using storage::SqlValue;

constexpr const char* kColumns =
    "id, name, application, enabled, external, interval_s, timeout_s, version, definition, "
    "run_requested_at, missed_since, created_at, updated_at, secrets";

SqlValue OptText(const std::optional<std::string>& s) { return s ? SqlValue(*s) : kNull; }

Json OptTime(const storage::Rows& rows, size_t i, size_t c) {
  return rows.IsNull(i, c) ? Json(nullptr) : Json(FormatRfc3339Ms(rows.Int(i, c)));
}

// The request's definition, validated; `path_id` (PUT) fills in or must equal its id.
struct Parsed {
  std::optional<TransactionDefinition> def;
  bool has_secrets = false;
  Response error;
};

Parsed ParseBody(const Request& req, std::string_view path_id) {
  Parsed out;
  auto doc = ParseDocument(req.body, req.Header("Content-Type").value_or(""));
  if (!doc.ok()) {
    out.error = Response::Error(400, "bad_request", doc.status().message());
    return out;
  }
  FieldErrors errors;
  if (doc->is_object() && !path_id.empty()) {
    auto it = doc->find("id");
    if (it == doc->end() || it->is_null()) {
      (*doc)["id"] = std::string(path_id);
    } else if (!it->is_string() || it->get_ref<const std::string&>() != path_id) {
      errors.push_back({"id", "must equal the id in the URL ('" + std::string(path_id) + "')"});
    }
  }
  out.has_secrets = doc->is_object() && doc->contains("secrets") && !(*doc)["secrets"].is_null();
  out.def = ParseDefinition(*doc, &errors);
  if (!errors.empty()) {
    out.def.reset();
    out.error = ValidationResponse(errors);
  }
  return out;
}

std::string Who(const Request& req) { return req.principal.kind + ":" + req.principal.name; }

}  // namespace

Status TransactionsApi::Register(gateway::Router& r) {
  auto add = [&](Method m, const char* path, Access a, Response (TransactionsApi::*h)(Request&)) {
    return r.Add(
        m, path, std::move(a), [this, h](Request& q) { return (this->*h)(q); }, {}, "synth");
  };
  PA_RETURN_IF_ERROR(
      add(Method::kGet, "/api/v1/transactions", Access::Read(), &TransactionsApi::List));
  PA_RETURN_IF_ERROR(
      add(Method::kPost, "/api/v1/transactions", Access::Write(), &TransactionsApi::Create));
  PA_RETURN_IF_ERROR(add(Method::kPost, "/api/v1/transactions/validate", Access::Write(),
                         &TransactionsApi::Validate));
  PA_RETURN_IF_ERROR(
      add(Method::kGet, "/api/v1/transactions/{id}", Access::Read(), &TransactionsApi::Get));
  PA_RETURN_IF_ERROR(
      add(Method::kPut, "/api/v1/transactions/{id}", Access::Write(), &TransactionsApi::Put));
  PA_RETURN_IF_ERROR(
      add(Method::kDelete, "/api/v1/transactions/{id}", Access::Write(), &TransactionsApi::Delete));
  PA_RETURN_IF_ERROR(add(Method::kGet, "/api/v1/transactions/{id}/versions", Access::Read(),
                         &TransactionsApi::Versions));
  return add(Method::kPost, "/api/v1/transactions/{id}/run", Access::Write(),
             &TransactionsApi::Run);
}

Json TransactionsApi::Describe(const storage::Rows& rows, size_t i) const {
  Json out = rows.IsNull(i, 8) ? Json::object()
                               : ParseJson(rows.Text(i, 8), nullptr).value_or(Json::object());
  out["id"] = rows.Text(i, 0);
  if (rows.IsNull(i, 8)) {
    // An `external` transaction: known from uploads only, no definition.
    out["name"] = rows.Text(i, 1);
  }
  out["external"] = rows.Int(i, 4) != 0;
  out["version"] = rows.Int(i, 7);
  out["run_requested_at"] = OptTime(rows, i, 9);
  out["missed_since"] = OptTime(rows, i, 10);
  out["created_at"] = FormatRfc3339Ms(rows.Int(i, 11));
  out["updated_at"] = FormatRfc3339Ms(rows.Int(i, 12));
  return out;
}

Response TransactionsApi::List(Request&) {
  auto rows = db_.Query(std::string("SELECT ") + kColumns + " FROM synth_transactions ORDER BY id");
  if (!rows.ok()) return Response::FromStatus(rows.status());
  Json list = Json::array();
  for (size_t i = 0; i < rows->size(); ++i) list.push_back(Describe(*rows, i));
  return Response::Json(200, {{"transactions", std::move(list)}});
}

Response TransactionsApi::Get(Request& req) { return Load(std::string(req.Param("id")), 200); }

Response TransactionsApi::Validate(Request& req) {
  Parsed p = ParseBody(req, "");
  if (!p.def) return p.error;
  return Response::Json(
      200, {{"valid", true}, {"definition", DefinitionToJson(*p.def, SecretsMode::kOmit)}});
}

Status TransactionsApi::Store(storage::Transaction& tx, const Json& shown,
                              const std::string& sealed_secrets, int64_t version, bool insert,
                              const std::string& who) {
  const int64_t now = clock_.NowMs();
  const std::string id = shown["id"];
  const std::string text = shown.dump();
  auto str = [&](const char* key) -> std::optional<std::string> {
    auto it = shown.find(key);
    if (it == shown.end() || !it->is_string()) return std::nullopt;
    return it->get<std::string>();
  };
  const SqlValue secrets = sealed_secrets.empty() ? kNull : SqlValue(sealed_secrets);
  const int64_t enabled = shown.value("enabled", true) ? 1 : 0;
  const int64_t interval = shown.value("interval_s", int64_t{300});
  const int64_t timeout = shown.value("timeout_s", int64_t{60});
  if (insert) {
    PA_RETURN_IF_ERROR(
        tx.Exec("INSERT INTO synth_transactions (id, name, application, enabled, external, "
                "interval_s, timeout_s, version, definition, secrets, created_at, updated_at) "
                "VALUES ($1, $2, $3, $4, 0, $5, $6, $7, $8, $9, $10, $10)",
                {id, *str("name"), OptText(str("application")), enabled, interval, timeout, version,
                 text, secrets, now})
            .status());
  } else {
    PA_RETURN_IF_ERROR(tx.Exec("UPDATE synth_transactions SET name = $2, application = $3, "
                               "enabled = $4, external = 0, interval_s = $5, timeout_s = $6, "
                               "version = $7, definition = $8, secrets = $9, missed_since = NULL, "
                               "updated_at = $10 WHERE id = $1",
                               {id, *str("name"), OptText(str("application")), enabled, interval,
                                timeout, version, text, secrets, now})
                           .status());
  }
  return tx
      .Exec(
          "INSERT INTO synth_transaction_versions (transaction_id, version, definition, "
          "created_at, created_by) VALUES ($1, $2, $3, $4, $5)",
          {id, version, text, now, who})
      .status();
}

Response TransactionsApi::Create(Request& req) {
  Parsed p = ParseBody(req, "");
  if (!p.def) return p.error;
  const Json shown = DefinitionToJson(*p.def, SecretsMode::kOmit);
  const std::string sealed = p.def->secrets.empty() ? "" : box_.Seal(Json(p.def->secrets).dump());
  auto tx = db_.Begin();
  if (!tx.ok()) return Response::FromStatus(tx.status());
  auto existing =
      (*tx)->Query("SELECT external, version FROM synth_transactions WHERE id = $1", {p.def->id});
  if (!existing.ok()) return Response::FromStatus(existing.status());
  if (!existing->empty() && existing->Int(0, 0) == 0) {
    return Response::Error(409, "conflict",
                           "transaction '" + p.def->id + "' exists; PUT replaces it");
  }
  const int64_t version = existing->empty() ? 1 : existing->Int(0, 1) + 1;
  if (Status st = Store(**tx, shown, sealed, version, existing->empty(), Who(req)); !st.ok()) {
    return Response::FromStatus(st);
  }
  if (Status st = (*tx)->Commit(); !st.ok()) return Response::FromStatus(st);
  return Load(p.def->id, 201);
}

Response TransactionsApi::Load(const std::string& id, int status) {
  auto rows =
      db_.Query(std::string("SELECT ") + kColumns + " FROM synth_transactions WHERE id = $1", {id});
  if (!rows.ok()) return Response::FromStatus(rows.status());
  if (rows->empty()) return Response::Error(404, "not_found", "no transaction '" + id + "'");
  Response r = Response::Json(status, Describe(*rows, 0));
  r.headers.Set("ETag", "\"" + std::to_string(rows->Int(0, 7)) + "\"");
  return r;
}

Response TransactionsApi::Put(Request& req) {
  const std::string id(req.Param("id"));
  Parsed p = ParseBody(req, id);
  if (!p.def) return p.error;
  auto expected = gateway::IfMatchVersion(req);
  if (!expected.ok()) {
    gateway::ValidationErrors errors;
    errors.Add("If-Match", expected.status().message());
    return errors.ToResponse();
  }
  const Json shown = DefinitionToJson(*p.def, SecretsMode::kOmit);
  auto tx = db_.Begin();
  if (!tx.ok()) return Response::FromStatus(tx.status());
  auto existing =
      (*tx)->Query("SELECT version, secrets FROM synth_transactions WHERE id = $1", {id});
  if (!existing.ok()) return Response::FromStatus(existing.status());
  if (existing->empty()) return Response::Error(404, "not_found", "no transaction '" + id + "'");
  const int64_t current = existing->Int(0, 0);
  if (*expected && **expected != current) {
    return Response::Error(412, "precondition_failed",
                           "transaction '" + id + "' is at version " + std::to_string(current) +
                               ", not " + std::to_string(**expected));
  }
  // Without `secrets` in the body the stored ones stay; with it, they are replaced.
  std::string sealed = existing->IsNull(0, 1) ? "" : existing->Text(0, 1);
  if (p.has_secrets) sealed = p.def->secrets.empty() ? "" : box_.Seal(Json(p.def->secrets).dump());
  Json versioned = shown;
  if (!p.has_secrets && !sealed.empty()) {
    // The shown definition names the secrets that are kept.
    auto names = box_.Unseal(sealed);
    if (names.ok()) {
      Json list = Json::array();
      for (const auto& [k, v] : ParseJson(*names, nullptr).value_or(Json::object()).items())
        list.push_back(k);
      versioned["secret_names"] = std::move(list);
    }
  }
  if (Status st = Store(**tx, versioned, sealed, current + 1, false, Who(req)); !st.ok()) {
    return Response::FromStatus(st);
  }
  if (Status st = (*tx)->Commit(); !st.ok()) return Response::FromStatus(st);
  return Load(id, 200);
}

Response TransactionsApi::Delete(Request& req) {
  const std::string id(req.Param("id"));
  auto rows = db_.Query("SELECT 1 FROM synth_transactions WHERE id = $1", {id});
  if (!rows.ok()) return Response::FromStatus(rows.status());
  if (rows->empty()) return Response::Error(404, "not_found", "no transaction '" + id + "'");
  // Results and artifacts first: if that fails half-way, the transaction is still there and a
  // retry of the DELETE finishes the job.
  if (Status st = DeleteTransactionData(db_, artifacts_, id); !st.ok()) {
    return Response::FromStatus(st);
  }
  auto tx = db_.Begin();
  if (!tx.ok()) return Response::FromStatus(tx.status());
  // Results uploaded meanwhile go with it; their artifact objects, if any, stay behind in the
  // artifact store (nothing sweeps unreferenced objects yet).
  for (const char* sql : {"DELETE FROM synth_steps WHERE seq IN (SELECT seq FROM synth_results "
                          "WHERE transaction_id = $1)",
                          "DELETE FROM synth_artifacts WHERE transaction_id = $1",
                          "DELETE FROM synth_results WHERE transaction_id = $1",
                          "DELETE FROM synth_transaction_versions WHERE transaction_id = $1",
                          "DELETE FROM synth_transactions WHERE id = $1"}) {
    if (Status st = (*tx)->Exec(sql, {id}).status(); !st.ok()) return Response::FromStatus(st);
  }
  if (Status st = (*tx)->Commit(); !st.ok()) return Response::FromStatus(st);
  return Response::Empty(204);
}

Response TransactionsApi::Versions(Request& req) {
  const std::string id(req.Param("id"));
  auto rows = db_.Query(
      "SELECT version, definition, created_at, created_by FROM "
      "synth_transaction_versions WHERE transaction_id = $1 ORDER BY version DESC",
      {id});
  if (!rows.ok()) return Response::FromStatus(rows.status());
  if (rows->empty()) {
    auto exists = db_.Query("SELECT 1 FROM synth_transactions WHERE id = $1", {id});
    if (!exists.ok()) return Response::FromStatus(exists.status());
    if (exists->empty()) return Response::Error(404, "not_found", "no transaction '" + id + "'");
  }
  Json list = Json::array();
  for (size_t i = 0; i < rows->size(); ++i) {
    list.push_back({{"version", rows->Int(i, 0)},
                    {"definition", ParseJson(rows->Text(i, 1), nullptr).value_or(Json::object())},
                    {"created_at", FormatRfc3339Ms(rows->Int(i, 2))},
                    {"created_by", rows->Text(i, 3)}});
  }
  return Response::Json(200, {{"versions", std::move(list)}});
}

Response TransactionsApi::Run(Request& req) {
  const std::string id(req.Param("id"));
  const int64_t now = clock_.NowMs();
  auto changed =
      db_.Exec("UPDATE synth_transactions SET run_requested_at = $2 WHERE id = $1 AND external = 0",
               {id, now});
  if (!changed.ok()) return Response::FromStatus(changed.status());
  if (*changed == 0) {
    return Response::Error(
        404, "not_found",
        "no defined transaction '" + id + "' (external ones have no definition to run)");
  }
  return Response::Json(202, {{"id", id}, {"run_requested_at", FormatRfc3339Ms(now)}});
}

}  // namespace pa::synth
