#include "gateway/request_stats.h"

#include <charconv>
#include <ctime>

#include "base/json.h"

namespace pa::gateway {
namespace {

// Statuses with a cached counter; anything else takes the (locked) family lookup.
constexpr int kCommonStatuses[] = {200, 201, 202, 204, 206, 301, 302, 304, 307, 308,
                                   400, 401, 403, 404, 405, 408, 409, 410, 413, 415,
                                   422, 429, 431, 500, 501, 502, 503, 504};
constexpr size_t kStatusSlots = std::size(kCommonStatuses);

struct StatusIndex {
  std::array<uint8_t, 600> index{};  // status → 1 + slot, 0 = not cached
  constexpr StatusIndex() {
    for (size_t i = 0; i < kStatusSlots; ++i)
      index[kCommonStatuses[i]] = static_cast<uint8_t>(i + 1);
  }
};
constexpr StatusIndex kStatusIndex;

template <typename T, typename Make>
T& Resolve(std::atomic<T*>& cache, Make&& make) {
  T* p = cache.load(std::memory_order_acquire);
  if (p == nullptr) {
    p = &make();  // With() is idempotent, so a race only resolves the same child twice
    cache.store(p, std::memory_order_release);
  }
  return *p;
}

// Access-log values are nearly always plain ASCII (ids, paths, routes, user agents): those are
// copied in one piece; anything that needs escaping goes through AppendJsonString.
void AppendJson(std::string& out, std::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7F || c == '"' || c == '\\') return AppendJsonString(out, s);
  }
  out += '"';
  out.append(s);
  out += '"';
}

void AppendInt(std::string& out, int64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, end);
}

}  // namespace

struct RequestStats::Slot {
  std::string route;
  std::string method;
  std::array<std::atomic<telemetry::Counter*>, kStatusSlots> by_status{};
  std::atomic<telemetry::Histogram*> duration{nullptr};
  std::atomic<telemetry::Counter*> body_in{nullptr};
  std::atomic<telemetry::Counter*> body_out{nullptr};
};

struct RequestStats::RouteSlots {
  std::array<std::atomic<Slot*>, 8> by_method{};  // by Method, [7] for unknown methods
  std::unique_ptr<Slot> own;                      // the route's own method, made by Prepare()
};

RequestStats::RequestStats(telemetry::Registry& registry)
    : requests_(registry.AddCounter("primoart_http_requests_total", "HTTP requests served.",
                                    {"route", "method", "status"})),
      duration_(registry.AddHistogram("primoart_http_request_duration_seconds",
                                      "Time from the first byte of a request to its last response "
                                      "byte.",
                                      {"route", "method"})),
      body_in_(registry.AddCounter("primoart_http_request_body_bytes_total",
                                   "Request body bytes received (before decompression).",
                                   {"route"})),
      body_out_(registry.AddCounter("primoart_http_response_body_bytes_total",
                                    "Response body bytes sent.", {"route"})),
      in_flight_(registry
                     .AddGauge("primoart_http_requests_in_flight",
                               "HTTP requests being read, handled or answered.")
                     .With({})),
      connections_(
          registry.AddGauge("primoart_http_connections_open", "Open HTTP connections.").With({})) {
  for (size_t m = 0; m < 7; ++m) {
    unmatched_[m] = MakeSlot("unmatched", MethodName(static_cast<Method>(m)));
  }
  unmatched_[7] = MakeSlot("unmatched", "OTHER");
}

RequestStats::~RequestStats() = default;

std::unique_ptr<RequestStats::Slot> RequestStats::MakeSlot(std::string route,
                                                           std::string_view method) {
  auto slot = std::make_unique<Slot>();
  slot->route = std::move(route);
  slot->method = std::string(method);
  return slot;
}

void RequestStats::Prepare(const Router& router) {
  for (const auto& route : router.routes()) {
    auto slots = std::make_unique<RouteSlots>();
    slots->own = MakeSlot(route->pattern, MethodName(route->method));
    slots->by_method[static_cast<size_t>(route->method)] = slots->own.get();
    routes_[route.get()] = std::move(slots);
  }
}

