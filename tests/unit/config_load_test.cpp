#include <catch2/catch.hpp>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "config/config.hpp"
#include "error/error.hpp"

using namespace waddle::config;
using waddle::Errc;

namespace {

Schema test_schema() {
  Schema s;
  s.add({.section = "database",
         .name = "url",
         .type = Type::string,
         .required = true,
         .secret = true,
         .doc = "PostgreSQL URL of the primary"});
  s.add({.section = "database",
         .name = "pool_size",
         .type = Type::integer,
         .default_value = 8,
         .min = 1,
         .max = 64,
         .doc = "connections in the pool"});
  s.add({.section = "database",
         .name = "statement_timeout",
         .type = Type::duration,
         .default_value = "30s",
         .min = 100,
         .max = 3600000,
         .doc = "per-statement timeout"});
  s.add({.section = "log",
         .name = "level",
         .type = Type::enumeration,
         .default_value = "info",
         .choices = {"debug", "info", "warn", "error"},
         .doc = "lowest level logged"});
  s.add({.section = "log", .name = "json", .type = Type::boolean, .default_value = false});
  s.add({.section = "router",
         .name = "listen",
         .type = Type::string,
         .default_value = "127.0.0.1:8000",
         .doc = "HTTP listen address"});
  s.add({.section = "router", .name = "workers", .type = Type::integer, .default_value = 2});
  s.add({.section = "router",
         .name = "sample_rate",
         .type = Type::number,
         .default_value = 0.5,
         .min = 0,
         .max = 1});
  s.add(
      {.section = "router", .name = "prefixes", .type = Type::string_list, .default_value = {"!"}});
  s.add({.section = "router", .name = "replica_url", .type = Type::string});
  return s;
}

const std::map<std::string, std::string, std::less<>> kWithUrl = {
    {"WADDLE_DATABASE_URL", "postgresql:///waddle"}};

LoadResult load_text(std::string_view yaml,
                     std::map<std::string, std::string, std::less<>> env = kWithUrl) {
  return load_string(test_schema(), yaml, "test.yaml", fixed_environment(std::move(env)));
}

// The single error of a result, which must have exactly one.
ConfigError only_error(const LoadResult& r) {
  REQUIRE_FALSE(r.config);
  REQUIRE(r.errors.size() == 1);
  return r.errors.front();
}

}  // namespace

TEST_CASE("a valid file loads, and unset keys take their defaults") {
  auto r = load_text(
      "database:\n"
      "  pool_size: 16\n"
      "  statement_timeout: 250ms\n"
      "log:\n"
      "  level: debug\n"
      "  json: yes\n"
      "router:\n"
      "  sample_rate: 0.25\n"
      "  prefixes: ['!', '#']\n");
  REQUIRE(r.errors.empty());
  REQUIRE(r.config);
  const auto& c = *r.config;
  CHECK(c.source_file() == "test.yaml");
  CHECK(c.get_string("database", "url") == "postgresql:///waddle");
  CHECK(c.get_int("database", "pool_size") == 16);
  CHECK(c.get_duration("database", "statement_timeout") == std::chrono::milliseconds(250));
  CHECK(c.get_string("log", "level") == "debug");
  CHECK(c.get_bool("log", "json"));
  CHECK(c.get_double("router", "sample_rate") == 0.25);
  CHECK(c.get_list("router", "prefixes") == std::vector<std::string>{"!", "#"});
  CHECK(c.get_string("router", "listen") == "127.0.0.1:8000");
  CHECK(c.get_int("router", "workers") == 2);
  CHECK(c.get_double("router", "workers") == 2.0);
  CHECK(c.has("router", "listen"));
  CHECK_FALSE(c.has("router", "replica_url"));
}

TEST_CASE("booleans accept true/false and yes/no, and nothing else") {
  for (auto [text, value] : {std::pair{"true", true},
                             {"false", false},
                             {"yes", true},
                             {"no", false},
                             {"True", true},
                             {"NO", false}}) {
    auto r = load_text(std::string("log:\n  json: ") + text + "\n");
    REQUIRE(r.config);
    CHECK(r.config->get_bool("log", "json") == value);
  }
  auto e = only_error(load_text("log:\n  json: maybe\n"));
  CHECK(e.key == "log.json");
  CHECK(e.line == 2);
  CHECK_THAT(e.message, Catch::Contains("\"maybe\""));
}

