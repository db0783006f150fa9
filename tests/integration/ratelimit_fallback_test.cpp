// FallbackLimiter against the test cluster's real redis-server, stopped and restarted under it.
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <catch2/catch.hpp>
#include <random>

#include "error/error.hpp"
#include "ratelimit/fallback_limiter.hpp"
#include "ratelimit/keys.hpp"
#include "ratelimit_support.hpp"
#include "redis/client.hpp"
#include "support/async.hpp"
#include "support/cluster.hpp"

// Never co_await inside CHECK/REQUIRE (GCC 12 evaluates the expression twice there).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace asio = boost::asio;
using asio::awaitable;
using waddle::redis::Client;
using namespace waddle::ratelimit;
using namespace std::chrono_literals;

namespace {

using waddle::test::error_of;
using waddle::test::run_bounded;
using waddle::test::sleep_for;

std::string key(const std::string& name) {
  return waddle::test::ratelimit_key(name);
}

waddle::redis::Options options() {
  return waddle::test::ratelimit_redis_options(2000ms);
}

awaitable<Decision> one(Limiter& limiter, std::string k, Window w) {
  return waddle::test::check_one(limiter, std::move(k), w);
}

// Restarts redis when a test leaves early, so later tests find it running.
struct RedisRestarter {
  bool stopped = false;
  ~RedisRestarter() {
    if (stopped) waddle::test::restart_redis();
  }
};

}  // namespace

TEST_CASE("fallback: serves from redis, then locally while redis is down, then redis again") {
  asio::io_context ioc;
  Client client(ioc.get_executor(), options());
  FallbackLimiter limiter(client);
  const auto k = key("outage");
  const Window w{2, 60'000ms};

  run_bounded(ioc, [](Client& c, FallbackLimiter& l, std::string k, Window w) -> awaitable<void> {
    co_await c.connect();
    auto d = co_await one(l, k, w);
    CHECK(d.allowed);
    CHECK_FALSE(l.degraded());
    auto card = co_await c.command("ZCARD", k);
    CHECK(card.as_int() == 1);  // recorded in redis, not locally
  }(client, limiter, k, w));
  CHECK(limiter.local_checks() == 0);

  RedisRestarter restarter;
  waddle::test::stop_redis();
  restarter.stopped = true;

  run_bounded(ioc, [](Client& c, FallbackLimiter& l, std::string k, Window w) -> awaitable<void> {
    // Every check answers, whether the client has noticed the drop yet or not.
    for (int i = 0; i < 500 && c.connected(); ++i) {
      (void)co_await one(l, key("probe"), Window{1000, 60'000ms});
      co_await sleep_for(10ms);
    }
    REQUIRE_FALSE(c.connected());
    auto d1 = co_await one(l, k, w);
    auto d2 = co_await one(l, k, w);
    auto d3 = co_await one(l, k, w);
    CHECK(l.degraded());
    // The local windows start empty: two allowed, the third refused and announced.
    CHECK(d1.allowed);
    CHECK(d2.allowed);
    CHECK_FALSE(d3.allowed);
    CHECK(d3.first_refusal);
  }(client, limiter, k, w));
  CHECK(limiter.degraded());
  CHECK(limiter.degraded_count() == 1);
  CHECK(limiter.local_checks() >= 3);
  CHECK_FALSE(limiter.last_error().empty());

  waddle::test::restart_redis();
  restarter.stopped = false;

  run_bounded(ioc, [](Client& c, FallbackLimiter& l, std::string k, Window w) -> awaitable<void> {
    // The client reconnects in the background; poll (bounded) until checks reach redis again.
    for (int i = 0; i < 500 && l.degraded(); ++i) {
      (void)co_await one(l, key("probe2"), Window{1000, 60'000ms});
      if (l.degraded()) co_await sleep_for(20ms);
    }
    REQUIRE_FALSE(l.degraded());
    // The restarted redis is empty: this hit lands there.
    auto d = co_await one(l, k, w);
    CHECK(d.allowed);
    CHECK(d.count == 1);
    auto card = co_await c.command("ZCARD", k);
    CHECK(card.as_int() == 1);
    co_await c.command("DEL", k);
  }(client, limiter, k, w));
  CHECK(limiter.degraded_count() == 1);
}

TEST_CASE("fallback: a redis error reply falls back too, and the next good answer recovers") {
  asio::io_context ioc;
  Client client(ioc.get_executor(), options());
  FallbackLimiter limiter(client);
  run_bounded(ioc, [](Client& c, FallbackLimiter& l) -> awaitable<void> {
    co_await c.connect();
    const auto bad = key("wrongtype");
    co_await c.command("SET", bad, "not a zset");
    auto d = co_await one(l, bad, Window{1, 1000ms});
    CHECK(d.allowed);  // answered by the local limiter
    CHECK(l.degraded());
    CHECK(l.last_error().find("WRONGTYPE") != std::string::npos);
    auto good = co_await one(l, key("fine"), Window{1, 1000ms});
    CHECK(good.allowed);
    CHECK_FALSE(l.degraded());
    CHECK(l.degraded_count() == 1);
    std::optional<waddle::Errc> code;
    try {
      co_await one(l, "", Window{1, 1000ms});
    } catch (const waddle::Error& e) {
      code = e.code();
    }
    CHECK(code == waddle::Errc::invalid_argument);
    CHECK_FALSE(l.degraded());  // a caller's bug is not a redis failure
    co_await c.command("DEL", bad);
  }(client, limiter));
}

TEST_CASE("fallback: a client that never connected is answered locally and reported") {
  asio::io_context ioc;
  Client client(ioc.get_executor(), options());  // connect() is never called
  FallbackLimiter limiter(client);
  std::vector<Decision> got;
  run_bounded(ioc, [](FallbackLimiter& l, std::vector<Decision>& got) -> awaitable<void> {
    got.push_back(co_await one(l, key("never"), Window{1, 60'000ms}));
    got.push_back(co_await one(l, key("never"), Window{1, 60'000ms}));
  }(limiter, got));
  REQUIRE(got.size() == 2);
  CHECK(got[0].allowed);
  CHECK_FALSE(got[1].allowed);
  CHECK(limiter.degraded());
  CHECK(limiter.last_error().find("not connected") != std::string::npos);
}
