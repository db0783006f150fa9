#include "daemon/daemon.hpp"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <future>
#include <iostream>
#include <mutex>
#include <thread>
#include <vector>

#include "ctl/server.hpp"
#include "error/error.hpp"
#include "log/log.hpp"
#include "sd/notify.hpp"

namespace waddle::daemon {
namespace {

constexpr const char* kDefaultConfig = "/etc/waddlebot/waddle.yaml";
constexpr int kExitFailure = 1;
constexpr int kExitConfig = 2;

// Every daemon shares one waddle.yaml; a daemon skips the sections that belong to the others.
constexpr const char* kDaemonSections[] = {"router",  "actions", "overlay", "twitch",
                                           "discord", "slack",   "cli"};

struct Loaded {
  std::shared_ptr<const config::Config> config;
  std::vector<config::ConfigError> errors;
};

// An explicitly named file must exist; without --config a missing default file means "defaults
// and environment only", which is how the dev cluster and tests run a daemon.
Loaded load_config(const config::Schema& schema, const std::string& path, bool explicit_path) {
  config::LoadResult result;
  if (!explicit_path && access(path.c_str(), F_OK) != 0) {
    result = config::load_string(schema, "", "(defaults and environment)",
                                 config::process_environment());
  } else {
    result = config::load(schema, path, config::process_environment());
  }
  Loaded loaded;
  loaded.errors = std::move(result.errors);
  if (result.config && loaded.errors.empty()) {
    loaded.config = std::make_shared<const config::Config>(std::move(*result.config));
  }
  return loaded;
}

std::string join_errors(const std::vector<config::ConfigError>& errors) {
  std::string text;
  for (const auto& e : errors) text += e.to_string() + "\n";
  return text;
}

class Runner {
 public:
  Runner(const Info& info, const config::Schema& schema, std::string config_path,
         bool explicit_path, std::shared_ptr<const config::Config> config)
      : info_(info),
        schema_(schema),
        config_path_(std::move(config_path)),
        explicit_path_(explicit_path),
        initial_(std::move(config)),
        current_(initial_),
        work_(boost::asio::make_work_guard(io_)),
        signals_(io_, SIGTERM, SIGINT, SIGHUP),
        watchdog_(io_),
        started_(std::chrono::steady_clock::now()) {}

  int run(const Factory& factory) {
    const auto& cfg = *initial_;
    sd::status("starting");
    Context context(io_, cfg, registry_);
    service_ = factory(context);
    register_builtin_commands();

    ctl::ServerOptions ctl_options;
    ctl_options.path = cfg.get_string(info_.name, "admin_socket");
    ctl_options.on_call = [](const ctl::Call& call, const ctl::Reply& reply) {
      log::audit(reply.result == 0 ? spdlog::level::info : spdlog::level::warn,
                 {log::Category::audit, "-", "uid=" + std::to_string(call.uid),
                  "ctl:" + call.command, reply.result == 0 ? "SUCCESS" : "FAILED"});
    };
    ctl_ = std::make_unique<ctl::Server>(io_, registry_, ctl_options);
    ctl_->start();
    service_->start();
    wait_for_signal();

    auto threads = static_cast<std::size_t>(cfg.get_int(info_.name, "threads"));
    log::audit({log::Category::system, "-", "-", "start", "SUCCESS"});
    spdlog::info("{} {} ready ({} threads, admin socket {})", info_.binary, info_.version, threads,
                 ctl_options.path);
    sd::ready();
    sd::status("running");
    watchdog_.start();

    std::vector<std::thread> pool;
    for (std::size_t i = 1; i < threads; ++i) pool.emplace_back([this] { run_io(); });
    run_io();
    for (auto& t : pool) t.join();
    if (stopper_.joinable()) stopper_.join();
    spdlog::info("{} stopped", info_.binary);
    return exit_code_;
  }

 private:
  void run_io() {
    for (;;) {
      try {
        io_.run();
        return;
      } catch (const std::exception& e) {
        // A handler let an exception escape: log it and keep serving the other connections.
        spdlog::error("unhandled exception in the event loop: {}", e.what());
      }
    }
  }

  void wait_for_signal() {
    signals_.async_wait([this](boost::system::error_code ec, int signo) {
      if (ec) return;
      if (signo == SIGHUP) {
        reload("SIGHUP");
        wait_for_signal();
        return;
      }
      shutdown(signo == SIGTERM ? "SIGTERM" : "SIGINT");
    });
  }

