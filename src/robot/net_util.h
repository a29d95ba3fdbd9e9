// Sockets with deadlines for the tcp, dns and tls steps: name resolution that gives up at a
// deadline, connect to the first address that answers, waits on a descriptor. Internal to
// pa_robot_checks.
//
// Errors: kDeadlineExceeded when the deadline passes first (the step's type `timeout`),
// kUnavailable with the system's reason otherwise ("connection refused", "cannot resolve
// 'db.example': Name or service not known"; type `network`).
// Thread-safety: free functions, callable from any thread; a SocketAddress is a value.
#pragma once

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"

namespace pa::robot {

using Deadline = std::chrono::steady_clock::time_point;

// Milliseconds until `deadline` (0 when it has passed), capped to fit an int.
int MsLeft(Deadline deadline);

struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;

  int family() const { return storage.ss_family; }
  // "192.0.2.1" or "2001:db8::1", without the port.
  std::string Ip() const;
  static Result<SocketAddress> FromIp(const std::string& ip, uint16_t port);
};

// The addresses of `host` (a name or a literal IP) for `port`, each once, in the system's order.
// `family`: AF_UNSPEC, AF_INET or AF_INET6. Names go through getaddrinfo (so /etc/hosts and
// nsswitch apply) on a helper thread that is abandoned at the deadline.
Result<std::vector<SocketAddress>> ResolveHost(const std::string& host, uint16_t port, int family,
                                               Deadline deadline);

// Owns a file descriptor.
class Socket {
 public:
  Socket() = default;
  explicit Socket(int fd) : fd_(fd) {}
  Socket(Socket&& other) noexcept : fd_(other.Release()) {}
  Socket& operator=(Socket&& other) noexcept;
  ~Socket();
  int fd() const { return fd_; }
  int Release();

 private:
  int fd_ = -1;
};

// A non-blocking socket of `type` (SOCK_STREAM, SOCK_DGRAM) connected to the first of `addrs`
// that accepts before `deadline`. `*connected` (optional) receives the address used.
Result<Socket> ConnectAny(const std::vector<SocketAddress>& addrs, int type, Deadline deadline,
                          SocketAddress* connected = nullptr);

// Waits until `fd` is ready for `events` (POLLIN, POLLOUT). kDeadlineExceeded when the deadline
// passes first.
Status WaitFor(int fd, short events, Deadline deadline);

// Writes all of `data` to the non-blocking `fd`.
Status SendAll(int fd, std::string_view data, Deadline deadline);

// Blocks SIGPIPE for the calling thread while it lives, and discards a SIGPIPE raised meanwhile:
// OpenSSL writes to its socket with write(), which raises SIGPIPE on a connection the peer
// has closed, and a library must not kill its process for that.
class SigpipeGuard {
 public:
  SigpipeGuard();
  ~SigpipeGuard();
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;

 private:
  sigset_t old_mask_;
  bool was_pending_ = false;
};

// A Status's step error type: timeout for kDeadlineExceeded, network otherwise.
bool IsTimeout(const Status& status);

}  // namespace pa::robot
