// For the synth tests: the relational store a parametrised test runs on — SQLite in a temporary
// directory, or ("postgres") a fresh schema on the server named by PRIMOART_TEST_POSTGRES_URL
// (scripts/run-tests starts one). CTest runs the two as synth_test and synth_test.postgres.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "base/random.h"
#include "storage/stores.h"
#include "synth/synth_schema.h"

namespace pa::synth::testing {

inline const auto kBackends = ::testing::Values(std::string("sqlite"), std::string("postgres"));

inline std::string BackendName(const ::testing::TestParamInfo<std::string>& info) {
  return info.param;
}

// The migrated store, or nullptr after GTEST_SKIP (no server configured) or a failure (no
// server although PRIMOART_TEST_REQUIRE_SERVERS=1, or it cannot be opened).
inline std::unique_ptr<storage::RelationalStore> OpenTestDatabase(
    const std::string& backend, const std::filesystem::path& dir) {
  std::string url = "sqlite://" + (dir / "synth.db").string();
  if (backend == "postgres") {
    const char* server = std::getenv("PRIMOART_TEST_POSTGRES_URL");
    if (!server || !*server) {
      const char* require = std::getenv("PRIMOART_TEST_REQUIRE_SERVERS");
      if (require && std::string(require) == "1") {
        ADD_FAILURE() << "PRIMOART_TEST_POSTGRES_URL is not set";
      } else {
        [] { GTEST_SKIP() << "PRIMOART_TEST_POSTGRES_URL is not set"; }();
      }
      return nullptr;
    }
    url = server;
    url += (url.find('?') == std::string::npos ? "?" : "&");
    url += "schema=synth_" + NewRequestId().substr(0, 12);
  }
  std::filesystem::create_directories(dir);
  auto db = storage::OpenRelationalStore({.url = url}, nullptr);
  if (!db.ok()) {
    ADD_FAILURE() << db.status().ToString();
    return nullptr;
  }
  if (Status st = (*db)->Migrate({SynthSchema()}).status(); !st.ok()) {
    ADD_FAILURE() << st.ToString();
    return nullptr;
  }
  return std::move(*db);
}

}  // namespace pa::synth::testing
