// primoart-robot: the synthetic-monitoring robot.
//
//   primoart-robot --server URL --token T [--location L] [--labels k=v,..] [--data DIR]
//                  [--concurrency N] [--metrics-listen host:port] [--config robot.yaml]
//   primoart-robot run --file transaction.json [--json] [--browser-visible]
//
// Settings come from the flags, else from PRIMOART_ROBOT_<NAME> environment variables
// (PRIMOART_ROBOT_SERVER, ..._TOKEN, ..._LOCATION, ..._LABELS, ..._DATA, ..._CONCURRENCY,
// ..._METRICS_LISTEN, ..._NAME, ..._OUTBOX_MAX_BYTES, ..._OUTBOX_MAX_AGE, ..._CONFIG_POLL), else
// from the YAML (or JSON) file of --config / PRIMOART_ROBOT_CONFIG with the same names in
// lower case (server, token, labels as a map, ...). Exit codes: 0 ok (run: the transaction
// succeeded), 1 the transaction failed, 2 bad usage or configuration.
#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "base/logging.h"
#include "base/random.h"
#include "base/strings.h"
#include "base/units.h"
#include "robot/agent/agent.h"
#include "robot/agent/browser_glue.h"
#include "robot/agent/run_report.h"
#include "synth/definition.h"

