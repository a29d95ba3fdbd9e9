#include "robot/test_servers.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <functional>

#include "base/strings.h"

namespace pa::robot::testing {
namespace {

int ListenOn(int type, uint16_t* port) {
  const int fd = socket(AF_INET, type, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  if (type == SOCK_STREAM) {
    EXPECT_EQ(listen(fd, 64), 0);
  }
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  *port = ntohs(addr.sin_port);
  return fd;
}

std::string Reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 302:
      return "Found";
    case 404:
      return "Not Found";
    case 500:
      return "Internal Server Error";
    default:
      return "Status";
  }
}

int QueryInt(const std::string& target, const std::string& key) {
  const size_t at = target.find(key + "=");
  return at == std::string::npos ? 0 : std::atoi(target.c_str() + at + key.size() + 1);
}

// One connection's bytes, plain or TLS.
struct Conn {
  int fd;
  SSL* ssl;
  int Read(char* buf, int n) {
    return ssl ? SSL_read(ssl, buf, n) : static_cast<int>(recv(fd, buf, n, 0));
  }
  void Write(const std::string& s) {
    if (ssl) {
      SSL_write(ssl, s.data(), static_cast<int>(s.size()));
    } else {
      send(fd, s.data(), s.size(), MSG_NOSIGNAL);
    }
  }
};

bool ReadRequest(Conn& c, SeenRequest* req) {
  std::string data;
  char buf[4096];
  size_t end;
  while ((end = data.find("\r\n\r\n")) == std::string::npos) {
    const int n = c.Read(buf, sizeof(buf));
    if (n <= 0 || data.size() > (64 << 10)) return false;
    data.append(buf, static_cast<size_t>(n));
    if (data[0] == 0x16) return false;  // a TLS ClientHello on plain HTTP: hang up
  }
  std::string head = data.substr(0, end);
  req->body = data.substr(end + 4);
  size_t line_end = head.find("\r\n");
  const std::string request_line = head.substr(0, line_end);
  const size_t sp1 = request_line.find(' '), sp2 = request_line.rfind(' ');
  if (sp1 == std::string::npos || sp2 == sp1) return false;
  req->method = request_line.substr(0, sp1);
  req->target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
  while (line_end != std::string::npos) {
    const size_t next = head.find("\r\n", line_end + 2);
    const std::string line = head.substr(line_end + 2, next - line_end - 2);
    line_end = next;
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    name = AsciiLower(name);
    const size_t value = line.find_first_not_of(' ', colon + 1);
    req->headers[name] = value == std::string::npos ? "" : line.substr(value);
  }
  const size_t length = static_cast<size_t>(std::atol(req->headers["content-length"].c_str()));
  while (req->body.size() < length) {
    const int n = c.Read(buf, sizeof(buf));
    if (n <= 0) return false;
    req->body.append(buf, static_cast<size_t>(n));
  }
  return true;
}

}  // namespace

synth::Step ParseStep(const std::string& step_json) {
  const Json doc = Json::parse(R"({"id": "t", "name": "t", "steps": [)" + step_json + "]}");
  synth::FieldErrors errors;
  std::optional<synth::TransactionDefinition> def = synth::ParseDefinition(doc, &errors);
  for (const synth::FieldError& e : errors) ADD_FAILURE() << e.path << ": " << e.message;
  return def ? def->steps.at(0) : synth::Step{};
}

std::string AllText(const synth::ResultStep& r) {
  std::string out = r.name + "\n" + r.error_message.value_or("") + "\n";
  if (r.http) out += r.http->method.value_or("") + " " + r.http->url.value_or("") + "\n";
  for (const synth::StepAssertion& a : r.assertions) out += a.type + ": " + a.message + "\n";
  return out + r.details.dump();
}

// ---- TestCert ----------------------------------------------------------------------------------

