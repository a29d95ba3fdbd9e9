// A fixture for the gateway's server tests: a Router and a metrics Registry to fill, and an
// HttpServer started on 127.0.0.1 with a kernel-chosen port.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "base/logging.h"
#include "base/telemetry.h"
#include "gateway/server.h"
#include "gateway/test_client.h"

namespace pa::gateway::testing {

// Polls `condition` until it holds or `timeout` passes: for state the server updates just after a
// response is on the wire (metrics, in-flight counts), which a client cannot wait for otherwise.
inline bool Eventually(const std::function<bool()>& condition,
                       std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

class ServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // Handler failures are logged at error level on purpose; the access log would drown the output.
    ASSERT_TRUE(pa::log::Init({.level = "off", .format = "json", .access_log = false}).ok());
  }

  void StartServer(ServerOptions options = {}) {
    options.listen = "127.0.0.1:0";
    server_ = std::make_unique<HttpServer>(options, router_, registry_, auth_);
    const Status started = server_->Start();
    ASSERT_TRUE(started.ok()) << started.ToString();
    address_ = server_->bound_address();
  }

  void TearDown() override {
    if (server_) server_->Shutdown();
  }

  std::unique_ptr<TestConnection> Connect() {
    auto c = TestConnection::Connect(address_);
    EXPECT_NE(c, nullptr) << "cannot connect to " << address_;
    return c;
  }

  Router router_;
  telemetry::Registry registry_;
  Authenticator* auth_ = nullptr;
  std::unique_ptr<HttpServer> server_;
  std::string address_;
};

}  // namespace pa::gateway::testing
