#include "ratelimit/redis_limiter.hpp"

#include <random>
#include <string>
#include <utility>

#include "error/error.hpp"

namespace waddle::ratelimit {

namespace {

// KEYS[2i-1]: window i's ZSET of hits (score = ms time, member unique per call);
// KEYS[2i]:   window i's "cooldown already announced" flag.
// ARGV[1]: this call's member; ARGV[2i], ARGV[2i+1]: window i's limit and period in ms.
// Returns 4 integers per window: allowed, count, retry_after_ms, first_refusal.
// Time comes from the server (TIME), so router instances with skewed clocks still agree.
constexpr const char* kScript = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local n = #KEYS / 2
local counts, retry = {}, {}
local all_allowed = true
for i = 1, n do
  local key = KEYS[2 * i - 1]
  local limit = tonumber(ARGV[2 * i])
  local period = tonumber(ARGV[2 * i + 1])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - period)
  local count = redis.call('ZCARD', key)
  counts[i] = count
  retry[i] = 0
  if count >= limit then
    all_allowed = false
    local oldest = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
    retry[i] = math.max(1, tonumber(oldest[2]) + period - now)
  end
end
local out = {}
for i = 1, n do
  local key, flag = KEYS[2 * i - 1], KEYS[2 * i]
  local period = tonumber(ARGV[2 * i + 1])
  if all_allowed then
    redis.call('ZADD', key, now, ARGV[1])
    redis.call('PEXPIRE', key, period)
    redis.call('DEL', flag)
    table.insert(out, 1); table.insert(out, counts[i] + 1)
    table.insert(out, 0); table.insert(out, 0)
  elseif retry[i] > 0 then
    local first = redis.call('SET', flag, '1', 'NX', 'PX', period)
    table.insert(out, 0); table.insert(out, counts[i])
    table.insert(out, retry[i]); table.insert(out, first and 1 or 0)
  else
    table.insert(out, 1); table.insert(out, counts[i])
    table.insert(out, 0); table.insert(out, 0)
  end
end
return out
)lua";

std::string random_prefix() {
  std::random_device device;
  std::uint64_t value = (static_cast<std::uint64_t>(device()) << 32) ^ device();
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, value >>= 4) out[static_cast<std::size_t>(i)] = kHex[value & 0xf];
  return out;
}

long long integer_at(const redis::Reply& reply, std::size_t index) {
  const auto& e = reply.elements[index];
  if (!e.is_integer()) {
    throw Error(Errc::internal, "rate limit script: element " + std::to_string(index) +
                                    " is not an integer: " + e.describe());
  }
  return e.integer;
}

}  // namespace

RedisLimiter::RedisLimiter(redis::Client& client)
    : client_(client), member_prefix_(random_prefix()) {}

std::string RedisLimiter::refused_flag_key(const std::string& key) {
  return key + "#refused";
}

const redis::Script& RedisLimiter::script() {
  static const redis::Script instance{kScript};
  return instance;
}

boost::asio::awaitable<std::vector<Decision>> RedisLimiter::check(std::vector<Check> checks) {
  validate(checks);
  if (checks.empty()) co_return std::vector<Decision>{};

  std::vector<std::string> keys;
  std::vector<std::string> args;
  keys.reserve(2 * checks.size());
  args.reserve(1 + 2 * checks.size());
  args.push_back(member_prefix_ + ":" + std::to_string(sequence_.fetch_add(1)));
  for (const auto& c : checks) {
    keys.push_back(c.key);
    keys.push_back(refused_flag_key(c.key));
    args.push_back(std::to_string(c.window.limit));
    args.push_back(std::to_string(c.window.period.count()));
  }

  redis::Reply reply = co_await client_.eval(script(), std::move(keys), std::move(args));
  reply.throw_if_error("rate limit script");
  if (!reply.is_array() || reply.elements.size() != 4 * checks.size()) {
    throw Error(Errc::internal, "rate limit script: expected " + std::to_string(4 * checks.size()) +
                                    " integers, got " + reply.describe());
  }
  std::vector<Decision> out(checks.size());
  for (std::size_t i = 0; i < checks.size(); ++i) {
    const long long allowed = integer_at(reply, 4 * i);
    const long long count = integer_at(reply, 4 * i + 1);
    const long long retry = integer_at(reply, 4 * i + 2);
    const long long first = integer_at(reply, 4 * i + 3);
    if (count < 0 || retry < 0) {
      throw Error(Errc::internal,
                  "rate limit script: negative count or retry: " + reply.describe());
    }
    out[i].allowed = allowed != 0;
    out[i].count = static_cast<std::size_t>(count);
    out[i].retry_after = std::chrono::milliseconds(retry);
    out[i].first_refusal = first != 0;
  }
  co_return out;
}

}  // namespace waddle::ratelimit
