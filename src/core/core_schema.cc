#include "core/core_schema.h"

namespace pa::core {

storage::Schema CoreSchema() {
  return {"core",
          {
              {1, "settings and instance registry",
               R"sql(
CREATE TABLE core_settings (
  key         TEXT PRIMARY KEY,
  value       TEXT NOT NULL,
  version     BIGINT NOT NULL,
  updated_at  BIGINT NOT NULL,
  updated_by  TEXT NOT NULL
);
CREATE TABLE core_instances (
  instance_id   TEXT PRIMARY KEY,
  hostname      TEXT NOT NULL,
  pid           BIGINT NOT NULL,
  roles         TEXT NOT NULL,
  listen        TEXT NOT NULL,
  version       TEXT NOT NULL,
  started_at    BIGINT NOT NULL,
  heartbeat_at  BIGINT NOT NULL
)
)sql",
               "", ""},
          }};
}

}  // namespace pa::core
