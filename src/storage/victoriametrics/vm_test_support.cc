#include "storage/victoriametrics/vm_test_support.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

namespace pa::storage::victoriametrics::testing {

std::string SharedVmUrl(std::string* why) {
  const char* url = std::getenv("PRIMOART_TEST_VM_URL");
  if (url && *url) return url;
  *why = "PRIMOART_TEST_VM_URL is not set (scripts/vm-test-server start DIR prints it)";
  return "";
}

bool ServersRequired() {
  const char* v = std::getenv("PRIMOART_TEST_REQUIRE_SERVERS");
  return v && std::string(v) == "1";
}

TempDir::TempDir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/pa-vm-test-XXXXXX";
  if (mkdtemp(templ.data()) == nullptr) std::abort();
  path_ = templ;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

Status PrivateVm::Run(const std::string& command, std::string* last_line) {
  const std::string cmd = std::string("VM_TEST_SERVER_FLAGS='") + flags_ + "' '" + PA_SOURCE_DIR +
                          "/scripts/vm-test-server' " + command + " '" + dir_ + "' 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return InternalError("popen failed");
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  const int rc = pclose(p);
  if (rc != 0) return InternalError("vm-test-server " + command + " failed: " + out);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  if (last_line)
    *last_line = out.substr(out.rfind('\n') == std::string::npos ? 0 : out.rfind('\n') + 1);
  return Status::Ok();
}

Result<std::unique_ptr<PrivateVm>> PrivateVm::Start(const std::string& dir,
                                                    const std::string& extra_flags) {
  std::unique_ptr<PrivateVm> vm(new PrivateVm(dir, extra_flags));
  std::string line;
  PA_RETURN_IF_ERROR(vm->Run("start", &line));
  const std::string prefix = "PRIMOART_TEST_VM_URL=";
  if (!line.starts_with(prefix)) return InternalError("vm-test-server printed: " + line);
  vm->url_ = line.substr(prefix.size());
  vm->running_ = true;
  return vm;
}

PrivateVm::~PrivateVm() {
  if (running_) (void)Stop();
}

Status PrivateVm::Stop() {
  running_ = false;
  return Run("stop", nullptr);
}

Status PrivateVm::Restart() {
  PA_RETURN_IF_ERROR(Run("start", nullptr));
  running_ = true;
  return Status::Ok();
}

RefusingPort::RefusingPort() {
  fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) std::abort();
  socklen_t len = sizeof(addr);
  getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
}

RefusingPort::~RefusingPort() { close(fd_); }

FakeVm::FakeVm(Handler handler) : handler_(std::move(handler)) {
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      listen(listen_fd_, 64) != 0) {
    std::abort();
  }
  socklen_t len = sizeof(addr);
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

FakeVm::~FakeVm() {
  stopping_ = true;
  shutdown(listen_fd_, SHUT_RDWR);
  acceptor_.join();
  close(listen_fd_);
  std::vector<std::thread> threads;
  {
    std::lock_guard l(mu_);
    for (int fd : fds_) shutdown(fd, SHUT_RDWR);
    threads.swap(connections_);
  }
  for (auto& t : threads) t.join();
  for (int fd : fds_) close(fd);  // connections are closed here, after their threads
}

void FakeVm::AcceptLoop() {
  while (!stopping_) {
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (stopping_) return;
      continue;
    }
    std::lock_guard l(mu_);
    fds_.push_back(fd);
    connections_.emplace_back([this, fd] { Serve(fd); });
  }
}

void FakeVm::Serve(int fd) {
  std::string buf;
  char chunk[65536];
  for (;;) {
    size_t header_end;
    while ((header_end = buf.find("\r\n\r\n")) == std::string::npos) {
      const ssize_t n = read(fd, chunk, sizeof(chunk));
      if (n <= 0) {
        return;
      }
      buf.append(chunk, static_cast<size_t>(n));
    }
    Request req;
    const std::string head = buf.substr(0, header_end);
    const size_t sp1 = head.find(' '), sp2 = head.find(' ', sp1 + 1);
    req.method = head.substr(0, sp1);
    req.path = head.substr(sp1 + 1, sp2 - sp1 - 1);
    size_t length = 0;
    for (size_t pos = 0; (pos = head.find("\r\n", pos)) != std::string::npos;) {
      pos += 2;
      std::string line = head.substr(pos, head.find("\r\n", pos) - pos);
      for (auto& c : line) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (line.starts_with("content-length:")) length = std::stoul(line.substr(15));
    }
    while (buf.size() < header_end + 4 + length) {
      const ssize_t n = read(fd, chunk, sizeof(chunk));
      if (n <= 0) {
        return;
      }
      buf.append(chunk, static_cast<size_t>(n));
    }
    req.body = buf.substr(header_end + 4, length);
    buf.erase(0, header_end + 4 + length);
    const Reply reply = handler_(req);
    const std::string out = "HTTP/1.1 " + std::to_string(reply.status) +
                            " X\r\nContent-Length: " + std::to_string(reply.body.size()) +
                            "\r\n\r\n" + reply.body;
    if (write(fd, out.data(), out.size()) != static_cast<ssize_t>(out.size())) {
      return;
    }
  }
}

}  // namespace pa::storage::victoriametrics::testing
