#include "router/stores.hpp"

#include <spdlog/spdlog.h>

#include "error/error.hpp"
#include "redis/client.hpp"

namespace waddle::router {

TtlSet::TtlSet(std::size_t capacity, Clock::duration ttl) : capacity_(capacity), ttl_(ttl) {}

void TtlSet::evict(Clock::time_point now) {
  while (!order_.empty() && (order_.front().first <= now || expiry_.size() > capacity_)) {
    auto it = expiry_.find(order_.front().second);
    // A key inserted again after it expired has a newer entry further back: keep that one.
    if (it != expiry_.end() && it->second == order_.front().first) expiry_.erase(it);
    order_.pop_front();
  }
}

bool TtlSet::insert(std::string_view key, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  evict(now);
  auto [it, inserted] = expiry_.try_emplace(std::string(key), now + ttl_);
  if (!inserted) {
    if (it->second > now) return false;
    it->second = now + ttl_;
  }
  order_.emplace_back(it->second, it->first);
  if (expiry_.size() > capacity_) evict(now);
  return true;
}

bool TtlSet::contains(std::string_view key, Clock::time_point now) const {
  std::lock_guard lock(mutex_);
  auto it = expiry_.find(std::string(key));
  return it != expiry_.end() && it->second > now;
}

std::size_t TtlSet::size() const {
  std::lock_guard lock(mutex_);
  return expiry_.size();
}

void TtlSet::clear() {
  std::lock_guard lock(mutex_);
  expiry_.clear();
  order_.clear();
}

Deduper::Deduper(std::size_t capacity, std::chrono::milliseconds ttl)
    : ttl_(ttl), local_(capacity, ttl) {}

bool Deduper::first_local(std::string_view event_id) {
  return local_.insert(event_id);
}

std::vector<std::string> Deduper::claim_command(const std::string& event_id) const {
  return {"SET", std::string(kDedupeKeyPrefix) + event_id,
          "1",   "NX",
          "PX",  std::to_string(ttl_.count())};
}

nlohmann::json Session::to_json() const {
  return {{"id", id},
          {"event_id", event_id},
          {"entity_id", entity_id},
          {"platform", platform},
          {"community_id", community_id},
          {"community_name", community_name},
          {"user_id", user_id},
          {"user_name", user_name},
          {"execution_ids", execution_ids}};
}

Session Session::from_json(const nlohmann::json& j) {
  Session s;
  s.id = j.value("id", "");
  s.event_id = j.value("event_id", "");
  s.entity_id = j.value("entity_id", "");
  s.platform = j.value("platform", "");
  s.community_id = j.value("community_id", std::int64_t{0});
  s.community_name = j.value("community_name", "");
  s.user_id = j.value("user_id", "");
  s.user_name = j.value("user_name", "");
  s.execution_ids = j.value("execution_ids", std::vector<std::string>{});
  return s;
}

SessionStore::SessionStore(redis::Client* redis, std::size_t capacity, std::chrono::seconds ttl)
    : redis_(redis), ttl_(ttl), capacity_(capacity) {}

void SessionStore::put_local(const Session& session) {
  const auto now = TtlSet::Clock::now();
  std::lock_guard lock(mutex_);
  while (!order_.empty() && (order_.front().first <= now || local_.size() >= capacity_)) {
    local_.erase(order_.front().second);
    order_.pop_front();
  }
  order_.emplace_back(now + ttl_, session.id);
  local_[session.id] = {now + ttl_, session};
}

std::vector<std::string> SessionStore::store_command(const Session& session) const {
  return {"SET", std::string(kSessionKeyPrefix) + session.id, session.to_json().dump(), "EX",
          std::to_string(ttl_.count())};
}

boost::asio::awaitable<void> SessionStore::put(Session session) {
  put_local(session);
  if (!redis_) co_return;
  if (!redis_->connected()) {
    ++use_.fallbacks;
    co_return;
  }
  ++use_.redis_calls;
  try {
    redis::Reply reply = co_await redis_->command_or_throw(store_command(session));
    (void)reply;
  } catch (const std::exception& e) {
    ++use_.fallbacks;
    spdlog::debug("session: Redis failed ({}); kept in memory only", e.what());
  }
}

boost::asio::awaitable<bool> SessionStore::put_claiming(const Deduper& dedupe, std::string event_id,
                                                        Session session) {
  put_local(session);
  if (!redis_) co_return true;
  if (!redis_->connected()) {
    ++use_.fallbacks;
    co_return true;
  }
  std::vector<std::vector<std::string>> commands;
  commands.push_back(dedupe.claim_command(event_id));
  commands.push_back(store_command(session));
  use_.redis_calls += 2;
  try {
    std::vector<redis::Reply> replies = co_await redis_->pipeline(std::move(commands));
    if (replies.size() == 2 && !replies[0].is_error()) co_return !replies[0].is_nil();
    ++use_.fallbacks;
  } catch (const std::exception& e) {
    ++use_.fallbacks;
    spdlog::debug("session: Redis failed ({}); duplicates checked in memory only", e.what());
  }
  co_return true;
}

boost::asio::awaitable<std::optional<Session>> SessionStore::get(std::string id) {
  {
    std::lock_guard lock(mutex_);
    auto it = local_.find(id);
    if (it != local_.end() && it->second.first > TtlSet::Clock::now()) co_return it->second.second;
  }
  if (!redis_ || !redis_->connected()) co_return std::nullopt;
  ++use_.redis_calls;
  try {
    std::string key = std::string(kSessionKeyPrefix) + id;
    redis::Reply reply = co_await redis_->command("GET", key);
    if (reply.is_string()) {
      auto json = nlohmann::json::parse(reply.as_string(), nullptr, false);
      if (json.is_object()) co_return Session::from_json(json);
    }
  } catch (const std::exception& e) {
    ++use_.fallbacks;
    spdlog::debug("session: Redis failed ({})", e.what());
  }
  co_return std::nullopt;
}

std::size_t SessionStore::local_size() const {
  std::lock_guard lock(mutex_);
  return local_.size();
}

void SessionStore::clear() {
  std::lock_guard lock(mutex_);
  local_.clear();
  order_.clear();
}

}  // namespace waddle::router