TestCert::TestCert(int days_valid) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), static_cast<long>(days_valid) * 86400 + 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* san =
      X509V3_EXT_conf_nid(nullptr, &v3, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1");
  X509_add_ext(cert, san, -1);
  X509_EXTENSION_free(san);
  X509_sign(cert, key, EVP_sha256());

  const char* tmp = std::getenv("TMPDIR");
  std::string path = std::string(tmp ? tmp : "/tmp") + "/robot-cert-XXXXXX";
  const int fd = mkstemp(path.data());
  FILE* f = fdopen(fd, "w");
  PEM_write_X509(f, cert);
  fclose(f);
  pem_path_ = path;

  server_ctx_ = SSL_CTX_new(TLS_server_method());
  SSL_CTX_use_certificate(server_ctx_, cert);
  SSL_CTX_use_PrivateKey(server_ctx_, key);
  X509_free(cert);
  EVP_PKEY_free(key);
}

TestCert::~TestCert() {
  SSL_CTX_free(server_ctx_);
  std::remove(pem_path_.c_str());
}

// ---- TestHttpServer ----------------------------------------------------------------------------

TestHttpServer::TestHttpServer(const TestCert* cert) : cert_(cert) {
  listen_fd_ = ListenOn(SOCK_STREAM, &port_);
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

TestHttpServer::~TestHttpServer() {
  stopping_ = true;
  shutdown(listen_fd_, SHUT_RDWR);
  acceptor_.join();
  close(listen_fd_);
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mu_);
    for (int fd : open_fds_) shutdown(fd, SHUT_RDWR);
    threads = std::move(threads_);
  }
  stop_cv_.notify_all();
  for (std::thread& t : threads) t.join();
}

std::string TestHttpServer::base_url() const {
  return std::string(cert_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_);
}

SeenRequest TestHttpServer::last_request() const {
  std::lock_guard lock(mu_);
  return last_;
}

void TestHttpServer::AcceptLoop() {
  while (!stopping_) {
    const int fd = accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) continue;
    std::lock_guard lock(mu_);
    if (stopping_) {
      close(fd);
      break;
    }
    open_fds_.push_back(fd);
    threads_.emplace_back([this, fd] { Serve(fd); });
  }
}

void TestHttpServer::Serve(int fd) {
  // Clients hang up early (a failed verification, a timeout): no SIGPIPE for this thread.
  sigset_t pipe;
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
  SSL* ssl = nullptr;
  if (cert_ != nullptr) {
    ssl = SSL_new(cert_->server_ctx());
    SSL_set_fd(ssl, fd);
    if (SSL_accept(ssl) != 1) {
      SSL_free(ssl);
      ssl = nullptr;
    }
  }
  Conn conn{fd, ssl};
  SeenRequest req;
  if ((cert_ == nullptr || ssl != nullptr) && ReadRequest(conn, &req)) {
    {
      std::lock_guard lock(mu_);
      last_ = req;
    }
    int status = 200;
    std::string headers, body;
    const std::string& t = req.target;
    if (t == "/json") {
      headers = "Content-Type: application/json\r\nX-Api-Version: 2\r\n";
      body = kJsonBody;
    } else if (t == "/redirect") {
      status = 302;
      headers = "Location: /json\r\n";
    } else if (t == "/loop") {
      status = 302;
      headers = "Location: /loop\r\n";
    } else if (t.starts_with("/delay")) {
      std::unique_lock lock(mu_);
      stop_cv_.wait_for(lock, std::chrono::milliseconds(QueryInt(t, "ms")),
                        [this] { return stopping_.load(); });
      body = "done";
    } else if (t.starts_with("/status/")) {
      status = std::atoi(t.c_str() + 8);
    } else if (t.starts_with("/large")) {
      body.assign(static_cast<size_t>(QueryInt(t, "bytes")), 'x');
    } else if (t == "/headers") {
      headers = "Set-Cookie: csrf=abc123\r\nX-Request-Id: r-42\r\n";
    } else if (t.starts_with("/echo")) {
      body = req.method + " " + req.target + "\n";
      for (const auto& [k, v] : req.headers) body += k + ": " + v + "\n";
      body += "\n" + req.body;
    } else {
      status = 404;
    }
    conn.Write("HTTP/1.1 " + std::to_string(status) + " " + Reason(status) +
               "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n" +
               headers + "\r\n" + body);
  }
  if (ssl != nullptr) {
    SSL_shutdown(ssl);
    SSL_free(ssl);
  }
  std::lock_guard lock(mu_);
  open_fds_.erase(std::find(open_fds_.begin(), open_fds_.end(), fd));
  close(fd);
}

