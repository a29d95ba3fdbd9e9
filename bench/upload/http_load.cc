#include "http_load.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <string_view>

#include "base/strings.h"

namespace pa::bench {
namespace {

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// --- responses -----------------------------------------------------------------------------------

struct Response {
  int status = 0;
  bool close = false;
  std::string body;
};

enum class Parse { kIncomplete, kComplete, kMalformed };

// Decodes a chunked body starting at `in[pos]`; kComplete sets `*end` past the last CRLF.
Parse DecodeChunked(std::string_view in, size_t pos, std::string* body, size_t* end) {
  body->clear();
  while (true) {
    const size_t eol = in.find("\r\n", pos);
    if (eol == std::string_view::npos) return Parse::kIncomplete;
    size_t size = 0;
    size_t i = pos;
    for (; i < eol && std::isxdigit(static_cast<unsigned char>(in[i])); ++i) {
      const char d = static_cast<char>(std::tolower(static_cast<unsigned char>(in[i])));
      size = size * 16 + (d <= '9' ? d - '0' : d - 'a' + 10);
    }
    if (i == pos) return Parse::kMalformed;
    pos = eol + 2;
    if (size == 0) {  // trailers, then an empty line
      const size_t done = in.find("\r\n", pos);
      if (done == std::string_view::npos) return Parse::kIncomplete;
      if (done != pos) {
        const size_t after = in.find("\r\n\r\n", pos);
        if (after == std::string_view::npos) return Parse::kIncomplete;
        *end = after + 4;
      } else {
        *end = done + 2;
      }
      return Parse::kComplete;
    }
    if (in.size() < pos + size + 2) return Parse::kIncomplete;
    body->append(in.substr(pos, size));
    pos += size + 2;
  }
}

// Parses one response at the start of `in`; on kComplete `*consumed` is its length.
Parse ParseResponse(std::string_view in, Response* r, size_t* consumed) {
  const size_t head_end = in.find("\r\n\r\n");
  if (head_end == std::string_view::npos) return Parse::kIncomplete;
  if (in.size() < 12 || in.substr(0, 5) != "HTTP/") return Parse::kMalformed;
  const size_t sp = in.find(' ');
  if (sp == std::string_view::npos || sp + 4 > head_end) return Parse::kMalformed;
  r->status = std::atoi(std::string(in.substr(sp + 1, 3)).c_str());
  r->close = in.substr(0, 8) == "HTTP/1.0";
  int64_t length = -1;
  bool chunked = false;
  size_t line = in.find("\r\n") + 2;
  while (line < head_end) {
    const size_t eol = in.find("\r\n", line);
    const std::string_view header = in.substr(line, eol - line);
    line = eol + 2;
    const size_t colon = header.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view name = header.substr(0, colon);
    std::string_view value = header.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    if (EqualsIgnoreCase(name, "content-length")) {
      length = std::atoll(std::string(value).c_str());
    } else if (EqualsIgnoreCase(name, "transfer-encoding")) {
      chunked = value.find("chunked") != std::string_view::npos;
    } else if (EqualsIgnoreCase(name, "connection")) {
      r->close = EqualsIgnoreCase(value, "close");
    }
  }
  const size_t body_start = head_end + 4;
  if (chunked) return DecodeChunked(in, body_start, &r->body, consumed);
  if (length < 0) return Parse::kMalformed;  // we do not read to end-of-stream
  if (in.size() < body_start + length) return Parse::kIncomplete;
  r->body.assign(in.substr(body_start, length));
  *consumed = body_start + length;
  return Parse::kComplete;
}

// --- connections ---------------------------------------------------------------------------------

struct Connection {
  int fd = -1;
  bool busy = false;
  int64_t scheduled_ns = 0;
  std::string out;
  size_t out_off = 0;
  std::string in;
};

class Load {
 public:
  Load(const LoadOptions& options, const std::function<std::string()>& body)
      : o_(options), body_(body), conns_(options.concurrency) {}

  ~Load() {
    for (auto& c : conns_) {
      if (c.fd >= 0) close(c.fd);
    }
    if (timer_ >= 0) close(timer_);
    if (epoll_ >= 0) close(epoll_);
  }

  Result<LoadReport> Run();

 private:
  static constexpr uint64_t kTimerTag = ~uint64_t{0};  // epoll data of the timerfd

  Status Start();
  int64_t Dispatch(int64_t now, int64_t start, int64_t end);
  Status Poll(int64_t wake);
  Status Resolve();
  bool Connect(int index);
  void Drop(int index, const char* why);
  void Send(int index, int64_t scheduled_ns);
  void Flush(int index);
  void Receive(int index);
  void Answered(int index, const Response& r);
  void ArmTimer(int64_t at_ns);
  void Error(const std::string& what) { ++report_.errors[what]; }