RequestStats::Slot& RequestStats::For(const Route* route, Method method, bool known) {
  const size_t index = known ? static_cast<size_t>(method) : 7;
  if (route != nullptr) {
    auto it = routes_.find(route);
    if (it != routes_.end()) {
      auto& cached = it->second->by_method[index];
      if (Slot* slot = cached.load(std::memory_order_acquire)) return *slot;
      std::lock_guard lock(mu_);
      if (Slot* slot = cached.load(std::memory_order_acquire)) return *slot;
      lazy_slots_.push_back(MakeSlot(route->pattern, known ? MethodName(method) : "OTHER"));
      cached.store(lazy_slots_.back().get(), std::memory_order_release);
      return *lazy_slots_.back();
    }
  }
  return *unmatched_[index];
}

void RequestStats::Record(Slot& slot, int status, std::chrono::steady_clock::duration duration,
                          int64_t body_bytes_in, int64_t body_bytes_out) {
  const size_t index = status >= 0 && status < 600 ? kStatusIndex.index[status] : 0;
  if (index != 0) {
    Resolve(slot.by_status[index - 1], [&]() -> telemetry::Counter& {
      return requests_.With({slot.route, slot.method, std::to_string(status)});
    }).Inc();
  } else {
    requests_.With({slot.route, slot.method, std::to_string(status)}).Inc();
  }
  Resolve(slot.duration, [&]() -> telemetry::Histogram& {
    return duration_.With({slot.route, slot.method});
  }).Observe(std::chrono::duration<double>(duration).count());
  if (body_bytes_in > 0) {
    Resolve(slot.body_in, [&]() -> telemetry::Counter& {
      return body_in_.With({slot.route});
    }).Inc(static_cast<double>(body_bytes_in));
  }
  if (body_bytes_out > 0) {
    Resolve(slot.body_out, [&]() -> telemetry::Counter& {
      return body_out_.With({slot.route});
    }).Inc(static_cast<double>(body_bytes_out));
  }
}

void AppendIsoTimestamp(std::string& out, std::chrono::system_clock::time_point t) {
  thread_local int64_t cached_second = -1;
  thread_local char cached[24];  // "YYYY-MM-DDTHH:MM:SS"
  const auto since = t.time_since_epoch();
  const int64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(since).count();
  const int64_t second = ms / 1000;
  if (second != cached_second) {
    const std::time_t tt = static_cast<std::time_t>(second);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    std::strftime(cached, sizeof(cached), "%Y-%m-%dT%H:%M:%S", &tm);
    cached_second = second;
  }
  out.append(cached, 19);
  const int frac = static_cast<int>(ms % 1000);
  const char tail[] = {'.', static_cast<char>('0' + frac / 100),
                       static_cast<char>('0' + frac / 10 % 10), static_cast<char>('0' + frac % 10),
                       'Z'};
  out.append(tail, sizeof(tail));
}

void AppendAccessLine(std::string& out, const AccessRecord& r) {
  out.reserve(out.size() + 256 + r.path.size() + r.user_agent.size());
  out += "{\"ts\":\"";
  AppendIsoTimestamp(out, r.start);
  out += "\",\"request_id\":";
  AppendJson(out, r.request_id);
  out += ",\"remote\":";
  AppendJson(out, r.remote);
  out += ",\"method\":";
  AppendJson(out, r.method);
  out += ",\"path\":";
  AppendJson(out, r.path);
  out += ",\"route\":";
  AppendJson(out, r.route);
  out += ",\"status\":";
  AppendInt(out, r.status);
  // Milliseconds with microsecond precision, without going through floating-point formatting.
  const int64_t us = std::chrono::duration_cast<std::chrono::microseconds>(r.duration).count();
  out += ",\"duration_ms\":";
  AppendInt(out, us / 1000);
  const int64_t frac = us % 1000;
  const char digits[] = {'.', static_cast<char>('0' + frac / 100),
                         static_cast<char>('0' + frac / 10 % 10),
                         static_cast<char>('0' + frac % 10)};
  out.append(digits, sizeof(digits));
  out += ",\"bytes_in\":";
  AppendInt(out, r.bytes_in);
  out += ",\"bytes_out\":";
  AppendInt(out, r.bytes_out);
  out += ",\"user_agent\":";
  AppendJson(out, r.user_agent);
  if (!r.principal.empty()) {
    out += ",\"principal\":";
    AppendJson(out, r.principal);
  }
  out += '}';
}

}  // namespace pa::gateway
