#include "core/config.h"

#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <functional>
#include <set>

#include "base/logging.h"
#include "base/strings.h"
#include "base/units.h"
#include "base/url.h"
#include "storage/stores.h"

extern char** environ;

namespace pa::core {
namespace {

using Setter = std::function<Status(Config&, std::string_view)>;
using Getter = std::function<std::string(const Config&)>;

struct KeySpec {
  std::string key;
  std::string help;
  Setter set;
  Getter get;
  bool secret = false;
  bool is_list = false;
};

std::string EnvName(const std::string& key) {
  std::string env = "PRIMOART_" + key;
  std::transform(env.begin(), env.end(), env.begin(),
                 [](unsigned char c) { return std::toupper(c); });
  return env;
}

Result<bool> ParseBool(std::string_view v) {
  if (v == "true" || v == "1" || v == "yes" || v == "on") return true;
  if (v == "false" || v == "0" || v == "no" || v == "off") return false;
  return InvalidArgumentError("'" + std::string(v) + "' is not a boolean (true or false)");
}

Result<int64_t> ParseInt(std::string_view v) {
  int64_t out = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || ptr != v.data() + v.size()) {
    return InvalidArgumentError("'" + std::string(v) + "' is not an integer");
  }
  return out;
}

Status ValidateListen(std::string_view v) {
  const size_t colon = v.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return InvalidArgumentError("'" + std::string(v) + "' is not host:port");
  }
  auto port = ParseInt(v.substr(colon + 1));
  if (!port.ok() || *port < 0 || *port > 65535) {
    return InvalidArgumentError("'" + std::string(v) + "' has no valid port (0..65535)");
  }
  return Status::Ok();
}

KeySpec Str(std::string key, std::string Config::*m, std::string help,
            std::function<Status(std::string_view)> validate = {}, bool secret = false) {
  return {std::move(key), std::move(help),
          [m, validate](Config& c, std::string_view v) -> Status {
            if (validate) PA_RETURN_IF_ERROR(validate(v));
            c.*m = std::string(v);
            return Status::Ok();
          },
          [m](const Config& c) { return c.*m; }, secret};
}

KeySpec Int(std::string key, int Config::*m, int64_t min, int64_t max, std::string help) {
  return {std::move(key), std::move(help),
          [m, min, max](Config& c, std::string_view v) -> Status {
            PA_ASSIGN_OR_RETURN(int64_t n, ParseInt(v));
            if (n < min || n > max) {
              return InvalidArgumentError(std::to_string(n) + " is out of range " +
                                          std::to_string(min) + ".." + std::to_string(max));
            }
            c.*m = static_cast<int>(n);
            return Status::Ok();
          },
          [m](const Config& c) { return std::to_string(c.*m); }};
}

KeySpec Int64(std::string key, int64_t Config::*m, int64_t min, int64_t max, std::string help) {
  return {std::move(key), std::move(help),
          [m, min, max](Config& c, std::string_view v) -> Status {
            PA_ASSIGN_OR_RETURN(int64_t n, ParseInt(v));
            if (n < min || n > max) {
              return InvalidArgumentError(std::to_string(n) + " is out of range " +
                                          std::to_string(min) + ".." + std::to_string(max));
            }
            c.*m = n;
            return Status::Ok();
          },
          [m](const Config& c) { return std::to_string(c.*m); }};
}

KeySpec Bool(std::string key, bool Config::*m, std::string help) {
  return {std::move(key), std::move(help),
          [m](Config& c, std::string_view v) -> Status {
            PA_ASSIGN_OR_RETURN(c.*m, ParseBool(v));
            return Status::Ok();
          },
          [m](const Config& c) { return std::string(c.*m ? "true" : "false"); }};
}

KeySpec Duration(std::string key, std::chrono::milliseconds Config::*m,
                 std::chrono::milliseconds min, std::string help) {
  return {std::move(key), std::move(help),
          [m, min](Config& c, std::string_view v) -> Status {
            PA_ASSIGN_OR_RETURN(auto d, ParseDuration(v));
            if (d < min) return InvalidArgumentError("must be at least " + FormatDuration(min));
            c.*m = d;
            return Status::Ok();
          },
          [m](const Config& c) { return FormatDuration(c.*m); }};
}

KeySpec Size(std::string key, int64_t Config::*m, int64_t min, std::string help) {
  return {std::move(key), std::move(help),
          [m, min](Config& c, std::string_view v) -> Status {
            PA_ASSIGN_OR_RETURN(int64_t n, ParseByteSize(v));
            if (n < min) return InvalidArgumentError("must be at least " + FormatByteSize(min));
            c.*m = n;
            return Status::Ok();
          },
          [m](const Config& c) { return FormatByteSize(c.*m); }};
}

