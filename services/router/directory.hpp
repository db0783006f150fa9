#pragma once
// Small lookups the router keeps in memory beside the catalog: API keys (hashed, with roles),
// module signing secrets, reputation point values, users' community roles, and the collectors
// and modules that registered their callback URLs. Each is loaded from PostgreSQL, refreshed on a
// TTL, and answers from memory.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include "pg/pool.hpp"

namespace waddle::router {

// Roles an API key may hold (api_keys.roles).
inline constexpr std::string_view kRoleAdmin = "admin";
inline constexpr std::string_view kRoleCollector = "collector";
inline constexpr std::string_view kRoleModule = "module";
inline constexpr std::string_view kRoleReadonly = "readonly";

struct ApiKey {
  std::int64_t id = 0;
  std::string name;
  std::string prefix;
  std::vector<std::string> roles;
  std::optional<std::int64_t> community_id;  // nullopt: every community
  std::optional<std::int64_t> expires_at;    // unix seconds
  // admin may do everything; readonly may read what the others may read.
  bool allows(std::string_view role) const;
  bool allows_community(std::int64_t id) const { return !community_id || *community_id == id; }
};

class ApiKeys {
 public:
  ApiKeys(pg::Pool& pool, std::chrono::seconds ttl);
  boost::asio::awaitable<void> load();
  // The key for an X-API-Key value. Throws Error(unauthenticated) for a missing, unknown, revoked
  // or expired key. An unknown key reloads the table first when the last load is a few seconds
  // old, so a key made with `waddle apikey create` works at once.
  boost::asio::awaitable<ApiKey> authenticate(std::optional<std::string_view> header);
  std::size_t size() const;
  std::uint64_t loads() const { return loads_.load(); }

 private:
  pg::Pool& pool_;
  std::chrono::seconds ttl_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, ApiKey> by_hash_;
  std::chrono::steady_clock::time_point loaded_at_{};
  std::atomic<std::uint64_t> loads_{0};
};

// module_secrets: module_name -> the HMAC key. Reloaded on NOTIFY and on a TTL.
class ModuleSecrets {
 public:
  explicit ModuleSecrets(pg::Pool& pool) : pool_(pool) {}
  boost::asio::awaitable<void> load();
  std::string secret(std::string_view module_name) const;  // empty when none
  std::size_t size() const;

 private:
  pg::Pool& pool_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::string> secrets_;
};

// reputation_event_points: the points an event earns, per community (overrides) and platform.
class ReputationPoints {
 public:
  explicit ReputationPoints(pg::Pool& pool) : pool_(pool) {}
  boost::asio::awaitable<void> load();
  // Points for one event; 0 when the type earns nothing. per_amount rows award points per
  // per_amount units of `amount` (bits, minutes).
  std::int64_t points(std::int64_t community_id, std::string_view platform,
                      std::string_view event_type, std::int64_t amount) const;

 private:
  struct Rule {
    std::int64_t points = 0;
    std::int64_t per_amount = 0;
  };
  pg::Pool& pool_;
  mutable std::mutex mutex_;
  // (community id or 0, event type, platform or "") -> rule
  std::map<std::tuple<std::int64_t, std::string, std::string>, Rule, std::less<>> rules_;
};

// A user's role and reputation in a community, cached for `ttl`.
struct Membership {
  std::string role = "member";
  std::int64_t reputation = 0;
};

class MemberCache {
 public:
  MemberCache(pg::Pool& pool, std::chrono::seconds ttl) : pool_(pool), ttl_(ttl) {}
  // Queries on a miss; when PostgreSQL cannot answer, a plain member with 0 points.
  boost::asio::awaitable<Membership> get(std::int64_t community_id, std::string platform,
                                         std::string user_id);
  void clear();
  std::uint64_t hits() const { return hits_.load(); }
  std::uint64_t misses() const { return misses_.load(); }

 private:
  pg::Pool& pool_;
  std::chrono::seconds ttl_;
  std::mutex mutex_;
  std::unordered_map<std::string, std::pair<std::chrono::steady_clock::time_point, Membership>>
      cache_;
  std::atomic<std::uint64_t> hits_{0};
  std::atomic<std::uint64_t> misses_{0};
};

// The rank of a community role: member 0, moderator 1, admin 2, owner 3; -1 when unknown.
int role_rank(std::string_view role);
// The higher of the community role and what the platform roles imply (broadcaster → owner,
// admin → admin, moderator → moderator).
std::string effective_role(std::string_view community_role,
                           const std::vector<std::string>& platform_roles);

// Collectors and modules that announced themselves (POST /router/modules/register|heartbeat).
struct Registration {
  std::string name;
  std::string kind;  // collector | module
  std::string platform;
  std::string callback_url;
  std::string callback_token;  // sent back as Authorization: Bearer …
  std::string version;
  std::string registered_at;
  std::string last_heartbeat;
  std::chrono::steady_clock::time_point seen{};
};

class Registry {
 public:
  void upsert(Registration registration);
  bool heartbeat(std::string_view name, const std::string& at);
  // The collector that takes late answers for a platform: the one heard from most recently.
  std::optional<Registration> collector_for(std::string_view platform) const;
  // The same for one channel: the registered collector whose name holds the channel's
  // unexpired claim (coordination), else collector_for(platform).
  std::optional<Registration> collector_for(std::string_view platform,
                                            std::string_view entity_id) const;
  std::vector<Registration> all() const;

  // Channel claims as the coordination table holds them: entity_id -> instance, until when.
  struct Claim {
    std::string entity_id;
    std::string instance;
    std::chrono::system_clock::time_point expires;
  };
  // Everything `instance` holds now (replaces what it held before).
  void hold_claims(const std::string& instance, std::vector<Claim> claims);
  // Every claim (a reload from PostgreSQL, which other routers may have changed).
  void replace_claims(std::vector<Claim> claims);
  std::size_t claim_count() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, Registration, std::less<>> by_name_;
  std::unordered_map<std::string, Claim> claims_;  // by entity_id
};

}  // namespace waddle::router
