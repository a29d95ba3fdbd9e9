// primoart: the PrimoART server and its admin commands.
//
//   primoart serve [--roles core,...] [--list-roles]   run the platform (default: every role)
//   primoart config print                              effective configuration, secrets masked
//   primoart migrate                                   apply database migrations and exit
//   primoart admin token|user ...                      identity administration (auth/admin_cli.h)
//   primoart version
//
// Exit codes: 0 success; 1 failure at run time; 2 bad configuration or a store/port unavailable
// at start-up (the message names the key or the store).
#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <thread>

#include "auth/admin_cli.h"
#include "base/clock.h"
#include "base/logging.h"
#include "base/strings.h"
#include "base/telemetry.h"
#include "core/config.h"
#include "core/job_scheduler.h"
#include "core/module_manager.h"
#include "core/module_table.h"
#include "core/services.h"
#include "storage/stores.h"

namespace pa {
namespace {

constexpr int kExitFailure = 1;
constexpr int kExitStartup = 2;

// The flags every command that reads the configuration accepts.
struct ConfigFlags {
  std::string file;
  std::vector<std::string> sets;  // key=value
  std::string listen, data_dir, roles, database_url, artifacts_url, log_level, log_format;
};

void AddConfigFlags(CLI::App* cmd, ConfigFlags& f) {
  cmd->add_option("--config", f.file, "YAML configuration file (also PRIMOART_CONFIG)");
  cmd->add_option("--set", f.sets, "Set any configuration key: --set http_max_body=32MiB");
  cmd->add_option("--listen", f.listen, "HTTP address host:port (PRIMOART_LISTEN)");
  cmd->add_option("--data-dir", f.data_dir, "Data directory (PRIMOART_DATA_DIR)");
  cmd->add_option("--database-url", f.database_url, "Relational store URL (PRIMOART_DATABASE_URL)");
  cmd->add_option("--artifacts-url", f.artifacts_url,
                  "Artifact store URL (PRIMOART_ARTIFACTS_URL)");
  cmd->add_option("--log-level", f.log_level,
                  "trace|debug|info|warn|error|off (PRIMOART_LOG_LEVEL)");
  cmd->add_option("--log-format", f.log_format, "json|text (PRIMOART_LOG_FORMAT)");
}

Result<core::LoadedConfig> LoadFromFlags(const ConfigFlags& f) {
  core::ConfigInputs in;
  in.env = core::PrimoartEnvironment();
  if (!f.file.empty()) {
    in.file = f.file;
  } else if (auto it = in.env.find("PRIMOART_CONFIG"); it != in.env.end() && !it->second.empty()) {
    in.file = it->second;
  }
  for (const auto& kv : f.sets) {
    const size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      return InvalidArgumentError("--set " + kv + ": expected key=value");
    }
    in.overrides.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
  }
  auto named = [&](const char* key, const std::string& value) {
    if (!value.empty()) in.overrides.emplace_back(key, value);
  };
  named("listen", f.listen);
  named("data_dir", f.data_dir);
  named("roles", f.roles);
  named("database_url", f.database_url);
  named("artifacts_url", f.artifacts_url);
  named("log_level", f.log_level);
  named("log_format", f.log_format);
  return core::LoadConfig(in);
}

// Loads the configuration and sets up logging; prints the problem and returns nullopt on error.
std::optional<core::LoadedConfig> Configure(const ConfigFlags& flags) {
  auto loaded = LoadFromFlags(flags);
  if (!loaded.ok()) {
    std::fprintf(stderr, "primoart: configuration error: %s\n", loaded.status().message().c_str());
    return std::nullopt;
  }
  const core::Config& cfg = loaded->config;
  Status st = log::Init({cfg.log_level, cfg.log_format, cfg.log_access});
  if (!st.ok()) {
    std::fprintf(stderr, "primoart: configuration error: %s\n", st.message().c_str());
    return std::nullopt;
  }
  for (const auto& name : core::UnknownEnvironmentVariables(core::PrimoartEnvironment())) {
    log::Get("core")->warn("ignoring environment variable {}: no such configuration key", name);
  }
  return std::move(loaded).value();
}

// Blocks SIGINT/SIGTERM in every thread (call before starting any) and waits for the first.
// A second signal while shutting down exits at once.
int WaitForShutdownSignal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  int sig = 0;
  sigwait(&set, &sig);
  std::thread([set] {
    int again = 0;
    sigwait(&set, &again);
    std::fputs("primoart: second signal, exiting without waiting\n", stderr);
    std::_Exit(kExitFailure);
  }).detach();
  return sig;
}

void BlockShutdownSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

core::BuildInfo Build() { return {PA_VERSION, PA_GIT_COMMIT}; }

int Serve(const ConfigFlags& flags, bool list_roles) {
  if (list_roles) {
    std::cout << core::ModuleManager(core::ModuleTable()).DescribeTable();
    return 0;
  }
  BlockShutdownSignals();
  auto loaded = Configure(flags);
  if (!loaded) return kExitStartup;
  auto log = log::Get("core");

  telemetry::Registry registry;
  telemetry::AddProcessCollector(registry);
  registry
      .AddGauge("primoart_build_info", "PrimoART version and commit (always 1).",
                {"version", "commit"})
      .With({PA_VERSION, PA_GIT_COMMIT})
      .Set(1);
  core::JobScheduler jobs(registry);
  core::ModuleManager modules(core::ModuleTable());
  core::Services services;
  services.config = &*loaded;
  services.clock = Clock::System();
  services.metrics = &registry;
  services.jobs = &jobs;
  services.modules = &modules;
  services.build = Build();
  services.started_at = services.clock->Now();
  services.schemas = core::AllSchemas();

  Status st = modules.Init(loaded->config.roles, services);
  if (st.ok()) st = modules.Start();
  if (!st.ok()) {
    log->error("start-up failed: {}", st.message());
    log::Flush();
    std::fprintf(stderr, "primoart: start-up failed: %s\n", st.message().c_str());
    return kExitStartup;
  }
  jobs.Start();
  log->info("PrimoART {} ({}) started with roles {}", PA_VERSION, PA_GIT_COMMIT,
            JoinList(modules.RunningRoles()));

  const int sig = WaitForShutdownSignal();
  log->info("received {}, shutting down (grace {} ms)", sig == SIGTERM ? "SIGTERM" : "SIGINT",
            loaded->config.http_shutdown_grace.count());
  jobs.Stop();
  modules.Shutdown();
  log->info("stopped");
  log::Flush();
  return 0;
}

int PrintConfig(const ConfigFlags& flags) {
  auto loaded = Configure(flags);
  if (!loaded) return kExitStartup;
  std::cout << core::PrintConfig(*loaded);
  return 0;
}

// Opens the configured database and brings its schema up to date; prints why on failure.
std::unique_ptr<storage::RelationalStore> OpenDatabase(const core::Config& cfg,
                                                       storage::MigrationReport* report) {
  auto store = storage::OpenRelationalStore({.url = cfg.database_url, .pool_size = 1}, nullptr);
  if (!store.ok()) {
    std::fprintf(stderr, "primoart: database: %s\n", store.status().message().c_str());
    return nullptr;
  }
  auto applied = (*store)->Migrate(core::AllSchemas());
  if (!applied.ok()) {
    std::fprintf(stderr, "primoart: database migrations failed: %s\n",
                 applied.status().message().c_str());
    return nullptr;
  }
  if (report) *report = std::move(applied).value();
  return std::move(store).value();
}

int Migrate(const ConfigFlags& flags) {
  auto loaded = Configure(flags);
  if (!loaded) return kExitStartup;
  storage::MigrationReport report;
  auto db = OpenDatabase(loaded->config, &report);
  if (!db) return kExitStartup;
  if (report.applied.empty()) std::cout << "database is up to date\n";
  for (const auto& m : report.applied) {
    std::cout << "applied " << m.component << " " << m.version << ": " << m.name << "\n";
  }
  return 0;
}

int Admin(const ConfigFlags& flags, const auth::AdminCommand& command) {
  // Logs would only repeat what the command prints; keep stderr for its own messages.
  ConfigFlags quiet = flags;
  if (quiet.log_level.empty()) quiet.log_level = "warn";
  auto loaded = Configure(quiet);
  if (!loaded) return kExitStartup;
  auto db = OpenDatabase(loaded->config, nullptr);
  if (!db) return kExitStartup;
  return auth::RunAdminCommand(command, *db, std::cin, std::cout, std::cerr);
}

}  // namespace
}  // namespace pa

