// S3TestProxy (tests only): an HTTP proxy put in front of a local S3 test server that
//  - verifies every request's AWS SigV4 signature and payload hash itself, because the test
//    server (s3rver 3.7) only checks that the access key exists — a bad signature gets the
//    403 SignatureDoesNotMatch that real S3 would send;
//  - injects faults: the next N requests can be answered with a status (e.g. 503 SlowDown)
//    without reaching the server, to show that retries work.
// Each client connection carries one request (the proxy answers with "Connection: close"), so
// request boundaries are simple; response bytes are relayed as they come (large GETs stream).
//
//   S3TestProxy proxy("127.0.0.1", s3_port, secret_key);
//   options.endpoint = "http://127.0.0.1:" + std::to_string(proxy.port());
//   proxy.FailNext(2, 503);
//
// Header-only so that the conformance test can use it without a library of its own.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/url.h"

namespace pa::storage::s3::testing {

namespace proxy_internal {

inline std::string Hex(const unsigned char* p, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out += kHex[p[i] >> 4];
    out += kHex[p[i] & 15];
  }
  return out;
}

inline std::string Sha256Hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  return Hex(md, len);
}

inline std::string Hmac(std::string_view key, std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), md, &len);
  return std::string(reinterpret_cast<char*>(md), len);
}

// Decode then re-encode (RFC 3986): what S3 does to a path segment or query part.
inline std::string Canonical(std::string_view s) {
  return PercentEncode(PercentDecode(s).value_or(std::string(s)), "-_.~");
}

struct Request {
  std::string method, path, query, head;
  std::map<std::string, std::string> headers;  // lower-cased names, trimmed values
  std::string body;
};

// Checks a request against AWS SigV4 as specified (not as libcurl implements it). Returns "" when
// the signature is valid, else the reason.
inline std::string CheckSignature(const Request& r, const std::string& secret) {
  auto header = [&](const std::string& name) {
    auto it = r.headers.find(name);
    return it == r.headers.end() ? std::string() : it->second;
  };
  const std::string auth = header("authorization");
  if (!auth.starts_with("AWS4-HMAC-SHA256 ")) return "not a SigV4 Authorization header";
  auto field = [&](std::string_view name) {
    const size_t start = auth.find(name);
    if (start == std::string::npos) return std::string();
    const size_t from = start + name.size();
    return auth.substr(from, auth.find_first_of(", ", from) - from);
  };
  const std::string credential = field("Credential="), signed_headers = field("SignedHeaders=");
  const std::string signature = field("Signature=");
  const std::string payload_hash = header("x-amz-content-sha256");
  if (payload_hash.empty()) return "no x-amz-content-sha256 header";
  if (payload_hash != "UNSIGNED-PAYLOAD" && payload_hash != Sha256Hex(r.body)) {
    return "x-amz-content-sha256 does not match the body";
  }
  const std::string scope = credential.substr(credential.find('/') + 1);

  std::string uri;
  for (size_t start = 0; start <= r.path.size();) {
    size_t end = r.path.find('/', start);
    if (end == std::string::npos) end = r.path.size();
    if (start > 0) uri += '/';
    uri += Canonical(r.path.substr(start, end - start));
    start = end + 1;
  }
  std::vector<std::pair<std::string, std::string>> params;
  for (size_t start = 0; !r.query.empty() && start <= r.query.size();) {
    size_t end = r.query.find('&', start);
    if (end == std::string::npos) end = r.query.size();
    const std::string kv = r.query.substr(start, end - start);
    const size_t eq = kv.find('=');
    params.emplace_back(Canonical(kv.substr(0, eq)),
                        eq == std::string::npos ? "" : Canonical(kv.substr(eq + 1)));
    start = end + 1;
  }
  std::sort(params.begin(), params.end());
  std::string query;
  for (const auto& [k, v] : params) query += (query.empty() ? "" : "&") + k + "=" + v;

  std::string canonical_headers;
  for (size_t start = 0; start <= signed_headers.size();) {
    size_t end = signed_headers.find(';', start);
    if (end == std::string::npos) end = signed_headers.size();
    const std::string name = signed_headers.substr(start, end - start);
    if (!r.headers.count(name)) return "signed header '" + name + "' was not sent";
    canonical_headers += name + ":" + r.headers.at(name) + "\n";
    start = end + 1;
  }
  if (signed_headers.find("host") == std::string::npos) return "host is not signed";
  const std::string canonical = r.method + "\n" + uri + "\n" + query + "\n" + canonical_headers +
                                "\n" + signed_headers + "\n" + payload_hash;
  const std::string to_sign =
      "AWS4-HMAC-SHA256\n" + header("x-amz-date") + "\n" + scope + "\n" + Sha256Hex(canonical);
  std::string key = "AWS4" + secret;
  size_t start = 0;
  for (int i = 0; i < 4; ++i) {  // date, region, service, "aws4_request"
    const size_t end = scope.find('/', start);
    key = Hmac(key, scope.substr(start, end - start));
    start = end == std::string::npos ? scope.size() : end + 1;
  }
  const std::string mac = Hmac(key, to_sign);
  if (Hex(reinterpret_cast<const unsigned char*>(mac.data()), mac.size()) != signature) {
    return "signature mismatch";
  }
  return "";
}

