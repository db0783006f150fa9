// LocalLimiter with an injected clock: the sliding window, atomic multi-window checks, the
// one-time cooldown flag and bounded memory, without sleeping.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <catch2/catch.hpp>
#include <memory>
#include <thread>

#include "error/error.hpp"
#include "ratelimit/keys.hpp"
#include "ratelimit/limiter.hpp"
#include "ratelimit/local_limiter.hpp"

using namespace waddle::ratelimit;
using namespace std::chrono_literals;

namespace {

struct FakeClock {
  std::shared_ptr<LocalLimiter::TimePoint> now =
      std::make_shared<LocalLimiter::TimePoint>(std::chrono::steady_clock::time_point{} + 1000h);
  LocalLimiter::Clock clock() const {
    return [now = now] { return *now; };
  }
  void advance(std::chrono::milliseconds d) { *now += d; }
};

LocalLimiter make(FakeClock& clock, std::size_t max_keys = 100'000) {
  return LocalLimiter({.max_keys = max_keys, .clock = clock.clock()});
}

Decision one(LocalLimiter& limiter, const std::string& key, Window w) {
  auto d = limiter.check_now({Check{key, w}});
  REQUIRE(d.size() == 1);
  return d[0];
}

}  // namespace

TEST_CASE("local: the fourth call in a 3-per-second window is refused") {
  FakeClock clock;
  auto limiter = make(clock);
  const Window w{3, 1000ms};
  for (std::size_t i = 1; i <= 3; ++i) {
    auto d = one(limiter, "k", w);
    CHECK(d.allowed);
    CHECK(d.count == i);
    CHECK(d.retry_after == 0ms);
    CHECK_FALSE(d.first_refusal);
    clock.advance(100ms);
  }
  auto refused = one(limiter, "k", w);
  CHECK_FALSE(refused.allowed);
  CHECK(refused.count == 3);
  // The first hit was 300 ms ago: it leaves the window in 700 ms.
  CHECK(refused.retry_after == 700ms);
  CHECK(refused.first_refusal);
}

TEST_CASE("local: the cooldown is announced once per run of refusals") {
  FakeClock clock;
  auto limiter = make(clock);
  const Window w{1, 1000ms};
  CHECK(one(limiter, "k", w).allowed);
  auto r1 = one(limiter, "k", w);
  auto r2 = one(limiter, "k", w);
  clock.advance(500ms);
  auto r3 = one(limiter, "k", w);
  CHECK(r1.first_refusal);
  CHECK_FALSE(r2.first_refusal);
  CHECK_FALSE(r3.first_refusal);
  CHECK(r3.retry_after == 500ms);
  // The window slides; a recorded call ends the run, so the next refusal is announced again.
  clock.advance(500ms);
  CHECK(one(limiter, "k", w).allowed);
  auto r4 = one(limiter, "k", w);
  CHECK_FALSE(r4.allowed);
  CHECK(r4.first_refusal);
}

TEST_CASE("local: the window slides rather than resetting") {
  FakeClock clock;
  auto limiter = make(clock);
  const Window w{2, 1000ms};
  CHECK(one(limiter, "k", w).allowed);  // t=0
  clock.advance(600ms);
  CHECK(one(limiter, "k", w).allowed);  // t=600
  clock.advance(399ms);
  CHECK_FALSE(one(limiter, "k", w).allowed);  // t=999: both still inside
  clock.advance(1ms);
  auto d = one(limiter, "k", w);  // t=1000: the first hit has left
  CHECK(d.allowed);
  CHECK(d.count == 2);
  clock.advance(1ms);
  auto refused = one(limiter, "k", w);  // t=1001: hits at 600 and 1000
  CHECK_FALSE(refused.allowed);
  CHECK(refused.retry_after == 599ms);
}

TEST_CASE("local: windows of one call are all-or-nothing") {
  FakeClock clock;
  auto limiter = make(clock);
  const Window user{2, 1000ms};
  const Window command{3, 1000ms};
  const Window entity{100, 1000ms};
  auto call = [&](const std::string& u) {
    return limiter.check_now({Check{user_command_key("twitch:channel:w", u, "so"), user},
                              Check{command_key("twitch:channel:w", "so"), command},
                              Check{entity_key("twitch:channel:w"), entity}});
  };
  CHECK(verdict(call("alice")).allowed);
  CHECK(verdict(call("alice")).allowed);
  auto third = call("alice");  // alice's own window refuses
  CHECK_FALSE(third[0].allowed);
  CHECK(third[1].allowed);
  CHECK(third[1].count == 2);  // nothing recorded in the command window...
  CHECK(third[2].count == 2);  // ...nor in the entity window
  auto v = verdict(third);
  CHECK_FALSE(v.allowed);
  CHECK(v.notify);
  CHECK(v.retry_after == 1000ms);

  auto bob = call("bob");  // the command window still has one slot
  CHECK(verdict(bob).allowed);
  CHECK(bob[1].count == 3);
  CHECK(bob[2].count == 3);
  auto carol = call("carol");  // now the command window is full for everyone
  CHECK_FALSE(carol[1].allowed);
  CHECK(carol[0].allowed);
  CHECK(carol[0].count == 0);
  CHECK(carol[1].first_refusal);
  CHECK_FALSE(verdict(call("dave")).notify);  // the command window already told
}