KeySpec List(std::string key, std::vector<std::string> Config::*m, std::string help) {
  KeySpec spec{std::move(key), std::move(help),
               [m](Config& c, std::string_view v) -> Status {
                 c.*m = SplitList(v);
                 return Status::Ok();
               },
               [m](const Config& c) { return JoinList(c.*m); }};
  spec.is_list = true;
  return spec;
}

// THE table of configuration keys. docs/CONFIGURATION.md mirrors it.
const std::vector<KeySpec>& Keys() {
  using std::chrono::milliseconds;
  static const std::vector<KeySpec> kKeys = {
      Str("listen", &Config::listen, "Address of the HTTP server (gateway), host:port.",
          ValidateListen),
      Str("data_dir", &Config::data_dir, "Directory of the embedded stores and local state."),
      List("roles", &Config::roles,
           "Roles this process runs, comma-separated; 'all' runs every role. "
           "See `primoart serve --list-roles`."),
      Str("instance_id", &Config::instance_id,
          "Name of this process among the instances of a split deployment "
          "(default <hostname>:<port>)."),
      Str("database_url", &Config::database_url,
          "Relational store: sqlite://<path> (default sqlite://<data_dir>/primoart.db) or "
          "postgresql://user:pass@host:port/db.",
          [](std::string_view v) { return storage::ValidateDatabaseUrl(std::string(v)); }),
      Int("database_pool_size", &Config::database_pool_size, 1, 1024,
          "PostgreSQL connections (SQLite: reader connections)."),
      Str("artifacts_url", &Config::artifacts_url,
          "Artifact store: file://<dir> (default file://<data_dir>/artifacts) or "
          "s3://bucket[/prefix]?endpoint=http://host:port&region=...&path_style=true.",
          [](std::string_view v) { return storage::ValidateArtifactsUrl(std::string(v)); }),
      Str("s3_access_key", &Config::s3_access_key, "S3 access key id.", {}, true),
      Str("s3_secret_key", &Config::s3_secret_key, "S3 secret access key.", {}, true),
      Str("log_level", &Config::log_level, "trace, debug, info, warn, error or off.",
          [](std::string_view v) { return log::ParseLevel(v).status(); }),
      Str("log_format", &Config::log_format, "json or text.",
          [](std::string_view v) -> Status {
            if (v == "json" || v == "text") return Status::Ok();
            return InvalidArgumentError("'" + std::string(v) + "' is not json or text");
          }),
      Bool("log_access", &Config::log_access, "Write one JSON access-log line per request."),
      Int("http_threads", &Config::http_threads, 0, 1024,
          "HTTP worker threads; 0 = 2 x hardware threads (at least 4)."),
      Size("http_max_body", &Config::http_max_body, 1024,
           "Largest request body accepted, measured after gzip decompression (413 above)."),
      Duration("http_read_timeout", &Config::http_read_timeout, milliseconds(100),
               "Time allowed to receive a whole request (408 after)."),
      Duration("http_idle_timeout", &Config::http_idle_timeout, milliseconds(100),
               "Idle keep-alive connections are closed after this."),
      Duration("http_shutdown_grace", &Config::http_shutdown_grace, milliseconds(0),
               "On SIGTERM/SIGINT, how long in-flight requests may take to finish."),
      List("http_cors_origins", &Config::http_cors_origins,
           "Origins allowed to call the API from a browser, comma-separated; '*' for any. "
           "Empty: no CORS."),
      Bool("http_cors_credentials", &Config::http_cors_credentials,
           "Allow credentials (cookies) on cross-origin requests."),
      Str("metrics_url", &Config::metrics_url,
          "Metric store: embedded://<dir> (default embedded://<data_dir>/metrics), "
          "victoriametrics+http://host:8428, or a cluster: "
          "victoriametrics+http://vminsert:8480?select=http://vmselect:8481&tenant=0.",
          [](std::string_view v) { return storage::ValidateMetricsUrl(std::string(v)); }),
      Duration("metrics_retention", &Config::metrics_retention, milliseconds(3600000),
               "How long the embedded metric store keeps samples; older ones are refused."),
      Size("metrics_spool_max", &Config::metrics_spool_max, 1 << 20,
           "VictoriaMetrics: the most that is spooled on disk while it is unreachable; beyond "
           "it writes fail with a retryable error."),
      Int64("metrics_query_max_series", &Config::metrics_query_max_series, 1, int64_t{1} << 40,
            "Series one query may select (422 above)."),
      Int64("metrics_query_max_samples", &Config::metrics_query_max_samples, 1, int64_t{1} << 40,
            "Samples one query may hold in memory at once (422 above)."),
      Duration("metrics_query_timeout", &Config::metrics_query_timeout, milliseconds(100),
               "Longest a query may run (503 timeout after)."),
      Duration("core_heartbeat_interval", &Config::core_heartbeat_interval, milliseconds(100),
               "How often each instance records itself in the instance registry."),
      Bool("metrics_require_auth", &Config::metrics_require_auth,
           "Require a credential with read permission for GET /metrics."),
      Str("admin_password", &Config::admin_password,
          "Password of the `admin` user created on the first start with an empty database "
          "(at least 12 characters); when empty, one is generated and printed once to stderr.",
          {}, true),
      Duration("auth_session_ttl", &Config::auth_session_ttl, milliseconds(60000),
               "Absolute lifetime of a login session."),
      Duration("auth_session_idle", &Config::auth_session_idle, milliseconds(60000),
               "A session unused for this long expires."),
      Bool("auth_cookie_secure", &Config::auth_cookie_secure,
           "Mark the session cookie Secure (serve the console over HTTPS)."),
      Duration("auth_cache_ttl", &Config::auth_cache_ttl, milliseconds(0),
               "How long a verified credential is trusted without asking the database; other "
               "instances see a revocation within this time."),
      Int("auth_login_concurrency", &Config::auth_login_concurrency, 0, 256,
          "Password verifications (Argon2id, ~19 MiB each) allowed at once; 0 = hardware threads."),
      Str("secret_key", &Config::secret_key,
          "Key that encrypts transaction secrets at rest: 32 bytes as 64 hex characters or "
          "base64. Empty: a key file <data_dir>/secret.key, created on first use (back it up "
          "with the database).",
          {}, true),
      Size("synth_upload_max_bytes", &Config::synth_upload_max_bytes, 1024,
           "Largest result upload, measured after gzip decompression (413 above)."),
      Size("synth_artifact_max_bytes", &Config::synth_artifact_max_bytes, 1024,
           "Largest artifact (screenshot, HAR, log) in a result upload (413 above)."),
      Duration("synth_result_retention", &Config::synth_result_retention, milliseconds(3600000),
               "How long raw results and their artifacts are kept."),
      Duration("synth_robot_stale_after", &Config::synth_robot_stale_after, milliseconds(1000),
               "A robot without a heartbeat for this long is shown as stale."),
      Duration("synth_robot_offline_after", &Config::synth_robot_offline_after, milliseconds(1000),
               "A robot without a heartbeat for this long is offline."),
      Duration("synth_heartbeat_interval", &Config::synth_heartbeat_interval, milliseconds(1000),
               "How often robots are told to send a heartbeat and poll their configuration."),
  };
  return kKeys;
}

