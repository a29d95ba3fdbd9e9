#include "gateway/test_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "base/strings.h"

namespace pa::gateway::testing {
namespace {

int Remaining(std::chrono::steady_clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

}  // namespace

std::optional<std::string> TestResponse::Header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (EqualsIgnoreCase(n, name)) return v;
  }
  return std::nullopt;
}

std::unique_ptr<TestConnection> TestConnection::Connect(const std::string& address) {
  const size_t colon = address.rfind(':');
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::stoi(address.substr(colon + 1))));
  if (inet_pton(AF_INET, address.substr(0, colon).c_str(), &addr.sin_addr) != 1) return nullptr;
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return nullptr;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return nullptr;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return std::unique_ptr<TestConnection>(new TestConnection(fd));
}

TestConnection::~TestConnection() { ::close(fd_); }

std::string TestConnection::Request(std::string_view method, std::string_view target,
                                    std::vector<std::pair<std::string, std::string>> headers,
                                    std::string_view body) {
  std::string out;
  out.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: test\r\n");
  bool has_length = false;
  for (const auto& [n, v] : headers) {
    has_length = has_length || EqualsIgnoreCase(n, "content-length") ||
                 EqualsIgnoreCase(n, "transfer-encoding");
    out.append(n).append(": ").append(v).append("\r\n");
  }
  if (!has_length && !body.empty()) {
    out.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  }
  out.append("\r\n").append(body);
  return out;
}

bool TestConnection::Send(std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

bool TestConnection::SendAll(std::string_view data) {
  while (!data.empty()) {
    pollfd p{fd_, POLLOUT | POLLIN, 0};
    if (::poll(&p, 1, 20000) <= 0) return false;
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) return false;  // the server answered early
    const ssize_t n = ::send(fd_, data.data(), std::min<size_t>(data.size(), 64 * 1024),
                             MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

long TestConnection::Fill(std::chrono::steady_clock::time_point deadline) {
  while (true) {
    pollfd p{fd_, POLLIN, 0};
    const int ready = ::poll(&p, 1, Remaining(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return -1;
    char buf[16384];
    const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    buffer_.append(buf, static_cast<size_t>(n));
    return n;
  }
}

std::optional<TestResponse> TestConnection::Read(std::chrono::milliseconds timeout,
                                                 bool head_request) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  size_t head_end;
  while ((head_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    if (Fill(deadline) <= 0) return std::nullopt;
  }
  TestResponse r;
  const std::string head = buffer_.substr(0, head_end);
  buffer_.erase(0, head_end + 4);
  size_t line_end = head.find("\r\n");
  const std::string status_line = head.substr(0, line_end);
  if (status_line.size() < 12) return std::nullopt;
  r.status = std::stoi(status_line.substr(9, 3));
  while (line_end != std::string::npos) {
    const size_t start = line_end + 2;
    line_end = head.find("\r\n", start);
    const std::string line = head.substr(start, line_end - start);
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    size_t v = colon + 1;
    while (v < line.size() && line[v] == ' ') ++v;
    r.headers.emplace_back(line.substr(0, colon), line.substr(v));
  }
  if (head_request || r.status < 200 || r.status == 204 || r.status == 304) return r;
  if (const auto length = r.Header("Content-Length")) {
    const size_t n = std::stoul(*length);
    while (buffer_.size() < n) {
      if (Fill(deadline) <= 0) return std::nullopt;
    }
    r.body = buffer_.substr(0, n);
    buffer_.erase(0, n);
    return r;
  }
  while (true) {  // no length: the body ends with the connection
    const long n = Fill(deadline);
    if (n == 0) break;
    if (n < 0) return std::nullopt;
  }
  r.body = std::move(buffer_);
  buffer_.clear();
  return r;
}

bool TestConnection::WaitClosed(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, Remaining(deadline)) <= 0) return false;
    char buf[16384];
    const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0) return n == 0 || errno != EINTR;
  }
}

std::optional<TestResponse> TestConnection::RoundTrip(const std::string& request) {
  if (!Send(request)) return std::nullopt;
  return Read();
}

std::optional<TestResponse> Get(const std::string& address, std::string_view target,
                                std::vector<std::pair<std::string, std::string>> headers) {
  auto c = TestConnection::Connect(address);
  if (!c) return std::nullopt;
  return c->RoundTrip(TestConnection::Request("GET", target, std::move(headers)));
}

int64_t ReadProcStatusBytes(std::string_view field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, field.size(), field) == 0 && line.size() > field.size() &&
        line[field.size()] == ':') {
      return std::stoll(line.substr(field.size() + 1)) * 1024;  // "VmRSS:   1234 kB"
    }
  }
  return -1;
}

std::string Gzip(std::string_view data) {
  z_stream zs{};
  deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, data.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(out.size() - zs.avail_out);
  deflateEnd(&zs);
  return out;
}

std::string GzipZeros(size_t mib) {
  // After Z_FULL_FLUSH the compressor starts afresh and byte-aligned, so the block compressing one
  // MiB of zeros is the same every time: the stream is that block `mib` times plus a proper end.
  const std::string zeros(1 << 20, '\0');
  z_stream zs{};
  deflateInit2(&zs, 9, Z_DEFLATED, -MAX_WBITS, 9, Z_DEFAULT_STRATEGY);
  std::string block(1 << 20, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(zeros.data()));
  zs.avail_in = static_cast<uInt>(zeros.size());
  zs.next_out = reinterpret_cast<Bytef*>(block.data());
  zs.avail_out = static_cast<uInt>(block.size());
  deflate(&zs, Z_FULL_FLUSH);
  block.resize(block.size() - zs.avail_out);
  char end[64];
  zs.next_out = reinterpret_cast<Bytef*>(end);
  zs.avail_out = sizeof(end);
  deflate(&zs, Z_FINISH);
  const std::string final_block(end, sizeof(end) - zs.avail_out);
  deflateEnd(&zs);

  std::string out("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03", 10);  // gzip header, no name
  out.reserve(10 + block.size() * mib + 16);
  const uLong crc_mib = crc32(0, reinterpret_cast<const Bytef*>(zeros.data()), zeros.size());
  uLong crc = 0;
  for (size_t i = 0; i < mib; ++i) {
    out += block;
    crc = i == 0 ? crc_mib : crc32_combine(crc, crc_mib, 1 << 20);
  }
  out += final_block;
  const uint32_t isize = static_cast<uint32_t>(mib << 20);
  for (int i = 0; i < 4; ++i) out += static_cast<char>((crc >> (8 * i)) & 0xFF);
  for (int i = 0; i < 4; ++i) out += static_cast<char>((isize >> (8 * i)) & 0xFF);
  return out;
}

}  // namespace pa::gateway::testing
