// What the server records per request: Prometheus metrics (children resolved once per route and
// cached, so the hot path does no label lookups or locking) and the access-log line.
//
//   primoart_http_requests_total{route,method,status}      counter
//   primoart_http_request_duration_seconds{route,method}   histogram
//   primoart_http_requests_in_flight                       gauge
//   primoart_http_connections_open                         gauge
//   primoart_http_request_body_bytes_total{route}          counter (bytes on the wire)
//   primoart_http_response_body_bytes_total{route}         counter
//
// `route` is the matched pattern or "unmatched" — never the raw path, which would let clients
// create unbounded series. Unknown methods are labelled "OTHER".
//
// Internal to the gateway. Thread-safety: Prepare() before serving; everything else from any
// thread.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/telemetry.h"
#include "gateway/router.h"

namespace pa::gateway {

class RequestStats {
 public:
  // The metric children of one (route, method) pair.
  struct Slot;

  // Registers the families in `registry` (once per registry).
  explicit RequestStats(telemetry::Registry& registry);
  ~RequestStats();

  // Builds the per-route cache for every route of `router`.
  void Prepare(const Router& router);

  // The slot for a route and method (HEAD on a GET route, OPTIONS for a preflight) or, with a null
  // route, the "unmatched" slot of that method; `known` is false for methods outside Method.
  Slot& For(const Route* route, Method method, bool known);

  void Record(Slot& slot, int status, std::chrono::steady_clock::duration duration,
              int64_t body_bytes_in, int64_t body_bytes_out);

  telemetry::Gauge& in_flight() { return in_flight_; }
  telemetry::Gauge& connections() { return connections_; }

 private:
  struct RouteSlots;
  std::unique_ptr<Slot> MakeSlot(std::string route, std::string_view method);

  telemetry::Family<telemetry::Counter>& requests_;
  telemetry::Family<telemetry::Histogram>& duration_;
  telemetry::Family<telemetry::Counter>& body_in_;
  telemetry::Family<telemetry::Counter>& body_out_;
  telemetry::Gauge& in_flight_;
  telemetry::Gauge& connections_;
  // Built by Prepare() and read-only afterwards; slots for a route's other methods are created on
  // first use under `mu_`.
  std::unordered_map<const Route*, std::unique_ptr<RouteSlots>> routes_;
  std::array<std::unique_ptr<Slot>, 8> unmatched_;  // by Method, [7] for unknown methods
  std::mutex mu_;
  std::vector<std::unique_ptr<Slot>> lazy_slots_;
};

// One access-log line: a JSON object built with AppendJsonString, no allocation beyond `out`.
struct AccessRecord {
  std::chrono::system_clock::time_point start;
  std::string_view request_id;
  std::string_view remote;
  std::string_view method;
  std::string_view path;  // raw path as received, without the query string
  std::string_view route;
  int status = 0;
  std::chrono::steady_clock::duration duration{};
  int64_t bytes_in = 0;
  int64_t bytes_out = 0;
  std::string_view user_agent;
  std::string_view principal;  // name; empty when not authenticated
};
void AppendAccessLine(std::string& out, const AccessRecord& r);

// "2026-11-28T10:00:00.123Z"; the date part is cached per thread for the current second.
void AppendIsoTimestamp(std::string& out, std::chrono::system_clock::time_point t);

}  // namespace pa::gateway
