#include "gateway/http.h"

#include <gtest/gtest.h>

#include "gateway/cors.h"
#include "gateway/request_stats.h"
#include "gateway/response_writer.h"

namespace pa::gateway {
namespace {

TEST(MethodTest, NamesRoundTrip) {
  for (Method m : {Method::kGet, Method::kHead, Method::kPost, Method::kPut, Method::kPatch,
                   Method::kDelete, Method::kOptions}) {
    EXPECT_EQ(ParseMethod(MethodName(m)), m);
  }
  EXPECT_EQ(MethodName(Method::kPatch), "PATCH");
  EXPECT_FALSE(ParseMethod("get").has_value());  // methods are case-sensitive
  EXPECT_FALSE(ParseMethod("PROPFIND").has_value());
}

TEST(HeadersTest, CaseInsensitiveFirstValueAndSet) {
  Headers h;
  h.Add("Content-Type", "text/plain");
  h.Add("X-Multi", "a");
  h.Add("x-multi", "b");
  EXPECT_EQ(h.Get("content-type"), "text/plain");
  EXPECT_EQ(h.Get("X-MULTI"), "a");
  EXPECT_FALSE(h.Has("Missing"));
  h.Set("X-Multi", "c");
  EXPECT_EQ(h.Get("x-multi"), "c");
  EXPECT_EQ(h.items().size(), 2u);
  h.Clear();
  EXPECT_TRUE(h.empty());
}

TEST(RequestTest, ParamAndQuery) {
  Request r;
  r.params = {{"id", "r1"}, {"key", "a b"}};
  r.query_string = "q=hello+world&empty=&flag&enc=%41%2fb&q=second&bad=%zz&sp%20ace=1";
  EXPECT_EQ(r.Param("id"), "r1");
  EXPECT_EQ(r.Param("key"), "a b");
  EXPECT_EQ(r.Param("nope"), "");
  EXPECT_EQ(r.Query("q"), "hello world");  // first value, '+' as space
  EXPECT_EQ(r.Query("empty"), "");
  EXPECT_EQ(r.Query("flag"), "");
  EXPECT_EQ(r.Query("enc"), "A/b");
  EXPECT_EQ(r.Query("bad"), "%zz");   // a broken escape stays as it is
  EXPECT_EQ(r.Query("sp ace"), "1");  // keys are decoded too
  EXPECT_FALSE(r.Query("missing").has_value());
  r.headers.Add("X-Thing", "v");
  EXPECT_EQ(r.Header("x-thing"), "v");
}

TEST(PathDecodeTest, DecodesAndRejectsBadEscapes) {
  std::string out;
  EXPECT_TRUE(PercentDecodePath("/a%20b/c+d/%E2%82%AC", out));
  EXPECT_EQ(out, "/a b/c+d/\xE2\x82\xAC");
  EXPECT_FALSE(PercentDecodePath("/a%2", out));
  EXPECT_FALSE(PercentDecodePath("/a%g0", out));
  EXPECT_FALSE(PercentDecodePath("/a%00b", out));  // encoded NUL
}

TEST(ResponseTest, Helpers) {
  auto j = Response::Json(201, pa::Json{{"a", 1}});
  EXPECT_EQ(j.status, 201);
  EXPECT_EQ(j.body, R"({"a":1})");
  EXPECT_EQ(j.content_type, "application/json");

  auto bad_utf8 = Response::Json(200, pa::Json{{"a", std::string("\xff")}});
  EXPECT_EQ(bad_utf8.status, 200);  // replaced, not thrown

  auto t = Response::Text(200, "hi");
  EXPECT_EQ(t.content_type, "text/plain; charset=utf-8");
  EXPECT_EQ(t.body, "hi");

  auto e = Response::Empty(204);
  EXPECT_EQ(e.status, 204);
  EXPECT_TRUE(e.body.empty());

  auto err = Response::Error(404, "not_found", "no \"x\"");
  EXPECT_EQ(err.body, R"({"error":"not_found","message":"no \"x\""})");
  auto parsed = pa::Json::parse(err.body);
  EXPECT_EQ(parsed["message"], "no \"x\"");

