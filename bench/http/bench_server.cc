// A stand-alone server on the gateway for bench/http/run while the primoart binary cannot serve
// yet: GET /healthz answers "ok", with metrics and the access log (JSON lines on stderr) on, as in
// the real server.
//
//   bench_server 127.0.0.1:8080 [threads]
//
// Stops on SIGINT or SIGTERM with a graceful shutdown.
#include <csignal>
#include <cstdio>
#include <string>

#include "base/logging.h"
#include "base/metrics.h"
#include "gateway/server.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s host:port [threads]\n", argv[0]);
    return 2;
  }
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // inherited by the server's threads

  const pa::Status logging = pa::log::Init({.level = "warn", .format = "json", .access_log = true});
  if (!logging.ok()) return 1;
  pa::metrics::Registry registry;
  pa::gateway::Router router;
  const pa::Status added =
      router.Add(pa::gateway::Method::kGet, "/healthz", pa::gateway::Access::Public(),
                 [](pa::gateway::Request&) { return pa::gateway::Response::Text(200, "ok"); });
  if (!added.ok()) return 1;
  pa::gateway::ServerOptions options;
  options.listen = argv[1];
  if (argc > 2) options.threads = std::stoi(argv[2]);
  pa::gateway::HttpServer server(options, router, registry, nullptr);
  const pa::Status started = server.Start();
  if (!started.ok()) {
    std::fprintf(stderr, "%s\n", started.ToString().c_str());
    return 1;
  }
  int signal = 0;
  sigwait(&signals, &signal);
  server.Shutdown();
  pa::log::Flush();
  return 0;
}