const KeySpec* FindKey(std::string_view key) {
  for (const auto& k : Keys()) {
    if (k.key == key) return &k;
  }
  return nullptr;
}

struct Loader {
  LoadedConfig out;

  Status Apply(const std::string& key, std::string_view value, ValueSource source,
               const std::string& shown_key) {
    const KeySpec* spec = FindKey(key);
    if (!spec) {
      return InvalidArgumentError(shown_key + " (" + source.where + "): unknown key");
    }
    Status st = spec->set(out.config, value);
    if (!st.ok())
      return InvalidArgumentError(shown_key + " (" + source.where + "): " + st.message());
    out.sources[key] = std::move(source);
    return Status::Ok();
  }

  // Walks a YAML map, joining nested keys with '_'.
  Status ApplyYaml(const YAML::Node& node, const std::string& flat, const std::string& dotted,
                   const std::string& file) {
    if (node.IsMap()) {
      for (const auto& item : node) {
        const std::string name = item.first.as<std::string>();
        PA_RETURN_IF_ERROR(ApplyYaml(item.second, flat.empty() ? name : flat + "_" + name,
                                     dotted.empty() ? name : dotted + "." + name, file));
      }
      return Status::Ok();
    }
    const std::string where = file + ":" + std::to_string(node.Mark().line + 1);
    const KeySpec* spec = FindKey(flat);
    if (!spec) return InvalidArgumentError(dotted + " (" + where + "): unknown key");
    std::string value;
    if (node.IsSequence()) {
      if (!spec->is_list) {
        return InvalidArgumentError(dotted + " (" + where +
                                    "): expected a single value, not a list");
      }
      std::vector<std::string> items;
      for (const auto& item : node) {
        if (!item.IsScalar()) {
          return InvalidArgumentError(dotted + " (" + where + "): list items must be scalars");
        }
        items.push_back(item.Scalar());
      }
      value = JoinList(items);
    } else if (node.IsScalar()) {
      value = node.Scalar();
    } else if (!node.IsNull()) {
      return InvalidArgumentError(dotted + " (" + where + "): unsupported value");
    }
    return Apply(flat, value, {"file", where + " (" + dotted + ")"}, dotted);
  }