TEST_CASE("durations: units, bare seconds, and bad forms") {
  CHECK(parse_duration_ms("250ms") == 250);
  CHECK(parse_duration_ms("30s") == 30000);
  CHECK(parse_duration_ms("5m") == 300000);
  CHECK(parse_duration_ms("1h") == 3600000);
  CHECK(parse_duration_ms("12") == 12000);
  CHECK(parse_duration_ms("0") == 0);
  for (auto bad : {"", "-5s", "5 s", "1.5s", "5min", "s", "99999999999999999999h", "5d", "+5s"}) {
    INFO(bad);
    CHECK_FALSE(parse_duration_ms(bad));
  }
  CHECK(format_duration(3600000) == "1h");
  CHECK(format_duration(90000) == "90s");
  CHECK(format_duration(300000) == "5m");
  CHECK(format_duration(250) == "250ms");
  CHECK(format_duration(0) == "0s");

  auto r = load_text("database:\n  statement_timeout: 2m\n");
  REQUIRE(r.config);
  CHECK(r.config->get_duration("database", "statement_timeout") == std::chrono::minutes(2));
  auto e = only_error(load_text("database:\n  statement_timeout: 5 minutes\n"));
  CHECK(e.key == "database.statement_timeout");
  CHECK(e.line == 2);
  CHECK_THAT(e.message, Catch::Contains("duration"));
}

TEST_CASE("an unknown section is an error with its line and a hint") {
  auto e = only_error(load_text("log:\n  level: info\ndatabse:\n  pool_size: 3\n"));
  CHECK(e.key == "databse");
  CHECK(e.file == "test.yaml");
  CHECK(e.line == 3);
  CHECK_THAT(e.message, Catch::Contains("unknown section"));
  CHECK_THAT(e.message, Catch::Contains("did you mean \"database\"?"));
  CHECK(e.to_string() == "test.yaml:3: databse: " + e.message);
}

TEST_CASE("an unknown key is an error naming section.key and its line, with a hint when close") {
  auto e = only_error(load_text("database:\n  pool_size: 3\n  pool_sise: 4\n"));
  CHECK(e.key == "database.pool_sise");
  CHECK(e.line == 3);
  CHECK_THAT(e.message, Catch::Contains("did you mean \"pool_size\"?"));

  e = only_error(load_text("router:\n  completely_different: 1\n"));
  CHECK(e.key == "router.completely_different");
  CHECK(e.line == 2);
  CHECK_THAT(e.message, !Catch::Contains("did you mean"));

  e = only_error(load_text("router:\n  level: info\n"));
  CHECK(e.key == "router.level");
  CHECK_THAT(e.message, Catch::Contains("section \"log\""));
}

TEST_CASE("wrong types are errors with the key's line") {
  auto e = only_error(load_text("router:\n  workers: 2\n  listen: [a, b]\n"));
  CHECK(e.key == "router.listen");
  CHECK(e.line == 3);
  CHECK_THAT(e.message, Catch::Contains("expected a string, got a list"));

  e = only_error(load_text("router:\n  workers: abc\n"));
  CHECK(e.key == "router.workers");
  CHECK(e.line == 2);
  CHECK_THAT(e.message, Catch::Contains("expected an integer, got \"abc\""));

  for (auto bad : {"1.5", "1e3", "0x10", "12abc", "99999999999999999999"}) {
    INFO(bad);
    e = only_error(load_text(std::string("router:\n  workers: ") + bad + "\n"));
    CHECK(e.key == "router.workers");
  }

  e = only_error(load_text("router:\n  sample_rate: half\n"));
  CHECK(e.key == "router.sample_rate");
  CHECK_THAT(e.message, Catch::Contains("expected a number"));

  e = only_error(load_text("router:\n  prefixes: \"!\"\n"));
  CHECK(e.key == "router.prefixes");
  CHECK_THAT(e.message, Catch::Contains("list"));

  e = only_error(load_text("router:\n  prefixes:\n    - a\n    - [b]\n"));
  CHECK(e.key == "router.prefixes");
  CHECK_THAT(e.message, Catch::Contains("item 2"));

  e = only_error(load_text("router:\n  listen:\n    host: a\n"));
  CHECK(e.key == "router.listen");
  CHECK_THAT(e.message, Catch::Contains("got a mapping"));

  e = only_error(load_text("log: debug\n"));
  CHECK(e.key == "log");
  CHECK(e.line == 1);
  CHECK_THAT(e.message, Catch::Contains("mapping of keys"));

  e = only_error(load_text("- database\n- log\n"));
  CHECK(e.key.empty());
  CHECK(e.line == 1);
  CHECK_THAT(e.message, Catch::Contains("mapping of sections"));
}

