#pragma once
// The skeleton every WaddleBot daemon runs on (after Kea's d_controller): flags, config, logging,
// the io_context and its threads, the admin socket with the built-in commands, SIGHUP reload,
// SIGTERM drain, sd_notify and the watchdog. A daemon's main() declares its config keys and a
// factory for its Service, then calls run().

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "config/config.hpp"
#include "ctl/registry.hpp"

namespace waddle::daemon {

struct Info {
  std::string name;         // config section and socket name: "router"
  std::string binary;       // "waddle-routerd"
  std::string version;      // project version
  std::string description;  // one line for --help
};

// What a daemon implements. Only the wiring layer (run) reads config; a Service gets it once.
class Service {
 public:
  virtual ~Service() = default;
  // Binds listeners and checks its dependencies; called before READY=1. Throw to fail startup.
  virtual void start() = 0;
  // SIGHUP or the `reload` command with a new, already validated config. Throw to keep the old.
  virtual void reload(const config::Config& /*config*/) {}
  // SIGTERM: stop accepting, finish in-flight work before `deadline` passes.
  virtual void stop(std::chrono::steady_clock::time_point deadline) = 0;
  // Extra fields for the `status` and `stats` admin commands.
  virtual nlohmann::json status() const { return nlohmann::json::object(); }
  virtual nlohmann::json stats() const { return nlohmann::json::object(); }
};

class Context {
 public:
  Context(boost::asio::io_context& io, const config::Config& config, ctl::Registry& commands)
      : io_(io), config_(config), commands_(commands) {}
  boost::asio::io_context& io() { return io_; }
  const config::Config& config() const { return config_; }
  // Register daemon-specific admin commands here.
  ctl::Registry& commands() { return commands_; }

 private:
  boost::asio::io_context& io_;
  const config::Config& config_;
  ctl::Registry& commands_;
};

using Factory = std::function<std::unique_ptr<Service>(Context&)>;

// The sections every program shares (database.*, redis.*, log.*); every daemon's own section is
// skipped, so the CLI can read database.url from the one waddle.yaml.
config::Schema shared_schema();

// shared_schema() plus <name>.threads,
// <name>.admin_socket, <name>.shutdown_timeout, with the other daemons' sections skipped.
// Daemons add their own keys to the returned schema.
config::Schema base_schema(const Info& info);

// Exit codes: 0 clean, 1 runtime failure, 2 bad flags or config (systemd's
// RestartPreventExitStatus=2 keeps a broken config from restart-looping).
int run(const Info& info, const config::Schema& schema, const Factory& factory, int argc,
        char** argv);

}  // namespace waddle::daemon
