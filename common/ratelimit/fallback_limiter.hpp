#pragma once
// Redis when it answers, the in-process limiter when it does not (DESIGN.md: the router keeps
// serving while Redis is away, and says so in its status).

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

#include "ratelimit/local_limiter.hpp"
#include "ratelimit/redis_limiter.hpp"
#include "redis/client.hpp"

namespace waddle::ratelimit {

class FallbackLimiter final : public Limiter {
 public:
  // The client must outlive the limiter. It reconnects on its own after a drop; while it is not
  // connected every check is answered locally at once (no waiting for command_timeout), and the
  // first check after it is connected again goes back to Redis.
  explicit FallbackLimiter(redis::Client& client, LocalLimiter::Options local = {});

  // Throws only invalid_argument (bad checks); Redis failures fall back to the local limiter.
  boost::asio::awaitable<std::vector<Decision>> check(std::vector<Check> checks) override;

  // True while checks are answered locally. Windows are then per instance, not shared, and the
  // hits recorded locally are not carried over to Redis.
  bool degraded() const noexcept { return degraded_.load(); }
  // How many times it switched from Redis to local.
  std::uint64_t degraded_count() const noexcept { return degraded_count_.load(); }
  // Checks answered by the local limiter so far.
  std::uint64_t local_checks() const noexcept { return local_checks_.load(); }
  // Why it last fell back ("" if it never did).
  std::string last_error() const;

 private:
  void note_failure(std::string reason);

  redis::Client& client_;
  RedisLimiter redis_;
  LocalLimiter local_;
  std::atomic<bool> degraded_{false};
  std::atomic<std::uint64_t> degraded_count_{0};
  std::atomic<std::uint64_t> local_checks_{0};
  mutable std::mutex error_mutex_;
  std::string last_error_;
};

}  // namespace waddle::ratelimit
