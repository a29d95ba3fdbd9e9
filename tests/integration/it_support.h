// Shared set-up of the integration suites: which relational backend a test runs on, a logged-in
// admin, JSON helpers. Parametrised suites are instantiated for "sqlite" and "postgres"; CTest
// runs them as integration.sqlite and integration.postgres.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "base/json.h"
#include "server_process.h"

namespace pa::testing {

enum class Backend { kSqlite, kPostgres };

inline constexpr char kAdminPassword[] = "integration admin password";

std::string BackendName(const ::testing::TestParamInfo<Backend>& info);

// Environment for a server on `backend` with a fresh database (PostgreSQL: a new schema on the
// test server). Returns false, after GTEST_SKIP or a failure per PRIMOART_TEST_REQUIRE_SERVERS,
// when the backend is not available.
bool BackendEnvironment(Backend backend, std::map<std::string, std::string>& env);

// Logs in and returns the session token (asserts on failure).
std::string Login(ServerProcess& server, const std::string& username, const std::string& password);

std::vector<std::pair<std::string, std::string>> Bearer(const std::string& token);

Json ParseBody(const HttpResponse& resp);

// `data` gzip-compressed (for Content-Encoding: gzip request bodies).
std::string Gzip(std::string_view data);

// A test fixture running one server per test on the parameter's backend, with an admin session.
class BackendTest : public ::testing::TestWithParam<Backend> {
 protected:
  // Starts the server with `extra` environment and logs the admin in. Returns false (test
  // skipped or failed) when the backend is unavailable or the server did not start.
  bool StartServer(std::map<std::string, std::string> extra = {},
                   std::vector<std::string> args = {"serve"});

  std::unique_ptr<ServerProcess> server_;
  std::map<std::string, std::string> env_;
  std::string admin_;  // admin session token
};

}  // namespace pa::testing
