// Untrusted input at the edge: body limits (Content-Length and chunked), Content-Encoding
// (gzip, bombs, corrupt data, unsupported encodings), oversized heads, malformed requests and
// the read timeout.
#include <gtest/gtest.h>

#include <fstream>

#include "gateway/test_server.h"

namespace pa::gateway::testing {
namespace {

pa::Json BodyJson(const TestResponse& r) { return pa::Json::parse(r.body); }

class LimitsTest : public ServerTest {
 protected:
  void SetUp() override {
    auto echo = [this](Request& r) {
      ++handled_;
      return Response::Text(200, r.body);
    };
    ASSERT_TRUE(router_
                    .Add(Method::kPost, "/small", Access::Public(), echo,
                         RouteOptions{.max_body_bytes = 1024})
                    .ok());
    ASSERT_TRUE(router_
                    .Add(
                        Method::kPost, "/ingest", Access::Public(),
                        [this](Request& r) {
                          ++handled_;
                          return Response::Json(200, {{"bytes", r.body.size()}});
                        },
                        RouteOptions{.max_body_bytes = 8 << 20})
                    .ok());
    ASSERT_TRUE(router_
                    .Add(Method::kGet, "/healthz", Access::Public(),
                         [](Request&) { return Response::Text(200, "ok"); })
                    .ok());
    ASSERT_TRUE(router_
                    .Add(Method::kGet, "/big/{mib}", Access::Public(),
                         [](Request& r) {
                           std::string body(std::stoul(std::string(r.Param("mib"))) << 20, '\0');
                           for (size_t i = 0; i < body.size(); ++i)
                             body[i] = static_cast<char>('a' + i % 23);
                           return Response::Text(200, std::move(body), "application/octet-stream");
                         })
                    .ok());
  }
  std::atomic<int> handled_{0};
};

TEST_F(LimitsTest, ContentLengthOverTheLimitIsRefusedWithoutReadingTheBody) {
  StartServer();
  auto c = Connect();
  ASSERT_TRUE(
      c->Send("POST /small HTTP/1.1\r\nHost: t\r\nX-Request-Id: big-1\r\n"
              "Content-Length: 10000000\r\n\r\n"));
  auto r = c->Read();  // arrives although no body byte was sent
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(BodyJson(*r)["error"], "payload_too_large");
  EXPECT_EQ(r->Header("X-Request-Id"), "big-1");
  EXPECT_EQ(r->Header("Connection"), "close");
  EXPECT_TRUE(c->WaitClosed());
  EXPECT_EQ(handled_, 0);

  // At the limit is fine.
  auto ok =
      Connect()->RoundTrip(TestConnection::Request("POST", "/small", {}, std::string(1024, 'x')));
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(ok->body.size(), 1024u);
}

TEST_F(LimitsTest, LargeBodiesBothWays) {
  StartServer();
  auto c = Connect();
  std::string upload(5 << 20, 'u');
  auto up = c->RoundTrip(TestConnection::Request("POST", "/ingest", {}, upload));
  ASSERT_TRUE(up);
  EXPECT_EQ(up->status, 200);
  EXPECT_EQ(BodyJson(*up)["bytes"], upload.size());

  auto down = c->RoundTrip(TestConnection::Request("GET", "/big/6"));  // larger than socket buffers
  ASSERT_TRUE(down);
  ASSERT_EQ(down->body.size(), 6u << 20);
  bool intact = true;
  for (size_t i = 0; i < down->body.size(); ++i) {
    intact = intact && down->body[i] == static_cast<char>('a' + i % 23);
  }
  EXPECT_TRUE(intact);
  auto after = c->RoundTrip(TestConnection::Request("GET", "/healthz"));
  ASSERT_TRUE(after);
  EXPECT_EQ(after->body, "ok");
}

TEST_F(LimitsTest, ChunkedBodiesAreCountedAsTheyArrive) {
  StartServer();
  auto c = Connect();
  auto ok = c->RoundTrip(
      "POST /small HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(ok->body, "hello world");

  const std::string chunk = "258\r\n" + std::string(600, 'a') + "\r\n";  // 0x258 = 600 bytes
  ASSERT_TRUE(c->Send("POST /small HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" +
                      chunk + chunk));
  auto over = c->Read();
  ASSERT_TRUE(over);
  EXPECT_EQ(over->status, 413);
  EXPECT_EQ(over->Header("Connection"), "close");
  EXPECT_EQ(handled_, 1);
}

TEST_F(LimitsTest, GzipBodiesAreInflated) {
  StartServer();
  std::string text;
  for (int i = 0; i < 10000; ++i) text += "metric_" + std::to_string(i) + " 1\n";
  auto r = Connect()->RoundTrip(
      TestConnection::Request("POST", "/ingest", {{"Content-Encoding", "gzip"}}, Gzip(text)));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(BodyJson(*r)["bytes"], text.size());
}

// A 1 MiB upload that inflates to 1 GiB must be stopped at the route's limit (8 MiB) and cost the
// process far less than 64 MiB. The server runs in this process, so its peak RSS is ours.
TEST_F(LimitsTest, GzipBombIsRefusedWithBoundedMemory) {
  StartServer();
  const std::string bomb = GzipZeros(1024);
  ASSERT_LT(bomb.size(), 2u << 20);
  const std::string request =
      TestConnection::Request("POST", "/ingest", {{"Content-Encoding", "gzip"}}, bomb);
  auto c = Connect();
  const int64_t rss_before = ReadProcStatusBytes("VmRSS");
  ASSERT_GT(rss_before, 0);
  // Resets VmHWM to the current RSS, so the peak below is this request's (Linux >= 4.0).
  const bool peak_reset = static_cast<bool>(std::ofstream("/proc/self/clear_refs") << "5");

  c->SendAll(request);  // may stop early: the server answers as soon as the limit is passed
  auto r = c->Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(BodyJson(*r)["error"], "payload_too_large");
  EXPECT_EQ(handled_, 0);

  const int64_t after = ReadProcStatusBytes(peak_reset ? "VmHWM" : "VmRSS");
  const int64_t growth = after - rss_before;
  RecordProperty("rss_growth_bytes", std::to_string(growth));
  EXPECT_LT(growth, 64 << 20) << "RSS grew by " << (growth >> 20) << " MiB";
}

TEST_F(LimitsTest, CorruptGzipIs400) {
  StartServer();
  auto r = Connect()->RoundTrip(TestConnection::Request(
      "POST", "/ingest", {{"Content-Encoding", "gzip"}}, "this is not gzip at all"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(BodyJson(*r)["error"], "bad_request");
  EXPECT_NE(BodyJson(*r)["message"].get<std::string>().find("gzip"), std::string::npos);

  const std::string gz = Gzip(std::string(5000, 'z'));
  auto truncated = Connect()->RoundTrip(TestConnection::Request(
      "POST", "/ingest", {{"Content-Encoding", "gzip"}}, gz.substr(0, gz.size() - 10)));
  ASSERT_TRUE(truncated);
  EXPECT_EQ(truncated->status, 400);
  EXPECT_EQ(handled_, 0);
}

TEST_F(LimitsTest, UnsupportedEncodingIs415) {
  StartServer();
  auto r = Connect()->RoundTrip(
      TestConnection::Request("POST", "/ingest", {{"Content-Encoding", "br"}}, "xxxx"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 415);
  EXPECT_EQ(BodyJson(*r)["error"], "unsupported_media_type");
  EXPECT_EQ(handled_, 0);
}

TEST_F(LimitsTest, OversizedHeadIs431AndGarbageIs400) {
  StartServer();
  auto big = Connect()->RoundTrip(
      TestConnection::Request("GET", "/healthz", {{"X-Filler", std::string(20000, 'f')}}));
  ASSERT_TRUE(big);
  EXPECT_EQ(big->status, 431);
  EXPECT_EQ(BodyJson(*big)["error"], "request_header_fields_too_large");
  EXPECT_TRUE(big->Header("X-Request-Id").has_value());

  // Both framings at once is the classic request-smuggling shape: refused.
  auto smuggle = Connect()->RoundTrip(
      "POST /small HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
      "0\r\n\r\n");
  ASSERT_TRUE(smuggle);
  EXPECT_EQ(smuggle->status, 400);

  auto garbage = Connect()->RoundTrip("NOT HTTP AT ALL\r\n\r\n");
  ASSERT_TRUE(garbage);
  EXPECT_EQ(garbage->status, 400);
  EXPECT_EQ(BodyJson(*garbage)["error"], "bad_request");
}

TEST_F(LimitsTest, Expect100ContinueIsAnswered) {
  StartServer();
  auto c = Connect();
  ASSERT_TRUE(
      c->Send("POST /small HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n"
              "Content-Length: 5\r\n\r\n"));
  auto cont = c->Read();
  ASSERT_TRUE(cont);
  EXPECT_EQ(cont->status, 100);
  ASSERT_TRUE(c->Send("hello"));
  auto r = c->Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello");
}

TEST_F(LimitsTest, IncompleteRequestGets408AndIdleConnectionsClose) {
  ServerOptions options;
  options.read_timeout = std::chrono::milliseconds(300);
  options.idle_timeout = std::chrono::milliseconds(300);
  StartServer(options);
  auto slow = Connect();
  ASSERT_TRUE(slow->Send("GET /healthz HTTP/1.1\r\nHost: t\r\n"));  // never finished
  auto r = slow->Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 408);
  EXPECT_EQ(BodyJson(*r)["error"], "request_timeout");
  EXPECT_EQ(r->Header("Connection"), "close");
  EXPECT_TRUE(r->Header("X-Request-Id").has_value());
  EXPECT_TRUE(slow->WaitClosed());

  auto idle = Connect();
  auto ok = idle->RoundTrip(TestConnection::Request("GET", "/healthz"));
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_TRUE(idle->WaitClosed());  // closed by the idle timeout, without a response
}

}  // namespace
}  // namespace pa::gateway::testing