  const LoadOptions& o_;
  const std::function<std::string()>& body_;
  std::vector<Connection> conns_;
  std::vector<int> idle_;
  int live_ = 0;  // connections still open
  int in_flight_ = 0;
  int samples_left_ = 0;
  sockaddr_storage addr_{};
  socklen_t addr_len_ = 0;
  int epoll_ = -1;
  int timer_ = -1;
  int64_t last_answer_ns_ = 0;
  int64_t scheduled_ = 0;        // open loop: arrivals so far
  std::deque<int64_t> waiting_;  // scheduled send times of requests waiting for a connection
  LoadReport report_;
};

Status Load::Resolve() {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  const std::string port = std::to_string(o_.port);
  if (int rc = getaddrinfo(o_.host.c_str(), port.c_str(), &hints, &res); rc != 0) {
    return UnavailableError(fmt::format("resolve {}: {}", o_.host, gai_strerror(rc)));
  }
  std::memcpy(&addr_, res->ai_addr, res->ai_addrlen);
  addr_len_ = res->ai_addrlen;
  freeaddrinfo(res);
  return Status::Ok();
}

// A blocking connect (the target is local), then non-blocking I/O through epoll.
bool Load::Connect(int index) {
  Connection& c = conns_[index];
  c = Connection{};
  const int fd = socket(addr_.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr_), addr_len_) != 0) {
    close(fd);
    return false;
  }
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  epoll_event ev{.events = EPOLLIN | EPOLLRDHUP, .data = {.u64 = static_cast<uint64_t>(index)}};
  epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev);
  c.fd = fd;
  ++live_;
  idle_.push_back(index);
  return true;
}

// The connection is gone (closed by the server, or a read/write failed): an in-flight request on
// it is lost. One new connection replaces it; if that fails the run goes on with fewer.
void Load::Drop(int index, const char* why) {
  Connection& c = conns_[index];
  const bool was_busy = c.busy;
  if (was_busy) {
    Error(why);
    --in_flight_;
  } else {
    std::erase(idle_, index);
  }
  epoll_ctl(epoll_, EPOLL_CTL_DEL, c.fd, nullptr);
  close(c.fd);
  c.fd = -1;
  --live_;
  if (!Connect(index)) Error("connect");
}

void Load::Send(int index, int64_t scheduled_ns) {
  Connection& c = conns_[index];
  const std::string body = body_();
  c.out = fmt::format(
      "POST {} HTTP/1.1\r\nHost: {}:{}\r\n{}Content-Type: application/json\r\n"
      "Content-Length: {}\r\n\r\n",
      o_.path, o_.host, o_.port, o_.extra_headers, body.size());
  c.out += body;
  c.out_off = 0;
  c.busy = true;
  c.scheduled_ns = scheduled_ns;
  ++in_flight_;
  ++report_.sent;
  report_.body_bytes += static_cast<int64_t>(body.size());
  Flush(index);
}

void Load::Flush(int index) {
  Connection& c = conns_[index];
  while (c.out_off < c.out.size()) {
    const ssize_t n = send(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off, MSG_NOSIGNAL);
    if (n > 0) {
      c.out_off += n;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      epoll_event ev{.events = EPOLLIN | EPOLLRDHUP | EPOLLOUT,
                     .data = {.u64 = static_cast<uint64_t>(index)}};
      epoll_ctl(epoll_, EPOLL_CTL_MOD, c.fd, &ev);
      return;
    }
    Drop(index, "connection_closed");
    return;
  }
  epoll_event ev{.events = EPOLLIN | EPOLLRDHUP, .data = {.u64 = static_cast<uint64_t>(index)}};
  epoll_ctl(epoll_, EPOLL_CTL_MOD, c.fd, &ev);
}

