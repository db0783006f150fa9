#include "ratelimit/local_limiter.hpp"

#include <algorithm>
#include <utility>

namespace waddle::ratelimit {

namespace {

// A full scan every this many checks keeps memory bounded at O(1) amortised cost per check.
constexpr std::size_t kSweepEvery = 4096;

}  // namespace

LocalLimiter::LocalLimiter() : LocalLimiter(Options{}) {}

LocalLimiter::LocalLimiter(Options options) : options_(std::move(options)) {
  if (!options_.clock) options_.clock = [] { return std::chrono::steady_clock::now(); };
  if (options_.max_keys == 0) options_.max_keys = 1;
}

boost::asio::awaitable<std::vector<Decision>> LocalLimiter::check(std::vector<Check> checks) {
  co_return check_now(checks);
}

std::vector<Decision> LocalLimiter::check_now(const std::vector<Check>& checks) {
  validate(checks);
  std::vector<Decision> out(checks.size());
  std::lock_guard lock(mutex_);
  const TimePoint now = options_.clock();

  std::vector<Entry*> entries;
  entries.reserve(checks.size());
  bool all_allowed = true;
  for (std::size_t i = 0; i < checks.size(); ++i) {
    const auto& c = checks[i];
    Entry& e = entries_[c.key];
    entries.push_back(&e);
    // A hit at t counts while now - t < period, as in the Redis script.
    const TimePoint horizon = now - c.window.period;
    auto first_live = std::upper_bound(e.hits.begin(), e.hits.end(), horizon);
    e.hits.erase(e.hits.begin(), first_live);
    out[i].count = e.hits.size();
    out[i].allowed = e.hits.size() < c.window.limit;
    if (!out[i].allowed) {
      all_allowed = false;
      const TimePoint frees_at = e.hits[e.hits.size() - c.window.limit] + c.window.period;
      out[i].retry_after = std::max(std::chrono::milliseconds(1),
                                    std::chrono::ceil<std::chrono::milliseconds>(frees_at - now));
    }
  }

  for (std::size_t i = 0; i < checks.size(); ++i) {
    Entry& e = *entries[i];
    const auto period = checks[i].window.period;
    if (all_allowed) {
      e.hits.push_back(now);
      e.told = false;
      out[i].count = e.hits.size();
      e.empty_at = std::max(e.empty_at, now + period);
    } else if (!out[i].allowed) {
      out[i].first_refusal = !e.told;
      e.told = true;
      e.empty_at = std::max(e.empty_at, now + period);
    }
    // An entry this lookup created without recording anything keeps empty_at in the past, so
    // the next sweep drops it.
  }

  if (++checks_since_sweep_ >= kSweepEvery || entries_.size() > options_.max_keys) sweep(now);
  return out;
}

void LocalLimiter::sweep(TimePoint now) {
  checks_since_sweep_ = 0;
  std::erase_if(entries_, [now](const auto& item) { return item.second.empty_at <= now; });
  if (entries_.size() <= options_.max_keys) return;
  // Still too many live keys: keep the three quarters that stay relevant longest, so the next
  // few new keys do not trigger another full pass.
  const std::size_t keep = std::max<std::size_t>(1, options_.max_keys - options_.max_keys / 4);
  std::vector<std::pair<TimePoint, const std::string*>> order;
  order.reserve(entries_.size());
  for (const auto& [key, entry] : entries_) order.emplace_back(entry.empty_at, &key);
  const std::size_t drop = entries_.size() - keep;
  std::nth_element(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(drop), order.end());
  std::vector<std::string> victims;
  victims.reserve(drop);
  for (std::size_t i = 0; i < drop; ++i) victims.push_back(*order[i].second);
  for (const auto& key : victims) entries_.erase(key);
}

std::size_t LocalLimiter::key_count() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace waddle::ratelimit
