// The router's catalog and change listener against the real PostgreSQL of the test cluster: each
// test case gets a migrated database of its own, changes are made with plain SQL, and every wait
// polls with a deadline.
#include <catch2/catch.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <thread>
#include <vector>

#include "error/error.hpp"
#include "pg/pool.hpp"
#include "router/catalog.hpp"
#include "router/change_listener.hpp"
#include "support/database.hpp"

using waddle::router::Catalog;
using waddle::router::CatalogOptions;
using waddle::router::ChangeListener;
using waddle::router::ChangeListenerOptions;
namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

constexpr auto kDeadline = 15s;

// Polls `done` until it holds or the deadline passes; never asserts how long it took.
bool eventually(const std::function<bool()>& done, std::chrono::milliseconds deadline = kDeadline) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return done();
}

// A migrated database, a pool, an io_context thread for the catalog's reloads, the catalog and
// (after listen()) its change listener.
class Harness {
 public:
  explicit Harness(CatalogOptions options = {})
      : pool_(std::make_unique<waddle::pg::Pool>(
            waddle::pg::PoolOptions{.primary_url = db_.url(), .size = 2, .worker_threads = 2})),
        guard_(asio::make_work_guard(io_)),
        runner_([this] { io_.run(); }),
        catalog_(std::make_unique<Catalog>(*pool_, io_.get_executor(), options)) {}

  ~Harness() {
    if (listener_) listener_->stop();
    catalog_->stop();
    // Let reloads in flight finish (their pool jobs hold work on io_) before anything goes away.
    guard_.reset();
    runner_.join();
    listener_.reset();
    catalog_.reset();
  }

  // Starts the listener, waits for LISTEN, loads everything, starts the catalog's queue.
  void listen() {
    listener_ = std::make_unique<ChangeListener>(ChangeListenerOptions{.url = db_.url()},
                                                 catalog_->change_handlers());
    listener_->start();
    REQUIRE(listener_->wait_until_listening(10s));
    catalog_->load_all_sync();
    catalog_->start();
  }

  void sql(const std::string& statement) {
    pqxx::connection conn(db_.url());
    pqxx::work tx(conn);
    tx.exec(statement);
    tx.commit();
  }

  std::int64_t insert(const std::string& statement) {
    pqxx::connection conn(db_.url());
    pqxx::work tx(conn);
    auto id = tx.exec1(statement)[0].as<std::int64_t>();
    tx.commit();
    return id;
  }

  std::int64_t community(const std::string& name) {
    return insert("insert into communities (name) values ('" + name + "') returning id");
  }

  std::int64_t command(const std::string& prefix, const std::string& name,
                       const std::string& extra_columns = "",
                       const std::string& extra_values = "") {
    const bool internal = prefix == "!";
    return insert(
        "insert into commands (prefix, command, location_url, location, type, module_name" +
        extra_columns + ") values ('" + prefix + "', '" + name + "', 'http://127.0.0.1:8010/" +
        name + "', '" + (internal ? "internal" : "community") + "', '" +
        (internal ? "container" : "webhook") + "', 'mod_" + name + "'" + extra_values +
        ") returning id");
  }

  Catalog& catalog() { return *catalog_; }
  ChangeListener& listener() { return *listener_; }

 private:
  waddle::test::FreshDatabase db_{true};
  std::unique_ptr<waddle::pg::Pool> pool_;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_;
  std::thread runner_;
  std::unique_ptr<Catalog> catalog_;
  std::unique_ptr<ChangeListener> listener_;
};

std::vector<std::string> keys_of(
    const std::vector<std::shared_ptr<const waddle::router::CommandInfo>>& commands) {
  std::vector<std::string> keys;
  for (const auto& c : commands) keys.push_back(c->key());
  return keys;
}

}  // namespace

