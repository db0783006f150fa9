// waddle status [DAEMON…]: every daemon's admin-socket answer beside systemd's view of its unit.
// waddle ctl DAEMON COMMAND [--args JSON]: send one admin-socket command and print the reply.
#include <systemd/sd-bus.h>

#include "ctl/client.hpp"
#include "error/error.hpp"
#include "nouns.hpp"

namespace waddle::cli {
namespace {

constexpr const char* kDaemons[] = {"router", "actions", "overlay", "twitch", "discord", "slack"};

std::string unit_name(const std::string& daemon) {
  return "waddle-" + daemon + ".service";
}

// systemd's ActiveState/SubState of `unit` over the system bus, or why it cannot be had.
class Systemd {
 public:
  Systemd() {
    if (sd_bus_open_system(&bus_) < 0) bus_ = nullptr;
  }
  ~Systemd() { sd_bus_flush_close_unref(bus_); }
  bool available() const { return bus_ != nullptr; }

  std::string state(const std::string& unit) {
    if (!bus_) return "no systemd";
    sd_bus_error error = SD_BUS_ERROR_NULL;
    sd_bus_message* reply = nullptr;
    int r = sd_bus_call_method(bus_, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                               "org.freedesktop.systemd1.Manager", "LoadUnit", &error, &reply, "s",
                               unit.c_str());
    std::string result = "unknown";
    const char* path = nullptr;
    if (r >= 0 && sd_bus_message_read(reply, "o", &path) >= 0) {
      auto prop = [&](const char* name) {
        char* value = nullptr;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        std::string out;
        if (sd_bus_get_property_string(bus_, "org.freedesktop.systemd1", path,
                                       "org.freedesktop.systemd1.Unit", name, &e, &value) >= 0) {
          out = value;
        }
        free(value);
        sd_bus_error_free(&e);
        return out;
      };
      auto load = prop("LoadState");
      result = load == "not-found" ? "not installed" : prop("ActiveState") + "/" + prop("SubState");
    }
    sd_bus_message_unref(reply);
    sd_bus_error_free(&error);
    return result;
  }

 private:
  sd_bus* bus_ = nullptr;
};

}  // namespace

void add_status_commands(CLI::App& app, Context& ctx) {
  auto* status = app.add_subcommand(
      "status", "show each daemon's admin-socket status beside systemd's view of its unit");
  auto names = std::make_shared<std::vector<std::string>>();
  status->add_option("daemon", *names, "daemons to ask (default: all)")
      ->check(CLI::IsMember({"router", "actions", "overlay", "twitch", "discord", "slack"}));
  status->callback([&ctx, names] {
    std::vector<std::string> daemons = *names;
    if (daemons.empty()) daemons.assign(std::begin(kDaemons), std::end(kDaemons));
    Systemd systemd;
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& d : daemons) {
      nlohmann::json row{{"daemon", d},
                         {"unit", unit_name(d)},
                         {"systemd", systemd.state(unit_name(d))},
                         {"socket", ctx.socket_path(d)}};
      try {
        auto reply = ctl::call(ctx.socket_path(d), "status", {}, std::chrono::seconds(2));
        row["state"] = reply.arguments.value("state", reply.succeeded() ? "running" : "error");
        row["version"] = reply.arguments.value("version", "");
        row["uptime_seconds"] = reply.arguments.value("uptime_seconds", 0);
        row["details"] = reply.arguments;
      } catch (const Error& e) {
        row["state"] = e.code() == Errc::unavailable ? "not running" : "not answering";
        row["version"] = nullptr;
        row["uptime_seconds"] = nullptr;
        row["details"] = nlohmann::json{{"error", e.what()}};
      }
      rows.push_back(row);
    }
    print_rows(ctx.out(), ctx.format(), rows,
               {"daemon", "state", "version", "uptime_seconds", "systemd", "socket"}, "daemon");
    if (ctx.format() == Format::table && !systemd.available()) {
      ctx.out() << "(systemd is not reachable on the system bus: unit states unknown)\n";
    }
  });

  auto* ctl = app.add_subcommand("ctl", "send one command to a daemon's admin socket");
  auto daemon = std::make_shared<std::string>();
  auto command = std::make_shared<std::string>();
  auto args = std::make_shared<std::string>("{}");
  ctl->add_option("daemon", *daemon, "router, actions, overlay, twitch, discord or slack")
      ->required()
      ->check(CLI::IsMember({"router", "actions", "overlay", "twitch", "discord", "slack"}));
  ctl->add_option("command", *command, "the command (try list-commands)")->required();
  ctl->add_option("--args", *args, "arguments as a JSON object")->capture_default_str();
  ctl->callback([&ctx, daemon, command, args] {
    nlohmann::json arguments;
    try {
      arguments = nlohmann::json::parse(*args);
    } catch (const nlohmann::json::parse_error& e) {
      throw Error(Errc::invalid_argument, std::string("--args: invalid JSON: ") + e.what());
    }
    if (!arguments.is_object()) throw Error(Errc::invalid_argument, "--args: expected an object");
    auto reply = ctl::call(ctx.socket_path(*daemon), *command, arguments);
    if (ctx.format() == Format::json) {
      ctx.out() << nlohmann::json{{"result", reply.result},
                                  {"text", reply.text},
                                  {"arguments", reply.arguments}}
                       .dump(2)
                << '\n';
    } else {
      ctx.out() << reply.text << '\n';
      if (!reply.arguments.is_null() && !reply.arguments.empty()) {
        ctx.out() << reply.arguments.dump(2) << '\n';
      }
    }
    if (reply.result == 2) throw Error(Errc::invalid_argument, "unsupported command " + *command);
    if (reply.result == 3) throw Error(Errc::not_found, reply.text);
    if (reply.result != 0)
      throw Error(Errc::internal, "the daemon answered result " + std::to_string(reply.result));
  });
}

}  // namespace waddle::cli
