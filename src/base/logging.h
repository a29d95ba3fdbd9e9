// Logging: spdlog loggers named after components, in JSON (default) or text format, and the
// asynchronous access log.
//
//   pa::log::Init({.level = "info", .format = "json"});
//   auto log = pa::log::Get("gateway");
//   log->info("listening on {}", address);
//   pa::log::Access(line);  // a complete JSON object, one per request
//
// JSON lines look like {"ts":"2026-11-28T10:00:00.123Z","level":"info","component":"gateway",
// "msg":"listening on 127.0.0.1:8080"}. Everything goes to stderr; the access log is written by a
// background thread so request threads never wait on the terminal or the disk.
//
// Thread-safety: all functions may be called from any thread after Init().
#pragma once

#include <spdlog/spdlog.h>

#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"

namespace pa::log {

struct Options {
  std::string level = "info";   // trace|debug|info|warn|error|off
  std::string format = "json";  // json|text
  bool access_log = true;
};

// Validates and applies the options. May be called again to change them.
Status Init(const Options& options);

// Parses a level name; InvalidArgument names the allowed values.
Result<spdlog::level::level_enum> ParseLevel(std::string_view name);

// The logger for a component, created on first use with the current options.
std::shared_ptr<spdlog::logger> Get(const std::string& component);

// Whether access logging is enabled.
bool AccessEnabled();

// Writes one access-log line (a JSON object without the trailing newline).
void Access(std::string_view json_line);

// Flushes every logger; called at shutdown.
void Flush();

}  // namespace pa::log
