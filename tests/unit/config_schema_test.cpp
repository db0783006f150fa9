#include <catch2/catch.hpp>

#include "config/config.hpp"
#include "error/error.hpp"

using namespace waddle::config;
using waddle::Errc;

namespace {

// Every type, bound and flag, so print_default and to_yaml are exercised on all of them.
Schema full_schema() {
  Schema shared;
  shared.add({.section = "database",
              .name = "url",
              .type = Type::string,
              .required = true,
              .secret = true,
              .doc = "PostgreSQL URL of the primary",
              .example = "\"postgresql:///waddlebot\""});
  shared.add({.section = "database",
              .name = "replica_url",
              .type = Type::string,
              .doc = "read replica for hot reads"});
  shared.add({.section = "database",
              .name = "pool_size",
              .type = Type::integer,
              .default_value = 8,
              .min = 1,
              .max = 64,
              .doc = "connections in the pool"});
  shared.add({.section = "log",
              .name = "level",
              .type = Type::enumeration,
              .default_value = "info",
              .choices = {"debug", "info", "warn", "error"},
              .doc = "lowest level logged"});
  shared.add({.section = "log", .name = "json", .type = Type::boolean, .default_value = true});
  Schema router;
  router.add({.section = "router",
              .name = "listen",
              .type = Type::string,
              .default_value = "127.0.0.1:8000",
              .doc = "HTTP listen address"});
  router.add({.section = "router",
              .name = "workers",
              .type = Type::integer,
              .required = true,
              .min = 1,
              .doc = "worker threads"});
  router.add({.section = "router",
              .name = "sample_rate",
              .type = Type::number,
              .default_value = 0.1,
              .min = 0,
              .max = 1});
  router.add({.section = "router",
              .name = "request_timeout",
              .type = Type::duration,
              .default_value = "90s",
              .min = 1000});
  router.add(
      {.section = "router", .name = "flush_interval", .type = Type::duration, .default_value = 50});
  router.add({.section = "router",
              .name = "prefixes",
              .type = Type::string_list,
              .default_value = {"!", "#", "needs \"quotes\": yes"}});
  router.add({.section = "router",
              .name = "greeting",
              .type = Type::string,
              .default_value = "yes: # not a comment\n"});
  router.add({.section = "router",
              .name = "hmac_secret",
              .type = Type::string,
              .default_value = "dev-only",
              .secret = true});
  router.add({.section = "router",
              .name = "mode",
              .type = Type::enumeration,
              .choices = {"a", "b"},
              .doc = "no default"});
  shared.merge(router);
  return shared;
}

auto internal_error() {
  return Catch::Predicate<waddle::Error>(
      [](const waddle::Error& e) { return e.code() == Errc::internal; }, "Errc::internal");
}

}  // namespace

TEST_CASE("a schema keeps declaration order and finds keys") {
  auto s = full_schema();
  CHECK(s.size() == 14);
  CHECK(s.sections() == std::vector<std::string>{"database", "log", "router"});
  CHECK(s.keys().front().name == "url");
  CHECK(s.keys().back().name == "mode");
  std::vector<std::string> names;
  for (const auto& k : s) names.push_back(k.section + "." + k.name);
  CHECK(names[5] == "router.listen");
  const auto* k = s.find("router", "request_timeout");
  REQUIRE(k);
  CHECK(k->default_value == 90000);  // duration defaults are stored in milliseconds
  CHECK(s.find("router", "flush_interval")->default_value == 50);
  CHECK(s.find("router", "sample_rate")->default_value.is_number_float());
  CHECK(s.find("router", "url") == nullptr);
  CHECK(s.find("nowhere", "url") == nullptr);
  CHECK(s.has_section("log"));
  CHECK_FALSE(s.has_section("logs"));
  CHECK(env_var_name("router", "request_timeout") == "WADDLE_ROUTER_REQUEST_TIMEOUT");
  CHECK(type_name(Type::string_list) == "list of strings");
}

TEST_CASE("declaration mistakes throw Errc::internal") {
  auto bad = [](KeySpec spec) {
    Schema s;
    s.add({.section = "db", .name = "password", .type = Type::string, .secret = true});
    s.add({.section = "db", .name = "port", .type = Type::integer});
    s.add(std::move(spec));
  };
  CHECK_THROWS_MATCHES(bad({.section = "db", .name = "port"}), waddle::Error, internal_error());
  CHECK_THROWS_MATCHES(bad({.section = "DB", .name = "x"}), waddle::Error, internal_error());
  CHECK_THROWS_MATCHES(bad({.section = "db", .name = "bad-name"}), waddle::Error, internal_error());
  CHECK_THROWS_MATCHES(bad({.section = "db", .name = ""}), waddle::Error, internal_error());
  CHECK_THROWS_MATCHES(bad({.section = "db", .name = "password_file"}), waddle::Error,
                       internal_error());
  CHECK_NOTHROW(bad({.section = "db_port", .name = "x"}));
  CHECK_THROWS_MATCHES(
      bad({.section = "db", .name = "n", .type = Type::integer, .default_value = "8"}),
      waddle::Error, internal_error());
  CHECK_THROWS_MATCHES(
      bad({.section = "db", .name = "n", .type = Type::integer, .default_value = 0, .min = 1}),
      waddle::Error, internal_error());
  CHECK_THROWS_MATCHES(
      bad({.section = "db", .name = "n", .type = Type::duration, .default_value = "soon"}),
      waddle::Error, internal_error());
  CHECK_THROWS_MATCHES(bad({.section = "db", .name = "n", .type = Type::enumeration}),
                       waddle::Error, internal_error());
  CHECK_THROWS_MATCHES(bad({.section = "db",
                            .name = "n",
                            .type = Type::enumeration,
                            .default_value = "c",
                            .choices = {"a", "b"}}),
                       waddle::Error, internal_error());
  CHECK_THROWS_MATCHES(bad({.section = "db", .name = "n", .min = 3, .max = 2}), waddle::Error,
                       internal_error());
  CHECK_THROWS_MATCHES(bad({.section = "db", .name = "n", .default_value = "x", .required = true}),
                       waddle::Error, internal_error());
  CHECK_THROWS_MATCHES(
      bad({.section = "db", .name = "n", .type = Type::string_list, .default_value = {1, 2}}),
      waddle::Error, internal_error());

  Schema a, b;
  a.add({.section = "log", .name = "level"});
  b.add({.section = "log", .name = "level"});
  CHECK_THROWS_MATCHES(a.merge(b), waddle::Error, internal_error());
  // Two keys that would share one environment variable.
  Schema c;
  c.add({.section = "a_b", .name = "c"});
  CHECK_THROWS_MATCHES(c.add({.section = "a", .name = "b_c"}), waddle::Error, internal_error());
}

