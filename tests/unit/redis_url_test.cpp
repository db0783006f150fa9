#include <catch2/catch.hpp>

#include "error/error.hpp"
#include "redis/options.hpp"
#include "redis/reply.hpp"
#include "redis/script.hpp"

using waddle::Errc;
using waddle::Error;
using waddle::redis::Endpoint;
using waddle::redis::parse_url;

namespace {

// The message of the invalid_argument error parse_url throws for `url`.
std::string url_error(const std::string& url) {
  try {
    parse_url(url);
  } catch (const Error& e) {
    CHECK(e.code() == Errc::invalid_argument);
    return e.what();
  }
  FAIL("parse_url accepted " << url);
  return {};
}

}  // namespace

TEST_CASE("redis URL: host, port, database and credentials") {
  auto ep = parse_url("redis://127.0.0.1:6380");
  CHECK(ep.kind == Endpoint::Kind::tcp);
  CHECK(ep.host == "127.0.0.1");
  CHECK(ep.port == 6380);
  CHECK(ep.db == 0);
  CHECK_FALSE(ep.password.has_value());
  CHECK(ep.user.empty());

  ep = parse_url("redis://localhost");
  CHECK(ep.host == "localhost");
  CHECK(ep.port == 6379);

  ep = parse_url("redis://:s3cret@cache.example:7000/3");
  CHECK(ep.user.empty());
  CHECK(ep.password == "s3cret");
  CHECK(ep.port == 7000);
  CHECK(ep.db == 3);

  ep = parse_url("redis://bot:p%40ss%3Aw0rd@[::1]:6379/0");
  CHECK(ep.user == "bot");
  CHECK(ep.password == "p@ss:w0rd");
  CHECK(ep.host == "::1");
  CHECK(ep.describe() == "[::1]:6379");

  ep = parse_url("redis://h:1/2");
  CHECK(ep.describe() == "h:1/2");
}

TEST_CASE("redis URL: unix sockets") {
  auto ep = parse_url("unix:///run/redis/redis.sock");
  CHECK(ep.kind == Endpoint::Kind::unix_socket);
  CHECK(ep.path == "/run/redis/redis.sock");
  CHECK(ep.db == 0);

  ep = parse_url("unix:///tmp/r.sock?db=5");
  CHECK(ep.db == 5);
  CHECK(ep.describe() == "unix:/tmp/r.sock?db=5");

  ep = parse_url("unix://u:pw@/tmp/r.sock");
  CHECK(ep.user == "u");
  CHECK(ep.password == "pw");
  CHECK(ep.path == "/tmp/r.sock");
}

TEST_CASE("redis URL: bad URLs name the bad part") {
  CHECK_THAT(url_error(""), Catch::Contains("empty"));
  CHECK_THAT(url_error("127.0.0.1:6379"), Catch::Contains("no scheme"));
  CHECK_THAT(url_error("http://127.0.0.1"), Catch::Contains("scheme 'http'"));
  CHECK_THAT(url_error("rediss://127.0.0.1"), Catch::Contains("TLS"));
  CHECK_THAT(url_error("redis://127.0.0.1:abc"), Catch::Contains("port 'abc'"));
  CHECK_THAT(url_error("redis://127.0.0.1:0"), Catch::Contains("port '0'"));
  CHECK_THAT(url_error("redis://127.0.0.1:70000"), Catch::Contains("port '70000'"));
  CHECK_THAT(url_error("redis://127.0.0.1:"), Catch::Contains("port is empty"));
  CHECK_THAT(url_error("redis://:6379"), Catch::Contains("host is missing"));
  CHECK_THAT(url_error("redis://127.0.0.1/x"), Catch::Contains("database 'x'"));
  CHECK_THAT(url_error("redis://127.0.0.1/-1"), Catch::Contains("database '-1'"));
  CHECK_THAT(url_error("redis://[::1:6379"), Catch::Contains("IPv6"));
  CHECK_THAT(url_error("redis://h/1?db=2"), Catch::Contains("twice"));
  CHECK_THAT(url_error("redis://h?timeout=3"), Catch::Contains("'timeout'"));
  CHECK_THAT(url_error("unix://relative.sock"), Catch::Contains("absolute"));
  CHECK_THAT(url_error("unix:///tmp/r.sock?db=x"), Catch::Contains("database 'x'"));
  CHECK_THAT(url_error("redis://user@h"), Catch::Contains("no password"));
}

