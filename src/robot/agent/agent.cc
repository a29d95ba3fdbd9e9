#include "robot/agent/agent.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "base/logging.h"
#include "base/random.h"
#include "synth/definition.h"

namespace pa::robot {
namespace {

std::string HostName() {
  char buf[256] = {0};
  if (gethostname(buf, sizeof buf - 1) != 0) return "robot";
  return buf;
}

}  // namespace

// GET /metrics on --metrics-listen: the Prometheus text of the robot's registry. Plain sockets,
// one connection at a time: a scrape every few seconds is all it serves.
class Agent::MetricsServer {
 public:
  static Result<std::unique_ptr<MetricsServer>> Listen(const std::string& address,
                                                       telemetry::Registry& registry) {
    const size_t colon = address.rfind(':');
    if (colon == std::string::npos) {
      return InvalidArgumentError("--metrics-listen '" + address + "': expected host:port");
    }
    std::string host = address.substr(0, colon);
    if (host.empty()) host = "0.0.0.0";
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(std::atoi(address.c_str() + colon + 1)));
    if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
      return InvalidArgumentError("--metrics-listen '" + address + "': not an IPv4 address");
    }
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd, 16) != 0) {
      const std::string err = std::strerror(errno);
      close(fd);
      return UnavailableError("--metrics-listen " + address + ": " + err);
    }
    return std::unique_ptr<MetricsServer>(new MetricsServer(fd, registry));
  }
  ~MetricsServer() {
    stopping_ = true;
    thread_.join();
    close(fd_);
  }

 private:
  MetricsServer(int fd, telemetry::Registry& registry) : fd_(fd), registry_(registry) {
    thread_ = std::thread([this] { Loop(); });
  }
  void Loop() {
    pthread_setname_np(pthread_self(), "robot-metrics");
    while (!stopping_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 200) <= 0) continue;
      const int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      timeval tv{2, 0};
      setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      char buf[2048];
      const ssize_t n = recv(c, buf, sizeof buf - 1, 0);
      std::string_view req(buf, n > 0 ? static_cast<size_t>(n) : 0);
      std::string status = "404 Not Found", body = "not found: try /metrics\n";
      if (req.starts_with("GET /metrics ") || req.starts_with("GET /metrics?")) {
        status = "200 OK";
        body = registry_.Expose();
      }
      const std::string resp = "HTTP/1.1 " + status +
                               "\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: " +
                               std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
      (void)send(c, resp.data(), resp.size(), MSG_NOSIGNAL);
      close(c);
    }
  }
  const int fd_;
  telemetry::Registry& registry_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

Agent::Agent(AgentConfig config, BrowserStepFn browser, telemetry::Registry& metrics)
    : config_(std::move(config)),
      browser_(std::move(browser)),
      metrics_(metrics),
      api_({.url = config_.server,
            .token = config_.token,
            .timeout = std::chrono::seconds(30),
            .verify_tls = config_.verify_server_tls},
           http_),
      location_(config_.location),
      outbox_errors_(metrics_
                         .AddCounter("primoart_robot_outbox_write_errors_total",
                                     "Results that could not be written to the outbox (lost).")
                         .With({})),
      config_errors_(metrics_
                         .AddCounter("primoart_robot_config_errors_total",
                                     "Configuration polls that failed or transactions that did "
                                     "not validate.")
                         .With({})) {}

Agent::~Agent() { Stop(); }

Json Agent::SelfReport() const {
  const OutboxStats o = outbox_ ? outbox_->stats() : OutboxStats{};
  return {{"version", config_.version},
          {"running", scheduler_ ? static_cast<int64_t>(scheduler_->running()) : 0},
          {"outbox",
           {{"entries", o.entries},
            {"bytes", o.bytes},
            {"dropped_total", o.dropped_total},
            {"dead_letter_total", o.dead_letter_total}}}};
}

Status Agent::Start() {
  if (config_.server.empty()) return InvalidArgumentError("--server is required");
  if (config_.token.empty()) return InvalidArgumentError("--token is required");
  PA_ASSIGN_OR_RETURN(outbox_, Outbox::Open({.dir = config_.data_dir / "outbox",
                                             .max_bytes = config_.outbox_max_bytes,
                                             .max_age = config_.outbox_max_age},
                                            *Clock::System()));
  metrics_.AddCollector([this](std::string& out) {
    const OutboxStats o = outbox_->stats();
    out += "# HELP primoart_robot_outbox_entries Results waiting for upload.\n";
    out += "# TYPE primoart_robot_outbox_entries gauge\n";
    out += "primoart_robot_outbox_entries " + std::to_string(o.entries) + "\n";
    out += "# HELP primoart_robot_outbox_bytes Bytes of the results waiting for upload.\n";
    out += "# TYPE primoart_robot_outbox_bytes gauge\n";
    out += "primoart_robot_outbox_bytes " + std::to_string(o.bytes) + "\n";
    out +=
        "# HELP primoart_robot_outbox_dropped_total Unsent results dropped by the outbox "
        "bounds.\n";
    out += "# TYPE primoart_robot_outbox_dropped_total counter\n";
    out += "primoart_robot_outbox_dropped_total " + std::to_string(o.dropped_total) + "\n";
  });
  if (!config_.metrics_listen.empty()) {
    PA_ASSIGN_OR_RETURN(metrics_server_, MetricsServer::Listen(config_.metrics_listen, metrics_));
  }
  uploader_ = std::make_unique<Uploader>(*outbox_, api_, metrics_, Uploader::Options{});
  uploader_->Start();  // what an earlier run left in the outbox goes first
  control_ = std::thread([this] { Control(); });
  return Status::Ok();
}

