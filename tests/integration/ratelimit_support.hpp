#pragma once
// Shared by the ratelimit integration tests: keys private to this run, client options for the
// test cluster's redis-server, and a one-window check.

#include <unistd.h>

#include <boost/asio/awaitable.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <random>
#include <string>
#include <vector>

#include "ratelimit/keys.hpp"
#include "ratelimit/limiter.hpp"
#include "redis/options.hpp"
#include "support/cluster.hpp"

namespace waddle::test {

// Keys of this process and run only: the redis-server is shared with other tests.
inline std::string ratelimit_key(const std::string& name) {
  static const std::string run =
      std::to_string(::getpid()) + ":" + std::to_string(std::random_device{}());
  return ratelimit::entity_key("test:" + run + ":" + name);
}

inline redis::Options ratelimit_redis_options(std::chrono::milliseconds command_timeout) {
  redis::Options o;
  o.url = redis_url();
  o.reconnect_min = std::chrono::milliseconds(20);
  o.reconnect_max = std::chrono::milliseconds(200);
  o.command_timeout = command_timeout;
  return o;
}

// Checks one key against one window.
inline boost::asio::awaitable<ratelimit::Decision> check_one(ratelimit::Limiter& limiter,
                                                             std::string key,
                                                             ratelimit::Window window) {
  std::vector<ratelimit::Check> checks;
  checks.push_back(ratelimit::Check{std::move(key), window});
  auto decisions = co_await limiter.check(std::move(checks));
  REQUIRE(decisions.size() == 1);
  co_return decisions[0];
}

}  // namespace waddle::test