namespace {

using pa::Json;

// One setting: flag value, else env, else file, else default.
struct Settings {
  Json file = Json::object();
  std::string Get(const std::string& flag_value, const std::string& name,
                  const std::string& fallback = "") const {
    if (!flag_value.empty()) return flag_value;
    std::string env_name = "PRIMOART_ROBOT_" + name;
    for (char& c : env_name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (const char* v = std::getenv(env_name.c_str()); v && *v) return v;
    const std::string key = pa::AsciiLower(name);
    if (auto it = file.find(key); it != file.end() && !it->is_null()) {
      if (it->is_string()) return it->get<std::string>();
      if (it->is_object()) {  // labels: {k: v}
        std::vector<std::string> pairs;
        for (const auto& [k, v] : it->items()) {
          pairs.push_back(k + "=" + (v.is_string() ? v.get<std::string>() : v.dump()));
        }
        return pa::JoinList(pairs);
      }
      return it->dump();
    }
    return fallback;
  }
};

int Fail(const std::string& message) {
  std::cerr << "primoart-robot: " << message << "\n";
  return 2;
}

std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop = true; }

int RunFile(const std::string& file, bool json, bool visible, const std::string& artifacts_dir) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Fail("cannot read " + file);
  std::stringstream text;
  text << in.rdbuf();
  auto doc = pa::synth::ParseDocument(text.str(), "");
  if (!doc.ok()) return Fail(file + ": " + doc.status().message());
  pa::synth::FieldErrors errors;
  auto def = pa::synth::ParseDefinition(*doc, &errors);
  if (!def) {
    std::cerr << "primoart-robot: " << file << " is not a valid transaction definition:\n";
    for (const auto& e : errors) {
      std::cerr << "  " << (e.path.empty() ? "(document)" : e.path) << ": " << e.message << "\n";
    }
    return 2;
  }
  auto browser = pa::robot::MakeBrowserStepFn({.visible = visible});
  pa::robot::TransactionRunner runner(browser.ok() ? *browser : nullptr);
  pa::robot::RunInput input;
  input.def = &*def;
  input.robot_id = "local";
  input.run_id = pa::NewId(std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count());
  if (!browser.ok()) {
    for (const auto& s : def->steps) {
      if (std::holds_alternative<pa::synth::BrowserStep>(s.kind)) {
        std::cerr << "primoart-robot: browser steps need Chromium: " << browser.status().message()
                  << "\n";
        break;
      }
    }
  }
  pa::robot::RunOutput out = runner.Run(input, &g_stop);
  // Screenshots beside the result, under the names its steps give.
  for (const auto& a : out.artifacts) {
    const auto path = std::filesystem::path(artifacts_dir) / a.filename;
    std::ofstream(path, std::ios::binary) << a.data;
  }
  if (json) {
    std::cout << out.result.dump(2) << "\n";
  } else {
    std::cout << pa::robot::RunReport(out.result, artifacts_dir);
  }
  return out.success ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"primoart-robot — runs synthetic transactions for PrimoART"};
  app.set_version_flag("--version", std::string("primoart-robot ") + PA_VERSION);
  std::string server, token, location, labels, data, metrics_listen, name, config_file, log_level,
      outbox_max_bytes, outbox_max_age, config_poll, concurrency;
  bool insecure = false;
  app.add_option("--server", server, "PrimoART gateway URL (PRIMOART_ROBOT_SERVER)");
  app.add_option("--token", token, "a robot token (PRIMOART_ROBOT_TOKEN)");
  app.add_option("--location", location, "this robot's location (PRIMOART_ROBOT_LOCATION)");
  app.add_option("--labels", labels, "k=v,.. labels for transaction selectors");
  app.add_option("--data", data, "data directory: outbox, dead-letter (default ./robot-data)");
  app.add_option("--concurrency", concurrency, "transactions at once (default 4)");
  app.add_option("--metrics-listen", metrics_listen, "host:port for the robot's /metrics");
  app.add_option("--name", name, "the name shown in the console (default: host name)");
  app.add_option("--config", config_file, "YAML/JSON file with these settings");
  app.add_option("--outbox-max-bytes", outbox_max_bytes, "outbox bound (default 512MiB)");
  app.add_option("--outbox-max-age", outbox_max_age, "outbox bound (default 7d)");
  app.add_option("--config-poll", config_poll, "configuration poll interval (default 10s)");
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error (default info)");
  app.add_flag("--insecure", insecure, "do not verify the server's TLS certificate");

  auto* run = app.add_subcommand("run", "Run one definition locally and print its result");
  std::string file, artifacts_dir = ".";
  bool json = false, visible = false;
  run->add_option("--file", file, "the transaction definition (JSON or YAML)")->required();
  run->add_flag("--json", json, "print only the TransactionResultBaseModel JSON");
  run->add_flag("--browser-visible", visible, "show the browser window");
  run->add_option("--artifacts-dir", artifacts_dir, "where screenshots are written (default .)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }

  Settings s;
  const std::string file_path = s.Get(config_file, "config");
  if (!file_path.empty()) {
    std::ifstream in(file_path, std::ios::binary);
    if (!in) return Fail("cannot read the configuration file " + file_path);
    std::stringstream text;
    text << in.rdbuf();
    auto doc = pa::synth::ParseDocument(text.str(), "");
    if (!doc.ok() || !doc->is_object()) {
      return Fail(file_path + ": " + (doc.ok() ? "not a mapping" : doc.status().message()));
    }
    s.file = std::move(*doc);
  }
  const std::string level = s.Get(log_level, "log_level", "info");
  if (auto st = pa::log::Init({.level = level, .format = "text", .access_log = false}); !st.ok()) {
    return Fail(st.message());
  }
  std::signal(SIGPIPE, SIG_IGN);
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGINT, OnSignal);

  if (run->parsed()) return RunFile(file, json, visible, artifacts_dir);

  pa::robot::AgentConfig cfg;
  cfg.server = s.Get(server, "server");
  cfg.token = s.Get(token, "token");
  cfg.location = s.Get(location, "location");
  cfg.name = s.Get(name, "name");
  cfg.data_dir = s.Get(data, "data", "robot-data");
  cfg.metrics_listen = s.Get(metrics_listen, "metrics_listen");
  cfg.verify_server_tls = !insecure;
  cfg.version = PA_VERSION;
  for (const std::string& pair : pa::SplitList(s.Get(labels, "labels"))) {
    const size_t eq = pair.find('=');
    if (eq == std::string::npos || eq == 0) return Fail("--labels: '" + pair + "' is not k=v");
    cfg.labels[pair.substr(0, eq)] = pair.substr(eq + 1);
  }
  try {
    cfg.concurrency = std::stoi(s.Get(concurrency, "concurrency", "4"));
  } catch (...) {
    return Fail("--concurrency: not a number");
  }
  if (cfg.concurrency < 1 || cfg.concurrency > 1000) return Fail("--concurrency: 1..1000");
  if (auto v = pa::ParseByteSize(s.Get(outbox_max_bytes, "outbox_max_bytes", "512MiB")); v.ok()) {
    cfg.outbox_max_bytes = *v;
  } else {
    return Fail("--outbox-max-bytes: " + v.status().message());
  }
  if (auto v = pa::ParseDuration(s.Get(outbox_max_age, "outbox_max_age", "7d")); v.ok()) {
    cfg.outbox_max_age = *v;
  } else {
    return Fail("--outbox-max-age: " + v.status().message());
  }
  if (auto v = pa::ParseDuration(s.Get(config_poll, "config_poll", "10s")); v.ok()) {
    cfg.config_poll = *v;
  } else {
    return Fail("--config-poll: " + v.status().message());
  }
  if (cfg.server.empty()) return Fail("--server (or PRIMOART_ROBOT_SERVER) is required");
  if (cfg.token.empty()) return Fail("--token (or PRIMOART_ROBOT_TOKEN) is required");

  pa::telemetry::Registry metrics;
  auto browser = pa::robot::MakeBrowserStepFn({.metrics = &metrics});
  if (!browser.ok()) {
    pa::log::Get("robot")->warn("no browser: browser steps will fail ({})",
                                browser.status().message());
  }
  pa::robot::Agent agent(cfg, browser.ok() ? *browser : nullptr, metrics);
  if (auto st = agent.Start(); !st.ok()) return Fail(st.message());
  pa::log::Get("robot")->info("primoart-robot {} started: server {}, data {}", PA_VERSION,
                              cfg.server, cfg.data_dir.string());
  while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  pa::log::Get("robot")->info("stopping: cancelling running transactions");
  agent.Stop();
  return 0;
}
