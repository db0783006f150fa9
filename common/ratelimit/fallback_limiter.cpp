#include "ratelimit/fallback_limiter.hpp"

#include <exception>
#include <utility>

namespace waddle::ratelimit {

FallbackLimiter::FallbackLimiter(redis::Client& client, LocalLimiter::Options local)
    : client_(client), redis_(client), local_(std::move(local)) {}

boost::asio::awaitable<std::vector<Decision>> FallbackLimiter::check(std::vector<Check> checks) {
  validate(checks);  // a bad check is the caller's bug, not a reason to leave Redis
  if (client_.connected()) {
    std::string failure;
    try {
      std::vector<Decision> decisions = co_await redis_.check(checks);
      degraded_.store(false);
      co_return decisions;
    } catch (const std::exception& e) {
      failure = e.what();
    }
    note_failure(std::move(failure));
  } else {
    note_failure("redis " + client_.endpoint().describe() + " is not connected");
  }
  local_checks_.fetch_add(1);
  co_return local_.check_now(checks);
}

void FallbackLimiter::note_failure(std::string reason) {
  if (!degraded_.exchange(true)) degraded_count_.fetch_add(1);
  std::lock_guard lock(error_mutex_);
  last_error_ = std::move(reason);
}

std::string FallbackLimiter::last_error() const {
  std::lock_guard lock(error_mutex_);
  return last_error_;
}

}  // namespace waddle::ratelimit
