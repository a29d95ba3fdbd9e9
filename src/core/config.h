// Config: PrimoART's effective configuration, and how it is assembled.
//
// Every setting has one key (snake_case, e.g. `database_url`). It can be given, in rising
// precedence, by:
//   1. its default;
//   2. the YAML file (`--config FILE` or PRIMOART_CONFIG): either flat (`database_url: ...`) or
//      nested — nested maps are joined with '_', so `http: {max_body: 16MiB}` is `http_max_body`;
//   3. the environment: PRIMOART_ + the key in upper case (PRIMOART_HTTP_MAX_BODY);
//   4. command-line flags: `--set key=value` for any key, and named flags for the common ones
//      (--listen, --data-dir, --roles, --database-url, --artifacts-url, --log-level, --log-format).
// An unknown key in the file or a bad value anywhere is an error that names the key, where it
// came from and what is wrong; `primoart` exits with code 2 on it. docs/CONFIGURATION.md lists
// every key; `primoart config print` shows the effective values with secrets masked.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace pa::core {

struct Config {
  // Server
  std::string listen = "127.0.0.1:8080";
  std::string data_dir = "./data";
  std::vector<std::string> roles = {"all"};
  std::string instance_id;  // default: <hostname>:<port>

  // Stores
  std::string database_url;  // default: sqlite://<data_dir>/primoart.db
  int database_pool_size = 8;
  std::string artifacts_url;  // default: file://<data_dir>/artifacts
  std::string s3_access_key;
  std::string s3_secret_key;

  // Logging
  std::string log_level = "info";
  std::string log_format = "json";
  bool log_access = true;

  // HTTP server (gateway)
  int http_threads = 0;
  int64_t http_max_body = 16 << 20;
  std::chrono::milliseconds http_read_timeout{30000};
  std::chrono::milliseconds http_idle_timeout{60000};
  std::chrono::milliseconds http_shutdown_grace{30000};
  std::vector<std::string> http_cors_origins;
  bool http_cors_credentials = false;

  // Metric store
  std::string metrics_url;  // default: embedded://<data_dir>/metrics
  std::chrono::milliseconds metrics_retention{30LL * 24 * 3600 * 1000};
  int64_t metrics_spool_max = int64_t{1} << 30;
  int64_t metrics_query_max_series = 100000;
  int64_t metrics_query_max_samples = 50000000;
  std::chrono::milliseconds metrics_query_timeout{120000};

  // Core role
  std::chrono::milliseconds core_heartbeat_interval{10000};
  bool metrics_require_auth = false;

  // Auth
  std::string admin_password;  // the first admin's password; generated and printed when empty
  std::chrono::milliseconds auth_session_ttl{12 * 3600 * 1000};
  std::chrono::milliseconds auth_session_idle{3600 * 1000};
  bool auth_cookie_secure = false;
  std::chrono::milliseconds auth_cache_ttl{5000};
  int auth_login_concurrency = 0;

  // Synth (transactions, robots, results)
  std::string secret_key;  // hex or base64 of 32 bytes; default: <data_dir>/secret.key, created
  int64_t synth_upload_max_bytes = 16 << 20;
  int64_t synth_artifact_max_bytes = 10 << 20;
  std::chrono::milliseconds synth_result_retention{90LL * 24 * 3600 * 1000};
  std::chrono::milliseconds synth_robot_stale_after{90 * 1000};
  std::chrono::milliseconds synth_robot_offline_after{5 * 60 * 1000};
  std::chrono::milliseconds synth_heartbeat_interval{30 * 1000};
};

// Where a value came from, for messages and `config print`.
struct ValueSource {
  std::string kind;   // "default", "file", "env", "flag", "derived"
  std::string where;  // "primoart.yaml:12 (http.max_body)", "PRIMOART_LISTEN", "--listen"
};

struct LoadedConfig {
  Config config;
  std::map<std::string, ValueSource> sources;  // by key
};

struct ConfigInputs {
  std::optional<std::string> file;                             // YAML path
  std::map<std::string, std::string> env;                      // usually the process environment
  std::vector<std::pair<std::string, std::string>> overrides;  // flags: (key, value), in order
};

// Builds the configuration from the inputs; InvalidArgument names the key and its source.
Result<LoadedConfig> LoadConfig(const ConfigInputs& inputs);

// The process environment as a map (only PRIMOART_* variables).
std::map<std::string, std::string> PrimoartEnvironment();

// Environment variables that start with PRIMOART_ but name no key (to warn about typos).
std::vector<std::string> UnknownEnvironmentVariables(const std::map<std::string, std::string>& env);

// The effective configuration as YAML, one flat key per line with its source as a comment;
// secrets (and URL passwords) are masked.
std::string PrintConfig(const LoadedConfig& loaded);

// Every key with its environment variable, default and help text, for docs and --help.
struct KeyDoc {
  std::string key, env, default_value, help;
  bool secret;
};
std::vector<KeyDoc> DescribeKeys();

}  // namespace pa::core