TEST_CASE("load_all sees the rows inserted with SQL") {
  Harness h;
  auto community = h.community("penguins");
  h.sql(
      "insert into entities (entity_id, platform, server_id, channel_id, community_id) values "
      "('twitch:channel:waddle', 'twitch', 'channel', 'waddle', " +
      std::to_string(community) + ")");
  auto so = h.command("!", "so", ", timeout, rate_limit, method", ", 12, 5, 'GET'");
  h.command("#", "quote");
  h.sql(
      "insert into command_permissions (community_id, command_id, is_enabled, min_role, config) "
      "values (" +
      std::to_string(community) + ", " + std::to_string(so) +
      ", false, 'moderator', '{\"greeting\": \"hi\"}')");
  h.sql("insert into command_permissions (community_id, module_name, min_role) values (" +
        std::to_string(community) + ", 'mod_quote', 'admin')");
  h.sql("insert into aliases (community_id, alias, expansion) values (" +
        std::to_string(community) + ", 'shout', '!so {arg1}')");
  h.sql(
      "insert into string_rules (community_id, string, match_type, action, block_message) "
      "values (" +
      std::to_string(community) + ", 'badword', 'word', 'block', 'no')");

  h.catalog().load_all_sync();

  auto entity = h.catalog().entity("twitch:channel:waddle");
  REQUIRE(entity);
  CHECK(entity->community_id == community);
  CHECK(entity->community_name == "penguins");
  CHECK(entity->is_active);

  auto cmd = h.catalog().command("!", "so");
  REQUIRE(cmd);
  CHECK(cmd->id == so);
  CHECK(cmd->location_url == "http://127.0.0.1:8010/so");
  CHECK(cmd->type == "container");
  CHECK(cmd->method == "GET");
  CHECK(cmd->timeout == 12);
  CHECK(cmd->rate_limit == 5);
  CHECK(cmd->module_name == "mod_so");
  CHECK(cmd->trigger_type == "command");
  CHECK(cmd->execution_mode == "sequential");
  auto quote = h.catalog().command("#", "quote");
  REQUIRE(quote);
  CHECK(quote->type == "webhook");

  auto by_command = h.catalog().permission(community, *cmd);
  REQUIRE(by_command);
  CHECK_FALSE(by_command->is_enabled);
  CHECK(by_command->min_role == "moderator");
  CHECK(by_command->config.at("greeting") == "hi");
  auto by_module = h.catalog().permission(community, *quote);
  REQUIRE(by_module);
  CHECK(by_module->min_role == "admin");
  CHECK(by_module->is_enabled);

  auto aliases = h.catalog().aliases(community);
  REQUIRE(aliases);
  REQUIRE(aliases->find("shout"));
  CHECK(aliases->find("shout")->expansion == "!so {arg1}");

  auto rules = h.catalog().rules(community);
  REQUIRE(rules);
  CHECK(rules->size() == 1);
  auto hit = rules->first_match("that is a badword indeed", "twitch:channel:waddle");
  REQUIRE(hit);
  CHECK(hit->block_message == "no");
  CHECK_FALSE(rules->first_match("badwords are fine", "twitch:channel:waddle"));

  auto ref = h.catalog().community("penguins");
  REQUIRE(ref);
  CHECK(ref->id == community);
  CHECK(h.catalog().community(community)->name == "penguins");
  // The migrations' global community is there too, with empty tables.
  REQUIRE(h.catalog().community("waddlebot-global"));

  auto stats = h.catalog().stats();
  CHECK(stats.loads == 1);
  CHECK(stats.skipped_rules == 0);
  CHECK(stats.last_reload_error.empty());
}

TEST_CASE("lookups of unknown keys are misses") {
  Harness h;
  auto community = h.community("misses");
  h.catalog().load_all_sync();
  const auto before = h.catalog().stats();

  CHECK_FALSE(h.catalog().entity("twitch:channel:nobody"));
  CHECK_FALSE(h.catalog().command("!", "nothing"));
  CHECK_FALSE(h.catalog().command("", ""));
  CHECK(h.catalog().event_commands("follow").empty());
  CHECK_FALSE(h.catalog().aliases(999999));
  CHECK_FALSE(h.catalog().rules(-1));
  CHECK_FALSE(h.catalog().community(std::int64_t{424242}));
  CHECK_FALSE(h.catalog().community("no-such-community"));
  waddle::router::CommandInfo ghost;
  ghost.id = 31337;
  ghost.module_name = "ghost";
  CHECK_FALSE(h.catalog().permission(community, ghost));

  const auto after = h.catalog().stats();
  CHECK(after.misses == before.misses + 9);
  CHECK(after.hits == before.hits);

  auto known = h.catalog().aliases(community);
  REQUIRE(known);
  CHECK(known->size() == 0);
  CHECK(h.catalog().stats().hits == before.hits + 1);
}

