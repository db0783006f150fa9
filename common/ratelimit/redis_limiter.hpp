#pragma once
// Sliding windows shared by every router instance: one ZSET of hit times per key, all windows of
// a call checked and recorded by one Lua script (one EVALSHA round trip).

#include <atomic>
#include <cstdint>
#include <string>

#include "ratelimit/limiter.hpp"
#include "redis/client.hpp"
#include "redis/script.hpp"

namespace waddle::ratelimit {

class RedisLimiter final : public Limiter {
 public:
  // The client must outlive the limiter; connecting it is the caller's business.
  explicit RedisLimiter(redis::Client& client);

  // Throws invalid_argument for bad checks, and the client's errors (unavailable, timeout) or
  // internal for a reply the script cannot have produced.
  boost::asio::awaitable<std::vector<Decision>> check(std::vector<Check> checks) override;

  // Where the script keeps the "cooldown already announced" flag of a key.
  static std::string refused_flag_key(const std::string& key);
  // The Lua script (exposed for tests and `SCRIPT LOAD` at start-up).
  static const redis::Script& script();

 private:
  redis::Client& client_;
  std::string member_prefix_;  // random per instance: ZSET members must be unique per call
  std::atomic<std::uint64_t> sequence_{0};
};

}  // namespace waddle::ratelimit
