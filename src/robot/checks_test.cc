// Tests of the http step against the in-process servers of test_servers.h.
#include <gtest/gtest.h>

#include <cstdlib>

#include "robot/http_step.h"
#include "robot/test_servers.h"

namespace pa::robot {
namespace {

using synth::StepStatus;
using testing::AllText;
using testing::ParseStep;
using testing::TestCert;
using testing::TestHttpServer;

class HttpStepTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Hermetic: no proxy from the environment between the robot and 127.0.0.1.
    for (const char* v :
         {"http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"}) {
      unsetenv(v);
    }
  }

  StepRun Run(const std::string& step_json, const StepOptions& options = {}) {
    return runner_.Run(ParseStep(step_json), 3, ctx_, options);
  }
  std::string Get(const std::string& path, const std::string& extra = "") {
    return R"({"name": "s", "type": "http", "request": {"url": ")" + server_.base_url() + path +
           R"("})" + extra + "}";
  }

  TestHttpServer server_;
  RunContext ctx_{{{"base", ""}}, {{"api_key", "s3cr3t-tok-42"}}};
  HttpStepRunner runner_;
};

TEST_F(HttpStepTest, JsonApiPassesEveryAssertionKindAndExtracts) {
  const StepRun run = Run(Get("/json", R"j(,
    "assert": [{"type": "status", "in": [200]},
               {"type": "header", "name": "content-type", "matches": "json"},
               {"type": "body_contains", "value": "a1"},
               {"type": "body_matches", "regex": "\"total\":\\s*[1-9]"},
               {"type": "json_path", "path": "$.items[0].id", "exists": true},
               {"type": "json_path", "path": "$.items[0].price", "equals": 5.0},
               {"type": "json_path", "path": "$.items[-1].id", "equals": "b2"},
               {"type": "json_path", "path": "$.items[*].id", "exists": true},
               {"type": "max_duration_ms", "value": 60000}],
    "extract": [{"var": "item", "from": "json_path", "path": "$.items[1].id"},
                {"var": "csrf", "from": "regex", "regex": "csrf=([a-z0-9]+)"},
                {"var": "ver", "from": "header", "name": "X-Api-Version"}])j"));
  const synth::ResultStep& r = run.result;
  EXPECT_EQ(r.status, StepStatus::kSuccess) << r.error_message.value_or("");
  EXPECT_FALSE(run.error_type);
  EXPECT_EQ(r.index, 3);
  EXPECT_EQ(r.name, "s");
  ASSERT_EQ(r.assertions.size(), 9u);
  const char* types[] = {"status",    "header",    "body_contains", "body_matches",   "json_path",
                         "json_path", "json_path", "json_path",     "max_duration_ms"};
  for (size_t i = 0; i < 9; ++i) {
    EXPECT_EQ(r.assertions[i].type, types[i]);
    EXPECT_TRUE(r.assertions[i].passed) << r.assertions[i].message;
  }
  EXPECT_EQ(r.assertions[0].message, "status 200");
  ASSERT_TRUE(r.http);
  EXPECT_EQ(r.http->method, "GET");
  EXPECT_EQ(r.http->url, server_.base_url() + "/json");
  EXPECT_EQ(r.http->status_code, 200);
  EXPECT_EQ(r.http->response_bytes, static_cast<int64_t>(sizeof(testing::kJsonBody) - 1));
  EXPECT_EQ(r.details.value("http_version", ""), "1.1");
  EXPECT_EQ(r.details.value("remote_ip", ""), "127.0.0.1");
  EXPECT_FALSE(r.details.contains("tls_days_left"));
  ASSERT_NE(ctx_.Extracted("item"), nullptr);
  EXPECT_EQ(*ctx_.Extracted("item"), "b2");
  EXPECT_EQ(*ctx_.Extracted("csrf"), "zz9");
  EXPECT_EQ(*ctx_.Extracted("ver"), "2");
  EXPECT_GE(r.finished_at_ms, r.started_at_ms);
}

TEST_F(HttpStepTest, TimingsArePhaseDurations) {
  const synth::ResultStep r = Run(Get("/delay?ms=150")).result;
  ASSERT_EQ(r.status, StepStatus::kSuccess) << r.error_message.value_or("");
  const synth::StepTimings& t = r.timings;
  ASSERT_TRUE(t.dns_ms && t.connect_ms && t.ttfb_ms && t.download_ms);
  EXPECT_FALSE(t.tls_ms);  // plain http
  // The server waits 150 ms before answering: that is the ttfb phase, not dns/connect/download.
  EXPECT_GE(*t.ttfb_ms, 140);
  EXPECT_LT(*t.dns_ms + *t.connect_ms + *t.download_ms, *t.ttfb_ms);
  EXPECT_LE(*t.dns_ms + *t.connect_ms + *t.ttfb_ms + *t.download_ms, r.duration_ms + 1);
}

TEST_F(HttpStepTest, FailedAssertionsKeepDefinitionOrderAndTheFirstIsTheError) {
  const StepRun run = Run(Get("/json", R"(, "assert": [
    {"type": "body_contains", "value": "a1"},
    {"type": "json_path", "path": "$.items[0].price", "equals": 6},
    {"type": "status", "in": [201, 204]},
    {"type": "header", "name": "X-Absent", "matches": "."}])"));
  const synth::ResultStep& r = run.result;
  EXPECT_EQ(r.status, StepStatus::kError);
  ASSERT_EQ(run.error_type, StepErrorType::kAssertion);
  ASSERT_EQ(r.assertions.size(), 4u);
  EXPECT_TRUE(r.assertions[0].passed);
  EXPECT_FALSE(r.assertions[1].passed);
  EXPECT_EQ(r.assertions[1].message, "$.items[0].price is 5, expected 6");
  EXPECT_EQ(r.assertions[2].message, "status 200, expected one of 201, 204");
  EXPECT_EQ(r.assertions[3].message, "header 'X-Absent' is missing");
  EXPECT_EQ(r.error_message, r.assertions[1].message);
  const synth::ResultError e = ToResultError(run);
  EXPECT_EQ(e.type, "assertion");
  EXPECT_EQ(e.step_index, 3);
}

TEST_F(HttpStepTest, ErrorStatusFailsWithTypeHttpUnlessAsserted) {
  StepRun run = Run(Get("/status/500"));
  EXPECT_EQ(run.error_type, StepErrorType::kHttp);
  EXPECT_EQ(run.result.error_message, "HTTP status 500");
  EXPECT_EQ(run.result.http->status_code, 500);
  run = Run(Get("/status/500", R"(, "assert": [{"type": "status", "in": [500]}])"));
  EXPECT_EQ(run.result.status, StepStatus::kSuccess);
}

TEST_F(HttpStepTest, RedirectsFollowedAsTheDefinitionSays) {
  StepRun run = Run(Get("/redirect"));
  EXPECT_EQ(run.result.status, StepStatus::kSuccess);
  EXPECT_EQ(run.result.http->status_code, 200);
  EXPECT_EQ(run.result.details.value("redirects", 0), 1);

  run = Run(R"({"name": "s", "type": "http", "request": {"url": ")" + server_.base_url() +
            R"(/redirect", "follow_redirects": false}})");
  EXPECT_EQ(run.result.status, StepStatus::kSuccess);  // a 3xx passes without a status assert
  EXPECT_EQ(run.result.http->status_code, 302);

  run = Run(Get("/loop"));
  EXPECT_EQ(run.error_type, StepErrorType::kHttp);
  EXPECT_NE(run.result.error_message->find("redirect"), std::string::npos);
}