SilentListener::SilentListener() { fd_ = ListenOn(SOCK_STREAM, &port_); }
SilentListener::~SilentListener() { close(fd_); }

uint16_t ClosedPort() {
  uint16_t port = 0;
  close(ListenOn(SOCK_STREAM, &port));
  return port;
}

// ---- TestDnsServer -----------------------------------------------------------------------------

TestDnsServer::TestDnsServer(bool silent) : silent_(silent) {
  fd_ = ListenOn(SOCK_DGRAM, &port_);
  timeval tv{0, 100000};  // wake up to notice stopping_
  setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  thread_ = std::thread([this] { Loop(); });
}

TestDnsServer::~TestDnsServer() {
  stopping_ = true;
  thread_.join();
  close(fd_);
}

void TestDnsServer::Loop() {
  unsigned char q[512];
  while (!stopping_) {
    sockaddr_storage from{};
    socklen_t from_len = sizeof(from);
    const ssize_t n = recvfrom(fd_, q, sizeof(q), 0, reinterpret_cast<sockaddr*>(&from), &from_len);
    if (n < 17 || silent_) continue;
    size_t at = 12;  // the question's name, then type and class
    while (at < static_cast<size_t>(n) && q[at] != 0) at += q[at] + 1;
    if (at + 5 > static_cast<size_t>(n)) continue;
    const int type = q[at + 1] << 8 | q[at + 2];
    const bool missing = n > 13 && std::string(reinterpret_cast<char*>(q + 13), 7) == "missing";
    std::vector<std::string> rdatas;
    auto name = [](std::initializer_list<std::string> labels) {
      std::string out;
      for (const std::string& l : labels) out += static_cast<char>(l.size()) + l;
      return out + '\0';
    };
    if (type == 1)
      rdatas = {std::string("\xC0\x00\x02\x01", 4), std::string("\xC0\x00\x02\x02", 4)};
    if (type == 28) rdatas = {std::string("\x20\x01\x0d\xb8", 4) + std::string(11, '\0') + "\x01"};
    if (type == 15) rdatas = {std::string("\x00\x0a", 2) + name({"mail", "example", "test"})};
    if (type == 16) rdatas = {"\x07v=spf1 \x04-all"};
    if (type == 2) rdatas = {name({"ns1", "example", "test"})};
    if (type == 5) rdatas = {name({"target", "example", "test"})};
    std::string r(reinterpret_cast<char*>(q), at + 5);  // header and question
    r[2] = static_cast<char>(0x81);                     // QR, RD
    r[3] = static_cast<char>(missing ? 0x83 : 0x80);    // RA, rcode
    r[6] = 0;
    r[7] = static_cast<char>(missing ? 0 : rdatas.size());
    for (size_t i = 0; !missing && i < rdatas.size(); ++i) {
      r += std::string("\xC0\x0C", 2);  // the question's name
      r += static_cast<char>(type >> 8);
      r += static_cast<char>(type & 0xFF);
      r += std::string("\x00\x01\x00\x00\x00\x3C", 6);  // class IN, TTL 60
      r += static_cast<char>(rdatas[i].size() >> 8);
      r += static_cast<char>(rdatas[i].size() & 0xFF);
      r += rdatas[i];
    }
    sendto(fd_, r.data(), r.size(), 0, reinterpret_cast<sockaddr*>(&from), from_len);
  }
}

}  // namespace pa::robot::testing
