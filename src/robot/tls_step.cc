// The tls step (net_steps.h): connect, handshake, check the certificate.
#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>

#include <cassert>
#include <ctime>
#include <memory>
#include <variant>

#include "base/time_format.h"
#include "robot/net_connect.h"
#include "robot/net_steps.h"
#include "robot/tls_util.h"

namespace pa::robot {
namespace {

struct SslFree {
  void operator()(SSL* ssl) const { SSL_free(ssl); }
};
struct X509Free {
  void operator()(X509* cert) const { X509_free(cert); }
};

bool IsIpLiteral(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

std::string OpenSslError() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "the peer closed the connection";
  char buf[256];
  ERR_error_string_n(code, buf, sizeof(buf));
  return buf;
}

std::string NameLine(const X509_NAME* name) {
  char buf[512];
  return X509_NAME_oneline(name, buf, sizeof(buf)) != nullptr ? buf : "";
}

std::string NotAfter(const X509* cert) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) != 1) return "";
  return FormatRfc3339Ms(static_cast<int64_t>(timegm(&tm)) * 1000);
}

// Runs the handshake on the non-blocking `ssl` until it completes or `deadline` passes.
Status Handshake(SSL* ssl, int fd, Deadline deadline) {
  while (true) {
    ERR_clear_error();
    const int rc = SSL_connect(ssl);
    if (rc == 1) return Status::Ok();
    const int err = SSL_get_error(ssl, rc);
    if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
      return UnavailableError("TLS handshake failed: " + OpenSslError());
    }
    if (Status s = WaitFor(fd, err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline); !s.ok()) {
      return IsTimeout(s) ? DeadlineExceededError("TLS handshake timed out") : s;
    }
  }
}

// Hands `ssl` the names to verify: SNI and host name, or the IP address.
bool SetPeerName(SSL* ssl, const std::string& host) {
  if (IsIpLiteral(host)) {
    return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str()) == 1;
  }
  return SSL_set_tlsext_host_name(ssl, host.c_str()) == 1 && SSL_set1_host(ssl, host.c_str()) == 1;
}

void CheckCertificate(SSL* ssl, const synth::TlsStep& tls, StepRecorder& rec) {
  std::unique_ptr<X509, X509Free> cert(SSL_get1_peer_certificate(ssl));
  if (!cert) {
    rec.Assert("certificate", false, "the server sent no certificate");
    return;
  }
  const int days = DaysLeft(cert.get());
  Json& d = rec.result().details;
  d["tls_days_left"] = days;
  d["tls_not_after"] = NotAfter(cert.get());
  d["tls_version"] = SSL_get_version(ssl);
  d["tls_cipher"] = SSL_get_cipher_name(ssl);
  d["tls_subject"] = NameLine(X509_get_subject_name(cert.get()));
  d["tls_issuer"] = NameLine(X509_get_issuer_name(cert.get()));

  const long verify = SSL_get_verify_result(ssl);
  rec.Assert("certificate", verify == X509_V_OK,
             verify == X509_V_OK ? "the certificate chain and host name verify"
                                 : std::string("the certificate does not verify: ") +
                                       X509_verify_cert_error_string(verify));
  if (tls.min_days_valid) {
    const bool ok = days >= *tls.min_days_valid;
    rec.Assert("min_days_valid", ok,
               "the certificate expires in " + std::to_string(days) + " days (" +
                   d["tls_not_after"].get<std::string>() + ")" +
                   (ok ? ", at least " : ", fewer than ") + std::to_string(*tls.min_days_valid));
  }
}

}  // namespace

StepRun RunTlsStep(const synth::Step& step, int64_t index, RunContext& ctx,
                   const StepOptions& options) {
  StepRecorder rec(step, index, options);
  const auto* tls = std::get_if<synth::TlsStep>(&step.kind);
  assert(tls != nullptr);
  if (tls == nullptr) {
    rec.Fail(StepErrorType::kOther, "not a tls step");
    return rec.Finish(ctx);
  }
  const Deadline deadline = StepDeadline(step, options);
  SSL_CTX* ssl_ctx = ClientSslContext(options.ca_file);
  if (ssl_ctx == nullptr) {
    rec.Fail(StepErrorType::kOther,
             "cannot load the trust store " +
                 (options.ca_file.empty() ? "" : "'" + options.ca_file + "'"));
    return rec.Finish(ctx);
  }
  const SigpipeGuard no_sigpipe;
  std::string host;
  std::optional<Socket> socket = ConnectForStep(tls->host, tls->port, ctx, deadline, rec, &host);
  if (!socket) return rec.Finish(ctx);

  std::unique_ptr<SSL, SslFree> ssl(SSL_new(ssl_ctx));
  if (!ssl || !SetPeerName(ssl.get(), host) || SSL_set_fd(ssl.get(), socket->fd()) != 1) {
    rec.Fail(StepErrorType::kOther, "cannot set up TLS: " + OpenSslError());
    return rec.Finish(ctx);
  }
  const auto started = std::chrono::steady_clock::now();
  const Status handshake = Handshake(ssl.get(), socket->fd(), deadline);
  rec.result().timings.tls_ms = MsBetween(started, std::chrono::steady_clock::now());
  if (!handshake.ok()) {
    rec.Fail(IsTimeout(handshake) ? StepErrorType::kTimeout : StepErrorType::kNetwork,
             handshake.message());
    return rec.Finish(ctx);
  }
  CheckCertificate(ssl.get(), *tls, rec);
  SSL_shutdown(ssl.get());  // a courtesy close_notify; the answer is not awaited
  return rec.Finish(ctx);
}

}  // namespace pa::robot
