// The request pipeline over real sockets: keep-alive, routing, request ids, CORS, authentication,
// handler failures and metrics.
#include <gtest/gtest.h>

#include <stdexcept>
#include <thread>

#include "gateway/authenticator.h"
#include "gateway/test_server.h"

namespace pa::gateway::testing {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

bool IsGeneratedId(const std::optional<std::string>& id) {
  return id && id->size() == 32 && id->find_first_not_of("0123456789abcdef") == std::string::npos;
}

pa::Json BodyJson(const TestResponse& r) { return pa::Json::parse(r.body); }

class PipelineTest : public ServerTest {
 protected:
  void SetUp() override {
    ASSERT_TRUE(router_
                    .Add(Method::kGet, "/healthz", Access::Public(),
                         [](Request&) { return Response::Text(200, "ok"); })
                    .ok());
    ASSERT_TRUE(router_
                    .Add(Method::kGet, "/robots/{id}/runs/{run}", Access::Public(),
                         [](Request& r) {
                           return Response::Json(200, {{"id", r.Param("id")},
                                                       {"run", r.Param("run")},
                                                       {"q", r.Query("q").value_or("-")},
                                                       {"route", r.route}});
                         })
                    .ok());
    ASSERT_TRUE(router_
                    .Add(Method::kPost, "/echo", Access::Public(),
                         [](Request& r) { return Response::Text(200, r.body); })
                    .ok());
    ASSERT_TRUE(router_
                    .Add(Method::kGet, "/boom", Access::Public(),
                         [](Request&) -> Response { throw std::runtime_error("kaboom"); })
                    .ok());
  }
};

TEST_F(PipelineTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  StartServer();
  auto c = Connect();
  for (int i = 0; i < 3; ++i) {
    auto r = c->RoundTrip(TestConnection::Request("GET", "/healthz"));
    ASSERT_TRUE(r) << "request " << i;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "ok");
    EXPECT_FALSE(r->Header("Connection").has_value());
    EXPECT_EQ(r->Header("Server"), "PrimoART");
    EXPECT_TRUE(r->Header("Date").has_value());
  }
  // Pipelined: two requests in one write, two responses in order.
  ASSERT_TRUE(c->Send(TestConnection::Request("POST", "/echo", {}, "first") +
                      TestConnection::Request("POST", "/echo", {}, "second")));
  auto a = c->Read();
  auto b = c->Read();
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->body, "first");
  EXPECT_EQ(b->body, "second");
  // Connection: close is honoured.
  auto last = c->RoundTrip(TestConnection::Request("GET", "/healthz", {{"Connection", "close"}}));
  ASSERT_TRUE(last);
  EXPECT_EQ(last->Header("Connection"), "close");
  EXPECT_TRUE(c->WaitClosed());
}

TEST_F(PipelineTest, PathParametersAndQuery) {
  StartServer();
  auto r = Get(address_, "/robots/r%201/runs/7?q=a+b%21");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->Header("Content-Type"), "application/json");
  const auto j = BodyJson(*r);
  EXPECT_EQ(j["id"], "r 1");
  EXPECT_EQ(j["run"], "7");
  EXPECT_EQ(j["q"], "a b!");
  EXPECT_EQ(j["route"], "/robots/{id}/runs/{run}");

  auto bad = Get(address_, "/robots/%zz/runs/1");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(BodyJson(*bad)["error"], "bad_request");
}

TEST_F(PipelineTest, NotFoundMethodNotAllowedHeadAndOptions) {
  StartServer();
  auto c = Connect();
  auto missing = c->RoundTrip(TestConnection::Request("GET", "/nope"));
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(BodyJson(*missing)["error"], "not_found");

  auto wrong = c->RoundTrip(TestConnection::Request("DELETE", "/healthz"));
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 405);
  EXPECT_EQ(wrong->Header("Allow"), "GET, HEAD");
  EXPECT_EQ(BodyJson(*wrong)["error"], "method_not_allowed");

  auto unknown = c->RoundTrip(TestConnection::Request("PROPFIND", "/healthz"));
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 405);
  EXPECT_EQ(unknown->Header("Allow"), "GET, HEAD");

  ASSERT_TRUE(c->Send(TestConnection::Request("HEAD", "/healthz")));
  auto head = c->Read(std::chrono::seconds(20), /*head_request=*/true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->Header("Content-Length"), "2");

  auto options = c->RoundTrip(TestConnection::Request("OPTIONS", "/echo"));
  ASSERT_TRUE(options);
  EXPECT_EQ(options->status, 204);
  EXPECT_EQ(options->Header("Allow"), "POST");

  // After all of that the connection is still in step (no stray body bytes after HEAD).
  auto ok = c->RoundTrip(TestConnection::Request("GET", "/healthz"));
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->body, "ok");
}