TEST_CASE("event_commands lists active event triggers by priority then id") {
  Harness h;
  h.command("!", "late", ", trigger_type, event_types, priority",
            ", 'event', '[\"follow\", \"raid\"]', 50");
  h.command("!", "early", ", trigger_type, event_types, priority", ", 'both', '[\"follow\"]', 10");
  h.command("!", "tie", ", trigger_type, event_types, priority",
            ", 'event', '[\"follow\", \"follow\"]', 50");
  h.command("!", "off", ", trigger_type, event_types, priority, is_active",
            ", 'event', '[\"follow\"]', 1, false");
  h.command("!", "plain", ", event_types, priority", ", '[\"follow\"]', 1");
  h.catalog().load_all_sync();

  CHECK(keys_of(h.catalog().event_commands("follow")) ==
        std::vector<std::string>{"!early", "!late", "!tie"});
  CHECK(keys_of(h.catalog().event_commands("raid")) == std::vector<std::string>{"!late"});
  CHECK(h.catalog().event_commands("chatMessage").empty());
  // Inactive commands are still found by name, so that the router can say they are off.
  REQUIRE(h.catalog().command("!", "off"));
  CHECK_FALSE(h.catalog().command("!", "off")->is_active);
}

TEST_CASE("a rule with an invalid regex is skipped and counted, the others still work") {
  Harness h;
  auto community = h.community("rules");
  const auto c = std::to_string(community);
  h.sql(
      "insert into string_rules (community_id, string, match_type, action, priority) values "
      "(" +
      c + ", 'spam', 'contains', 'warn', 20)");
  auto bad = h.insert(
      "insert into string_rules (community_id, string, match_type, action) values "
      "(" +
      c + ", '(unclosed', 'regex', 'block') returning id");
  h.sql(
      "insert into string_rules (community_id, string, match_type, action, priority) values "
      "(" +
      c + ", '^free\\s+v-?bucks', 'regex', 'block', 10)");
  h.listen();

  auto stats = h.catalog().stats();
  CHECK(stats.skipped_rules == 1);
  auto errors = h.catalog().rule_errors(community);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].rule_id == bad);
  auto rules = h.catalog().rules(community);
  REQUIRE(rules);
  CHECK(rules->size() == 2);
  auto hit = rules->first_match("free vbucks and spam", "twitch:channel:x");
  REQUIRE(hit);
  CHECK(hit->pattern == "^free\\s+v-?bucks");
  REQUIRE(rules->first_match("some spam", "twitch:channel:x"));

  // Another bad row arriving through a notification is skipped the same way.
  h.sql("insert into string_rules (community_id, string, match_type, action) values (" + c +
        ", '[z-a]', 'regex', 'warn')");
  CHECK(eventually([&] { return h.catalog().stats().skipped_rules == 2; }));
  CHECK(h.catalog().rules(community)->size() == 2);
  // Fixing the first one brings it in.
  h.sql("update string_rules set string = '(closed)' where id = " + std::to_string(bad));
  CHECK(eventually([&] { return h.catalog().rules(community)->size() == 3; }));
  CHECK(h.catalog().stats().skipped_rules == 1);
}