TEST_F(HttpStepTest, StepTimeoutEndsTheStepInTime) {
  const StepRun run = Run(R"({"name": "s", "type": "http", "timeout_s": 1,
      "request": {"url": ")" +
                          server_.base_url() + R"(/delay?ms=10000"}})");
  EXPECT_EQ(run.error_type, StepErrorType::kTimeout);
  EXPECT_GE(run.result.duration_ms, 900);
  EXPECT_LT(run.result.duration_ms, 3000);
}

TEST_F(HttpStepTest, RunDeadlineBoundsAStepWithoutItsOwnTimeout) {
  const StepRun run = Run(Get("/delay?ms=10000"), {.deadline = std::chrono::steady_clock::now() +
                                                               std::chrono::milliseconds(300)});
  EXPECT_EQ(run.error_type, StepErrorType::kTimeout);
  EXPECT_LT(run.result.duration_ms, 2300);
}

TEST_F(HttpStepTest, ResponseOverTheLimitAborts) {
  StepRun run = Run(Get("/large?bytes=200000"), {.max_response_bytes = 100000});
  EXPECT_EQ(run.error_type, StepErrorType::kHttp);
  EXPECT_EQ(run.result.error_message, "response body exceeds the limit of 100000 bytes");
  // Kept bodies (a body assertion) are cut by the write callback, not only by Content-Length.
  run = Run(Get("/large?bytes=200000", R"(, "assert": [{"type": "body_contains", "value": "x"}])"),
            {.max_response_bytes = 100000});
  EXPECT_EQ(run.error_type, StepErrorType::kHttp);
  run = Run(Get("/large?bytes=200000"), {.max_response_bytes = 200000});
  EXPECT_EQ(run.result.status, StepStatus::kSuccess);
  EXPECT_EQ(run.result.http->response_bytes, 200000);
}