TEST_F(PipelineTest, RequestIdIsEchoedOrGenerated) {
  StartServer();
  auto given = Get(address_, "/healthz", {{"X-Request-Id", "abc-123._X"}});
  ASSERT_TRUE(given);
  EXPECT_EQ(given->Header("X-Request-Id"), "abc-123._X");

  auto invalid = Get(address_, "/healthz", {{"X-Request-Id", "bad id!"}});
  ASSERT_TRUE(invalid);
  EXPECT_TRUE(IsGeneratedId(invalid->Header("X-Request-Id")));

  auto too_long = Get(address_, "/healthz", {{"X-Request-Id", std::string(129, 'a')}});
  ASSERT_TRUE(too_long);
  EXPECT_TRUE(IsGeneratedId(too_long->Header("X-Request-Id")));

  auto first = Get(address_, "/healthz");
  auto second = Get(address_, "/nope");  // errors made by the server carry one too
  ASSERT_TRUE(first && second);
  EXPECT_TRUE(IsGeneratedId(first->Header("X-Request-Id")));
  EXPECT_TRUE(IsGeneratedId(second->Header("X-Request-Id")));
  EXPECT_NE(first->Header("X-Request-Id"), second->Header("X-Request-Id"));
  auto echoed_error = Get(address_, "/nope", {{"X-Request-Id", "err-1"}});
  ASSERT_TRUE(echoed_error);
  EXPECT_EQ(echoed_error->Header("X-Request-Id"), "err-1");
}

TEST_F(PipelineTest, HandlerExceptionBecomes500AndConnectionGoesOn) {
  StartServer();
  auto c = Connect();
  auto r = c->RoundTrip(TestConnection::Request("GET", "/boom", {{"X-Request-Id", "req-boom"}}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(r->Header("X-Request-Id"), "req-boom");
  const auto j = BodyJson(*r);
  EXPECT_EQ(j["error"], "internal");
  EXPECT_NE(j["message"].get<std::string>().find("req-boom"), std::string::npos);
  EXPECT_EQ(j["message"].get<std::string>().find("kaboom"), std::string::npos);  // not leaked
  auto after = c->RoundTrip(TestConnection::Request("GET", "/healthz"));
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 200);
}

TEST_F(PipelineTest, CorsPreflightAndSimpleResponses) {
  ServerOptions options;
  options.cors.allowed_origins = {"https://app.example"};
  options.cors.max_age = std::chrono::seconds(123);
  StartServer(options);
  const Headers preflight = {{"Origin", "https://app.example"},
                             {"Access-Control-Request-Method", "GET"},
                             {"Access-Control-Request-Headers", "authorization"}};
  auto c = Connect();
  auto pre = c->RoundTrip(TestConnection::Request("OPTIONS", "/robots/r1/runs/2", preflight));
  ASSERT_TRUE(pre);
  EXPECT_EQ(pre->status, 204);
  EXPECT_EQ(pre->Header("Access-Control-Allow-Origin"), "https://app.example");
  EXPECT_EQ(pre->Header("Access-Control-Allow-Methods"), "GET, HEAD");
  EXPECT_EQ(pre->Header("Access-Control-Allow-Headers"), "authorization");
  EXPECT_EQ(pre->Header("Access-Control-Max-Age"), "123");
  EXPECT_EQ(pre->Header("Vary"), "Origin");
  EXPECT_FALSE(pre->Header("Access-Control-Allow-Credentials").has_value());

  auto stranger = c->RoundTrip(TestConnection::Request(
      "OPTIONS", "/healthz",
      {{"Origin", "https://evil.example"}, {"Access-Control-Request-Method", "GET"}}));
  ASSERT_TRUE(stranger);
  EXPECT_EQ(stranger->status, 204);
  EXPECT_FALSE(stranger->Header("Access-Control-Allow-Origin").has_value());
  EXPECT_FALSE(stranger->Header("Access-Control-Allow-Methods").has_value());

  auto unknown_path = c->RoundTrip(TestConnection::Request("OPTIONS", "/nope", preflight));
  ASSERT_TRUE(unknown_path);
  EXPECT_EQ(unknown_path->status, 404);

  auto simple =
      c->RoundTrip(TestConnection::Request("GET", "/healthz", {{"Origin", "https://app.example"}}));
  ASSERT_TRUE(simple);
  EXPECT_EQ(simple->Header("Access-Control-Allow-Origin"), "https://app.example");
  EXPECT_EQ(simple->Header("Vary"), "Origin");

  auto other = c->RoundTrip(
      TestConnection::Request("GET", "/healthz", {{"Origin", "https://evil.example"}}));
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 200);
  EXPECT_FALSE(other->Header("Access-Control-Allow-Origin").has_value());
}

