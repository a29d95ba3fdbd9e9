// Settings: runtime configuration shared by every instance of a deployment, kept in the
// relational store (table core_settings) and served under /api/v1/settings.
//
// Start-up configuration (config.h) says how a process runs; settings say how the product
// behaves and can change without a restart — thresholds, retention, notification defaults. Each
// value is a JSON document (≤ 64 KiB) under a key of [a-z0-9][a-z0-9._-]{0,127}; every write
// bumps the key's version, and a write may require the version it read (optimistic concurrency).
//
// Thread-safety: all methods may be called concurrently.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/json.h"
#include "base/status.h"
#include "storage/relational_store.h"

namespace pa::core {

struct Setting {
  std::string key;
  Json value;
  int64_t version = 0;
  int64_t updated_at_ms = 0;
  std::string updated_by;
};

inline constexpr size_t kMaxSettingBytes = 64 * 1024;

class SettingsRepository {
 public:
  SettingsRepository(storage::RelationalStore& db, Clock& clock) : db_(db), clock_(clock) {}

  Result<std::vector<Setting>> List();
  // kNotFound when the key has no value.
  Result<Setting> Get(const std::string& key);

  // Creates or replaces the value. With `expected_version`, fails with kFailedPrecondition unless
  // the stored version equals it (0 = the key must not exist yet). Returns the stored setting
  // and whether it was created.
  Result<std::pair<Setting, bool>> Put(const std::string& key, const Json& value,
                                       std::optional<int64_t> expected_version,
                                       const std::string& updated_by);

  // kNotFound when there is nothing to delete.
  Status Delete(const std::string& key, std::optional<int64_t> expected_version);

  // Checks a key's form; the message says what is allowed.
  static Status ValidateKey(std::string_view key);

 private:
  storage::RelationalStore& db_;
  Clock& clock_;
};

}  // namespace pa::core
