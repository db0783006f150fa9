#pragma once
// Sliding-window rate limits: the types every limiter shares and the Limiter interface.

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace waddle::ratelimit {

// At most `limit` calls in any `period`-long interval (a sliding window, not fixed buckets).
struct Window {
  std::size_t limit = 0;
  std::chrono::milliseconds period{0};
};

// One limit to check: the key names the counter (see keys.hpp), the window its size.
struct Check {
  std::string key;
  Window window;
};

// The answer for one Check.
struct Decision {
  // This window had room. A call is let through only when every window of it had room (see
  // verdict()); when another window refused, no hit is recorded here either.
  bool allowed = false;
  // Calls in the window, this one included when it was recorded.
  std::size_t count = 0;
  // Refused: how long until the window has room again. Zero when allowed.
  std::chrono::milliseconds retry_after{0};
  // True only for the first refusal of a run of refusals of this key (the run ends when a call
  // is recorded again), so the router sends the cooldown message once, not on every retry.
  bool first_refusal = false;
};

// The whole call's outcome from its decisions.
struct Verdict {
  bool allowed = true;
  // Refused, and at least one refusing window had not told the user yet: answer with a cooldown
  // message. Refused and false: stay silent.
  bool notify = false;
  // The longest retry_after among the refusing windows.
  std::chrono::milliseconds retry_after{0};
};
Verdict verdict(const std::vector<Decision>& decisions);

// Longer periods are refused: nobody means them, and time arithmetic on them could overflow.
inline constexpr std::chrono::milliseconds kMaxPeriod = std::chrono::hours(24 * 366);

// Throws waddle::Error(invalid_argument) for an empty key, a zero limit, a period that is not
// positive or longer than kMaxPeriod, or the same key twice in one call.
void validate(const std::vector<Check>& checks);

class Limiter {
 public:
  virtual ~Limiter() = default;
  // Checks every window of one call atomically: the hit is recorded in all of them or (when any
  // refuses) in none. Decisions come back in the order of `checks`. Throws
  // waddle::Error(invalid_argument) for bad checks (validate()); RedisLimiter also throws
  // unavailable/timeout/internal when Redis fails.
  virtual boost::asio::awaitable<std::vector<Decision>> check(std::vector<Check> checks) = 0;
};

}  // namespace waddle::ratelimit