  Status LoadFile(const std::string& path) {
    YAML::Node root;
    try {
      root = YAML::LoadFile(path);
    } catch (const YAML::BadFile&) {
      return InvalidArgumentError("config file " + path + ": cannot be read");
    } catch (const YAML::Exception& e) {
      return InvalidArgumentError("config file " + path + ":" + std::to_string(e.mark.line + 1) +
                                  ": " + e.msg);
    }
    if (root.IsNull()) return Status::Ok();  // an empty file
    if (!root.IsMap()) {
      return InvalidArgumentError("config file " + path + ": the top level must be a mapping");
    }
    try {
      return ApplyYaml(root, "", "", path);
    } catch (const YAML::Exception& e) {
      return InvalidArgumentError("config file " + path + ": " + e.msg);
    }
  }
};

std::string HostName() {
  char buf[256] = {0};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "localhost";
  return buf;
}

std::string MaskUrl(const std::string& text) {
  auto url = ParseUrl(text);
  if (!url.ok()) return text;
  return url->Masked();
}

}  // namespace

Result<LoadedConfig> LoadConfig(const ConfigInputs& inputs) {
  Loader loader;
  for (const auto& k : Keys()) loader.out.sources[k.key] = {"default", ""};
  if (inputs.file) PA_RETURN_IF_ERROR(loader.LoadFile(*inputs.file));
  for (const auto& k : Keys()) {
    const std::string env = EnvName(k.key);
    auto it = inputs.env.find(env);
    if (it != inputs.env.end()) {
      PA_RETURN_IF_ERROR(loader.Apply(k.key, it->second, {"env", env}, env));
    }
  }
  for (const auto& [key, value] : inputs.overrides) {
    PA_RETURN_IF_ERROR(loader.Apply(key, value, {"flag", "--" + key}, key));
  }

  Config& c = loader.out.config;
  if (c.data_dir.empty()) return InvalidArgumentError("data_dir: must not be empty");
  if (c.roles.empty()) return InvalidArgumentError("roles: must name at least one role");
  auto derive = [&](const std::string& key, std::string& field, std::string value) {
    if (loader.out.sources[key].kind != "default" && !field.empty()) return;
    field = std::move(value);
    loader.out.sources[key] = {"derived", "from data_dir"};
  };
  std::string dir = c.data_dir;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  derive("database_url", c.database_url, "sqlite://" + dir + "/primoart.db");
  derive("artifacts_url", c.artifacts_url, "file://" + dir + "/artifacts");
  derive("metrics_url", c.metrics_url, "embedded://" + dir + "/metrics");
  if (c.instance_id.empty()) {
    c.instance_id = HostName() + ":" + c.listen.substr(c.listen.rfind(':') + 1);
    loader.out.sources["instance_id"] = {"derived", "from hostname and listen"};
  }
  return std::move(loader.out);
}

std::map<std::string, std::string> PrimoartEnvironment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view entry(*e);
    if (!entry.starts_with("PRIMOART_")) continue;
    const size_t eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    env.emplace(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
  }
  return env;
}

std::vector<std::string> UnknownEnvironmentVariables(
    const std::map<std::string, std::string>& env) {
  // Variables read by other parts of PrimoART, not configuration keys of the server.
  static const std::set<std::string> kOther = {"PRIMOART_CONFIG"};
  std::vector<std::string> unknown;
  for (const auto& [name, value] : env) {
    if (kOther.count(name) || name.starts_with("PRIMOART_TEST_") ||
        name.starts_with("PRIMOART_ROBOT_") || name.starts_with("PRIMOART_BENCH_")) {
      continue;
    }
    bool known = false;
    for (const auto& k : Keys()) known = known || EnvName(k.key) == name;
    if (!known) unknown.push_back(name);
  }
  return unknown;
}

std::string PrintConfig(const LoadedConfig& loaded) {
  std::string out = "# PrimoART effective configuration (secrets masked)\n";
  for (const auto& k : Keys()) {
    std::string value = k.get(loaded.config);
    if (k.secret && !value.empty()) value = "****";
    if (k.key.ends_with("_url")) value = MaskUrl(value);
    out += k.key + ": " + YAML::Dump(YAML::Node(value));
    const auto it = loaded.sources.find(k.key);
    if (it != loaded.sources.end()) {
      out += "  # " + it->second.kind;
      if (!it->second.where.empty()) out += ": " + it->second.where;
    }
    out += "\n";
  }
  return out;
}

std::vector<KeyDoc> DescribeKeys() {
  Config defaults;
  std::vector<KeyDoc> docs;
  for (const auto& k : Keys()) {
    docs.push_back({k.key, EnvName(k.key), k.get(defaults), k.help, k.secret});
  }
  return docs;
}

}  // namespace pa::core