TEST_CASE("SQL changes reach the catalog through the listener") {
  Harness h;
  auto community = h.community("live");
  const auto c = std::to_string(community);
  h.listen();
  auto& cat = h.catalog();

  SECTION("commands: insert, rename, update, delete") {
    auto id = h.command("!", "hello");
    REQUIRE(eventually([&] { return cat.command("!", "hello") != nullptr; }));
    h.sql("update commands set command = 'hey' where id = " + std::to_string(id));
    REQUIRE(eventually([&] { return cat.command("!", "hey") != nullptr; }));
    CHECK_FALSE(cat.command("!", "hello"));
    h.sql(
        "update commands set timeout = 99, trigger_type = 'both', event_types = '[\"raid\"]' "
        "where id = " +
        std::to_string(id));
    REQUIRE(eventually([&] { return cat.command("!", "hey")->timeout == 99; }));
    CHECK(keys_of(cat.event_commands("raid")) == std::vector<std::string>{"!hey"});
    h.sql("delete from commands where id = " + std::to_string(id));
    REQUIRE(eventually([&] { return cat.command("!", "hey") == nullptr; }));
    CHECK(cat.event_commands("raid").empty());
  }

  SECTION("aliases: insert, update, delete") {
    h.sql("insert into aliases (community_id, alias, expansion) values (" + c +
          ", 'hi', '!so {user}')");
    REQUIRE(eventually([&] { return cat.aliases(community)->find("hi") != nullptr; }));
    h.sql("update aliases set expansion = '!hello' where alias = 'hi'");
    REQUIRE(eventually([&] { return cat.aliases(community)->find("hi")->expansion == "!hello"; }));
    h.sql("delete from aliases where alias = 'hi'");
    REQUIRE(eventually([&] { return cat.aliases(community)->find("hi") == nullptr; }));
  }

  SECTION("string rules: insert, update, delete") {
    auto id = h.insert("insert into string_rules (community_id, string, action) values (" + c +
                       ", 'lurk', 'warn') returning id");
    REQUIRE(eventually([&] { return cat.rules(community)->size() == 1; }));
    CHECK(cat.rules(community)->first_match("just a LURK", "twitch:channel:x"));
    h.sql("update string_rules set string = 'wave' where id = " + std::to_string(id));
    REQUIRE(eventually(
        [&] { return cat.rules(community)->first_match("wave", "twitch:channel:x") != nullptr; }));
    CHECK_FALSE(cat.rules(community)->first_match("lurk", "twitch:channel:x"));
    h.sql("delete from string_rules where id = " + std::to_string(id));
    REQUIRE(eventually([&] { return cat.rules(community)->size() == 0; }));
  }

  SECTION("entities: insert, move to another community, delete") {
    h.sql(
        "insert into entities (entity_id, platform, server_id, channel_id, community_id) values "
        "('discord:1:2', 'discord', '1', '2', " +
        c + ")");
    REQUIRE(eventually([&] { return cat.entity("discord:1:2") != nullptr; }));
    CHECK(cat.entity("discord:1:2")->community_name == "live");
    // A community created after the load arrives with the entity that names it.
    auto other = h.community("other");
    h.sql("update entities set community_id = " + std::to_string(other) +
          " where entity_id = 'discord:1:2'");
    REQUIRE(eventually([&] { return cat.entity("discord:1:2")->community_id == other; }));
    CHECK(cat.entity("discord:1:2")->community_name == "other");
    REQUIRE(cat.community(other));
    REQUIRE(cat.aliases(other));
    h.sql("update entities set is_active = false where entity_id = 'discord:1:2'");
    REQUIRE(eventually([&] { return !cat.entity("discord:1:2")->is_active; }));
    h.sql("delete from entities where entity_id = 'discord:1:2'");
    REQUIRE(eventually([&] { return cat.entity("discord:1:2") == nullptr; }));
  }

  SECTION("permissions: insert, update, delete") {
    auto id = h.command("!", "dice");
    REQUIRE(eventually([&] { return cat.command("!", "dice") != nullptr; }));
    auto dice = cat.command("!", "dice");
    h.sql("insert into command_permissions (community_id, command_id, is_enabled) values (" + c +
          ", " + std::to_string(id) + ", false)");
    REQUIRE(eventually([&] {
      auto p = cat.permission(community, *dice);
      return p && !p->is_enabled;
    }));
    h.sql(
        "update command_permissions set is_enabled = true, min_role = 'moderator' where "
        "command_id = " +
        std::to_string(id));
    REQUIRE(eventually([&] {
      auto p = cat.permission(community, *dice);
      return p && p->is_enabled && p->min_role == "moderator";
    }));
    h.sql("delete from command_permissions where command_id = " + std::to_string(id));
    REQUIRE(eventually([&] { return !cat.permission(community, *dice); }));
  }

  const auto stats = cat.stats();
  CHECK(stats.reloads >= 3);
  CHECK(stats.failures == 0);
  CHECK(stats.loads == 1);  // targeted reloads only, no full reload
}

TEST_CASE("the listener survives pg_terminate_backend and the catalog reloads everything") {
  Harness h;
  h.listen();
  const auto loads_before = h.catalog().stats().loads;
  const int pid = h.listener().backend_pid();
  REQUIRE(pid != 0);

  waddle::test::run_admin("select pg_terminate_backend(" + std::to_string(pid) + ")");
  // Reconnected on a new backend, then a full reload.
  REQUIRE(eventually([&] { return h.listener().stats().connects >= 2; }));
  CHECK(h.listener().backend_pid() != pid);
  CHECK(h.listener().stats().connection_lost >= 1);
  REQUIRE(eventually([&] { return h.catalog().stats().loads > loads_before; }));

  // And it still hears changes.
  h.command("!", "after");
  CHECK(eventually([&] { return h.catalog().command("!", "after") != nullptr; }));
}

TEST_CASE("the TTL reloads what no notification announced") {
  CatalogOptions options;
  options.command_ttl = 1s;
  options.community_ttl = 1s;
  options.ttl_check_interval = 50ms;
  Harness h(options);
  h.catalog().load_all_sync();
  h.catalog().start();  // no listener: only the TTL can bring the new rows in
  auto community = h.community("ttl");
  h.command("!", "ttl");
  REQUIRE(eventually([&] { return h.catalog().command("!", "ttl") != nullptr; }));
  REQUIRE(eventually([&] { return h.catalog().community(community).has_value(); }));
  CHECK(h.catalog().stats().loads >= 2);
}

