#include "router/directory.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>
#include <pqxx/pqxx>

#include "crypto/hash.hpp"
#include "error/error.hpp"

namespace waddle::router {
namespace {

using namespace std::chrono_literals;

// Shortest time between two reloads caused by unknown keys: a client sending random keys must
// not turn every request into a query.
constexpr auto kMissReloadInterval = 2s;

std::vector<std::string> parse_text_array(const pqxx::field& field) {
  std::vector<std::string> out;
  auto parser = field.as_array();
  for (auto item = parser.get_next(); item.first != pqxx::array_parser::juncture::done;
       item = parser.get_next()) {
    if (item.first == pqxx::array_parser::juncture::string_value) out.push_back(item.second);
  }
  return out;
}

}  // namespace

bool ApiKey::allows(std::string_view role) const {
  for (const std::string& r : roles) {
    if (r == kRoleAdmin || r == role) return true;
  }
  return false;
}

ApiKeys::ApiKeys(pg::Pool& pool, std::chrono::seconds ttl) : pool_(pool), ttl_(ttl) {}

boost::asio::awaitable<void> ApiKeys::load() {
  // Named: g++ 12 destroys a capturing lambda temporary in a co_await twice.
  auto job = [](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    std::unordered_map<std::string, ApiKey> out;
    for (const auto& row :
         tx.exec("select id, name, key_prefix, key_hash, roles, community_id, "
                 "extract(epoch from expires_at)::bigint from api_keys where revoked_at is null")) {
      ApiKey key;
      key.id = row[0].as<std::int64_t>();
      key.name = row[1].as<std::string>();
      key.prefix = row[2].as<std::string>();
      key.roles = parse_text_array(row[4]);
      if (!row[5].is_null()) key.community_id = row[5].as<std::int64_t>();
      if (!row[6].is_null()) key.expires_at = row[6].as<std::int64_t>();
      out.emplace(row[3].as<std::string>(), std::move(key));
    }
    return out;
  };
  auto keys = co_await pool_.run(std::move(job), pg::Target::primary, {.retry_on_broken = true});
  std::lock_guard lock(mutex_);
  by_hash_ = std::move(keys);
  loaded_at_ = std::chrono::steady_clock::now();
  ++loads_;
}

boost::asio::awaitable<ApiKey> ApiKeys::authenticate(std::optional<std::string_view> header) {
  if (!header || header->empty()) {
    throw Error(Errc::unauthenticated, "missing X-API-Key header");
  }
  const std::string hash = crypto::sha256_hex(*header);
  bool reload = false;
  {
    std::lock_guard lock(mutex_);
    const auto age = std::chrono::steady_clock::now() - loaded_at_;
    auto it = by_hash_.find(hash);
    if (it == by_hash_.end()) {
      reload = age >= kMissReloadInterval;
    } else if (age >= ttl_) {
      reload = true;  // a revoked key must stop working within the TTL
    }
  }
  if (reload) {
    try {
      co_await load();
    } catch (const std::exception& e) {
      spdlog::warn("api keys: reload failed, using the cached keys: {}", e.what());
    }
  }
  std::lock_guard lock(mutex_);
  auto it = by_hash_.find(hash);
  if (it == by_hash_.end()) throw Error(Errc::unauthenticated, "invalid API key");
  if (it->second.expires_at) {
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    if (*it->second.expires_at <= now) throw Error(Errc::unauthenticated, "API key expired");
  }
  co_return it->second;
}

std::size_t ApiKeys::size() const {
  std::lock_guard lock(mutex_);
  return by_hash_.size();
}

boost::asio::awaitable<void> ModuleSecrets::load() {
  // Named: g++ 12 destroys a capturing lambda temporary in a co_await twice.
  auto job = [](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    std::unordered_map<std::string, std::string> out;
    for (const auto& row : tx.exec("select module_name, secret from module_secrets")) {
      out.emplace(row[0].as<std::string>(), row[1].as<std::string>());
    }
    return out;
  };
  auto secrets = co_await pool_.run(std::move(job), pg::Target::primary, {.retry_on_broken = true});
  std::lock_guard lock(mutex_);
  secrets_ = std::move(secrets);
}

std::string ModuleSecrets::secret(std::string_view module_name) const {
  std::lock_guard lock(mutex_);
  auto it = secrets_.find(std::string(module_name));
  return it == secrets_.end() ? std::string() : it->second;
}

std::size_t ModuleSecrets::size() const {
  std::lock_guard lock(mutex_);
  return secrets_.size();
}

boost::asio::awaitable<void> ReputationPoints::load() {
  // Named: g++ 12 destroys a capturing lambda temporary in a co_await twice.
  auto job = [](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    std::map<std::tuple<std::int64_t, std::string, std::string>, Rule, std::less<>> out;
    for (const auto& row :
         tx.exec("select coalesce(community_id, 0), event_type, coalesce(platform, ''), "
                 "points, coalesce(per_amount, 0) from reputation_event_points")) {
      out[{row[0].as<std::int64_t>(), row[1].as<std::string>(), row[2].as<std::string>()}] =
          Rule{row[3].as<std::int64_t>(), row[4].as<std::int64_t>()};
    }
    return out;
  };
  auto rules = co_await pool_.run(std::move(job), pg::Target::replica, {.retry_on_broken = true});
  std::lock_guard lock(mutex_);
  rules_ = std::move(rules);
}

std::int64_t ReputationPoints::points(std::int64_t community_id, std::string_view platform,
                                      std::string_view event_type, std::int64_t amount) const {
  std::lock_guard lock(mutex_);
  // Most specific first: the community's platform row, its any-platform row, then the defaults.
  const std::tuple<std::int64_t, std::string, std::string> candidates[] = {
      {community_id, std::string(event_type), std::string(platform)},
      {community_id, std::string(event_type), ""},
      {0, std::string(event_type), std::string(platform)},
      {0, std::string(event_type), ""}};
  for (const auto& key : candidates) {
    auto it = rules_.find(key);
    if (it == rules_.end()) continue;
    const Rule& rule = it->second;
    if (rule.per_amount > 0)
      return rule.points * (std::max<std::int64_t>(amount, 0) / rule.per_amount);
    return rule.points;
  }
  return 0;
}

boost::asio::awaitable<Membership> MemberCache::get(std::int64_t community_id, std::string platform,
                                                    std::string user_id) {
  const std::string key = std::to_string(community_id) + '\x1f' + platform + '\x1f' + user_id;
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mutex_);
    auto it = cache_.find(key);
    if (it != cache_.end() && it->second.first > now) {
      ++hits_;
      co_return it->second.second;
    }
  }
  ++misses_;
  Membership membership;
  if (user_id.empty()) co_return membership;
  try {
    // Named: g++ 12 destroys a capturing lambda temporary in a co_await twice.
    auto job = [=](pqxx::connection& c) {
      pqxx::nontransaction tx(c);
      auto rows = tx.exec_params(
          "select m.role, coalesce(t.points, 0) from platform_identities p "
          "join community_members m on m.user_id = p.user_id and m.community_id = $1 "
          "left join reputation_totals t on t.community_id = m.community_id "
          "and t.user_id = m.user_id where p.platform = $2 and p.platform_user_id = $3",
          community_id, platform, user_id);
      Membership m;
      if (!rows.empty()) {
        m.role = rows[0][0].as<std::string>();
        m.reputation = rows[0][1].as<std::int64_t>();
      }
      return m;
    };
    membership = co_await pool_.run(std::move(job), pg::Target::replica, {.retry_on_broken = true});
  } catch (const std::exception& e) {
    spdlog::debug("members: lookup failed, treating the user as a member: {}", e.what());
    co_return membership;  // not cached: ask again once PostgreSQL is back
  }
  std::lock_guard lock(mutex_);
  if (cache_.size() > 100000) cache_.clear();
  cache_[key] = {now + ttl_, membership};
  co_return membership;
}