int main(int argc, char** argv) {
  CLI::App app{"PrimoART — digital experience monitoring"};
  app.require_subcommand(1);
  app.set_version_flag("--version",
                       std::string("primoart ") + PA_VERSION + " (" + PA_GIT_COMMIT + ")");

  pa::ConfigFlags serve_flags, print_flags, migrate_flags;
  bool list_roles = false;
  auto* serve = app.add_subcommand("serve", "Run the platform (the roles given by --roles)");
  pa::AddConfigFlags(serve, serve_flags);
  serve->add_option("--roles", serve_flags.roles, "Roles to run, comma-separated (PRIMOART_ROLES)");
  serve->add_flag("--list-roles", list_roles, "List the roles and their dependencies, then exit");

  auto* config = app.add_subcommand("config", "Configuration commands");
  config->require_subcommand(1);
  auto* print =
      config->add_subcommand("print", "Print the effective configuration (secrets masked)");
  pa::AddConfigFlags(print, print_flags);
  print->add_option("--roles", print_flags.roles, "Roles (PRIMOART_ROLES)");

  auto* keys = config->add_subcommand("keys", "List every configuration key (Markdown table)");

  auto* migrate = app.add_subcommand("migrate", "Apply database migrations and exit");
  pa::AddConfigFlags(migrate, migrate_flags);

  app.add_subcommand("version", "Print the version and exit");

  // primoart admin token|user ...
  pa::ConfigFlags admin_flags;
  pa::auth::AdminCommand admin_command;
  using Kind = pa::auth::AdminCommand::Kind;
  auto* admin = app.add_subcommand("admin", "Users and API tokens, straight on the database");
  admin->require_subcommand(1);
  auto* token = admin->add_subcommand("token", "API tokens");
  token->require_subcommand(1);
  auto* token_create = token->add_subcommand("create", "Create a token and print it on stdout");
  token_create->add_option("--name", admin_command.name, "Name of the token")->required();
  token_create
      ->add_option("--scopes", admin_command.scopes,
                   "Comma-separated: ingest, robot, read, write, admin")
      ->required();
  token_create->add_option("--robot-id", admin_command.robot_id, "Robot a robot token is bound to");
  token_create->add_option("--expires-in", admin_command.expires_in, "Lifetime, e.g. 90d");
  auto* token_list = token->add_subcommand("list", "List tokens (never their secrets)");
  auto* token_revoke = token->add_subcommand("revoke", "Revoke a token");
  token_revoke->add_option("--id", admin_command.id, "Token id")->required();
  auto* user = admin->add_subcommand("user", "Users");
  user->require_subcommand(1);
  auto* user_create = user->add_subcommand(
      "create", "Create a user; prints a generated password unless --password-stdin");
  user_create->add_option("--username", admin_command.username, "User name")->required();
  user_create->add_option("--role", admin_command.role, "admin, editor or viewer")->required();
  user_create->add_flag("--password-stdin", admin_command.password_stdin,
                        "Read the password from stdin");
  auto* user_passwd = user->add_subcommand("passwd", "Set a user's password (read from stdin)");
  user_passwd->add_option("--username", admin_command.username, "User name")->required();
  auto* user_list = user->add_subcommand("list", "List users");
  for (auto* cmd : {token_create, token_list, token_revoke, user_create, user_passwd, user_list}) {
    pa::AddConfigFlags(cmd, admin_flags);
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : pa::kExitStartup;
  }
  if (serve->parsed()) return pa::Serve(serve_flags, list_roles);
  if (print->parsed()) return pa::PrintConfig(print_flags);
  if (keys->parsed()) {
    std::cout << "| key | environment | default | description |\n|---|---|---|---|\n";
    for (const auto& k : pa::core::DescribeKeys()) {
      std::string def = k.default_value.empty() ? "" : "`" + k.default_value + "`";
      std::string help;
      for (char c : k.help) help += c == '<' ? "&lt;" : c == '>' ? "&gt;" : std::string(1, c);
      std::cout << "| `" << k.key << "` | `" << k.env << "` | " << def << " | " << help
                << (k.secret ? " (secret: masked in output)" : "") << " |\n";
    }
    return 0;
  }
  if (migrate->parsed()) return pa::Migrate(migrate_flags);
  if (admin->parsed()) {
    const std::pair<CLI::App*, Kind> kinds[] = {
        {token_create, Kind::kTokenCreate}, {token_list, Kind::kTokenList},
        {token_revoke, Kind::kTokenRevoke}, {user_create, Kind::kUserCreate},
        {user_passwd, Kind::kUserPasswd},   {user_list, Kind::kUserList}};
    for (const auto& [cmd, kind] : kinds) {
      if (cmd->parsed()) admin_command.kind = kind;
    }
    return pa::Admin(admin_flags, admin_command);
  }
  std::cout << "primoart " << PA_VERSION << " (" << PA_GIT_COMMIT << ")\n";
  return 0;
}