void Agent::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (control_.joinable()) control_.join();
  if (scheduler_) scheduler_->Stop(std::chrono::seconds(30));
  if (uploader_) {
    uploader_->Stop();
    (void)uploader_->Pass();  // one last try for what the cancelled runs left
  }
  metrics_server_.reset();
  if (outbox_) {
    const OutboxStats o = outbox_->stats();
    log::Get("robot")->info(
        "stopped after {} runs; {} left in the outbox, {} dropped, {} in dead-letter",
        runs_total_.load(), o.entries, o.dropped_total, o.dead_letter_total);
  }
}

bool Agent::Sleep(std::chrono::milliseconds d) {
  std::unique_lock lock(mu_);
  return !cv_.wait_for(lock, d, [&] { return stopping_; });
}

void Agent::Control() {
  pthread_setname_np(pthread_self(), "robot-control");
  auto log = log::Get("robot");
  // 1. Registration, until it works.
  Json info = {{"name", config_.name.empty() ? HostName() : config_.name},
               {"version", config_.version},
               {"labels", config_.labels}};
  if (!config_.location.empty()) info["location"] = config_.location;
  utsname u{};
  if (uname(&u) == 0) {
    info["host"] = {{"hostname", HostName()},
                    {"os", std::string(u.sysname) + " " + u.release},
                    {"arch", u.machine}};
  }
  auto delay = std::chrono::milliseconds(1000);
  ServerApi::Registration reg;
  for (;;) {
    auto r = api_.Register(info);
    if (r.ok()) {
      reg = *r;
      break;
    }
    log->warn("registration failed, retry in {} s: {}", delay.count() / 1000,
              r.status().ToString());
    if (!Sleep(delay)) return;
    delay = std::min(delay * 2, std::chrono::milliseconds(60000));
  }
  robot_id_ = reg.robot_id;
  log->info("registered as robot {} ({}); heartbeat every {} s", robot_id_,
            location_.empty() ? "no location" : location_, reg.heartbeat_interval_s);
  Scheduler::Options so;
  so.concurrency = config_.concurrency;
  so.robot_id = robot_id_;
  so.location = location_;
  scheduler_ = std::make_unique<Scheduler>(
      so, [this] { return std::make_unique<TransactionRunner>(browser_); },
      [this](RunOutput out) { OnResult(std::move(out)); }, metrics_);
  scheduler_->Start();

  // 2. Heartbeats and configuration polls.
  const auto heartbeat_every = std::chrono::seconds(std::max(1, reg.heartbeat_interval_s));
  auto next_heartbeat = std::chrono::steady_clock::now();
  auto next_poll = std::chrono::steady_clock::now();
  std::string etag;
  for (;;) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= next_heartbeat) {
      if (Status st = api_.Heartbeat(robot_id_, SelfReport()); !st.ok()) {
        log->warn("heartbeat failed: {}", st.ToString());
      }
      next_heartbeat = now + heartbeat_every;
    }
    if (now >= next_poll) {
      auto poll = api_.Config(robot_id_, etag);
      if (!poll.ok()) {
        config_errors_.Inc();
        log->warn("configuration poll failed (the current one stays): {}",
                  poll.status().ToString());
      } else if (poll->changed) {
        etag = poll->etag;
        ApplyConfig(poll->config);
      }
      next_poll = now + config_.config_poll;
    }
    const auto wake = std::min(next_heartbeat, next_poll);
    if (!Sleep(std::chrono::duration_cast<std::chrono::milliseconds>(
            wake - std::chrono::steady_clock::now() + std::chrono::milliseconds(1)))) {
      return;
    }
  }
}

void Agent::ApplyConfig(const Json& config) {
  auto log = log::Get("robot");
  if (const auto up = config.find("upload"); up != config.end() && up->is_object()) {
    uploader_->Configure(static_cast<size_t>(up->value("max_results_per_request", 100)),
                         up->value("max_body_bytes", int64_t{8} << 20));
  }
  std::vector<ScheduledTransaction> list;
  for (const Json& t : config.value("transactions", Json::array())) {
    if (!t.is_object()) continue;
    Json def = t;
    ScheduledTransaction st;
    if (auto v = def.find("version"); v != def.end() && v->is_number_integer()) {
      st.version = v->get<int64_t>();
    }
    if (auto v = def.find("run_requested_at"); v != def.end() && v->is_string()) {
      st.run_requested_at = v->get<std::string>();
    }
    def.erase("version");
    def.erase("run_requested_at");
    synth::FieldErrors errors;
    auto parsed = synth::ParseDefinition(def, &errors);
    if (!parsed) {
      config_errors_.Inc();
      log->error("transaction {} in the configuration does not validate ({}: {}); skipped",
                 t.value("id", "?"), errors.empty() ? "" : errors[0].path,
                 errors.empty() ? "" : errors[0].message);
      continue;
    }
    st.def = std::move(*parsed);
    list.push_back(std::move(st));
  }
  log->info("configuration applied: {} transaction(s)", list.size());
  scheduler_->Update(std::move(list));
}

void Agent::OnResult(RunOutput out) {
  runs_total_.fetch_add(1);
  std::string json = out.result.dump();
  if (Status st = outbox_->Put(out.run_id, json, out.artifacts); !st.ok()) {
    outbox_errors_.Inc();
    log::Get("robot")->error("result {} could not be written to the outbox: {}", out.run_id,
                             st.ToString());
    return;
  }
  uploader_->Wake();
}

}  // namespace pa::robot
