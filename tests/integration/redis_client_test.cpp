// waddle::redis::Client against the test cluster's real redis-server.
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <thread>

#include "error/error.hpp"
#include "redis/client.hpp"
#include "redis/subscriber.hpp"
#include "support/async.hpp"
#include "support/cluster.hpp"

// Never co_await inside CHECK/REQUIRE: Catch2's macros mention the expression twice and GCC 12
// then runs the co_await twice.
// GCC 12 reports Asio's awaitable-frame operator new/delete pair as mismatched once it inlines
// aligned_alloc into a coroutine ramp; the pair is Asio's own and matches.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using waddle::Errc;
using waddle::Error;
using waddle::redis::Client;
using waddle::redis::Options;
using waddle::redis::Reply;
using waddle::redis::Script;
using waddle::redis::Subscriber;
using namespace std::chrono_literals;

namespace {

using waddle::test::error_of;
using waddle::test::run_bounded;
using waddle::test::sleep_for;

// Keys of this process only: the redis-server is shared with other tests.
std::string key(const std::string& name) {
  return "waddle:test:redis:" + std::to_string(::getpid()) + ":" + name;
}

// The socket path from the cluster's env file (WADDLE_REDIS_SOCKET).
std::string socket_path() {
  if (const char* v = std::getenv("WADDLE_REDIS_SOCKET")) return v;
  const char* dir = std::getenv("WADDLE_TEST_CLUSTER");
  REQUIRE(dir != nullptr);
  std::ifstream in(std::string(dir) + "/env");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("WADDLE_REDIS_SOCKET=")) return line.substr(line.find('=') + 1);
  }
  FAIL("the cluster env has no WADDLE_REDIS_SOCKET");
  return {};
}

Options options_for(std::string url) {
  Options options;
  options.url = std::move(url);
  options.reconnect_min = 20ms;
  options.reconnect_max = 200ms;
  return options;
}

std::string run_id(const Reply& info) {
  const auto& text = info.as_string();
  auto at = text.find("run_id:");
  REQUIRE(at != std::string::npos);
  return text.substr(at + 7, 40);
}

using Received = std::shared_ptr<std::vector<std::pair<std::string, std::string>>>;

// After a restart the subscriber needs a moment to resubscribe, so publish (bounded) until the
// message arrived.
awaitable<void> deliver(Client& pub, Received got, std::string channel, std::string message) {
  bool delivered = false;
  for (int i = 0; i < 200 && !delivered; ++i) {
    (void)co_await error_of(pub.command("PUBLISH", channel, message));
    for (const auto& [c, m] : *got) delivered = delivered || (c == channel && m == message);
    if (!delivered) co_await sleep_for(25ms);
  }
  CHECK(delivered);
}

// Waits (bounded) until the client noticed that the server went away.
awaitable<void> wait_disconnected(Client& client) {
  for (int i = 0; i < 500 && client.connected(); ++i) co_await sleep_for(10ms);
  REQUIRE_FALSE(client.connected());
}

}  // namespace

TEST_CASE("redis: SET, GET, INCR and DEL round trip") {
  asio::io_context ioc;
  Client client(ioc.get_executor(), options_for(waddle::test::redis_url()));
  run_bounded(ioc, [](Client& c) -> awaitable<void> {
    co_await c.connect();
    CHECK(c.connected());
    auto k = key("roundtrip");
    auto r1 = co_await c.command("SET", k, "hello");
    CHECK(r1.as_string() == "OK");
    auto r2 = co_await c.command("GET", k);
    CHECK(r2.as_string() == "hello");
    auto r3 = co_await c.command("DEL", k);
    CHECK(r3.as_int() == 1);
    auto r4 = co_await c.command("GET", k);
    CHECK(r4.is_nil());
    auto r5 = co_await c.command("INCR", k);
    CHECK(r5.as_int() == 1);
    auto r6 = co_await c.command("INCRBY", k, 41);
    CHECK(r6.as_int() == 42);
    auto r7 = co_await c.command("GET", k);
    CHECK(r7.as_int() == 42);
    // A Redis error is a reply, not an exception; command_or_throw turns it into one.
    auto wrong = co_await c.command("LPUSH", k, "x");
    CHECK(wrong.is_error());
    CHECK_THAT(wrong.str, Catch::StartsWith("WRONGTYPE"));
    std::vector<std::string> lpush{"LPUSH", k, "x"};
    auto error = co_await error_of(c.command_or_throw(lpush));
    REQUIRE(error.has_value());
    CHECK(error->code() == Errc::internal);
    CHECK_THAT(error->what(), Catch::Contains("LPUSH") && Catch::Contains("WRONGTYPE"));
    std::vector<std::vector<std::string>> batch{
        {"SET", k, "1"}, {"INCR", k}, {"GET", k}, {"DEL", k}};
    auto replies = co_await c.pipeline(batch);
    REQUIRE(replies.size() == 4);
    CHECK(replies[1].as_int() == 2);
    CHECK(replies[2].as_string() == "2");
    CHECK(replies[3].as_int() == 1);
    c.close();
    CHECK_FALSE(c.connected());
  }(client));
}

