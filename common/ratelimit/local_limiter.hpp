#pragma once
// In-process sliding windows: the limiter of a single router without Redis, and the fallback
// while Redis is away.

#include <chrono>
#include <cstddef>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "ratelimit/limiter.hpp"

namespace waddle::ratelimit {

class LocalLimiter final : public Limiter {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  using Clock = std::function<TimePoint()>;

  struct Options {
    // Keys kept at most. Keys whose windows are empty are dropped first; past this bound the
    // keys that would empty soonest are dropped too (they forget their hits: the limiter errs
    // on letting calls through, never on refusing them wrongly).
    std::size_t max_keys = 100'000;
    // Time source; steady_clock::now when empty. Tests inject their own.
    Clock clock;
  };

  LocalLimiter();
  explicit LocalLimiter(Options options);

  boost::asio::awaitable<std::vector<Decision>> check(std::vector<Check> checks) override;
  // The same, without a coroutine. Thread-safe.
  std::vector<Decision> check_now(const std::vector<Check>& checks);

  // Keys currently held (for stats and tests).
  std::size_t key_count() const;

 private:
  struct Entry {
    std::vector<TimePoint> hits;  // ascending; never more than the largest limit used
    bool told = false;            // a refusal was reported since the last recorded hit
    TimePoint empty_at{};         // from then on the entry holds nothing worth keeping
  };

  void sweep(TimePoint now);

  Options options_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
  std::size_t checks_since_sweep_ = 0;
};

}  // namespace waddle::ratelimit