TEST_CASE("values out of bounds or outside the choices are errors") {
  auto e = only_error(load_text("database:\n  pool_size: 0\n"));
  CHECK(e.key == "database.pool_size");
  CHECK(e.line == 2);
  CHECK_THAT(e.message, Catch::Contains("below the minimum"));

  e = only_error(load_text("database:\n  pool_size: 65\n"));
  CHECK_THAT(e.message, Catch::Contains("above the maximum"));
  CHECK_THAT(e.message, Catch::Contains("1..64"));

  e = only_error(load_text("router:\n  sample_rate: 1.5\n"));
  CHECK(e.key == "router.sample_rate");

  e = only_error(load_text("database:\n  statement_timeout: 50ms\n"));
  CHECK(e.key == "database.statement_timeout");
  CHECK_THAT(e.message, Catch::Contains("100ms"));

  e = only_error(load_text("\nlog:\n  level: inf0\n"));
  CHECK(e.key == "log.level");
  CHECK(e.line == 3);
  CHECK_THAT(e.message, Catch::Contains("not one of: debug, info, warn, error"));
  CHECK_THAT(e.message, Catch::Contains("did you mean \"info\"?"));

  // Bounds hold at their edges.
  auto r = load_text("database:\n  pool_size: 64\n  statement_timeout: 100ms\n");
  CHECK(r.config);
}

TEST_CASE("a missing required key names the key and the file") {
  auto e = only_error(load_text("database:\n  pool_size: 3\n", {}));
  CHECK(e.key == "database.url");
  CHECK(e.file == "test.yaml");
  CHECK(e.line == 1);  // the section it belongs in
  CHECK_THAT(e.message, Catch::Contains("required"));
  CHECK_THAT(e.message, Catch::Contains("WADDLE_DATABASE_URL"));

  e = only_error(load_text("log:\n  level: info\n", {}));
  CHECK(e.key == "database.url");
  CHECK(e.line == 0);
  CHECK(e.to_string() == "test.yaml: database.url: " + e.message);

  // "key:" with no value leaves it unset.
  e = only_error(load_text("database:\n  url:\n", {}));
  CHECK(e.key == "database.url");
}

TEST_CASE("an empty file, an empty section and null values are fine") {
  CHECK(load_text("").config);
  CHECK(load_text("# only a comment\n").config);
  auto r = load_text("router:\nlog:\n  level:\n");
  REQUIRE(r.config);
  CHECK(r.config->get_string("log", "level") == "info");
}

TEST_CASE("malformed YAML is one error carrying the parser's line") {
  auto e = only_error(load_text("database:\n  pool_size: 8\n url: x\nlog:\n  level: info\n"));
  CHECK(e.key.empty());
  CHECK(e.file == "test.yaml");
  CHECK(e.line == 3);
  CHECK_THAT(e.message, Catch::StartsWith("malformed YAML"));

  e = only_error(load_text("log:\n  level: info\n  json: [true\n"));
  CHECK(e.line >= 3);

  e = only_error(load_text("log:\n  level: info\n---\nrouter:\n  workers: 1\n"));
  CHECK(e.line == 3);  // the "---" that starts the second document
  CHECK_THAT(e.message, Catch::Contains("one YAML document"));
}

TEST_CASE("a leading document marker is fine and fuzzer-found inputs finish") {
  CHECK(load_text("---\nlog:\n  level: info\n").errors.empty());
  CHECK(load_text("# comment\n--- # first\nlog:\n  level: info\n").errors.empty());
  // yaml-cpp 0.7's LoadAll never returned on this input (config_load fuzz target).
  auto r = load_text(",routep");
  CHECK_FALSE(r.errors.empty());
}