TEST_CASE("redis: 1000 pipelined commands from 10 coroutines get their own replies") {
  asio::io_context ioc;
  Client client(ioc.get_executor(), options_for(waddle::test::redis_url()));
  run_bounded(ioc, [](Client& c) -> awaitable<void> {
    co_await c.connect();
    constexpr int kWorkers = 10;
    constexpr int kEach = 100;
    int finished = 0;
    int mismatches = 0;
    for (int w = 0; w < kWorkers; ++w) {
      asio::co_spawn(
          co_await asio::this_coro::executor,
          [](Client& c, int w, int& finished, int& mismatches) -> awaitable<void> {
            auto k = key("fanout:" + std::to_string(w));
            for (int i = 0; i < kEach; ++i) {
              // Odd steps echo a value only this caller knows; even steps count.
              if (i % 2 == 0) {
                auto r = co_await c.command("INCR", k);
                if (r.as_int() != i / 2 + 1) ++mismatches;
              } else {
                auto value = "w" + std::to_string(w) + ":" + std::to_string(i);
                auto r = co_await c.command("ECHO", value);
                if (r.as_string() != value) ++mismatches;
              }
            }
            co_await c.command("DEL", k);
            ++finished;
          }(c, w, finished, mismatches),
          asio::detached);
    }
    for (int i = 0; i < 2000 && finished < kWorkers; ++i) co_await sleep_for(10ms);
    CHECK(finished == kWorkers);
    CHECK(mismatches == 0);
  }(client));
}

TEST_CASE("redis: unix socket URL") {
  asio::io_context ioc;
  Client client(ioc.get_executor(), options_for("unix://" + socket_path()));
  run_bounded(ioc, [](Client& c) -> awaitable<void> {
    co_await c.connect();
    auto r8 = co_await c.command("PING");
    CHECK(r8.as_string() == "PONG");
    auto k = key("unix");
    auto r9 = co_await c.command("SET", k, "via-socket");
    CHECK(r9.as_string() == "OK");
    auto r10 = co_await c.command("GET", k);
    CHECK(r10.as_string() == "via-socket");
    co_await c.command("DEL", k);
  }(client));
}

TEST_CASE("redis: SELECT puts keys in the URL's database") {
  asio::io_context ioc;
  Client db0(ioc.get_executor(), options_for(waddle::test::redis_url()));
  Client db1(ioc.get_executor(), options_for(waddle::test::redis_url() + "/1"));
  Client db1_unix(ioc.get_executor(), options_for("unix://" + socket_path() + "?db=1"));
  run_bounded(ioc, [](Client& db0, Client& db1, Client& db1_unix) -> awaitable<void> {
    co_await db0.connect();
    co_await db1.connect();
    co_await db1_unix.connect();
    auto k = key("select");
    auto r11 = co_await db1.command("SET", k, "in-db-1");
    CHECK(r11.as_string() == "OK");
    auto r12 = co_await db0.command("GET", k);
    CHECK(r12.is_nil());
    auto r13 = co_await db1.command("GET", k);
    CHECK(r13.as_string() == "in-db-1");
    auto r14 = co_await db1_unix.command("GET", k);
    CHECK(r14.as_string() == "in-db-1");
    co_await db1.command("DEL", k);
  }(db0, db1, db1_unix));

  Client bad_db(ioc.get_executor(), options_for(waddle::test::redis_url() + "/100000"));
  run_bounded(ioc, [](Client& c) -> awaitable<void> {
    auto error = co_await error_of(c.connect());
    REQUIRE(error.has_value());
    CHECK(error->code() == Errc::invalid_argument);
    CHECK_THAT(error->what(), Catch::Contains("SELECT 100000"));
  }(bad_db));
}

