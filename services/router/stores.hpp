#pragma once
// Short-lived router state that several instances share through Redis when there is one, with an
// in-process equivalent that always answers: the duplicate filter (event ids) and the sessions
// that late module answers refer to.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>

namespace waddle::redis {
class Client;
}

namespace waddle::router {

// Keys remembered for `ttl`, at most `capacity` of them (the oldest go first). Thread-safe.
class TtlSet {
 public:
  using Clock = std::chrono::steady_clock;
  TtlSet(std::size_t capacity, Clock::duration ttl);
  // True when `key` was not in the set (it is now).
  bool insert(std::string_view key, Clock::time_point now = Clock::now());
  bool contains(std::string_view key, Clock::time_point now = Clock::now()) const;
  std::size_t size() const;
  void clear();

 private:
  void evict(Clock::time_point now);
  const std::size_t capacity_;
  const Clock::duration ttl_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Clock::time_point> expiry_;
  std::deque<std::pair<Clock::time_point, std::string>> order_;  // same ttl: expiry order
};

// Counts how often a Redis-backed store had to answer without Redis.
struct RedisUse {
  std::atomic<std::uint64_t> redis_calls{0};
  std::atomic<std::uint64_t> fallbacks{0};  // Redis down or failing: answered in process
};

// Drops events whose event_id was seen within the TTL: the in-process set first (free), then,
// with Redis, `SET waddlebot:dedupe:router:<id> 1 NX PX ttl` (claim_command, sent together with
// the session by SessionStore::put_claiming), so that a collector retrying against another router
// instance is caught too.
class Deduper {
 public:
  Deduper(std::size_t capacity, std::chrono::milliseconds ttl);
  // True the first time this instance sees an id.
  bool first_local(std::string_view event_id);
  // The Redis claim of an id: its reply is nil when some router claimed it within the TTL.
  std::vector<std::string> claim_command(const std::string& event_id) const;
  std::size_t size() const { return local_.size(); }
  void clear() { local_.clear(); }

 private:
  std::chrono::milliseconds ttl_;
  TtlSet local_;
};

// What a late answer (POST /router/responses) is checked against.
struct Session {
  std::string id;
  std::string event_id;
  std::string entity_id;
  std::string platform;
  std::int64_t community_id = 0;
  std::string community_name;
  std::string user_id;
  std::string user_name;
  std::vector<std::string> execution_ids;
  nlohmann::json to_json() const;
  static Session from_json(const nlohmann::json& json);
};

// waddlebot:session:router:<id> in Redis (TTL), mirrored in process so that this instance finds
// its own sessions even while Redis is away.
class SessionStore {
 public:
  SessionStore(redis::Client* redis, std::size_t capacity, std::chrono::seconds ttl);
  boost::asio::awaitable<void> put(Session session);
  // put() and the duplicate claim of `event_id` (Deduper::claim_command) in one Redis round trip.
  // False when Redis says the event id was claimed already; true when it was not, or when Redis
  // cannot answer (the in-process duplicate set has already passed the event).
  boost::asio::awaitable<bool> put_claiming(const Deduper& dedupe, std::string event_id,
                                            Session session);
  boost::asio::awaitable<std::optional<Session>> get(std::string id);
  std::size_t local_size() const;
  const RedisUse& redis_use() const { return use_; }
  void clear();

 private:
  void put_local(const Session& session);
  std::vector<std::string> store_command(const Session& session) const;
  redis::Client* redis_;
  std::chrono::seconds ttl_;
  std::size_t capacity_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::pair<TtlSet::Clock::time_point, Session>> local_;
  std::deque<std::pair<TtlSet::Clock::time_point, std::string>> order_;
  RedisUse use_;
};

inline constexpr std::string_view kSessionKeyPrefix = "waddlebot:session:router:";
inline constexpr std::string_view kDedupeKeyPrefix = "waddlebot:dedupe:router:";

}  // namespace waddle::router