TEST_CASE("duplicate sections and keys are errors") {
  auto e = only_error(load_text("log:\n  level: info\n  level: warn\n"));
  CHECK(e.key == "log.level");
  CHECK(e.line == 3);
  CHECK_THAT(e.message, Catch::Contains("line 2"));

  e = only_error(load_text("log:\n  level: info\nlog:\n  json: true\n"));
  CHECK(e.key == "log");
  CHECK(e.line == 3);
}

TEST_CASE("every error in a file is collected, in file order") {
  auto r = load_text(
      "database:\n"           // 1
      "  pool_size: many\n"   // 2
      "  pool_timeout: 5s\n"  // 3
      "log:\n"                // 4
      "  level: loud\n"       // 5
      "  json: perhaps\n"     // 6
      "routr:\n"              // 7
      "  workers: 3\n"        // 8
      "router:\n"             // 9
      "  sample_rate: 7\n",   // 10
      {});
  REQUIRE_FALSE(r.config);
  REQUIRE(r.errors.size() == 7);
  std::vector<std::pair<std::string, int>> got;
  for (const auto& e : r.errors) {
    CHECK(e.file == "test.yaml");
    got.emplace_back(e.key, e.line);
  }
  CHECK(got == std::vector<std::pair<std::string, int>>{{"database.pool_size", 2},
                                                        {"database.pool_timeout", 3},
                                                        {"log.level", 5},
                                                        {"log.json", 6},
                                                        {"routr", 7},
                                                        {"router.sample_rate", 10},
                                                        {"database.url", 1}});
}

TEST_CASE("a missing or unreadable file is one clear error") {
  auto r = load(test_schema(), "/nonexistent/waddle.yaml", fixed_environment(kWithUrl));
  auto e = only_error(r);
  CHECK(e.file == "/nonexistent/waddle.yaml");
  CHECK(e.line == 0);
  CHECK_THAT(e.message, Catch::Contains(std::strerror(ENOENT)));

  auto dir = std::filesystem::temp_directory_path();
  e = only_error(load(test_schema(), dir.string(), fixed_environment(kWithUrl)));
  CHECK(e.file == dir.string());
  CHECK_THAT(e.message, Catch::Contains("directory"));
}

TEST_CASE("load reads a real file and load_or_throw lists every error") {
  auto path = std::filesystem::temp_directory_path() /
              ("waddle-config-test-" + std::to_string(::getpid()) + ".yaml");
  {
    std::ofstream out(path);
    out << "log:\n  level: warn\n  json: 3\nrouter:\n  workers: x\n";
  }
  auto r = load(test_schema(), path.string(), fixed_environment(kWithUrl));
  REQUIRE(r.errors.size() == 2);
  CHECK(r.errors[0].file == path.string());
  CHECK(r.errors[0].line == 3);
  try {
    load_or_throw(test_schema(), path.string(), fixed_environment(kWithUrl));
    FAIL("load_or_throw did not throw");
  } catch (const waddle::Error& e) {
    CHECK(e.code() == Errc::invalid_argument);
    CHECK(std::string(e.what()) == r.errors[0].to_string() + "\n" + r.errors[1].to_string());
  }
  {
    std::ofstream out(path);
    out << "log:\n  level: warn\n";
  }
  auto c = load_or_throw(test_schema(), path.string(), fixed_environment(kWithUrl));
  CHECK(c.get_string("log", "level") == "warn");
  CHECK(c.source_file() == path.string());
  std::filesystem::remove(path);
}