TEST_CASE("redis URL: errors never quote the password") {
  for (const char* url : {"redis://u:Hunter2Secret@h:notaport", "redis://u:Hunter2Secret%zz@h",
                          "redis://u:Hunter2Secret@:1", "redis://u:Hunter2Secret@h/db?x=1"}) {
    auto message = url_error(url);
    CHECK_THAT(message, !Catch::Contains("Hunter2Secret"));
  }
  auto ep = parse_url("redis://u:Hunter2Secret@h:1");
  CHECK_THAT(ep.describe(), !Catch::Contains("Hunter2Secret"));
}

TEST_CASE("redis options: timeouts are validated") {
  waddle::redis::Options options;
  CHECK_NOTHROW(waddle::redis::validate(options));
  options.command_timeout = std::chrono::milliseconds(0);
  CHECK_THROWS_WITH(waddle::redis::validate(options), Catch::Contains("command_timeout"));
  options = {};
  options.reconnect_min = std::chrono::milliseconds(5000);
  CHECK_THROWS_WITH(waddle::redis::validate(options), Catch::Contains("reconnect_min"));
}

TEST_CASE("redis Reply helpers") {
  using waddle::redis::Reply;
  CHECK(Reply::string("42").as_int() == 42);
  CHECK(Reply::integer_value(-7).as_int() == -7);
  CHECK(Reply::status("OK").as_string() == "OK");
  CHECK_FALSE(Reply::nil().as_optional_string().has_value());
  CHECK(Reply::string("x").as_optional_string() == "x");
  CHECK(Reply::array({Reply::string("a"), Reply::nil()}).as_array().size() == 2);
  CHECK(Reply::array({Reply::string("a"), Reply::integer_value(1)}).describe() ==
        "[\"a\", (integer) 1]");

  CHECK_THROWS_AS(Reply::string("4x").as_int(), Error);
  CHECK_THROWS_AS(Reply::nil().as_string(), Error);
  CHECK_THROWS_AS(Reply::integer_value(1).as_array(), Error);
  try {
    (void)Reply::error("WRONGTYPE Operation against a key holding the wrong kind of value")
        .as_string();
    FAIL("an error reply converted to a string");
  } catch (const Error& e) {
    CHECK(e.code() == Errc::internal);
    CHECK_THAT(e.what(), Catch::Contains("WRONGTYPE"));
  }
  try {
    Reply::error("NOAUTH Authentication required.").throw_if_error("GET");
    FAIL("throw_if_error passed an error reply");
  } catch (const Error& e) {
    CHECK(e.code() == Errc::unauthenticated);
    CHECK_THAT(e.what(), Catch::Contains("redis GET failed: NOAUTH"));
  }
  CHECK_NOTHROW(Reply::status("OK").throw_if_error("SET"));
  CHECK(waddle::redis::errc_for_error_reply("NOPERM this user has no permissions") ==
        Errc::forbidden);
  CHECK(waddle::redis::errc_for_error_reply("LOADING Redis is loading") == Errc::unavailable);
}

TEST_CASE("redis Script: SHA-1 as Redis computes it") {
  // Known values: sha1("return 1") and sha1("").
  CHECK(waddle::redis::Script("return 1").sha1() == "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
  CHECK(waddle::redis::Script("").sha1() == "da39a3ee5e6b4b0d3255bfef95601890afd80709");
}