TEST_CASE("local: verdict picks the longest wait and notifies if any window is new") {
  std::vector<Decision> d{{true, 1, 0ms, false}, {false, 3, 200ms, false}, {false, 5, 900ms, true}};
  auto v = verdict(d);
  CHECK_FALSE(v.allowed);
  CHECK(v.notify);
  CHECK(v.retry_after == 900ms);
  CHECK(verdict({}).allowed);
  CHECK(verdict({{true, 1, 0ms, false}}).allowed);
}

TEST_CASE("local: bad checks are refused with invalid_argument") {
  FakeClock clock;
  auto limiter = make(clock);
  auto code = [&](std::vector<Check> checks) -> waddle::Errc {
    try {
      limiter.check_now(checks);
    } catch (const waddle::Error& e) {
      return e.code();
    }
    return waddle::Errc::ok;
  };
  CHECK(code({Check{"", {1, 1000ms}}}) == waddle::Errc::invalid_argument);
  CHECK(code({Check{"k", {0, 1000ms}}}) == waddle::Errc::invalid_argument);
  CHECK(code({Check{"k", {1, 0ms}}}) == waddle::Errc::invalid_argument);
  CHECK(code({Check{"k", {1, -5ms}}}) == waddle::Errc::invalid_argument);
  CHECK(code({Check{"k", {1, std::chrono::milliseconds::max()}}}) ==
        waddle::Errc::invalid_argument);
  CHECK(code({Check{"k", {1, kMaxPeriod}}}) == waddle::Errc::ok);
  CHECK(code({Check{"k", {1, 1000ms}}, Check{"k", {2, 1000ms}}}) == waddle::Errc::invalid_argument);
  CHECK(limiter.check_now({}).empty());
  CHECK(limiter.key_count() == 1);  // only the valid one-year check
}

TEST_CASE("local: stale keys are evicted and the key count stays bounded") {
  FakeClock clock;
  auto limiter = make(clock, 1000);
  const Window w{1, 1000ms};
  for (int i = 0; i < 5000; ++i) one(limiter, "user:" + std::to_string(i), w);
  CHECK(limiter.key_count() <= 1000);
  // Once every window has passed, the next sweep drops them all.
  clock.advance(2000ms);
  for (int i = 0; i < 5000; ++i) one(limiter, "later:" + std::to_string(i % 10), w);
  CHECK(limiter.key_count() <= 1000);
  CHECK(limiter.key_count() >= 10);
  // A key that survives keeps its limit.
  CHECK_FALSE(one(limiter, "later:3", w).allowed);
}

TEST_CASE("local: keys whose windows are empty do not accumulate") {
  FakeClock clock;
  auto limiter = make(clock);
  const Window w{5, 100ms};
  for (int i = 0; i < 10'000; ++i) {
    one(limiter, "k" + std::to_string(i), w);
    clock.advance(1ms);
  }
  // The sweep runs every few thousand checks; only keys of the last 100 ms are live then.
  CHECK(limiter.key_count() < 5000);
}

TEST_CASE("local: concurrent callers never exceed the limit") {
  LocalLimiter limiter;  // the real clock: the window is far longer than the test
  const Window w{1000, 3600'000ms};
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 500; ++i) {
        if (limiter.check_now({Check{"shared", w}})[0].allowed) allowed.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(allowed.load() == 1000);
}

TEST_CASE("local: the coroutine interface gives the same answers") {
  FakeClock clock;
  auto limiter = make(clock);
  boost::asio::io_context ioc;
  std::vector<Check> checks{Check{"k", {1, 1000ms}}};
  auto first = boost::asio::co_spawn(ioc, limiter.check(checks), boost::asio::use_future);
  ioc.run();
  auto d1 = first.get();
  REQUIRE(d1.size() == 1);
  CHECK(d1[0].allowed);
  ioc.restart();
  auto second = boost::asio::co_spawn(ioc, limiter.check(checks), boost::asio::use_future);
  ioc.run();
  auto d2 = second.get();
  CHECK_FALSE(d2[0].allowed);
  CHECK(d2[0].first_refusal);
}

TEST_CASE("keys: the router's key names") {
  CHECK(user_command_key("twitch:channel:waddlebot", "123", "so") ==
        "waddlebot:rate_limit:router:user:twitch:channel:waddlebot:123:so");
  CHECK(command_key("twitch:channel:waddlebot", "so") ==
        "waddlebot:rate_limit:router:command:twitch:channel:waddlebot:so");
  CHECK(entity_key("twitch:channel:waddlebot") ==
        "waddlebot:rate_limit:router:entity:twitch:channel:waddlebot");
  // User ids and commands cannot fake a different split of the key.
  CHECK(user_command_key("e", "a:b", "c") != user_command_key("e", "a", "b:c"));
  CHECK(user_command_key("e", "a:b", "c") == "waddlebot:rate_limit:router:user:e:a%3Ab:c");
  CHECK(command_key("e", "x#refused") == "waddlebot:rate_limit:router:command:e:x%23refused");
  CHECK(escape_key_part("50%", true) == "50%25");
}