TEST_CASE("print_default documents every key and loads back to the defaults") {
  auto s = full_schema();
  auto text = print_default(s);
  INFO(text);
  CHECK_THAT(text, Catch::Contains("# PostgreSQL URL of the primary (string, required, secret; "
                                   "env WADDLE_DATABASE_URL)"));
  CHECK_THAT(text, Catch::Contains("  # url_file: /etc/waddlebot/database.url\n"));
  CHECK_THAT(text, Catch::Contains("  # replica_url: \"\"\n"));
  CHECK_THAT(text, Catch::Contains("  # workers: 1\n"));
  CHECK_THAT(text, Catch::Contains("  # mode: \"a\"\n"));
  CHECK_THAT(text, Catch::Contains("(integer, 1..64, default 8; env WADDLE_DATABASE_POOL_SIZE)"));
  CHECK_THAT(text, Catch::Contains("one of: debug info warn error, default \"info\""));
  CHECK_THAT(text, Catch::Contains("  request_timeout: 90s\n"));
  CHECK_THAT(text, Catch::Contains("  flush_interval: 50ms\n"));
  CHECK_THAT(text, Catch::Contains("  pool_size: 8\n"));
  CHECK_THAT(text, !Catch::Contains("dev-only"));  // not even a secret's default is shown

  auto r = load_string(s, text, "default.yaml",
                       fixed_environment({{"WADDLE_DATABASE_URL", "postgresql:///x"},
                                          {"WADDLE_ROUTER_WORKERS", "3"}}));
  for (const auto& e : r.errors) UNSCOPED_INFO(e.to_string());
  REQUIRE(r.errors.empty());
  auto j = r.config->to_json(false);
  for (const auto& k : s) {
    if (k.required) continue;
    INFO(k.section + "." + k.name);
    if (k.type == Type::duration) {
      CHECK(r.config->get_duration(k.section, k.name).count() == k.default_value.get<int>());
    } else {
      CHECK(j[k.section][k.name] == k.default_value);
    }
  }
  CHECK(r.config->get_list("router", "prefixes").at(2) == "needs \"quotes\": yes");
  CHECK(r.config->get_string("router", "greeting") == "yes: # not a comment\n");
  CHECK(r.config->get_string("router", "hmac_secret") == "dev-only");

  // Without the required keys the default file names each of them.
  r = load_string(s, text, "default.yaml", fixed_environment({}));
  REQUIRE(r.errors.size() == 2);
  CHECK(r.errors[0].key == "database.url");
  CHECK(r.errors[1].key == "router.workers");
}

TEST_CASE("to_yaml(false) loads back to the same config") {
  auto s = full_schema();
  auto r = load_string(s,
                       "database:\n  url: \"postgresql://u:p@h/db?x=1\"\n"
                       "router:\n  workers: 4\n  sample_rate: 0.3333\n  prefixes: []\n"
                       "  request_timeout: 1500ms\n  mode: b\n",
                       "in.yaml", fixed_environment({}));
  REQUIRE(r.config);
  auto yaml = r.config->to_yaml(false);
  INFO(yaml);
  auto again = load_string(s, yaml, "out.yaml", fixed_environment({}));
  for (const auto& e : again.errors) UNSCOPED_INFO(e.to_string());
  REQUIRE(again.config);
  CHECK(again.config->to_json(false) == r.config->to_json(false));
  CHECK(r.config->to_json(false)["router"]["request_timeout"] == "1500ms");
  CHECK_FALSE(again.config->has("database", "replica_url"));
}

TEST_CASE("sections of other programs sharing the file are skipped, not checked") {
  waddle::config::Schema schema;
  schema.add({.section = "router",
              .name = "listen",
              .type = waddle::config::Type::string,
              .default_value = "127.0.0.1:8000",
              .doc = "where to listen"});
  schema.ignore_section("overlay");
  schema.ignore_section("router");  // declared keys win: router is still checked
  CHECK(schema.ignores_section("overlay"));
  CHECK_FALSE(schema.ignores_section("router"));
  auto env = waddle::config::fixed_environment({});
  auto ok = waddle::config::load_string(schema, "overlay:\n  anything: [1, 2]\n", "w.yaml", env);
  CHECK(ok.errors.empty());
  auto bad =
      waddle::config::load_string(schema, "router:\n  lisen: x\nslack:\n  a: 1\n", "w.yaml", env);
  REQUIRE(bad.errors.size() == 2);
  CHECK(bad.errors[0].key == "router.lisen");
  CHECK(bad.errors[1].key == "slack");
  waddle::config::Schema merged;
  merged.merge(schema);
  CHECK(merged.ignores_section("overlay"));
  merged.unignore_section("overlay");
  CHECK_FALSE(merged.ignores_section("overlay"));
}