TEST_CASE("redis: AUTH as an ACL user; a wrong password is a clear error") {
  asio::io_context ioc;
  const std::string user = "waddle_test_" + std::to_string(::getpid());
  const std::string password = "pw-" + std::to_string(::getpid()) + "-Zq9";
  Client admin(ioc.get_executor(), options_for(waddle::test::redis_url()));
  run_bounded(ioc, [](Client& admin, std::string user, std::string password) -> awaitable<void> {
    co_await admin.connect();
    auto created =
        co_await admin.command("ACL", "SETUSER", user, "on", ">" + password, "~*", "+@all");
    CHECK(created.as_string() == "OK");
  }(admin, user, password));

  auto hostport = waddle::test::redis_url().substr(std::string("redis://").size());
  std::optional<std::exception_ptr> failure;
  try {
    Client good(ioc.get_executor(),
                options_for("redis://" + user + ":" + password + "@" + hostport));
    Client bad(ioc.get_executor(),
               options_for("redis://" + user + ":not-" + password + "@" + hostport));
    run_bounded(
        ioc,
        [](Client& good, Client& bad, std::string user, std::string password) -> awaitable<void> {
          co_await good.connect();
          auto r15 = co_await good.command("ACL", "WHOAMI");
          CHECK(r15.as_string() == user);
          auto error = co_await error_of(bad.connect());
          REQUIRE(error.has_value());
          CHECK(error->code() == Errc::unauthenticated);
          CHECK_THAT(error->what(), Catch::Contains("AUTH") && Catch::Contains(user));
          CHECK_THAT(error->what(), !Catch::Contains(password));
          CHECK_FALSE(bad.connected());
        }(good, bad, user, password));
  } catch (...) {
    failure = std::current_exception();
  }
  run_bounded(ioc, [](Client& admin, std::string user) -> awaitable<void> {
    auto r16 = co_await admin.command("ACL", "DELUSER", user);
    CHECK(r16.as_int() == 1);
  }(admin, user));
  if (failure) std::rethrow_exception(*failure);
}

TEST_CASE("redis: EVALSHA falls back to EVAL after SCRIPT FLUSH") {
  asio::io_context ioc;
  Client client(ioc.get_executor(), options_for(waddle::test::redis_url()));
  run_bounded(ioc, [](Client& c) -> awaitable<void> {
    co_await c.connect();
    Script script("return redis.call('INCRBY', KEYS[1], ARGV[1]) * 10");
    auto k = key("script");
    co_await c.command("DEL", k);
    auto r17 = co_await c.command("SCRIPT", "FLUSH");
    CHECK(r17.as_string() == "OK");
    std::vector<std::string> keys{k};
    std::vector<std::string> args{"4"};
    auto r18 = co_await c.eval(script, keys, args);
    CHECK(r18.as_int() == 40);  // NOSCRIPT → EVAL
    auto exists = co_await c.command("SCRIPT", "EXISTS", script.sha1());
    REQUIRE(exists.as_array().size() == 1);
    CHECK(exists.as_array()[0].as_int() == 1);  // EVAL cached it under our SHA-1
    auto r19 = co_await c.eval(script, keys, args);
    CHECK(r19.as_int() == 80);  // EVALSHA
    Script broken("return redis.call('NOPE')");
    std::vector<std::string> none;
    auto r20 = co_await c.eval(broken, none, none);
    CHECK(r20.is_error());
    co_await c.command("DEL", k);
  }(client));
}

TEST_CASE("redis: bad URLs are invalid_argument") {
  asio::io_context ioc;
  for (const char* url : {"redis://", "http://127.0.0.1:6379", "redis://127.0.0.1:port",
                          "unix://relative/path.sock", "redis://h/notadb"}) {
    try {
      Client c(ioc.get_executor(), options_for(url));
      FAIL("accepted " << url);
    } catch (const Error& e) {
      CHECK(e.code() == Errc::invalid_argument);
    }
  }
}

