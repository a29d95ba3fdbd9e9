#include "robot/net_util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>

namespace pa::robot {
namespace {

struct Lookup {
  std::mutex mu;
  std::condition_variable done_cv;
  bool done = false;
  int rc = 0;
  std::vector<SocketAddress> addrs;
};

void GetAddrInfo(const std::string& host, uint16_t port, int family, int flags, Lookup* out) {
  addrinfo hints{};
  hints.ai_family = family;
  hints.ai_socktype = SOCK_STREAM;  // one entry per address, not one per socket type
  hints.ai_flags = flags;
  addrinfo* list = nullptr;
  const std::string service = std::to_string(port);
  const int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &list);
  std::vector<SocketAddress> addrs;
  for (addrinfo* ai = list; rc == 0 && ai != nullptr; ai = ai->ai_next) {
    SocketAddress a;
    std::memcpy(&a.storage, ai->ai_addr, ai->ai_addrlen);
    a.length = ai->ai_addrlen;
    const bool seen = std::any_of(addrs.begin(), addrs.end(), [&](const SocketAddress& b) {
      return b.length == a.length && std::memcmp(&b.storage, &a.storage, a.length) == 0;
    });
    if (!seen) addrs.push_back(a);
  }
  if (list != nullptr) freeaddrinfo(list);
  std::lock_guard lock(out->mu);
  out->rc = rc;
  out->addrs = std::move(addrs);
  out->done = true;
}

}  // namespace

int MsLeft(Deadline deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  return static_cast<int>(std::clamp<int64_t>(left.count(), 0, 1 << 30));
}

std::string SocketAddress::Ip() const {
  char buf[INET6_ADDRSTRLEN] = "";
  if (family() == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage)->sin_addr, buf, sizeof(buf));
  } else if (family() == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_addr, buf,
              sizeof(buf));
  }
  return buf;
}

Result<SocketAddress> SocketAddress::FromIp(const std::string& ip, uint16_t port) {
  SocketAddress a;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&a.storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&a.storage);
  if (inet_pton(AF_INET, ip.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    a.length = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, ip.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    a.length = sizeof(sockaddr_in6);
  } else {
    return InvalidArgumentError("'" + ip + "' is not an IP address");
  }
  return a;
}

Result<std::vector<SocketAddress>> ResolveHost(const std::string& host, uint16_t port, int family,
                                               Deadline deadline) {
  Lookup literal;
  GetAddrInfo(host, port, family, AI_NUMERICHOST, &literal);
  if (literal.rc == 0) return std::move(literal.addrs);

  auto lookup = std::make_shared<Lookup>();
  std::thread([lookup, host, port, family] {
    GetAddrInfo(host, port, family, 0, lookup.get());
    lookup->done_cv.notify_all();
  }).detach();
  std::unique_lock lock(lookup->mu);
  if (!lookup->done_cv.wait_until(lock, deadline, [&] { return lookup->done; })) {
    return DeadlineExceededError("resolving '" + host + "' timed out");
  }
  if (lookup->rc != 0) {
    return UnavailableError("cannot resolve '" + host + "': " + gai_strerror(lookup->rc));
  }
  if (lookup->addrs.empty()) return UnavailableError("cannot resolve '" + host + "': no address");
  return std::move(lookup->addrs);
}

Socket& Socket::operator=(Socket&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) close(fd_);
    fd_ = other.Release();
  }
  return *this;
}

Socket::~Socket() {
  if (fd_ >= 0) close(fd_);
}

int Socket::Release() { return std::exchange(fd_, -1); }

Status WaitFor(int fd, short events, Deadline deadline) {
  while (true) {
    pollfd p{fd, events, 0};
    const int rc = poll(&p, 1, MsLeft(deadline));
    if (rc > 0) return Status::Ok();
    if (rc == 0) return DeadlineExceededError("timed out");
    if (errno != EINTR) return UnavailableError(std::string("poll: ") + std::strerror(errno));
  }
}

Result<Socket> ConnectAny(const std::vector<SocketAddress>& addrs, int type, Deadline deadline,
                          SocketAddress* connected) {
  Status last = UnavailableError("no address to connect to");
  for (const SocketAddress& addr : addrs) {
    Socket s(socket(addr.family(), type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (s.fd() < 0) return UnavailableError(std::string("socket: ") + std::strerror(errno));
    const std::string where = addr.Ip();
    if (connect(s.fd(), reinterpret_cast<const sockaddr*>(&addr.storage), addr.length) != 0) {
      if (errno != EINPROGRESS) {
        last = UnavailableError("connect to " + where + ": " + std::strerror(errno));
        continue;
      }
      Status waited = WaitFor(s.fd(), POLLOUT, deadline);
      if (!waited.ok()) {
        if (IsTimeout(waited)) return DeadlineExceededError("connect to " + where + " timed out");
        return waited;
      }
      int err = 0;
      socklen_t len = sizeof(err);
      getsockopt(s.fd(), SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) {
        last = UnavailableError("connect to " + where + ": " + std::strerror(err));
        continue;
      }
    }
    if (connected != nullptr) *connected = addr;
    return s;
  }
  return last;
}

Status SendAll(int fd, std::string_view data, Deadline deadline) {
  while (!data.empty()) {
    const ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      PA_RETURN_IF_ERROR(WaitFor(fd, POLLOUT, deadline));
    } else {
      return UnavailableError(std::string("send: ") + std::strerror(errno));
    }
  }
  return Status::Ok();
}

SigpipeGuard::SigpipeGuard() {
  sigset_t pipe;
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe, &old_mask_);
  sigset_t pending;
  sigpending(&pending);
  was_pending_ = sigismember(&pending, SIGPIPE) == 1;
}

SigpipeGuard::~SigpipeGuard() {
  if (!was_pending_) {
    sigset_t pending;
    sigpending(&pending);
    if (sigismember(&pending, SIGPIPE) == 1) {
      sigset_t pipe;
      sigemptyset(&pipe);
      sigaddset(&pipe, SIGPIPE);
      const timespec zero{0, 0};
      while (sigtimedwait(&pipe, nullptr, &zero) < 0 && errno == EINTR) {
      }
    }
  }
  pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
}

bool IsTimeout(const Status& status) { return status.code() == StatusCode::kDeadlineExceeded; }

}  // namespace pa::robot
