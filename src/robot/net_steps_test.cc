// Tests of the tcp, dns and tls steps against the in-process servers of test_servers.h.
#include "robot/net_steps.h"

#include <gtest/gtest.h>

#include "robot/test_servers.h"

namespace pa::robot {
namespace {

using synth::StepStatus;
using testing::ParseStep;

class NetStepsTest : public ::testing::Test {
 protected:
  StepRun Tcp(uint16_t port, const std::string& extra = "") {
    return RunTcpStep(ParseStep(R"({"name": "t", "type": "tcp", "host": "{{host}}", "port": )" +
                                std::to_string(port) + extra + "}"),
                      0, ctx_, {});
  }
  StepRun Dns(const std::string& fields, const StepOptions& options = {}) {
    return RunDnsStep(ParseStep(R"({"name": "d", "type": "dns", )" + fields + "}"), 1, ctx_,
                      options);
  }
  StepRun Tls(uint16_t port, const std::string& extra = "", const StepOptions& options = {}) {
    return RunTlsStep(ParseStep(R"({"name": "c", "type": "tls", "host": "localhost", "port": )" +
                                std::to_string(port) + extra + "}"),
                      2, ctx_, options);
  }

  RunContext ctx_{{{"host", "127.0.0.1"}, {"path", "/json"}}, {}};
  testing::TestHttpServer http_;
};

TEST_F(NetStepsTest, TcpConnectsToAListeningPort) {
  const StepRun run = Tcp(http_.port());
  EXPECT_EQ(run.result.status, StepStatus::kSuccess) << run.result.error_message.value_or("");
  EXPECT_TRUE(run.result.timings.connect_ms);
  EXPECT_EQ(run.result.details.value("remote_ip", ""), "127.0.0.1");
}

TEST_F(NetStepsTest, TcpToAClosedPortIsANetworkError) {
  const StepRun run = Tcp(testing::ClosedPort());
  EXPECT_EQ(run.error_type, StepErrorType::kNetwork);
  EXPECT_NE(run.result.error_message->find("refused"), std::string::npos);
}

TEST_F(NetStepsTest, TcpSendAndExpect) {
  StepRun run =
      Tcp(http_.port(), R"(, "send": "GET {{path}} HTTP/1.0\r\n\r\n", "expect": "\"total\":2")");
  EXPECT_EQ(run.result.status, StepStatus::kSuccess) << run.result.error_message.value_or("");
  ASSERT_EQ(run.result.assertions.size(), 1u);
  EXPECT_EQ(run.result.assertions[0].type, "expect");
  EXPECT_TRUE(run.result.assertions[0].passed);
  EXPECT_EQ(http_.last_request().target, "/json");

  // The server answers 404 and closes: the text never comes.
  run = Tcp(http_.port(), R"(, "send": "GET /nope HTTP/1.0\r\n\r\n", "expect": "PONG")");
  EXPECT_EQ(run.error_type, StepErrorType::kAssertion);
  EXPECT_FALSE(run.result.assertions.at(0).passed);
  EXPECT_NE(run.result.error_message->find("404"), std::string::npos) << *run.result.error_message;
}

TEST_F(NetStepsTest, TcpExpectTimesOutInTime) {
  const StepRun run = Tcp(http_.port(), R"(, "timeout_s": 1, "expect": "PONG")");
  EXPECT_EQ(run.error_type, StepErrorType::kTimeout);
  EXPECT_GE(run.result.duration_ms, 900);
  EXPECT_LT(run.result.duration_ms, 3000);
}

TEST_F(NetStepsTest, TcpUnknownTemplateIsAScriptError) {
  const StepRun run = RunTcpStep(
      ParseStep(R"({"name": "t", "type": "tcp", "host": "{{nohost}}", "port": 1})"), 0, ctx_, {});
  EXPECT_EQ(run.error_type, StepErrorType::kScript);
  EXPECT_EQ(run.result.error_message, "unknown template variable 'nohost'");
}

TEST_F(NetStepsTest, DnsResolvesLocalhostThroughTheSystem) {
  StepRun run = Dns(R"("query": "localhost", "record": "A", "expect": ["127.0.0.1"])");
  EXPECT_EQ(run.result.status, StepStatus::kSuccess) << run.result.error_message.value_or("");
  EXPECT_NE(run.result.details.value("dns_answers", "").find("127.0.0.1"), std::string::npos);
  EXPECT_GE(run.result.details.value("dns_answer_count", 0), 1);
  EXPECT_TRUE(run.result.timings.dns_ms);
  ASSERT_EQ(run.result.assertions.size(), 1u);
  EXPECT_TRUE(run.result.assertions[0].passed);

  run = Dns(R"("query": "localhost", "record": "A", "expect": ["127.0.0.1", "192.0.2.99"])");
  EXPECT_EQ(run.error_type, StepErrorType::kAssertion);
  EXPECT_TRUE(run.result.assertions[0].passed);
  EXPECT_FALSE(run.result.assertions[1].passed);
  EXPECT_EQ(run.result.error_message.value_or("").find("'192.0.2.99' is not among the answers"),
            0u);
}

TEST_F(NetStepsTest, DnsRecordsThroughAGivenResolver) {
  testing::TestDnsServer dns;
  const StepOptions options{.dns_port = dns.port()};
  struct Case {
    const char* record;
    const char* expect;
    const char* answers;
  } cases[] = {
      {"A", "192.0.2.2", "192.0.2.1, 192.0.2.2"},
      {"AAAA", "2001:DB8:0::1", "2001:db8::1"},
      {"MX", "mail.example.test.", "10 mail.example.test"},
      {"TXT", "v=spf1 -all", "v=spf1 -all"},
      {"NS", "ns1.example.test", "ns1.example.test"},
      {"CNAME", "target.example.test", "target.example.test"},
  };
  for (const Case& c : cases) {
    const StepRun run =
        Dns(std::string(R"("query": "shop.example.test", "resolver": "127.0.0.1", )") +
                R"("record": ")" + c.record + R"(", "expect": [")" + c.expect + R"("])",
            options);
    EXPECT_EQ(run.result.status, StepStatus::kSuccess)
        << c.record << ": " << run.result.error_message.value_or("");
    EXPECT_EQ(run.result.details.value("dns_answers", ""), c.answers) << c.record;
  }
}

TEST_F(NetStepsTest, DnsNxdomainIsANetworkError) {
  testing::TestDnsServer dns;
  const StepRun run =
      Dns(R"("query": "missing.example.test", "resolver": "127.0.0.1")", {.dns_port = dns.port()});
  EXPECT_EQ(run.error_type, StepErrorType::kNetwork);
  EXPECT_EQ(run.result.error_message, "DNS answered NXDOMAIN for 'missing.example.test'");
}

TEST_F(NetStepsTest, DnsSilentResolverTimesOutInTime) {
  testing::TestDnsServer dns(/*silent=*/true);
  const StepRun run = Dns(R"("query": "a.example.test", "resolver": "127.0.0.1", "timeout_s": 1)",
                          {.dns_port = dns.port()});
  EXPECT_EQ(run.error_type, StepErrorType::kTimeout);
  EXPECT_GE(run.result.duration_ms, 900);
  EXPECT_LT(run.result.duration_ms, 3000);
}

class TlsStepTest : public NetStepsTest {
 protected:
  testing::TestCert cert_{30};
  testing::TestHttpServer tls_server_{&cert_};
};

TEST_F(TlsStepTest, SelfSignedFailsVerificationButReportsDaysLeft) {
  const StepRun run = Tls(tls_server_.port());
  EXPECT_EQ(run.error_type, StepErrorType::kAssertion);
  EXPECT_EQ(run.result.details.value("tls_days_left", -1), 30);
  ASSERT_EQ(run.result.assertions.size(), 1u);
  EXPECT_EQ(run.result.assertions[0].type, "certificate");
  EXPECT_FALSE(run.result.assertions[0].passed);
  EXPECT_NE(run.result.error_message->find("self-signed"), std::string::npos)
      << *run.result.error_message;
  EXPECT_TRUE(run.result.timings.tls_ms);
}

TEST_F(TlsStepTest, TrustedCertificateAndMinDaysValid) {
  const StepOptions trusted{.ca_file = cert_.pem_path()};
  StepRun run = Tls(tls_server_.port(), R"(, "min_days_valid": 14)", trusted);
  EXPECT_EQ(run.result.status, StepStatus::kSuccess) << run.result.error_message.value_or("");
  ASSERT_EQ(run.result.assertions.size(), 2u);
  EXPECT_EQ(run.result.assertions[1].type, "min_days_valid");
  EXPECT_TRUE(run.result.assertions[1].passed);
  EXPECT_EQ(run.result.details.value("tls_subject", ""), "/CN=localhost");
  EXPECT_EQ(run.result.details.value("tls_version", "").rfind("TLSv1.", 0), 0u);

  run = Tls(tls_server_.port(), R"(, "min_days_valid": 60)", trusted);
  EXPECT_EQ(run.error_type, StepErrorType::kAssertion);
  EXPECT_TRUE(run.result.assertions[0].passed);
  EXPECT_FALSE(run.result.assertions[1].passed);
  EXPECT_EQ(run.result.details.value("tls_days_left", -1), 30);
}

TEST_F(TlsStepTest, ClosedPortIsANetworkErrorAndPlainHttpFailsTheHandshake) {
  EXPECT_EQ(Tls(testing::ClosedPort()).error_type, StepErrorType::kNetwork);
  const StepRun run = Tls(http_.port());
  EXPECT_EQ(run.error_type, StepErrorType::kNetwork);
  EXPECT_EQ(run.result.error_message.value_or("").find("TLS handshake failed"), 0u)
      << run.result.error_message.value_or("");
}

TEST_F(TlsStepTest, SilentPeerTimesOutInTime) {
  testing::SilentListener silent;
  const StepRun run = Tls(silent.port(), R"(, "timeout_s": 1)");
  EXPECT_EQ(run.error_type, StepErrorType::kTimeout);
  EXPECT_EQ(run.result.error_message, "TLS handshake timed out");
  EXPECT_GE(run.result.duration_ms, 900);
  EXPECT_LT(run.result.duration_ms, 3000);
}

TEST_F(NetStepsTest, RunStepDispatchesByKind) {
  HttpStepRunner http;
  StepRun run = RunStep(ParseStep(R"({"name": "h", "type": "http", "request": {"url": ")" +
                                  http_.base_url() + R"(/json"}})"),
                        0, ctx_, {}, http);
  EXPECT_EQ(run.result.status, StepStatus::kSuccess);
  EXPECT_EQ(run.result.http->status_code, 200);
  run = RunStep(ParseStep(R"({"name": "t", "type": "tcp", "host": "127.0.0.1", "port": )" +
                          std::to_string(http_.port()) + "}"),
                1, ctx_, {}, http);
  EXPECT_EQ(run.result.status, StepStatus::kSuccess);
  run = RunStep(ParseStep(R"({"name": "b", "type": "browser", "actions": [
                  {"action": "navigate", "url": "http://127.0.0.1/"}]})"),
                2, ctx_, {}, http);
  EXPECT_EQ(run.error_type, StepErrorType::kOther);
}

}  // namespace
}  // namespace pa::robot