  // Runs the blocking drain on its own thread so the io_context keeps serving in-flight work.
  void shutdown(const std::string& why) {
    if (stopping_.exchange(true)) return;
    sd::stopping();
    spdlog::info("{} received, draining", why);
    auto timeout = initial_->get_duration(info_.name, "shutdown_timeout");
    auto deadline = std::chrono::steady_clock::now() + timeout;
    stopper_ = std::thread([this, deadline] {
      try {
        service_->stop(deadline);
      } catch (const std::exception& e) {
        spdlog::error("stopping the service failed: {}", e.what());
        exit_code_ = kExitFailure;
      }
      // Shared: when the loop is stuck past the deadline the posted cleanup may never run, or
      // run after this thread gave up waiting.
      auto cleaned = std::make_shared<std::promise<void>>();
      auto done = cleaned->get_future();
      boost::asio::post(io_, [this, cleaned] {
        watchdog_.stop();
        signals_.cancel();
        ctl_->stop();
        work_.reset();
        cleaned->set_value();
      });
      done.wait_until(deadline + std::chrono::seconds(1));
      // The loop ends by itself once nothing is left; what still waits at the deadline (a
      // stuck connection, a timer) is abandoned.
      while (!io_.stopped() && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      io_.stop();
    });
  }

  ctl::Reply reload(const std::string& why) {
    sd::reloading();
    auto loaded = load_config(schema_, config_path_, explicit_path_);
    if (!loaded.errors.empty()) {
      spdlog::error("reload ({}) refused, keeping the running config:\n{}", why,
                    join_errors(loaded.errors));
      sd::ready();
      return ctl::Reply::error(Errc::invalid_argument,
                               "config has errors, not reloaded:\n" + join_errors(loaded.errors));
    }
    try {
      service_->reload(*loaded.config);
    } catch (const std::exception& e) {
      spdlog::error("reload ({}) refused by the service: {}", why, e.what());
      sd::ready();
      return ctl::Reply::error(Errc::invalid_argument, std::string("reload refused: ") + e.what());
    }
    log::set_level(loaded.config->get_string("log", "level"));
    {
      std::lock_guard lock(mutex_);
      current_ = loaded.config;
    }
    spdlog::info("configuration reloaded ({})", why);
    sd::ready();
    return ctl::Reply::ok("configuration reloaded from " + config_path_);
  }

  std::shared_ptr<const config::Config> current() const {
    std::lock_guard lock(mutex_);
    return current_;
  }

  void register_builtin_commands() {
    using ctl::Access;
    using ctl::Call;
    using ctl::Reply;
    registry_.add("status", "daemon, version, pid, uptime and the service's own state",
                  Access::read, ctl::SyncHandler([this](const Call&) {
                    auto up = std::chrono::duration_cast<std::chrono::seconds>(
                        std::chrono::steady_clock::now() - started_);
                    nlohmann::json args = service_->status();
                    args["daemon"] = info_.binary;
                    args["version"] = info_.version;
                    args["pid"] = getpid();
                    args["uptime_seconds"] = up.count();
                    args["state"] = stopping_ ? "stopping" : "running";
                    args["config_file"] = config_path_;
                    args["log_level"] = log::level_name();
                    return Reply::ok(info_.binary + " is " + (stopping_ ? "stopping" : "running"),
                                     args);
                  }));
    registry_.add("stats", "the service's counters", Access::read,
                  ctl::SyncHandler(
                      [this](const Call&) { return Reply::ok("statistics", service_->stats()); }));
    registry_.add("version", "the daemon's version", Access::read,
                  ctl::SyncHandler([this](const Call&) {
                    return Reply::ok(info_.binary + " " + info_.version,
                                     {{"version", info_.version}, {"daemon", info_.binary}});
                  }));
    registry_.add("config-get", "the running configuration, secrets redacted", Access::read,
                  ctl::SyncHandler([this](const Call&) {
                    return Reply::ok("running configuration", current()->to_json(true));
                  }));
    registry_.add("config-test", "check the configuration file without applying it", Access::read,
                  ctl::SyncHandler([this](const Call&) {
                    auto loaded = load_config(schema_, config_path_, explicit_path_);
                    if (!loaded.errors.empty()) {
                      nlohmann::json errors = nlohmann::json::array();
                      for (const auto& e : loaded.errors) errors.push_back(e.to_string());
                      Reply reply =
                          Reply::error(Errc::invalid_argument, join_errors(loaded.errors));
                      reply.arguments = {{"errors", errors}};
                      return reply;
                    }
                    return Reply::ok("configuration " + config_path_ + " is valid");
                  }));
    registry_.add("reload", "reload the configuration file (as SIGHUP does)", Access::write,
                  ctl::SyncHandler([this](const Call&) { return reload("admin socket"); }));
    registry_.add(
        "log-level", "show the log level, or set it with {\"level\": \"debug\"}", Access::write,
        ctl::SyncHandler([](const Call& call) {
          if (call.arguments.is_object() && call.arguments.contains("level")) {
            const auto& level = call.arguments["level"];
            if (!level.is_string() || !log::set_level(level.get<std::string>())) {
              return Reply::error(Errc::invalid_argument,
                                  "level: expected one of trace, debug, info, warning, error, "
                                  "critical, off");
            }
          }
          return Reply::ok("log level " + log::level_name(), {{"level", log::level_name()}});
        }));
  }

  const Info& info_;
  const config::Schema& schema_;
  std::string config_path_;
  bool explicit_path_;
  std::shared_ptr<const config::Config> initial_;
  mutable std::mutex mutex_;
  std::shared_ptr<const config::Config> current_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  boost::asio::signal_set signals_;
  sd::WatchdogTimer watchdog_;
  ctl::Registry registry_;
  std::unique_ptr<ctl::Server> ctl_;
  std::unique_ptr<Service> service_;
  std::chrono::steady_clock::time_point started_;
  std::atomic<bool> stopping_{false};
  std::thread stopper_;
  std::atomic<int> exit_code_{0};
};

}  // namespace

config::Schema shared_schema() {
  using config::Type;
  config::Schema schema;
  for (const char* section : kDaemonSections) schema.ignore_section(section);
  schema.add({.section = "database",
              .name = "url",
              .type = Type::string,
              .secret = true,
              .doc = "PostgreSQL connection URL (postgresql://user@host:port/db)"});
  schema.add({.section = "database",
              .name = "replica_url",
              .type = Type::string,
              .secret = true,
              .doc = "optional read replica for hot reads; empty = use the primary"});
  schema.add({.section = "database",
              .name = "pool_size",
              .type = Type::integer,
              .default_value = 8,
              .min = 1,
              .max = 256,
              .doc = "connections per daemon to the primary"});
  schema.add({.section = "redis",
              .name = "url",
              .type = Type::string,
              .secret = true,
              .doc = "redis://[:password@]host:port[/db] or unix:///path; empty = single instance "
                     "without Redis"});
  schema.add({.section = "log",
              .name = "level",
              .type = Type::enumeration,
              .default_value = "info",
              .choices = {"trace", "debug", "info", "warning", "error", "critical", "off"},
              .doc = "minimum level written to stderr"});
  return schema;
}

config::Schema base_schema(const Info& info) {
  using config::Type;
  config::Schema schema = shared_schema();
  schema.unignore_section(info.name);
  schema.add({.section = info.name,
              .name = "threads",
              .type = Type::integer,
              .default_value = 2,
              .min = 1,
              .max = 64,
              .doc = "threads running the event loop"});
  schema.add({.section = info.name,
              .name = "admin_socket",
              .type = Type::string,
              .default_value = "/run/waddlebot/" + info.name + ".sock",
              .doc = "the admin socket (waddle status, reload, log-level)"});
  schema.add({.section = info.name,
              .name = "shutdown_timeout",
              .type = Type::duration,
              .default_value = "10s",
              .min = 0,
              .max = 300000,
              .doc = "how long SIGTERM waits for in-flight work"});
  return schema;
}

int run(const Info& info, const config::Schema& schema, const Factory& factory, int argc,
        char** argv) {
  CLI::App app{info.description, info.binary};
  std::string config_path = kDefaultConfig;
  bool check_config = false, print_default = false, version = false;
  auto* config_opt =
      app.add_option("-c,--config", config_path, "configuration file")->capture_default_str();
  app.add_flag("--check-config", check_config, "validate the configuration, print every error");
  app.add_flag("--print-default-config", print_default, "print a commented default config");
  app.add_flag("-V,--version", version, "print the version");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : kExitConfig;
  }
  if (version) {
    std::cout << info.binary << " " << info.version << "\n";
    return 0;
  }
  if (print_default) {
    std::cout << config::print_default(schema);
    return 0;
  }
  bool explicit_path = config_opt->count() > 0;
  auto loaded = load_config(schema, config_path, explicit_path);
  if (!loaded.errors.empty()) {
    std::cerr << join_errors(loaded.errors);
    if (check_config) std::cerr << loaded.errors.size() << " error(s) in " << config_path << "\n";
    return kExitConfig;
  }
  if (check_config) {
    std::cout << "configuration " << config_path << " is valid\n";
    return 0;
  }
  try {
    log::init(info.name, info.version, loaded.config->get_string("log", "level"));
    Runner runner(info, schema, config_path, explicit_path, loaded.config);
    return runner.run(factory);
  } catch (const Error& e) {
    spdlog::critical("{} failed to start: {}", info.binary, e.what());
    return e.code() == Errc::invalid_argument ? kExitConfig : kExitFailure;
  } catch (const std::exception& e) {
    spdlog::critical("{} failed: {}", info.binary, e.what());
    return kExitFailure;
  }
}

}  // namespace waddle::daemon
