// The tcp and dns steps, RunStep, and the connection helper shared with the tls step
// (tls_step.cc).
#include "robot/net_steps.h"

#include <arpa/inet.h>
#include <poll.h>

#include <algorithm>
#include <cassert>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <variant>

#include "base/strings.h"
#include "robot/dns_client.h"
#include "robot/http_step.h"
#include "robot/net_connect.h"
#include "robot/step_recorder.h"

namespace pa::robot {
namespace {

constexpr size_t kMaxExpectRead = 64 << 10;

void FailWith(StepRecorder& rec, const Status& status) {
  rec.Fail(IsTimeout(status) ? StepErrorType::kTimeout : StepErrorType::kNetwork, status.message());
}

std::string Snippet(std::string_view received) {
  return "'" + std::string(received.substr(0, 200)) + (received.size() > 200 ? "...'" : "'");
}

// Reads from `fd` until `expect` appears; records the assertion (or the timeout) in `rec`.
void Expect(int fd, const std::string& expect, Deadline deadline, StepRecorder& rec) {
  std::string received;
  char buf[4096];
  while (received.find(expect) == std::string::npos) {
    if (received.size() >= kMaxExpectRead) {
      return rec.Assert("expect", false,
                        "'" + expect + "' not in the first " + std::to_string(kMaxExpectRead) +
                            " bytes received");
    }
    const ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n > 0) {
      received.append(buf, static_cast<size_t>(n));
    } else if (n == 0) {
      return rec.Assert("expect", false,
                        "the peer closed the connection without sending '" + expect +
                            "'; received " + Snippet(received));
    } else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
      if (Status s = WaitFor(fd, POLLIN, deadline); !s.ok()) {
        const std::string message =
            "'" + expect + "' not received in time; received " + Snippet(received);
        FailWith(rec, IsTimeout(s) ? DeadlineExceededError(message) : s);
        return rec.Assert("expect", false, message);
      }
    } else {
      return FailWith(rec, UnavailableError(std::string("receive: ") + std::strerror(errno)));
    }
  }
  rec.Assert("expect", true, "received '" + expect + "'");
}

std::string Normalize(std::string_view s) {
  std::string out = AsciiLower(s);
  while (out.ends_with('.')) out.pop_back();
  // "2001:DB8:0::1" and "2001:db8::1" are one address.
  unsigned char addr[16];
  char text[INET6_ADDRSTRLEN];
  if (inet_pton(AF_INET6, out.c_str(), addr) == 1 &&
      inet_ntop(AF_INET6, addr, text, sizeof(text))) {
    return text;
  }
  return out;
}

bool AnswerMatches(const std::string& answer, const std::string& expected, synth::DnsRecord type) {
  const std::string want = Normalize(expected);
  if (Normalize(answer) == want) return true;
  const size_t space = answer.find(' ');  // MX: "10 mx.example" also matches "mx.example"
  return type == synth::DnsRecord::kMx && space != std::string::npos &&
         Normalize(answer.substr(space + 1)) == want;
}

Result<std::vector<std::string>> Resolve(const synth::DnsStep& dns, const std::string& query,
                                         const RunContext& ctx, const StepOptions& options,
                                         Deadline deadline) {
  const bool address = dns.record == synth::DnsRecord::kA || dns.record == synth::DnsRecord::kAaaa;
  if (dns.resolver) {
    PA_ASSIGN_OR_RETURN(std::string resolver, ctx.Substitute(*dns.resolver));
    PA_ASSIGN_OR_RETURN(SocketAddress server, SocketAddress::FromIp(resolver, options.dns_port));
    return QueryDns(query, dns.record, {server}, deadline);
  }
  if (!address) return QueryDns(query, dns.record, SystemNameservers(), deadline);
  const int family = dns.record == synth::DnsRecord::kA ? AF_INET : AF_INET6;
  PA_ASSIGN_OR_RETURN(std::vector<SocketAddress> addrs, ResolveHost(query, 0, family, deadline));
  std::vector<std::string> out;
  for (const SocketAddress& a : addrs) out.push_back(a.Ip());
  return out;
}

}  // namespace

std::optional<Socket> ConnectForStep(const std::string& host_template, int port,
                                     const RunContext& ctx, Deadline deadline, StepRecorder& rec,
                                     std::string* host) {
  Result<std::string> substituted = ctx.Substitute(host_template);
  if (!substituted.ok()) {
    rec.Fail(StepErrorType::kScript, substituted.status().message());
    return std::nullopt;
  }
  *host = std::move(*substituted);
  synth::ResultStep& r = rec.result();
  const auto started = std::chrono::steady_clock::now();
  Result<std::vector<SocketAddress>> addrs =
      ResolveHost(*host, static_cast<uint16_t>(port), AF_UNSPEC, deadline);
  const auto resolved = std::chrono::steady_clock::now();
  r.timings.dns_ms = MsBetween(started, resolved);
  if (!addrs.ok()) {
    FailWith(rec, addrs.status());
    return std::nullopt;
  }
  SocketAddress used;
  Result<Socket> socket = ConnectAny(*addrs, SOCK_STREAM, deadline, &used);
  r.timings.connect_ms = MsBetween(resolved, std::chrono::steady_clock::now());
  if (!socket.ok()) {
    FailWith(rec, socket.status());
    return std::nullopt;
  }
  r.details = Json::object({{"remote_ip", used.Ip()}});
  return std::move(*socket);
}