TEST_CASE("redis: the client reconnects after redis-server restarts") {
  asio::io_context ioc;
  Client client(ioc.get_executor(), options_for(waddle::test::redis_url()));
  std::string before;
  run_bounded(ioc, [](Client& c, std::string& before) -> awaitable<void> {
    co_await c.connect();
    before = run_id(co_await c.command("INFO", "server"));
  }(client, before));

  waddle::test::restart_redis();

  run_bounded(ioc, [](Client& c, std::string before) -> awaitable<void> {
    // The first command may race the client noticing the drop and fail with unavailable; the
    // one after it must succeed on the new connection.
    auto first = co_await error_of(c.command("PING"));
    if (first) CHECK(first->code() == Errc::unavailable);
    auto after = run_id(co_await c.command("INFO", "server"));
    CHECK(after != before);
    CHECK(c.connected());
  }(client, before));
}

TEST_CASE("redis: a command issued while redis is down completes after it comes back") {
  asio::io_context ioc;
  Client client(ioc.get_executor(), options_for(waddle::test::redis_url()));
  run_bounded(ioc, [](Client& c) -> awaitable<void> { co_await c.connect(); }(client));

  waddle::test::stop_redis();
  std::thread restarter;
  try {
    run_bounded(ioc, wait_disconnected(client));
    restarter = std::thread([] {
      std::this_thread::sleep_for(200ms);
      waddle::test::restart_redis();
    });
    run_bounded(ioc, [](Client& c) -> awaitable<void> {
      auto k = key("while-down");
      auto r21 = co_await c.command("SET", k, "queued");
      CHECK(r21.as_string() == "OK");
      auto r22 = co_await c.command("GET", k);
      CHECK(r22.as_string() == "queued");
      co_await c.command("DEL", k);
    }(client));
  } catch (...) {
    if (restarter.joinable())
      restarter.join();
    else
      waddle::test::restart_redis();
    throw;
  }
  restarter.join();
}

TEST_CASE("redis: a command waiting for a stopped redis fails after command_timeout") {
  asio::io_context ioc;
  auto options = options_for(waddle::test::redis_url());
  options.command_timeout = 300ms;
  Client client(ioc.get_executor(), options);
  run_bounded(ioc, [](Client& c) -> awaitable<void> { co_await c.connect(); }(client));
  waddle::test::stop_redis();
  try {
    run_bounded(ioc, [](Client& c) -> awaitable<void> {
      co_await wait_disconnected(c);
      auto error = co_await error_of(c.command("PING"));
      REQUIRE(error.has_value());
      CHECK(error->code() == Errc::unavailable);
      CHECK_THAT(error->what(),
                 Catch::Contains("no connection to") && Catch::Contains("within 300 ms"));
    }(client));
  } catch (...) {
    waddle::test::restart_redis();
    throw;
  }
  waddle::test::restart_redis();
}

TEST_CASE("redis: pub/sub delivers messages, also after redis-server restarts") {
  asio::io_context ioc;
  Client publisher(ioc.get_executor(), options_for(waddle::test::redis_url()));
  Subscriber subscriber(ioc.get_executor(), options_for(waddle::test::redis_url()));
  auto received = std::make_shared<Received::element_type>();
  subscriber.on_message([received](std::string channel, std::string message) {
    received->emplace_back(std::move(channel), std::move(message));
  });
  auto channel = key("events");
  run_bounded(
      ioc,
      [](Client& pub, Subscriber& sub, std::string channel, Received received) -> awaitable<void> {
        co_await pub.connect();
        co_await sub.connect();
        std::vector<std::string> channels{channel};
        co_await sub.subscribe(channels);
        std::vector<std::string> patterns{channel + ":p*"};
        co_await sub.psubscribe(patterns);
        auto n = co_await pub.command("PUBLISH", channel, "first");
        CHECK(n.as_int() == 1);
        co_await deliver(pub, received, channel, "first");
        co_await deliver(pub, received, channel + ":pattern", "by-pattern");
      }(publisher, subscriber, channel, received));

  waddle::test::restart_redis();

  run_bounded(
      ioc,
      [](Client& pub, Subscriber& sub, std::string channel, Received received) -> awaitable<void> {
        co_await deliver(pub, received, channel, "after-restart");
        co_await deliver(pub, received, channel + ":pattern", "pattern-after-restart");
        std::vector<std::string> channels{channel};
        co_await sub.unsubscribe(channels);
        auto nobody = co_await pub.command("PUBLISH", channel, "nobody");
        CHECK(nobody.as_int() == 0);
        std::vector<std::string> none;
        auto error = co_await error_of(sub.subscribe(none));
        REQUIRE(error.has_value());
        CHECK(error->code() == Errc::invalid_argument);
      }(publisher, subscriber, channel, received));
}