TEST_F(HttpStepTest, RequestOverTheLimitIsNotSent) {
  const std::string body(2000, 'b');
  const StepRun run =
      Run(R"({"name": "s", "type": "http", "request": {"method": "POST", "url": ")" +
              server_.base_url() + R"(/echo", "body": ")" + body + R"("}})",
          {.max_request_bytes = 1000});
  EXPECT_EQ(run.error_type, StepErrorType::kScript);
  EXPECT_EQ(run.result.error_message, "request body of 2000 bytes exceeds the limit of 1000");
  EXPECT_TRUE(server_.last_request().method.empty());
}

TEST_F(HttpStepTest, MethodHeadersAndBodyAreSubstitutedAndSent) {
  ctx_.SetExtracted("item", "b2");
  const StepRun run = Run(R"({"name": "s", "type": "http", "request": {"method": "PUT",
      "url": "{{base}})" + server_.base_url() +
                          R"(/echo?id={{item}}",
      "headers": {"X-Item": "{{item}}", "X-Empty": ""}, "body": "{\"id\": \"{{item}}\"}"}})");
  EXPECT_EQ(run.result.status, StepStatus::kSuccess) << run.result.error_message.value_or("");
  const testing::SeenRequest seen = server_.last_request();
  EXPECT_EQ(seen.method, "PUT");
  EXPECT_EQ(seen.target, "/echo?id=b2");
  EXPECT_EQ(seen.headers.at("x-item"), "b2");
  EXPECT_EQ(seen.headers.count("x-empty"), 1u);
  EXPECT_EQ(seen.headers.count("expect"), 0u);
  EXPECT_EQ(seen.body, R"({"id": "b2"})");
  EXPECT_EQ(run.result.http->url, server_.base_url() + "/echo?id=b2");
}

TEST_F(HttpStepTest, UnknownTemplateIsAScriptErrorAndNothingIsSent) {
  const StepRun run = Run(Get("/json?q={{nope}}"));
  EXPECT_EQ(run.error_type, StepErrorType::kScript);
  EXPECT_EQ(run.result.error_message, "unknown template variable 'nope'");
  EXPECT_TRUE(server_.last_request().method.empty());
}

TEST_F(HttpStepTest, FailedExtractionFailsTheStep) {
  const StepRun run = Run(Get("/headers", R"(, "extract": [
      {"var": "rid", "from": "header", "name": "x-request-id"},
      {"var": "x", "from": "header", "name": "X-Missing"}])"));
  EXPECT_EQ(run.error_type, StepErrorType::kAssertion);
  EXPECT_EQ(run.result.error_message, "extract 'x': header 'X-Missing' is missing");
  EXPECT_EQ(*ctx_.Extracted("rid"), "r-42");
}