StepRun RunTcpStep(const synth::Step& step, int64_t index, RunContext& ctx,
                   const StepOptions& options) {
  StepRecorder rec(step, index, options);
  const auto* tcp = std::get_if<synth::TcpStep>(&step.kind);
  assert(tcp != nullptr);
  if (tcp == nullptr) {
    rec.Fail(StepErrorType::kOther, "not a tcp step");
    return rec.Finish(ctx);
  }
  const Deadline deadline = StepDeadline(step, options);
  Result<std::string> send = ctx.Substitute(tcp->send.value_or(""));
  Result<std::string> expect = ctx.Substitute(tcp->expect.value_or(""));
  if (!send.ok() || !expect.ok()) {
    rec.Fail(StepErrorType::kScript, (send.ok() ? expect : send).status().message());
    return rec.Finish(ctx);
  }
  std::string host;
  std::optional<Socket> socket = ConnectForStep(tcp->host, tcp->port, ctx, deadline, rec, &host);
  if (!socket) return rec.Finish(ctx);
  if (!send->empty()) {
    if (Status s = SendAll(socket->fd(), *send, deadline); !s.ok()) {
      FailWith(rec, s);
      return rec.Finish(ctx);
    }
  }
  if (tcp->expect) Expect(socket->fd(), *expect, deadline, rec);
  return rec.Finish(ctx);
}

StepRun RunDnsStep(const synth::Step& step, int64_t index, RunContext& ctx,
                   const StepOptions& options) {
  StepRecorder rec(step, index, options);
  const auto* dns = std::get_if<synth::DnsStep>(&step.kind);
  assert(dns != nullptr);
  if (dns == nullptr) {
    rec.Fail(StepErrorType::kOther, "not a dns step");
    return rec.Finish(ctx);
  }
  Result<std::string> query = ctx.Substitute(dns->query);
  if (!query.ok()) {
    rec.Fail(StepErrorType::kScript, query.status().message());
    return rec.Finish(ctx);
  }
  const auto started = std::chrono::steady_clock::now();
  Result<std::vector<std::string>> answers =
      Resolve(*dns, *query, ctx, options, StepDeadline(step, options));
  rec.result().timings.dns_ms = MsBetween(started, std::chrono::steady_clock::now());
  if (!answers.ok()) {
    const Status& s = answers.status();
    rec.Fail(s.code() == StatusCode::kInvalidArgument ? StepErrorType::kScript
             : IsTimeout(s)                           ? StepErrorType::kTimeout
                                                      : StepErrorType::kNetwork,
             s.message());
    return rec.Finish(ctx);
  }
  std::string joined;
  for (const std::string& a : *answers) joined += (joined.empty() ? "" : ", ") + a;
  rec.result().details = Json::object(
      {{"dns_answers", joined}, {"dns_answer_count", static_cast<int64_t>(answers->size())}});
  for (const std::string& expected_template : dns->expect) {
    Result<std::string> expected = ctx.Substitute(expected_template);
    if (!expected.ok()) {
      rec.Fail(StepErrorType::kScript, expected.status().message());
      continue;
    }
    const bool found = std::any_of(answers->begin(), answers->end(), [&](const std::string& a) {
      return AnswerMatches(a, *expected, dns->record);
    });
    rec.Assert("expect", found,
               found ? "'" + *expected + "' is among the answers"
                     : "'" + *expected + "' is not among the answers: " + joined);
  }
  return rec.Finish(ctx);
}

StepRun RunStep(const synth::Step& step, int64_t index, RunContext& ctx, const StepOptions& options,
                HttpStepRunner& http_runner) {
  struct Dispatch {
    const synth::Step& step;
    int64_t index;
    RunContext& ctx;
    const StepOptions& options;
    HttpStepRunner& http;
    StepRun operator()(const synth::HttpStep&) { return http.Run(step, index, ctx, options); }
    StepRun operator()(const synth::TcpStep&) { return RunTcpStep(step, index, ctx, options); }
    StepRun operator()(const synth::DnsStep&) { return RunDnsStep(step, index, ctx, options); }
    StepRun operator()(const synth::TlsStep&) { return RunTlsStep(step, index, ctx, options); }
    StepRun operator()(const synth::BrowserStep&) {
      StepRecorder rec(step, index, options);
      rec.Fail(StepErrorType::kOther, "browser steps need the browser executor");
      return rec.Finish(ctx);
    }
  };
  return std::visit(Dispatch{step, index, ctx, options, http_runner}, step.kind);
}

}  // namespace pa::robot