void Load::Receive(int index) {
  Connection& c = conns_[index];
  char buf[65536];
  while (true) {
    const ssize_t n = read(c.fd, buf, sizeof(buf));
    if (n > 0) {
      c.in.append(buf, n);
      if (n < static_cast<ssize_t>(sizeof(buf))) break;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    Drop(index, "connection_closed");  // 0: closed by the server; < 0: reset
    return;
  }
  Response r;
  size_t consumed = 0;
  switch (ParseResponse(c.in, &r, &consumed)) {
    case Parse::kIncomplete:
      return;
    case Parse::kMalformed:
      Drop(index, "malformed_response");
      return;
    case Parse::kComplete:
      c.in.erase(0, consumed);
      if (c.busy) Answered(index, r);
      if (r.close) Drop(index, "connection_closed");
      return;
  }
}

void Load::Answered(int index, const Response& r) {
  Connection& c = conns_[index];
  const int64_t now = NowNs();
  c.busy = false;
  --in_flight_;
  last_answer_ns_ = now;
  idle_.push_back(index);
  if (r.status == 200 && r.body.find(o_.ok_marker) != std::string::npos) {
    ++report_.ok;
    report_.latency_us.push_back((now - c.scheduled_ns) / 1000);
    return;
  }
  Error(r.status == 200 ? "200_without_" + o_.ok_marker : std::to_string(r.status));
  if (samples_left_ > 0) {
    --samples_left_;
    std::fprintf(stderr, "upload_bench: HTTP %d: %.300s\n", r.status, r.body.c_str());
  }
}

void Load::ArmTimer(int64_t at_ns) {
  itimerspec spec{};
  spec.it_value.tv_sec = at_ns / 1000000000;
  spec.it_value.tv_nsec = at_ns % 1000000000;
  if (spec.it_value.tv_sec == 0 && spec.it_value.tv_nsec == 0) spec.it_value.tv_nsec = 1;
  timerfd_settime(timer_, TFD_TIMER_ABSTIME, &spec, nullptr);
}

Status Load::Start() {
  PA_RETURN_IF_ERROR(Resolve());
  epoll_ = epoll_create1(EPOLL_CLOEXEC);
  timer_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (epoll_ < 0 || timer_ < 0) {
    return InternalError("epoll/timerfd: " + std::string(strerror(errno)));
  }
  epoll_event ev{.events = EPOLLIN, .data = {.u64 = kTimerTag}};
  epoll_ctl(epoll_, EPOLL_CTL_ADD, timer_, &ev);
  for (int i = 0; i < o_.concurrency; ++i) {
    if (!Connect(i)) {
      return UnavailableError(
          fmt::format("connect to {}:{}: {}", o_.host, o_.port, strerror(errno)));
    }
  }
  samples_left_ = o_.error_samples;
  return Status::Ok();
}

// Queues the requests due by `now` (none due at or after `end`) and hands them to free
// connections; returns when the loop should look again if nothing happens before.
int64_t Load::Dispatch(int64_t now, int64_t start, int64_t end) {
  int64_t wake = end;
  if (o_.rate > 0) {
    const double interval = 1e9 / o_.rate;
    int64_t next;
    while ((next = start + static_cast<int64_t>(static_cast<double>(scheduled_) * interval)) <=
               now &&
           next < end) {
      waiting_.push_back(next);
      ++scheduled_;
    }
    wake = std::min(next, end);
  } else if (now < end) {
    waiting_.assign(idle_.size(), now);  // closed loop: every free connection sends now
  }
  while (!waiting_.empty() && !idle_.empty()) {
    const int index = idle_.back();
    idle_.pop_back();
    Send(index, waiting_.front());
    waiting_.pop_front();
  }
  return wake;
}

// Waits until `wake` or for socket events, and handles those.
Status Load::Poll(int64_t wake) {
  ArmTimer(wake);
  epoll_event events[64];
  const int n = epoll_wait(epoll_, events, 64, -1);
  if (n < 0) {
    return errno == EINTR ? Status::Ok()
                          : InternalError("epoll_wait: " + std::string(strerror(errno)));
  }
  for (int i = 0; i < n; ++i) {
    if (events[i].data.u64 == kTimerTag) {
      uint64_t expirations;
      (void)!read(timer_, &expirations, sizeof(expirations));
      continue;
    }
    const int index = static_cast<int>(events[i].data.u64);
    if (conns_[index].fd >= 0 && (events[i].events & EPOLLOUT)) Flush(index);
    if (conns_[index].fd >= 0 &&
        (events[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP))) {
      Receive(index);
    }
  }
  return Status::Ok();
}

Result<LoadReport> Load::Run() {
  PA_RETURN_IF_ERROR(Start());
  const int64_t start = NowNs();
  const int64_t end = start + static_cast<int64_t>(o_.seconds * 1e9);
  const int64_t drain_end = end + o_.drain.count() * 1000000;
  bool ended = false;
  while (true) {
    const int64_t now = NowNs();
    int64_t wake = drain_end;
    if (!ended) {  // one last Dispatch at the end sends the arrivals due before it
      wake = Dispatch(now, start, end);
      ended = now >= end;
    }
    if (ended) {
      if (!waiting_.empty()) {  // open loop: the server fell behind the schedule
        report_.errors["not_sent"] += static_cast<int64_t>(waiting_.size());
        waiting_.clear();
      }
      if (in_flight_ == 0) break;
      if (now >= drain_end) {
        report_.errors["timeout"] += in_flight_;
        break;
      }
    }
    if (live_ == 0) {
      Error("no_connection_left");
      break;
    }
    PA_RETURN_IF_ERROR(Poll(wake));
  }
  report_.elapsed_s = static_cast<double>(std::max(last_answer_ns_, end) - start) / 1e9;
  return std::move(report_);
}

}  // namespace

Result<LoadReport> RunLoad(const LoadOptions& options, const std::function<std::string()>& body) {
  Load load(options, body);
  return load.Run();
}

}  // namespace pa::bench
