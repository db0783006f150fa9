#include "actions/service.hpp"

#include <future>

#include "error/error.hpp"

namespace waddle::actions {
namespace {

constexpr const char* kSection = "actions";

// An address, not HOST:PORT (the port is its own key, as for every daemon).
std::string check_listen(std::string listen) {
  if (listen.size() > 2 && listen.front() == '[' && listen.back() == ']') {
    listen = listen.substr(1, listen.size() - 2);
  }
  if (listen.empty() || listen.find_first_of(" /") != std::string::npos) {
    throw Error(
        Errc::invalid_argument,
        "actions.listen: expected an address such as 127.0.0.1 or ::1, got '" + listen + "'");
  }
  return listen;
}

class ActionService final : public daemon::Service {
 public:
  explicit ActionService(daemon::Context& context)
      : settings_(settings_from_config(context.config())),
        server_(std::make_unique<ActionServer>(context.io(), settings_)) {}

  void start() override { server_->start(); }

  void reload(const config::Config& config) override {
    const Settings next = settings_from_config(config);
    if (next.listen_address != settings_.listen_address || next.port != settings_.port ||
        next.public_url != settings_.public_url || next.modules != settings_.modules ||
        next.database_url != settings_.database_url || next.router_url != settings_.router_url ||
        next.router_api_key != settings_.router_api_key) {
      throw Error(Errc::invalid_argument,
                  "actions.listen, actions.port, actions.public_url, actions.modules, "
                  "actions.router_url, actions.router_api_key and database.url take effect only "
                  "after a restart");
    }
  }

  void stop(std::chrono::steady_clock::time_point deadline) override {
    auto stopped = std::make_shared<std::promise<void>>();
    auto done = stopped->get_future();
    const auto drain = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    server_->stop(std::max(drain, std::chrono::milliseconds(0)),
                  [stopped] { stopped->set_value(); });
    done.wait_until(deadline);
  }

  nlohmann::json status() const override {
    return {{"base_url", server_->base_url()},
            {"modules", server_->module_names()},
            {"scheduler", server_->scheduler_status()}};
  }
  nlohmann::json stats() const override { return server_->stats(); }

 private:
  Settings settings_;
  std::unique_ptr<ActionServer> server_;
};

}  // namespace

daemon::Info daemon_info() {
  return {"actions", "waddle-actiond", "0.1.0",
          "WaddleBot's built-in action modules and their scheduler"};
}

config::Schema actions_schema(const daemon::Info& info) {
  using config::Type;
  config::Schema schema = daemon::base_schema(info);
  schema.add({.section = kSection,
              .name = "listen",
              .type = Type::string,
              .default_value = "127.0.0.1",
              .doc = "address the module endpoints (POST /modules/<name>) listen on"});
  schema.add({.section = kSection,
              .name = "port",
              .type = Type::integer,
              .default_value = 8010,
              .min = 1,
              .max = 65535,
              .doc = "port of the module endpoints"});
  schema.add({.section = kSection,
              .name = "public_url",
              .type = Type::string,
              .default_value = "",
              .doc = "base URL the router calls (registered in commands.location_url); empty = "
                     "http://<listen>:<port>"});
  nlohmann::json modules = nlohmann::json::array();
  for (const auto& name : known_modules()) modules.push_back(name);
  schema.add({.section = kSection,
              .name = "modules",
              .type = Type::string_list,
              .default_value = modules,
              .doc = "the built-in modules to serve and register"});
  schema.add({.section = kSection,
              .name = "router_url",
              .type = Type::string,
              .default_value = "http://127.0.0.1:8000",
              .doc = "the router's base URL, for messages outside a request (POST "
                     "/router/messages: reminders, timers, whispers)"});
  schema.add({.section = kSection,
              .name = "router_api_key",
              .type = Type::string,
              .default_value = "",
              .secret = true,
              .doc = "API key with role module for router_url (waddle apikey create NAME --role "
                     "module); empty = no scheduler: reminders and timers are not delivered"});
  return schema;
}

Settings settings_from_config(const config::Config& config) {
  Settings settings;
  settings.listen_address = check_listen(config.get_string(kSection, "listen"));
  settings.port = static_cast<std::uint16_t>(config.get_int(kSection, "port"));
  settings.public_url = config.get_string(kSection, "public_url");
  settings.modules = config.get_list(kSection, "modules");
  settings.database_url = config.get_string("database", "url");
  settings.pool_size = static_cast<std::size_t>(config.get_int("database", "pool_size"));
  settings.router_url = config.get_string(kSection, "router_url");
  settings.router_api_key = config.get_string(kSection, "router_api_key");
  if (settings.database_url.empty()) {
    throw Error(Errc::invalid_argument, "database.url: waddle-actiond needs the database");
  }
  return settings;
}

std::unique_ptr<daemon::Service> make_service(daemon::Context& context) {
  return std::make_unique<ActionService>(context);
}

}  // namespace waddle::actions