inline bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

inline bool RecvSome(int fd, std::string& buf) {
  char tmp[65536];
  const ssize_t n = ::recv(fd, tmp, sizeof(tmp), 0);
  if (n <= 0) return false;
  buf.append(tmp, static_cast<size_t>(n));
  return true;
}

// Reads one request (head and Content-Length body); answers "100 Continue" when asked.
inline bool ReadRequest(int fd, Request& r) {
  std::string buf;
  size_t end;
  while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
    if (!RecvSome(fd, buf)) return false;
  }
  r.head = buf.substr(0, end + 4);
  std::string rest = buf.substr(end + 4);
  const size_t line_end = r.head.find("\r\n");
  const std::string line = r.head.substr(0, line_end);
  const size_t sp1 = line.find(' '), sp2 = line.rfind(' ');
  r.method = line.substr(0, sp1);
  const std::string target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const size_t q = target.find('?');
  r.path = target.substr(0, q);
  r.query = q == std::string::npos ? "" : target.substr(q + 1);
  for (size_t pos = line_end + 2; pos < end;) {
    const size_t next = r.head.find("\r\n", pos);
    const std::string h = r.head.substr(pos, next - pos);
    const size_t colon = h.find(':');
    if (colon != std::string::npos) {
      std::string name = h.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string value = h.substr(colon + 1);
      value.erase(0, value.find_first_not_of(" \t"));
      value.erase(value.find_last_not_of(" \t") + 1);
      r.headers[name] = value;
    }
    pos = next + 2;
  }
  if (r.headers.count("expect")) SendAll(fd, "HTTP/1.1 100 Continue\r\n\r\n");
  const size_t length =
      r.headers.count("content-length") ? std::stoul(r.headers["content-length"]) : 0;
  while (rest.size() < length) {
    if (!RecvSome(fd, rest)) return false;
  }
  r.body = rest.substr(0, length);
  return true;
}

inline std::string ErrorReply(int status, std::string_view code, std::string_view message) {
  const std::string body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>" +
                           std::string(code) + "</Code><Message>" + std::string(message) +
                           "</Message></Error>";
  return "HTTP/1.1 " + std::to_string(status) + " " + std::string(code) +
         "\r\nContent-Type: application/xml\r\nConnection: close\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

}  // namespace proxy_internal