  auto s = Response::FromStatus(NotFoundError("robot r1 is gone"));
  EXPECT_EQ(s.status, 404);
  EXPECT_EQ(pa::Json::parse(s.body)["error"], "not_found");
  EXPECT_EQ(pa::Json::parse(s.body)["message"], "robot r1 is gone");
}

TEST(StatusToHttpTest, Mapping) {
  EXPECT_EQ(StatusToHttp(StatusCode::kInvalidArgument), 400);
  EXPECT_EQ(StatusToHttp(StatusCode::kUnauthenticated), 401);
  EXPECT_EQ(StatusToHttp(StatusCode::kPermissionDenied), 403);
  EXPECT_EQ(StatusToHttp(StatusCode::kNotFound), 404);
  EXPECT_EQ(StatusToHttp(StatusCode::kAlreadyExists), 409);
  EXPECT_EQ(StatusToHttp(StatusCode::kFailedPrecondition), 409);
  EXPECT_EQ(StatusToHttp(StatusCode::kAborted), 409);
  EXPECT_EQ(StatusToHttp(StatusCode::kResourceExhausted), 429);
  EXPECT_EQ(StatusToHttp(StatusCode::kUnimplemented), 501);
  EXPECT_EQ(StatusToHttp(StatusCode::kUnavailable), 503);
  EXPECT_EQ(StatusToHttp(StatusCode::kDeadlineExceeded), 504);
  EXPECT_EQ(StatusToHttp(StatusCode::kDataLoss), 500);
  EXPECT_EQ(StatusToHttp(StatusCode::kInternal), 500);
}

TEST(ResponseWriterTest, HeadLayout) {
  Response r = Response::Text(200, "ok");
  r.headers.Add("X-Custom", "1");
  r.headers.Add("X-Evil", "a\r\nSet-Cookie: x");  // dropped: would split the response
  r.headers.Add("Content-Length", "999");         // the server's own
  std::string out;
  AppendResponseHead(out, r,
                     ResponseHead{"rid", "PrimoART", false, false, false, "Vary: Origin\r\n"});
  EXPECT_EQ(out.rfind("HTTP/1.1 200 OK\r\nServer: PrimoART\r\nDate: ", 0), 0u);
  EXPECT_NE(out.find("X-Custom: 1\r\n"), std::string::npos);
  EXPECT_EQ(out.find("Set-Cookie"), std::string::npos);
  EXPECT_EQ(out.find("999"), std::string::npos);
  EXPECT_NE(out.find("Content-Type: text/plain; charset=utf-8\r\nContent-Length: 2\r\n"),
            std::string::npos);
  EXPECT_NE(out.find("X-Request-Id: rid\r\nVary: Origin\r\nConnection: close\r\n\r\n"),
            std::string::npos);

  out.clear();
  AppendResponseHead(out, Response::Empty(204), ResponseHead{"", "", true, true, false, ""});
  EXPECT_EQ(out.find("Content-Length"), std::string::npos);              // never on 204
  EXPECT_NE(out.find("Connection: keep-alive\r\n"), std::string::npos);  // HTTP/1.0 client
  EXPECT_EQ(ReasonPhrase(413), "Payload Too Large");
}

TEST(CorsPolicyTest, OriginsAndCredentials) {
  CorsPolicy none(CorsOptions{});
  EXPECT_FALSE(none.enabled());

  CorsPolicy listed(CorsOptions{{"https://app.example"}, false, std::chrono::seconds(60)});
  std::string out;
  listed.AppendResponseHeaders(out, "https://evil.example");
  EXPECT_EQ(out, "");
  listed.AppendResponseHeaders(out, "https://app.example");
  EXPECT_NE(out.find("Access-Control-Allow-Origin: https://app.example\r\n"), std::string::npos);
  EXPECT_NE(out.find("Vary: Origin\r\n"), std::string::npos);
  out.clear();
  listed.AppendPreflightHeaders(out, "https://app.example", "GET, POST", "");
  EXPECT_NE(out.find("Access-Control-Allow-Methods: GET, POST\r\n"), std::string::npos);
  EXPECT_NE(out.find("Access-Control-Allow-Headers: Authorization"), std::string::npos);
  EXPECT_NE(out.find("Access-Control-Max-Age: 60\r\n"), std::string::npos);

  CorsPolicy any(CorsOptions{{"*"}, false, std::chrono::seconds(1)});
  out.clear();
  any.AppendResponseHeaders(out, "https://x.example");
  EXPECT_NE(out.find("Access-Control-Allow-Origin: *\r\n"), std::string::npos);

  CorsPolicy any_credentials(CorsOptions{{"*"}, true, std::chrono::seconds(1)});
  out.clear();
  any_credentials.AppendResponseHeaders(out, "https://x.example");
  EXPECT_NE(out.find("Access-Control-Allow-Origin: https://x.example\r\n"), std::string::npos);
  EXPECT_NE(out.find("Access-Control-Allow-Credentials: true\r\n"), std::string::npos);
  EXPECT_EQ(out.find("Origin: *"), std::string::npos);
}

TEST(AccessLineTest, IsOneValidJsonObject) {
  std::string line;
  AccessRecord r;
  r.start = std::chrono::system_clock::time_point(std::chrono::milliseconds(1764324000123));
  r.request_id = "rid-1";
  r.remote = "127.0.0.1:5000";
  r.method = "GET";
  r.path = "/api/v1/robots/r%201";
  r.route = "/api/v1/robots/{id}";
  r.status = 200;
  r.duration = std::chrono::microseconds(1234);
  r.bytes_in = 10;
  r.bytes_out = 20;
  r.user_agent = "curl/8 \"quoted\"\n";
  r.principal = "alice";
  AppendAccessLine(line, r);
  const auto j = pa::Json::parse(line);
  EXPECT_EQ(j["ts"], "2025-11-28T10:00:00.123Z");
  EXPECT_EQ(j["request_id"], "rid-1");
  EXPECT_EQ(j["path"], "/api/v1/robots/r%201");
  EXPECT_EQ(j["route"], "/api/v1/robots/{id}");
  EXPECT_EQ(j["status"], 200);
  EXPECT_DOUBLE_EQ(j["duration_ms"].get<double>(), 1.234);
  EXPECT_EQ(j["bytes_in"], 10);
  EXPECT_EQ(j["bytes_out"], 20);
  EXPECT_EQ(j["user_agent"], "curl/8 \"quoted\"\n");
  EXPECT_EQ(j["principal"], "alice");
  EXPECT_EQ(line.find('\n'), std::string::npos);
}

}  // namespace
}  // namespace pa::gateway