void MemberCache::clear() {
  std::lock_guard lock(mutex_);
  cache_.clear();
}

int role_rank(std::string_view role) {
  if (role == "member") return 0;
  if (role == "moderator") return 1;
  if (role == "admin") return 2;
  if (role == "owner") return 3;
  return -1;
}

std::string effective_role(std::string_view community_role,
                           const std::vector<std::string>& platform_roles) {
  std::string best = role_rank(community_role) >= 0 ? std::string(community_role) : "member";
  for (const std::string& platform_role : platform_roles) {
    std::string_view implied;
    if (platform_role == "broadcaster" || platform_role == "owner") {
      implied = "owner";
    } else if (platform_role == "admin") {
      implied = "admin";
    } else if (platform_role == "moderator") {
      implied = "moderator";
    }
    if (!implied.empty() && role_rank(implied) > role_rank(best)) best = implied;
  }
  return best;
}

void Registry::upsert(Registration registration) {
  std::lock_guard lock(mutex_);
  registration.seen = std::chrono::steady_clock::now();
  auto it = by_name_.find(registration.name);
  if (it != by_name_.end() && registration.registered_at.empty()) {
    registration.registered_at = it->second.registered_at;
  }
  by_name_[registration.name] = std::move(registration);
}

bool Registry::heartbeat(std::string_view name, const std::string& at) {
  std::lock_guard lock(mutex_);
  auto it = by_name_.find(name);
  if (it == by_name_.end()) return false;
  it->second.last_heartbeat = at;
  it->second.seen = std::chrono::steady_clock::now();
  return true;
}

std::optional<Registration> Registry::collector_for(std::string_view platform) const {
  std::lock_guard lock(mutex_);
  const Registration* best = nullptr;
  for (const auto& [name, r] : by_name_) {
    if (r.kind != "collector" || r.platform != platform || r.callback_url.empty()) continue;
    if (!best || r.seen > best->seen) best = &r;
  }
  if (!best) return std::nullopt;
  return *best;
}

std::optional<Registration> Registry::collector_for(std::string_view platform,
                                                    std::string_view entity_id) const {
  {
    std::lock_guard lock(mutex_);
    auto claim = claims_.find(std::string(entity_id));
    if (claim != claims_.end() && claim->second.expires > std::chrono::system_clock::now()) {
      auto it = by_name_.find(claim->second.instance);
      if (it != by_name_.end() && it->second.kind == "collector" &&
          it->second.platform == platform && !it->second.callback_url.empty()) {
        return it->second;
      }
    }
  }
  return collector_for(platform);
}

void Registry::hold_claims(const std::string& instance, std::vector<Claim> claims) {
  std::lock_guard lock(mutex_);
  std::erase_if(claims_, [&](const auto& item) { return item.second.instance == instance; });
  for (Claim& claim : claims) {
    std::string id = claim.entity_id;
    claim.instance = instance;
    claims_[id] = std::move(claim);
  }
}

void Registry::replace_claims(std::vector<Claim> claims) {
  std::lock_guard lock(mutex_);
  claims_.clear();
  for (Claim& claim : claims) {
    std::string id = claim.entity_id;
    claims_[id] = std::move(claim);
  }
}

std::size_t Registry::claim_count() const {
  std::lock_guard lock(mutex_);
  return claims_.size();
}

std::vector<Registration> Registry::all() const {
  std::lock_guard lock(mutex_);
  std::vector<Registration> out;
  for (const auto& [name, r] : by_name_) out.push_back(r);
  return out;
}

}  // namespace waddle::router