TEST_CASE("bad change payloads make a full reload and never crash") {
  Harness h;
  h.catalog().load_all_sync();
  h.catalog().start();
  const auto loads = h.catalog().stats().loads;
  h.command("!", "sneaky");  // no listener: only the full reload can find it

  h.catalog().enqueue_change(std::string_view("this is not json {"));
  REQUIRE(eventually([&] { return h.catalog().stats().loads > loads; }));
  CHECK(h.catalog().command("!", "sneaky"));
  CHECK(h.catalog().stats().last_reload_error.find("without a table") != std::string::npos);

  const auto loads2 = h.catalog().stats().loads;
  h.catalog().enqueue_change(nlohmann::json{{"table", "commands"}, {"op", "UPDATE"}});
  REQUIRE(eventually([&] { return h.catalog().stats().loads > loads2; }));
  CHECK(h.catalog().stats().last_reload_error.find("without a usable key") != std::string::npos);

  // A table the catalog does not cache is ignored; a later good payload still works.
  const auto loads3 = h.catalog().stats().loads;
  h.catalog().enqueue_change(nlohmann::json{{"table", "labels"}, {"op", "INSERT"}, {"id", 1}});
  h.command("!", "later");
  h.catalog().enqueue_change(
      nlohmann::json{{"table", "commands"}, {"op", "INSERT"}, {"id", 9}, {"key", "!later"}});
  REQUIRE(eventually([&] { return h.catalog().command("!", "later") != nullptr; }));
  CHECK(h.catalog().stats().loads == loads3);
  CHECK(h.catalog().stats().last_reload_error.empty());
}

TEST_CASE("an unreachable database keeps the old snapshot and records the error") {
  // Port 1 on the loopback refuses at once: nothing listens there.
  const std::string nowhere = "postgresql://waddle@127.0.0.1:1/waddle?connect_timeout=2";
  waddle::pg::Pool pool({.primary_url = nowhere, .size = 1, .worker_threads = 1});
  asio::io_context io;
  auto guard = asio::make_work_guard(io);
  std::thread runner([&] { io.run(); });
  {
    Catalog catalog(pool, io.get_executor());
    CHECK_THROWS_AS(catalog.load_all_sync(), waddle::Error);
    catalog.start();
    catalog.enqueue_change(
        nlohmann::json{{"table", "commands"}, {"op", "INSERT"}, {"id", 1}, {"key", "!so"}});
    CHECK(eventually([&] { return catalog.stats().failures >= 1; }));
    const auto stats = catalog.stats();
    CHECK(stats.last_reload_error.find("catalog reload failed") != std::string::npos);
    CHECK(stats.loads == 0);
    CHECK_FALSE(catalog.command("!", "so"));
    catalog.stop();
    guard.reset();
    runner.join();
  }
}

TEST_CASE("the listener keeps retrying an unreachable server and stops when asked") {
  ChangeListener::Handlers handlers;
  int resyncs = 0;
  handlers.on_resync = [&] { ++resyncs; };
  ChangeListener listener(ChangeListenerOptions{.url = "postgresql://waddle@127.0.0.1:1/waddle",
                                                .initial_backoff = 10ms,
                                                .max_backoff = 50ms},
                          handlers);
  listener.start();
  CHECK(eventually([&] { return listener.stats().connection_lost >= 3; }));
  CHECK_FALSE(listener.listening());
  CHECK_FALSE(listener.wait_until_listening(50ms));
  CHECK(listener.stats().last_error.find("127.0.0.1") != std::string::npos);
  listener.stop();
  CHECK(resyncs == 0);
  CHECK(listener.stats().connects == 0);
}

TEST_CASE("a malformed listener URL is refused at construction") {
  CHECK_THROWS_AS(ChangeListener(ChangeListenerOptions{.url = ""}, {}), waddle::Error);
}

TEST_CASE("load_all runs as a coroutine on any io_context") {
  Harness h;
  h.community("coro");
  h.command("!", "coro");
  asio::io_context io;
  auto done = asio::co_spawn(io, h.catalog().load_all(), asio::use_future);
  io.run();
  done.get();
  CHECK(h.catalog().community("coro"));
  CHECK(h.catalog().command("!", "coro"));
  CHECK(h.catalog().stats().loads == 1);
}
