// RedisLimiter against the test cluster's real redis-server.
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <catch2/catch.hpp>
#include <optional>
#include <random>

#include "error/error.hpp"
#include "ratelimit/keys.hpp"
#include "ratelimit/redis_limiter.hpp"
#include "ratelimit_support.hpp"
#include "redis/client.hpp"
#include "support/async.hpp"
#include "support/cluster.hpp"

// Never co_await inside CHECK/REQUIRE (GCC 12 evaluates the expression twice there).
// GCC 12 reports Asio's awaitable-frame operator new/delete pair as mismatched once it inlines
// aligned_alloc into a coroutine ramp; the pair is Asio's own and matches.
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

// Keys of this process and test only: the redis-server is shared with other tests.
std::string key(const std::string& name) {
  return waddle::test::ratelimit_key(name);
}

waddle::redis::Options options() {
  return waddle::test::ratelimit_redis_options(3000ms);
}

awaitable<Decision> one(Limiter& limiter, std::string k, Window w) {
  return waddle::test::check_one(limiter, std::move(k), w);
}

}  // namespace

TEST_CASE("redis limiter: the fourth call in a 3-per-window limit is refused, announced once") {
  asio::io_context ioc;
  Client client(ioc.get_executor(), options());
  RedisLimiter limiter(client);
  std::vector<Decision> got;
  run_bounded(ioc, [](Client& c, RedisLimiter& l, std::vector<Decision>& got) -> awaitable<void> {
    co_await c.connect();
    const auto k = key("fourth");
    for (int i = 0; i < 6; ++i) got.push_back(co_await one(l, k, Window{3, 60'000ms}));
    auto ttl = co_await c.command("PTTL", k);
    CHECK(ttl.as_int() > 0);
    CHECK(ttl.as_int() <= 60'000);
    auto flag = co_await c.command("PTTL", RedisLimiter::refused_flag_key(k));
    CHECK(flag.as_int() > 0);
  }(client, limiter, got));
  REQUIRE(got.size() == 6);
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(got[i].allowed);
    CHECK(got[i].count == i + 1);
    CHECK(got[i].retry_after == 0ms);
    CHECK_FALSE(got[i].first_refusal);
  }
  for (std::size_t i = 3; i < 6; ++i) {
    CHECK_FALSE(got[i].allowed);
    CHECK(got[i].count == 3);
    CHECK(got[i].retry_after > 0ms);
    CHECK(got[i].retry_after <= 60'000ms);
  }
  CHECK(got[3].first_refusal);
  CHECK_FALSE(got[4].first_refusal);
  CHECK_FALSE(got[5].first_refusal);
}

TEST_CASE("redis limiter: the window slides, then a refusal is announced again") {
  asio::io_context ioc;
  Client client(ioc.get_executor(), options());
  RedisLimiter limiter(client);
  run_bounded(ioc, [](Client& c, RedisLimiter& l) -> awaitable<void> {
    co_await c.connect();
    const auto k = key("slide");
    const Window w{1, 200ms};
    auto first = co_await one(l, k, w);
    CHECK(first.allowed);
    // Poll (bounded) until the hit has left the window; never assert how long that took.
    std::optional<Decision> refused;
    bool allowed_again = false;
    for (int i = 0; i < 200 && !allowed_again; ++i) {
      auto d = co_await one(l, k, w);
      if (d.allowed) {
        allowed_again = true;
      } else {
        if (!refused) refused = d;
        CHECK(d.retry_after > 0ms);
        CHECK(d.retry_after <= 200ms);
        co_await sleep_for(20ms);
      }
    }
    REQUIRE(allowed_again);
    if (refused) CHECK(refused->first_refusal);
    // The recorded call ended the run of refusals: the next refusal is announced again.
    auto again = co_await one(l, k, w);
    if (!again.allowed) CHECK(again.first_refusal);
  }(client, limiter));
}

TEST_CASE("redis limiter: a refusing window records no hit in the others") {
  asio::io_context ioc;
  Client client(ioc.get_executor(), options());
  RedisLimiter limiter(client);
  run_bounded(ioc, [](Client& c, RedisLimiter& l) -> awaitable<void> {
    co_await c.connect();
    const auto user = key("atomic:user");
    const auto command = key("atomic:command");
    const auto entity = key("atomic:entity");
    auto call = [&]() {
      return l.check(std::vector<Check>{Check{user, Window{1, 60'000ms}},
                                        Check{command, Window{5, 60'000ms}},
                                        Check{entity, Window{50, 60'000ms}}});
    };
    auto first = co_await call();
    CHECK(verdict(first).allowed);
    auto second = co_await call();
    REQUIRE(second.size() == 3);
    CHECK_FALSE(second[0].allowed);
    CHECK(second[0].first_refusal);
    CHECK(second[1].allowed);
    CHECK(second[1].count == 1);
    CHECK(second[2].allowed);
    CHECK(second[2].count == 1);
    CHECK_FALSE(second[1].first_refusal);
    auto v = verdict(second);
    CHECK_FALSE(v.allowed);
    CHECK(v.notify);
    auto card_command = co_await c.command("ZCARD", command);
    auto card_entity = co_await c.command("ZCARD", entity);
    CHECK(card_command.as_int() == 1);
    CHECK(card_entity.as_int() == 1);
    auto third = co_await call();
    CHECK_FALSE(verdict(third).notify);  // already announced
  }(client, limiter));
}

TEST_CASE("redis limiter: two clients share one limit and one announcement") {
  asio::io_context ioc;
  Client c1(ioc.get_executor(), options());
  Client c2(ioc.get_executor(), options());
  RedisLimiter l1(c1);
  RedisLimiter l2(c2);
  std::vector<Decision> got;
  run_bounded(ioc,
              [](Client& c1, Client& c2, RedisLimiter& l1, RedisLimiter& l2,
                 std::vector<Decision>& got) -> awaitable<void> {
                co_await c1.connect();
                co_await c2.connect();
                const auto k = key("shared");
                const Window w{2, 60'000ms};
                got.push_back(co_await one(l1, k, w));
                got.push_back(co_await one(l2, k, w));
                got.push_back(co_await one(l1, k, w));
                got.push_back(co_await one(l2, k, w));
              }(c1, c2, l1, l2, got));
  REQUIRE(got.size() == 4);
  CHECK(got[0].allowed);
  CHECK(got[1].allowed);
  CHECK(got[1].count == 2);
  CHECK_FALSE(got[2].allowed);
  CHECK(got[2].first_refusal);
  CHECK_FALSE(got[3].allowed);
  CHECK_FALSE(got[3].first_refusal);
}

TEST_CASE("redis limiter: errors are waddle::Error, bad checks never reach redis") {
  asio::io_context ioc;
  Client client(ioc.get_executor(), options());
  RedisLimiter limiter(client);
  run_bounded(ioc, [](Client& c, RedisLimiter& l) -> awaitable<void> {
    co_await c.connect();
    const auto k = key("wrongtype");
    co_await c.command("SET", k, "not a zset");
    std::optional<waddle::Errc> code;
    try {
      co_await one(l, k, Window{1, 1000ms});
    } catch (const waddle::Error& e) {
      code = e.code();
    }
    CHECK(code == waddle::Errc::internal);
    code.reset();
    try {
      co_await one(l, key("bad"), Window{0, 1000ms});
    } catch (const waddle::Error& e) {
      code = e.code();
    }
    CHECK(code == waddle::Errc::invalid_argument);
    auto exists = co_await c.command("EXISTS", key("bad"));
    CHECK(exists.as_int() == 0);
    auto none = co_await l.check(std::vector<Check>{});
    CHECK(none.empty());
    co_await c.command("DEL", k);
  }(client, limiter));
}
