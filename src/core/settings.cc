#include "core/settings.h"

namespace pa::core {
namespace {

Result<Setting> FromRow(const storage::Rows& rows, size_t r) {
  Setting s;
  s.key = rows.Text(r, 0);
  std::string error;
  auto value = ParseJson(rows.Text(r, 1), &error);
  if (!value) return DataLossError("setting '" + s.key + "' holds invalid JSON: " + error);
  s.value = std::move(*value);
  s.version = rows.Int(r, 2);
  s.updated_at_ms = rows.Int(r, 3);
  s.updated_by = rows.Text(r, 4);
  return s;
}

constexpr const char* kColumns = "key, value, version, updated_at, updated_by";

}  // namespace

Status SettingsRepository::ValidateKey(std::string_view key) {
  auto ok_char = [](char c, bool first) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           (!first && (c == '.' || c == '_' || c == '-'));
  };
  if (key.empty() || key.size() > 128) return InvalidArgumentError("key must be 1..128 characters");
  for (size_t i = 0; i < key.size(); ++i) {
    if (!ok_char(key[i], i == 0)) {
      return InvalidArgumentError(
          "key may contain a-z 0-9 . _ - and must start with a letter or digit");
    }
  }
  return Status::Ok();
}

Result<std::vector<Setting>> SettingsRepository::List() {
  PA_ASSIGN_OR_RETURN(
      auto rows, db_.Query(std::string("SELECT ") + kColumns + " FROM core_settings ORDER BY key"));
  std::vector<Setting> out;
  for (size_t r = 0; r < rows.size(); ++r) {
    PA_ASSIGN_OR_RETURN(Setting s, FromRow(rows, r));
    out.push_back(std::move(s));
  }
  return out;
}

Result<Setting> SettingsRepository::Get(const std::string& key) {
  PA_ASSIGN_OR_RETURN(
      auto rows,
      db_.Query(std::string("SELECT ") + kColumns + " FROM core_settings WHERE key = $1", {key}));
  if (rows.empty()) return NotFoundError("no setting '" + key + "'");
  return FromRow(rows, 0);
}

Result<std::pair<Setting, bool>> SettingsRepository::Put(const std::string& key, const Json& value,
                                                         std::optional<int64_t> expected_version,
                                                         const std::string& updated_by) {
  PA_RETURN_IF_ERROR(ValidateKey(key));
  const std::string text = value.dump();
  if (text.size() > kMaxSettingBytes) {
    return InvalidArgumentError("value is " + std::to_string(text.size()) +
                                " bytes; the limit is " + std::to_string(kMaxSettingBytes));
  }
  Setting stored;
  bool created = false;
  Status st = db_.InTransaction([&](storage::Transaction& tx) -> Status {
    PA_ASSIGN_OR_RETURN(auto rows,
                        tx.Query("SELECT version FROM core_settings WHERE key = $1", {key}));
    const int64_t current = rows.empty() ? 0 : rows.Int(0, 0);
    if (expected_version && *expected_version != current) {
      return FailedPreconditionError("setting '" + key + "' is at version " +
                                     std::to_string(current) + ", not " +
                                     std::to_string(*expected_version));
    }
    created = rows.empty();
    stored = {key, value, current + 1, clock_.NowMs(), updated_by};
    PA_ASSIGN_OR_RETURN(
        auto n, tx.Exec("INSERT INTO core_settings (key, value, version, updated_at, updated_by) "
                        "VALUES ($1, $2, $3, $4, $5) "
                        "ON CONFLICT (key) DO UPDATE SET value = excluded.value, "
                        "version = excluded.version, updated_at = excluded.updated_at, "
                        "updated_by = excluded.updated_by",
                        {key, text, stored.version, stored.updated_at_ms, updated_by}));
    (void)n;
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return std::make_pair(std::move(stored), created);
}

Status SettingsRepository::Delete(const std::string& key, std::optional<int64_t> expected_version) {
  return db_.InTransaction([&](storage::Transaction& tx) -> Status {
    PA_ASSIGN_OR_RETURN(auto rows,
                        tx.Query("SELECT version FROM core_settings WHERE key = $1", {key}));
    if (rows.empty()) return NotFoundError("no setting '" + key + "'");
    if (expected_version && *expected_version != rows.Int(0, 0)) {
      return FailedPreconditionError("setting '" + key + "' is at version " +
                                     std::to_string(rows.Int(0, 0)) + ", not " +
                                     std::to_string(*expected_version));
    }
    return tx.Exec("DELETE FROM core_settings WHERE key = $1", {key}).status();
  });
}

}  // namespace pa::core