TEST_F(PipelineTest, CorsWithCredentialsEchoesTheOrigin) {
  ServerOptions options;
  options.cors.allowed_origins = {"*"};
  options.cors.allow_credentials = true;
  StartServer(options);
  auto r = Get(address_, "/healthz", {{"Origin", "https://any.example"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->Header("Access-Control-Allow-Origin"), "https://any.example");
  EXPECT_EQ(r->Header("Access-Control-Allow-Credentials"), "true");
}

TEST_F(PipelineTest, MetricsCountPerRoutePattern) {
  StartServer();
  ASSERT_TRUE(Get(address_, "/robots/a/runs/1"));
  ASSERT_TRUE(Get(address_, "/robots/b/runs/2"));
  ASSERT_TRUE(Get(address_, "/no/such/path"));
  // A request is counted just after its last byte is sent.
  ASSERT_TRUE(Eventually([&] { return server_->in_flight() == 0; }));
  const std::string text = registry_.Expose();
  EXPECT_NE(text.find("primoart_http_requests_total{route=\"/robots/{id}/runs/{run}\","
                      "method=\"GET\",status=\"200\"} 2"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("primoart_http_requests_total{route=\"unmatched\",method=\"GET\","
                      "status=\"404\"} 1"),
            std::string::npos);
  EXPECT_NE(text.find("primoart_http_request_duration_seconds_count{route=\"/robots/{id}/runs/"
                      "{run}\",method=\"GET\"} 2"),
            std::string::npos);
  EXPECT_NE(text.find("primoart_http_requests_in_flight 0"), std::string::npos);
  EXPECT_EQ(text.find("/no/such/path"), std::string::npos);  // raw paths never become labels
}

// Tokens: "reader" (scope read), "robot-r1" (robot bound to r1), "down" (store unreachable).
class FakeAuthenticator : public Authenticator {
 public:
  Result<Principal> Authenticate(const Request& request) override {
    ++authenticate_calls;
    const auto header = request.Header("Authorization");
    if (!header) return UnauthenticatedError("no credentials");
    if (*header == "Bearer down") return UnavailableError("token store is unreachable");
    Principal p;
    p.kind = "token";
    if (*header == "Bearer reader") {
      p.name = "reader-token";
      p.scopes = {"read"};
    } else if (*header == "Bearer robot-r1") {
      p.name = "robot-token";
      p.scopes = {"robot"};
      p.robot_id = "r1";
    } else {
      return UnauthenticatedError("token is invalid");
    }
    return p;
  }
  bool Authorize(const Principal& principal, const Access& access,
                 const Request& request) override {
    for (const auto& scope : principal.scopes) {
      if (scope == "read" && access.Allows(Permission::kRead)) return true;
      if (scope == "robot" && access.Allows(Permission::kRobot) &&
          request.Param(access.robot_param) == principal.robot_id) {
        return true;
      }
    }
    return false;
  }
  std::atomic<int> authenticate_calls{0};
};

class AuthTest : public ServerTest {
 protected:
  void SetUp() override {
    auto whoami = [this](Request& r) {
      ++handled_;
      return Response::Json(200, {{"name", r.principal.name}, {"body", r.body.size()}});
    };
    ASSERT_TRUE(router_.Add(Method::kGet, "/data", Access::Read(), whoami).ok());
    ASSERT_TRUE(router_.Add(Method::kPost, "/data", Access::Write(), whoami).ok());
    ASSERT_TRUE(
        router_.Add(Method::kPost, "/robots/{id}/results", Access::Robot("id"), whoami).ok());
    ASSERT_TRUE(router_.Add(Method::kGet, "/public", Access::Public(), whoami).ok());
  }
  std::atomic<int> handled_{0};
};

TEST_F(AuthTest, NullAuthenticatorRefusesEveryNonPublicRoute) {
  StartServer();
  auto r = Get(address_, "/data", {{"Authorization", "Bearer reader"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(r->Header("WWW-Authenticate"), "Bearer");
  EXPECT_EQ(BodyJson(*r)["error"], "unauthenticated");
  auto pub = Get(address_, "/public");
  ASSERT_TRUE(pub);
  EXPECT_EQ(pub->status, 200);
  EXPECT_EQ(handled_, 1);
}

TEST_F(AuthTest, AuthenticatorDecides401403503And200) {
  FakeAuthenticator auth;
  auth_ = &auth;
  StartServer();
  auto none = Get(address_, "/data");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 401);
  EXPECT_EQ(none->Header("WWW-Authenticate"), "Bearer");

  auto bad = Get(address_, "/data", {{"Authorization", "Bearer forged"}});
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 401);
  EXPECT_EQ(BodyJson(*bad)["message"], "token is invalid");

  auto down = Get(address_, "/data", {{"Authorization", "Bearer down"}});
  ASSERT_TRUE(down);
  EXPECT_EQ(down->status, 503);
  EXPECT_EQ(BodyJson(*down)["error"], "unavailable");

  auto ok = Get(address_, "/data", {{"Authorization", "Bearer reader"}});
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(BodyJson(*ok)["name"], "reader-token");

  auto robot_ok = TestConnection::Connect(address_)->RoundTrip(TestConnection::Request(
      "POST", "/robots/r1/results", {{"Authorization", "Bearer robot-r1"}}, "{}"));
  ASSERT_TRUE(robot_ok);
  EXPECT_EQ(robot_ok->status, 200);
  auto robot_other = TestConnection::Connect(address_)->RoundTrip(TestConnection::Request(
      "POST", "/robots/r2/results", {{"Authorization", "Bearer robot-r1"}}, "{}"));
  ASSERT_TRUE(robot_other);
  EXPECT_EQ(robot_other->status, 403);
  EXPECT_EQ(auth.authenticate_calls, 6);
  EXPECT_EQ(handled_, 2);
}

TEST_F(AuthTest, RefusalComesBeforeAnyBodyByte) {
  FakeAuthenticator auth;
  auth_ = &auth;
  StartServer();
  // The head announces a large body that never comes: an answer proves nothing waited for it.
  auto c = Connect();
  ASSERT_TRUE(
      c->Send("POST /data HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer reader\r\n"
              "Content-Length: 1000000\r\n\r\n"));
  auto r = c->Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  EXPECT_EQ(BodyJson(*r)["error"], "permission_denied");
  EXPECT_EQ(r->Header("Connection"), "close");  // the unread body makes the connection unusable
  EXPECT_TRUE(c->WaitClosed());

  auto c2 = Connect();
  ASSERT_TRUE(c2->Send("POST /data HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000\r\n\r\n"));
  auto r2 = c2->Read();
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->status, 401);
  EXPECT_EQ(handled_, 0);
}

}  // namespace
}  // namespace pa::gateway::testing

namespace pa::gateway::testing {
namespace {

// Async handlers answer later from another thread; the server thread is not held meanwhile.
class AsyncHandlerTest : public ServerTest {
 protected:
  void SetUp() override {
    ASSERT_TRUE(router_
                    .AddAsync(Method::kPost, "/later", Access::Public(),
                              [this](Request& r, Responder respond) {
                                std::string body = r.body;
                                workers_.emplace_back([body, respond] {
                                  std::this_thread::sleep_for(std::chrono::milliseconds(50));
                                  respond(Response::Text(201, "done:" + body));
                                  respond(Response::Text(500, "second answer"));  // ignored
                                });
                              })
                    .ok());
    ASSERT_TRUE(router_
                    .AddAsync(Method::kGet, "/throws", Access::Public(),
                              [](Request&, Responder) { throw std::runtime_error("kaboom"); })
                    .ok());
    ASSERT_FALSE(router_.AddAsync(Method::kGet, "/none", Access::Public(), nullptr).ok());
  }
  void TearDown() override {
    for (auto& t : workers_) t.join();
    ServerTest::TearDown();
  }
  std::vector<std::thread> workers_;
};

TEST_F(AsyncHandlerTest, AnswersComeFromTheResponderInOrderOnKeepAlive) {
  StartServer({.threads = 1});
  // With one server thread, two connections waiting at once prove the thread is not held.
  auto a = Connect();
  auto b = Connect();
  ASSERT_TRUE(a->Send(TestConnection::Request("POST", "/later", {}, "a1") +
                      TestConnection::Request("POST", "/later", {}, "a2")));
  ASSERT_TRUE(b->Send(TestConnection::Request("POST", "/later", {}, "b1")));
  auto b1 = b->Read();
  auto a1 = a->Read();
  auto a2 = a->Read();
  ASSERT_TRUE(a1 && a2 && b1);
  EXPECT_EQ(a1->status, 201);
  EXPECT_EQ(a1->body, "done:a1");
  EXPECT_EQ(a2->body, "done:a2");
  EXPECT_EQ(b1->body, "done:b1");
}

TEST_F(AsyncHandlerTest, AThrowingHandlerIsA500) {
  StartServer();
  auto r = Get(address_, "/throws");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
  EXPECT_NE(r->body.find("internal"), std::string::npos);
}

}  // namespace
}  // namespace pa::gateway::testing