TEST_F(HttpStepTest, SecretsNeverAppearInTheResult) {
  const std::string secret = "s3cr3t-tok-42";
  const StepRun run = Run(R"({"name": "s", "type": "http", "request": {"method": "POST",
      "url": ")" + server_.base_url() +
                          R"(/echo?key={{api_key}}",
      "headers": {"Authorization": "Bearer {{api_key}}"}, "body": "token={{api_key}}"},
      "assert": [{"type": "body_contains", "value": "Bearer {{api_key}}"},
                 {"type": "body_matches", "regex": "never-{{api_key}}"},
                 {"type": "header", "name": "Content-Length", "matches": "^{{api_key}}$"}]})");
  // The secret did reach the server, in every place.
  const testing::SeenRequest seen = server_.last_request();
  EXPECT_EQ(seen.target, "/echo?key=" + secret);
  EXPECT_EQ(seen.headers.at("authorization"), "Bearer " + secret);
  EXPECT_EQ(seen.body, "token=" + secret);
  // And nowhere in what is reported.
  EXPECT_EQ(run.error_type, StepErrorType::kAssertion);
  const std::string text = AllText(run.result);
  EXPECT_EQ(text.find(secret), std::string::npos) << text;
  EXPECT_EQ(run.result.http->url, server_.base_url() + "/echo?key=***");
  EXPECT_EQ(run.result.assertions[0].message, "body contains 'Bearer ***'");
  EXPECT_EQ(run.result.error_message, "body does not match 'never-***'");
}

TEST_F(HttpStepTest, SecretInAnUnreachableHostIsMaskedInTheError) {
  const StepRun run = Run(R"({"name": "s", "type": "http", "timeout_s": 3,
      "request": {"url": "http://{{api_key}}.invalid/"}})");
  EXPECT_EQ(run.result.status, StepStatus::kError);
  ASSERT_TRUE(run.error_type == StepErrorType::kNetwork ||
              run.error_type == StepErrorType::kTimeout);
  EXPECT_EQ(AllText(run.result).find("s3cr3t-tok-42"), std::string::npos) << AllText(run.result);
  EXPECT_EQ(run.result.http->url, "http://***.invalid/");
}

TEST_F(HttpStepTest, ConnectionRefusedIsANetworkError) {
  const StepRun run = Run(R"({"name": "s", "type": "http", "request": {"url": "http://127.0.0.1:)" +
                          std::to_string(testing::ClosedPort()) + R"(/"}})");
  EXPECT_EQ(run.error_type, StepErrorType::kNetwork);
  EXPECT_FALSE(run.result.assertions.size());
}

class HttpsStepTest : public HttpStepTest {
 protected:
  TestCert cert_{30};
  TestHttpServer tls_server_{&cert_};
  std::string Https(const std::string& extra_request = "") {
    return R"({"name": "s", "type": "http", "request": {"url": ")" + tls_server_.base_url() +
           R"(/json")" + extra_request + "}}";
  }
};

TEST_F(HttpsStepTest, VerificationIsOnByDefault) {
  const StepRun run = Run(Https());
  EXPECT_EQ(run.error_type, StepErrorType::kNetwork);
  EXPECT_NE(run.result.error_message->find("certificate"), std::string::npos)
      << *run.result.error_message;
  EXPECT_EQ(run.result.details.value("tls_days_left", -1), 30);
}

TEST_F(HttpsStepTest, TrustedCertificateSucceedsWithTlsTimingsAndDaysLeft) {
  for (int i = 0; i < 2; ++i) {  // the reused runner still makes a fresh handshake
    const StepRun run = Run(Https(), {.ca_file = cert_.pem_path()});
    EXPECT_EQ(run.result.status, StepStatus::kSuccess) << run.result.error_message.value_or("");
    EXPECT_EQ(run.result.details.value("tls_days_left", -1), 30);
    ASSERT_TRUE(run.result.timings.tls_ms);
    EXPECT_GT(*run.result.timings.tls_ms, 0);
    EXPECT_TRUE(run.result.timings.dns_ms);
  }
}

TEST_F(HttpsStepTest, TlsVerifyFalseAcceptsTheCertificate) {
  const StepRun run = Run(Https(R"(, "tls_verify": false)"));
  EXPECT_EQ(run.result.status, StepStatus::kSuccess) << run.result.error_message.value_or("");
  EXPECT_EQ(run.result.details.value("tls_days_left", -1), 30);
}

}  // namespace
}  // namespace pa::robot