class S3TestProxy {
 public:
  S3TestProxy(std::string upstream_host, int upstream_port, std::string secret_key)
      : upstream_host_(std::move(upstream_host)),
        upstream_port_(upstream_port),
        secret_(std::move(secret_key)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    ::listen(listen_fd_, 128);
    socklen_t len = sizeof(addr);
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { AcceptLoop(); });
  }

  ~S3TestProxy() {
    ::shutdown(listen_fd_, SHUT_RDWR);
    acceptor_.join();
    ::close(listen_fd_);
    std::vector<Worker> workers;
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
      for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
      workers.swap(workers_);
    }
    for (auto& w : workers) w.thread.join();
  }

  S3TestProxy(const S3TestProxy&) = delete;
  S3TestProxy& operator=(const S3TestProxy&) = delete;

  int port() const { return port_; }

  // The next `n` requests are answered with `status` (S3 error code SlowDown or InternalError).
  void FailNext(int n, int status = 503) {
    fail_status_ = status;
    fail_remaining_ = n;
  }
  int injected_failures() const { return injected_; }
  int forwarded() const { return forwarded_; }
  int bad_signatures() const { return bad_signatures_; }
  std::string last_signature_error() {
    std::lock_guard<std::mutex> lock(mu_);
    return last_signature_error_;
  }

 private:
  void AcceptLoop() {
    while (true) {
      const int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) return;
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) {
        ::close(fd);
        continue;
      }
      open_fds_.push_back(fd);
      // Join the workers that finished, so that thousands of requests do not pile up threads.
      for (auto it = workers_.begin(); it != workers_.end();) {
        if (*it->done) {
          it->thread.join();
          it = workers_.erase(it);
        } else {
          ++it;
        }
      }
      auto done = std::make_shared<std::atomic<bool>>(false);
      workers_.push_back({std::thread([this, fd, done] {
                            Handle(fd);
                            Forget(fd);
                            *done = true;
                          }),
                          done});
    }
  }

  void Handle(int client) {
    using namespace proxy_internal;
    Request r;
    if (!ReadRequest(client, r)) return;
    if (fail_remaining_.fetch_sub(1) > 0) {
      ++injected_;
      const int status = fail_status_;
      SendAll(client, ErrorReply(status, status == 503 ? "SlowDown" : "InternalError",
                                 "injected by the test proxy"));
      return;
    }
    if (r.headers.count("authorization")) {
      const std::string why = CheckSignature(r, secret_);
      if (!why.empty()) {
        ++bad_signatures_;
        {
          std::lock_guard<std::mutex> lock(mu_);
          last_signature_error_ = r.method + " " + r.path + ": " + why;
        }
        SendAll(client, ErrorReply(403, "SignatureDoesNotMatch", why));
        return;
      }
    }
    const int up = Connect();
    if (up < 0) {
      SendAll(client, ErrorReply(502, "BadGateway", "the S3 test server is not reachable"));
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      open_fds_.push_back(up);
    }
    ++forwarded_;
    if (SendAll(up, RewriteHead(r.head)) && SendAll(up, r.body)) {
      std::string chunk;
      while (RecvSome(up, chunk)) {  // the server closes after its response
        if (!SendAll(client, chunk)) break;
        chunk.clear();
      }
    }
    Forget(up);
  }

  // One request per upstream connection, and no second "100 Continue".
  static std::string RewriteHead(const std::string& head) {
    std::string out;
    for (size_t pos = 0; pos < head.size();) {
      const size_t next = head.find("\r\n", pos);
      const std::string line = head.substr(pos, next - pos);
      pos = next + 2;
      std::string lower = line.substr(0, line.find(':'));
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (lower == "connection" || lower == "expect" || lower == "keep-alive") continue;
      if (line.empty()) break;
      out += line + "\r\n";
    }
    return out + "Connection: close\r\n\r\n";
  }

  int Connect() const {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(upstream_port_));
    ::inet_pton(AF_INET, upstream_host_.c_str(), &addr.sin_addr);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      ::close(fd);
      return -1;
    }
    return fd;
  }

  void Forget(int fd) {
    std::lock_guard<std::mutex> lock(mu_);
    open_fds_.erase(std::remove(open_fds_.begin(), open_fds_.end(), fd), open_fds_.end());
    ::close(fd);
  }

  const std::string upstream_host_;
  const int upstream_port_;
  const std::string secret_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<int> fail_status_{503};
  std::atomic<int> fail_remaining_{0};
  std::atomic<int> injected_{0};
  std::atomic<int> forwarded_{0};
  std::atomic<int> bad_signatures_{0};
  std::thread acceptor_;
  std::mutex mu_;
  bool stopping_ = false;
  std::vector<int> open_fds_;
  struct Worker {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  std::vector<Worker> workers_;
  std::string last_signature_error_;
};

}  // namespace pa::storage::s3::testing
