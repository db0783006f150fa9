// The command registry: registration rules, built-in list-commands and help, and how handler
// failures become replies. Dispatch runs on a local io_context that has nothing else to wait for.

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <catch2/catch.hpp>
#include <stdexcept>

#include "ctl/registry.hpp"

using nlohmann::json;
using waddle::Errc;
namespace asio = boost::asio;
namespace ctl = waddle::ctl;

namespace {

ctl::Reply run(const ctl::Registry& registry, std::string command,
               json arguments = json::object()) {
  asio::io_context io;
  ctl::Call call{std::move(command), std::move(arguments), 1000, 42};
  auto future = asio::co_spawn(io, registry.dispatch(call), asio::use_future);
  io.run();
  return future.get();
}

Errc thrown_code(const std::function<void()>& action) {
  try {
    action();
  } catch (const waddle::Error& e) {
    return e.code();
  }
  return Errc::ok;
}

}  // namespace

TEST_CASE("sync and async handlers both answer") {
  ctl::Registry registry;
  registry.add("echo", "echo the arguments", ctl::Access::read,
               [](const ctl::Call& call) { return ctl::Reply::ok("echo", call.arguments); });
  registry.add("later", "answer from a coroutine", ctl::Access::write,
               [](const ctl::Call& call) -> asio::awaitable<ctl::Reply> {
                 co_return ctl::Reply::ok("uid " + std::to_string(call.uid));
               });
  auto echo = run(registry, "echo", {{"a", 1}});
  CHECK(echo.result == 0);
  CHECK(echo.arguments == json{{"a", 1}});
  CHECK(run(registry, "later").text == "uid 1000");
}

TEST_CASE("registration refuses duplicates, bad names and empty handlers") {
  ctl::Registry registry;
  auto noop = [](const ctl::Call&) { return ctl::Reply::ok("ok"); };
  registry.add("status", "s", ctl::Access::read, noop);
  CHECK(thrown_code([&] { registry.add("status", "again", ctl::Access::read, noop); }) ==
        Errc::conflict);
  CHECK(thrown_code([&] { registry.add("help", "mine", ctl::Access::read, noop); }) ==
        Errc::conflict);
  CHECK(thrown_code([&] { registry.add("", "s", ctl::Access::read, noop); }) ==
        Errc::invalid_argument);
  CHECK(thrown_code([&] { registry.add("Status", "s", ctl::Access::read, noop); }) ==
        Errc::invalid_argument);
  CHECK(thrown_code([&] { registry.add("a b", "s", ctl::Access::read, noop); }) ==
        Errc::invalid_argument);
  CHECK(thrown_code([&] { registry.add("x", "s", ctl::Access::read, ctl::SyncHandler{}); }) ==
        Errc::invalid_argument);
  CHECK(registry.contains("status"));
  CHECK_FALSE(registry.contains("Status"));
}

TEST_CASE("list-commands lists every command sorted, with access") {
  ctl::Registry registry;
  auto noop = [](const ctl::Call&) { return ctl::Reply::ok("ok"); };
  registry.add("reload", "reload the config", ctl::Access::write, noop);
  registry.add("config-get", "show the config", ctl::Access::read, noop);
  auto reply = run(registry, "list-commands");
  REQUIRE(reply.result == 0);
  json expected = json::array({{{"name", "config-get"}, {"access", "read"}},
                               {{"name", "help"}, {"access", "read"}},
                               {{"name", "list-commands"}, {"access", "read"}},
                               {{"name", "reload"}, {"access", "write"}}});
  CHECK(reply.arguments["commands"] == expected);
}

TEST_CASE("help shows one command's summary or all of them") {
  ctl::Registry registry;
  registry.add("status", "show the daemon's status", ctl::Access::read,
               [](const ctl::Call&) { return ctl::Reply::ok("ok"); });
  auto one = run(registry, "help", {{"command", "status"}});
  CHECK(one.result == 0);
  CHECK(one.text == "show the daemon's status");
  CHECK(one.arguments["access"] == "read");

  auto all = run(registry, "help");
  CHECK(all.result == 0);
  CHECK_THAT(all.text, Catch::Contains("status") && Catch::Contains("show the daemon's status") &&
                           Catch::Contains("list-commands"));
  CHECK(all.arguments["commands"].size() == 3);

  auto unknown = run(registry, "help", {{"command", "nope"}});
  CHECK(unknown.result == 2);
  CHECK_THAT(unknown.text, Catch::Contains("'nope'"));
  CHECK(run(registry, "help", {{"command", 3}}).result == 1);
}

TEST_CASE("handler failures become replies") {
  ctl::Registry registry;
  std::string reported;
  registry.set_internal_error_hook([&](const ctl::Call& call, std::string_view what) {
    reported = call.command + ": " + std::string(what);
  });
  registry.add("busy", "s", ctl::Access::write, [](const ctl::Call&) -> ctl::Reply {
    throw waddle::Error(Errc::conflict, "channel #a is claimed by another instance");
  });
  registry.add("broken", "s", ctl::Access::read,
               [](const ctl::Call&) -> ctl::Reply { throw std::runtime_error("secret detail"); });
  registry.add("list", "s", ctl::Access::read,
               [](const ctl::Call&) { return ctl::Reply::ok("x", json::array({1})); });

  auto busy = run(registry, "busy");
  CHECK(busy.result == 4);
  CHECK(busy.text == "channel #a is claimed by another instance");

  auto broken = run(registry, "broken");
  CHECK(broken.result == 1);
  CHECK_THAT(broken.text, Catch::Contains("internal error") && !Catch::Contains("secret"));
  CHECK(reported == "broken: secret detail");

  auto list = run(registry, "list");
  CHECK(list.result == 1);
  CHECK_THAT(list.text, Catch::Contains("internal error"));

  auto unknown = run(registry, "frobnicate");
  CHECK(unknown.result == 2);
  CHECK(unknown.text == "unsupported command 'frobnicate'; try list-commands");
}
