// Start-up, concurrency and graceful shutdown of the HTTP server.
#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "gateway/test_server.h"

namespace pa::gateway::testing {
namespace {

// A handler that blocks until the test releases it, and tells the test when it has started.
class Gate {
 public:
  Response Pass() {
    entered_.set_value();
    released_.wait();
    return Response::Text(200, "slow done");
  }
  void WaitEntered() { entered_future_.wait(); }
  void Release() { release_.set_value(); }

 private:
  std::promise<void> entered_;
  std::future<void> entered_future_ = entered_.get_future();
  std::promise<void> release_;
  std::shared_future<void> released_ = release_.get_future().share();
};

class LifecycleTest : public ServerTest {
 protected:
  void SetUp() override {
    ASSERT_TRUE(
        router_
            .Add(Method::kGet, "/slow", Access::Public(), [this](Request&) { return gate_.Pass(); })
            .ok());
    ASSERT_TRUE(router_
                    .Add(Method::kGet, "/healthz", Access::Public(),
                         [](Request&) { return Response::Text(200, "ok"); })
                    .ok());
  }
  Gate gate_;
};

TEST_F(LifecycleTest, SlowHandlerDoesNotBlockOtherConnections) {
  ServerOptions options;
  options.threads = 2;  // the fewest that can serve while one handler blocks
  StartServer(options);
  auto slow = Connect();
  ASSERT_TRUE(slow->Send(TestConnection::Request("GET", "/slow")));
  gate_.WaitEntered();
  for (int i = 0; i < 3; ++i) {  // served while the slow handler is still blocked
    auto fast = Get(address_, "/healthz");
    ASSERT_TRUE(fast);
    EXPECT_EQ(fast->status, 200);
  }
  gate_.Release();
  auto r = slow->Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "slow done");
}

TEST_F(LifecycleTest, GracefulShutdownFinishesInFlightRequests) {
  StartServer();
  auto idle = Connect();
  ASSERT_TRUE(idle->RoundTrip(TestConnection::Request("GET", "/healthz")));
  auto busy = Connect();
  ASSERT_TRUE(busy->Send(TestConnection::Request("GET", "/slow")));
  gate_.WaitEntered();
  EXPECT_TRUE(Eventually([&] { return server_->in_flight() == 1; }));

  std::atomic<bool> shutdown_returned{false};
  std::thread stopper([&] {
    server_->Shutdown();
    shutdown_returned = true;
  });
  // The idle keep-alive connection is closed at once...
  EXPECT_TRUE(idle->WaitClosed());
  // ...after the listening socket was closed, so new connections are refused.
  EXPECT_EQ(TestConnection::Connect(address_), nullptr);
  EXPECT_FALSE(shutdown_returned);  // it waits for the request in flight

  gate_.Release();
  auto r = busy->Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "slow done");
  EXPECT_EQ(r->Header("Connection"), "close");
  stopper.join();
  EXPECT_TRUE(shutdown_returned);
  EXPECT_EQ(server_->in_flight(), 0);
  server_->Shutdown();  // idempotent
}

TEST_F(LifecycleTest, ShutdownGraceEndsStuckConnections) {
  ServerOptions options;
  options.shutdown_grace = std::chrono::milliseconds(100);
  options.read_timeout = std::chrono::seconds(60);
  StartServer(options);
  auto partial = Connect();
  ASSERT_TRUE(partial->Send("GET /healthz HTTP/1.1\r\nHost: t\r\n"));  // never completed
  // Make sure the server has started reading it before shutting down.
  ASSERT_TRUE(Get(address_, "/healthz"));
  server_->Shutdown();  // returns once the grace period has run out
  EXPECT_TRUE(partial->WaitClosed());
}

TEST_F(LifecycleTest, BindFailureNamesTheAddress) {
  StartServer();
  ServerOptions options;
  options.listen = address_;  // already taken by the first server
  telemetry::Registry other_registry;
  HttpServer second(options, router_, other_registry, nullptr);
  const Status st = second.Start();
  EXPECT_EQ(st.code(), StatusCode::kUnavailable);
  EXPECT_NE(st.message().find(address_), std::string::npos) << st.message();

  telemetry::Registry third_registry;
  options.listen = "no-port-here";
  HttpServer third(options, router_, third_registry, nullptr);
  EXPECT_EQ(third.Start().code(), StatusCode::kInvalidArgument);
  third.Shutdown();  // never started: nothing to do
}

TEST_F(LifecycleTest, ListensOnIpv6Loopback) {
  ServerOptions options;
  options.listen = "[::1]:0";
  HttpServer server(options, router_, registry_, nullptr);
  const Status st = server.Start();
  if (!st.ok()) GTEST_SKIP() << "no IPv6 loopback here: " << st.ToString();
  EXPECT_EQ(server.bound_address().rfind("[::1]:", 0), 0u) << server.bound_address();
  EXPECT_NE(server.bound_address(), "[::1]:0");
  server.Shutdown();
}

}  // namespace
}  // namespace pa::gateway::testing