TEST_CASE("environment variables override the file, parsed by type") {
  auto r = load_text("router:\n  listen: 0.0.0.0:1\n  workers: 1\n",
                     {{"WADDLE_DATABASE_URL", "postgresql://env"},
                      {"WADDLE_DATABASE_POOL_SIZE", "12"},
                      {"WADDLE_DATABASE_STATEMENT_TIMEOUT", "5m"},
                      {"WADDLE_LOG_LEVEL", "error"},
                      {"WADDLE_LOG_JSON", "true"},
                      {"WADDLE_ROUTER_LISTEN", "[::1]:9000"},
                      {"WADDLE_ROUTER_WORKERS", "7"},
                      {"WADDLE_ROUTER_SAMPLE_RATE", "0.125"},
                      {"WADDLE_ROUTER_PREFIXES", " !, #,?,"}});
  REQUIRE(r.errors.empty());
  const auto& c = *r.config;
  CHECK(c.get_string("database", "url") == "postgresql://env");
  CHECK(c.get_int("database", "pool_size") == 12);
  CHECK(c.get_duration("database", "statement_timeout") == std::chrono::minutes(5));
  CHECK(c.get_string("log", "level") == "error");
  CHECK(c.get_bool("log", "json"));
  CHECK(c.get_string("router", "listen") == "[::1]:9000");
  CHECK(c.get_int("router", "workers") == 7);
  CHECK(c.get_double("router", "sample_rate") == 0.125);
  CHECK(c.get_list("router", "prefixes") == std::vector<std::string>{"!", "#", "?"});

  r = load_text("", {{"WADDLE_DATABASE_URL", "x"}, {"WADDLE_ROUTER_PREFIXES", ""}});
  REQUIRE(r.config);
  CHECK(r.config->get_list("router", "prefixes").empty());
}

TEST_CASE("a bad environment value is an error naming the variable") {
  auto r = load_text("log:\n  json: maybe\n", {{"WADDLE_DATABASE_URL", "x"},
                                               {"WADDLE_ROUTER_WORKERS", "two"},
                                               {"WADDLE_LOG_LEVEL", "loud"},
                                               {"WADDLE_DATABASE_STATEMENT_TIMEOUT", "1ms"}});
  REQUIRE(r.errors.size() == 4);
  CHECK(r.errors[0].key == "log.json");  // the file's own error is still reported
  CHECK(r.errors[1].key == "WADDLE_DATABASE_STATEMENT_TIMEOUT");
  CHECK(r.errors[2].key == "WADDLE_LOG_LEVEL");
  CHECK(r.errors[3].key == "WADDLE_ROUTER_WORKERS");
  CHECK(r.errors[3].file.empty());
  CHECK(r.errors[3].line == 0);
  CHECK_THAT(r.errors[3].message, Catch::Contains("router.workers"));
  CHECK_THAT(r.errors[3].message, Catch::Contains("\"two\""));
  CHECK(r.errors[3].to_string() == "WADDLE_ROUTER_WORKERS: " + r.errors[3].message);
}

TEST_CASE("getting an undeclared key, a key of another type or an unset key is a bug") {
  auto r = load_text("");
  REQUIRE(r.config);
  const auto& c = *r.config;
  auto is_internal = [](const waddle::Error& e) { return e.code() == Errc::internal; };
  auto matcher = Catch::Predicate<waddle::Error>(is_internal, "Errc::internal");
  CHECK_THROWS_MATCHES(c.get_string("router", "nope"), waddle::Error, matcher);
  CHECK_THROWS_MATCHES(c.get_string("nowhere", "listen"), waddle::Error, matcher);
  CHECK_THROWS_MATCHES(c.has("router", "nope"), waddle::Error, matcher);
  CHECK_THROWS_MATCHES(c.get_int("router", "listen"), waddle::Error, matcher);
  CHECK_THROWS_MATCHES(c.get_duration("database", "pool_size"), waddle::Error, matcher);
  CHECK_THROWS_MATCHES(c.get_list("router", "listen"), waddle::Error, matcher);
  CHECK_THROWS_MATCHES(c.get_bool("router", "workers"), waddle::Error, matcher);
  CHECK_THROWS_MATCHES(c.get_string("router", "replica_url"), waddle::Error, matcher);
}

TEST_CASE("hostile input is an error, never a crash") {
  auto deep = std::string(20000, '[') + std::string(20000, ']');
  auto r = load_text("log:\n  level: " + deep + "\n");
  CHECK_FALSE(r.config);
  CHECK_FALSE(r.errors.empty());

  static constexpr char kBinary[] = "log:\n  level: \0\xff\xfe info\n";
  r = load_text(std::string(kBinary, sizeof kBinary - 1));
  CHECK_FALSE(r.config);
  REQUIRE_FALSE(r.errors.empty());
  CHECK_NOTHROW(r.errors.front().to_string());

  r = load_text("? [a, b]\n: c\n");
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].line == 1);

  r = load_text("database: &x\n  pool_size: 3\nlog: *x\n");
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].key == "log.pool_size");
}
