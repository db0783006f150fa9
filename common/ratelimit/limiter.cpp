#include "ratelimit/limiter.hpp"

#include <algorithm>
#include <string>
#include <unordered_set>

#include "error/error.hpp"

namespace waddle::ratelimit {

Verdict verdict(const std::vector<Decision>& decisions) {
  Verdict out;
  for (const auto& d : decisions) {
    if (d.allowed) continue;
    out.allowed = false;
    out.notify = out.notify || d.first_refusal;
    out.retry_after = std::max(out.retry_after, d.retry_after);
  }
  return out;
}

void validate(const std::vector<Check>& checks) {
  std::unordered_set<std::string_view> seen;
  for (const auto& c : checks) {
    if (c.key.empty()) throw Error(Errc::invalid_argument, "rate limit: a check has an empty key");
    if (c.window.limit == 0) {
      throw Error(Errc::invalid_argument, "rate limit '" + c.key + "': limit must be at least 1");
    }
    if (c.window.period.count() <= 0) {
      throw Error(Errc::invalid_argument, "rate limit '" + c.key +
                                              "': period must be positive, got " +
                                              std::to_string(c.window.period.count()) + " ms");
    }
    if (c.window.period > kMaxPeriod) {
      throw Error(Errc::invalid_argument, "rate limit '" + c.key + "': period " +
                                              std::to_string(c.window.period.count()) +
                                              " ms is longer than a year");
    }
    if (!seen.insert(c.key).second) {
      throw Error(Errc::invalid_argument,
                  "rate limit '" + c.key + "' is checked twice in one call");
    }
  }
}

}  // namespace waddle::ratelimit
