#include "base/logging.h"

#include <spdlog/async.h>
#include <spdlog/details/log_msg.h>
#include <spdlog/formatter.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <atomic>
#include <ctime>
#include <mutex>

#include "base/json.h"

namespace pa::log {
namespace {

std::mutex g_mu;
Options g_options;
std::atomic<bool> g_access_enabled{true};
// Two sinks on the same stream: spdlog formatters belong to sinks, and the access log's raw lines
// must not take the components' JSON envelope. stdio serialises the writes of both.
std::shared_ptr<spdlog::sinks::stderr_sink_mt> g_sink;
std::shared_ptr<spdlog::sinks::stderr_sink_mt> g_access_sink;
std::shared_ptr<spdlog::async_logger> g_access;

void AppendTimestamp(std::string& out, spdlog::log_clock::time_point tp) {
  const auto since = tp.time_since_epoch();
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(since);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(since - secs).count();
  const std::time_t t = secs.count();
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  const size_t n = std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  out.append(buf, n);
  char frac[8];
  std::snprintf(frac, sizeof(frac), ".%03dZ", static_cast<int>(ms));
  out += frac;
}

// {"ts":...,"level":...,"component":...,"msg":...}
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string line;
    line.reserve(96 + msg.payload.size());
    line += "{\"ts\":\"";
    AppendTimestamp(line, msg.time);
    line += "\",\"level\":\"";
    const auto level = spdlog::level::to_string_view(msg.level);
    line.append(level.data(), level.size());
    line += "\",\"component\":";
    AppendJsonString(line, std::string_view(msg.logger_name.data(), msg.logger_name.size()));
    line += ",\"msg\":";
    AppendJsonString(line, std::string_view(msg.payload.data(), msg.payload.size()));
    line += "}\n";
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

// The access log's lines are already JSON objects; they are written as they are.
class RawFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    dest.append(msg.payload.data(), msg.payload.data() + msg.payload.size());
    dest.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<RawFormatter>();
  }
};

void ApplyFormat(spdlog::logger& logger) {
  if (g_options.format == "text") {
    logger.set_formatter(std::make_unique<spdlog::pattern_formatter>(
        "%Y-%m-%dT%H:%M:%S.%eZ %-5l [%n] %v", spdlog::pattern_time_type::utc));
  } else {
    logger.set_formatter(std::make_unique<JsonFormatter>());
  }
}

void EnsureSinkLocked() {
  if (g_sink) return;
  g_sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  g_sink->set_formatter(std::make_unique<JsonFormatter>());
  spdlog::init_thread_pool(16384, 1);
  g_access_sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  g_access = std::make_shared<spdlog::async_logger>("access", g_access_sink, spdlog::thread_pool(),
                                                    spdlog::async_overflow_policy::block);
  g_access->set_formatter(std::make_unique<RawFormatter>());
  g_access->set_level(spdlog::level::info);
}

}  // namespace

Result<spdlog::level::level_enum> ParseLevel(std::string_view name) {
  static constexpr std::pair<std::string_view, spdlog::level::level_enum> kLevels[] = {
      {"trace", spdlog::level::trace}, {"debug", spdlog::level::debug},
      {"info", spdlog::level::info},   {"warn", spdlog::level::warn},
      {"error", spdlog::level::err},   {"off", spdlog::level::off}};
  for (const auto& [n, level] : kLevels) {
    if (n == name) return level;
  }
  return InvalidArgumentError("unknown log level '" + std::string(name) +
                              "' (expected trace, debug, info, warn, error or off)");
}

Status Init(const Options& options) {
  PA_ASSIGN_OR_RETURN(auto level, ParseLevel(options.level));
  if (options.format != "json" && options.format != "text") {
    return InvalidArgumentError("unknown log format '" + options.format +
                                "' (expected json or text)");
  }
  std::lock_guard lock(g_mu);
  g_options = options;
  EnsureSinkLocked();
  g_access_enabled = options.access_log;
  spdlog::set_level(level);
  spdlog::apply_all([](const std::shared_ptr<spdlog::logger>& l) {
    if (l->name() == "access") return;
    ApplyFormat(*l);
  });
  return Status::Ok();
}

std::shared_ptr<spdlog::logger> Get(const std::string& component) {
  if (auto existing = spdlog::get(component)) return existing;
  std::lock_guard lock(g_mu);
  if (auto existing = spdlog::get(component)) return existing;
  EnsureSinkLocked();
  auto logger = std::make_shared<spdlog::logger>(component, g_sink);
  ApplyFormat(*logger);
  logger->set_level(ParseLevel(g_options.level).value_or(spdlog::level::info));
  logger->flush_on(spdlog::level::warn);
  spdlog::register_logger(logger);
  return logger;
}

bool AccessEnabled() { return g_access_enabled.load(std::memory_order_relaxed); }

void Access(std::string_view json_line) {
  if (!AccessEnabled()) return;
  if (!g_access) {
    std::lock_guard lock(g_mu);
    EnsureSinkLocked();
  }
  g_access->info(json_line);
}

void Flush() {
  spdlog::apply_all([](const std::shared_ptr<spdlog::logger>& l) { l->flush(); });
}

}  // namespace pa::log
