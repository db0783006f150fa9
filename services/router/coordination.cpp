#include "router/coordination.hpp"

#include <cmath>

#include <spdlog/spdlog.h>
#include <pqxx/pqxx>

#include "error/error.hpp"
#include "log/log.hpp"
#include "model/event.hpp"
#include "model/field_reader.hpp"
#include "net/http.hpp"
#include "pg/json.hpp"

namespace waddle::router {
namespace asio = boost::asio;
using json = nlohmann::json;

namespace {

constexpr const char* kStatuses[] = {"available", "claimed", "live", "offline", "error"};
// Errors in a row before a channel is marked `error` (the seeds' threshold); claims then take
// it last.
constexpr int kErrorThreshold = 3;

// A timestamptz as RFC 3339 UTC text, named `alias`.
std::string utc_as(const std::string& expression, const std::string& alias) {
  return "to_char(" + expression + " at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') as " +
         alias;
}
std::string utc(const std::string& column) {
  return utc_as(column, column);
}

const std::string kColumns = "id, entity_id, platform::text as platform, server_id, channel_id, " +
                             std::string("status, claimed_by, ") + utc("claimed_at") + ", " +
                             utc("claim_expires") + ", is_live, " + utc("live_since") +
                             ", viewer_count, " + utc("last_activity") + ", " +
                             utc("last_checkin") + ", error_count, priority, metadata";

json ids_json(const pqxx::result& rows) {
  json out = json::array();
  for (const auto& row : rows) out.push_back(row[0].as<std::string>());
  return out;
}

const model::StringRule kInstanceRule{128, false, true, true};

std::string read_instance(model::FieldReader& r) {
  return r.required_string("instance", kInstanceRule);
}

std::string read_platform(model::FieldReader& r) {
  const std::string platform = r.required_string("platform", model::kIdRule);
  if (!model::is_platform(platform)) {
    throw model::FieldError("platform", "expected twitch, discord, slack or console");
  }
  return platform;
}

// An optional array of entity ids as a JSON text for `jsonb_array_elements_text`; nullopt when
// the field is absent.
std::optional<std::string> read_entity_ids(model::FieldReader& r) {
  const json* value = r.get("entity_ids");
  if (!value) return std::nullopt;
  if (!value->is_array()) throw model::FieldError("entity_ids", "expected an array of entity ids");
  if (value->size() > 10000) throw model::FieldError("entity_ids", "more than 10000 entries");
  json ids = json::array();
  for (std::size_t i = 0; i < value->size(); ++i) {
    ids.push_back(
        model::string_value((*value)[i], "entity_ids[" + std::to_string(i) + "]", model::kIdRule));
  }
  return ids.dump();
}

std::string read_entity_id(model::FieldReader& r) {
  return r.required_string("entity_id", model::kIdRule);
}

json object_body(const net::Request& request) {
  json body = net::parse_json_body(request);
  if (!body.is_object()) throw model::FieldError("", "expected a JSON object");
  return body;
}

std::optional<std::string> query_value(const net::Request& request, const char* name) {
  auto it = request.query.find(name);
  if (it == request.query.end() || it->second.empty()) return std::nullopt;
  return it->second;
}

// What an instance holds after a change, for the reply and for the Registry's mirror.
struct Holdings {
  json entities = json::array();
  std::vector<Registry::Claim> claims;
  std::string claim_expires;  // the newest expiry; empty when nothing is held
};

Holdings holdings(pqxx::work& tx, const std::string& instance) {
  Holdings out;
  auto rows = tx.exec_params(
      "select " + kColumns +
          ", extract(epoch from claim_expires)::float8 as expires_epoch from coordination "
          "where claimed_by = $1 and claim_expires > now() order by entity_id",
      instance);
  for (const auto& row : rows) {
    const double epoch = row["expires_epoch"].as<double>();
    out.claims.push_back({row["entity_id"].as<std::string>(), instance,
                          std::chrono::system_clock::time_point(std::chrono::milliseconds(
                              static_cast<std::int64_t>(std::llround(epoch * 1000.0))))});
    const std::string expires = row["claim_expires"].as<std::string>();
    if (expires > out.claim_expires) out.claim_expires = expires;
  }
  out.entities = pg::rows_json(rows);
  for (auto& entity : out.entities) entity.erase("expires_epoch");
  return out;
}

// One instance's claim calls are serialised, so that "capacity minus what it holds" is exact
// even when its calls overlap.
void lock_instance(pqxx::work& tx, const std::string& instance) {
  tx.exec_params("select pg_advisory_xact_lock(hashtext('waddle.coordination:' || $1))", instance);
}

std::int64_t held_count(pqxx::work& tx, const std::string& instance, const std::string& platform) {
  return tx
      .exec_params1(
          "select count(*) from coordination where platform = $1 and claimed_by = $2 and "
          "claim_expires > now()",
          platform, instance)[0]
      .as<std::int64_t>();
}

// Claims up to `limit` free or expired rows of `platform`: live channels first, then priority,
// viewers; channels marked `error` last. SKIP LOCKED lets concurrent claims take different rows;
// FOR UPDATE re-checks the condition on a row another claim changed meanwhile, so a row is
// never taken twice.
json claim_rows(pqxx::work& tx, const std::string& instance, const std::string& platform,
                std::int64_t limit, const std::optional<std::string>& only,
                const std::optional<std::string>& exclude, std::int64_t ttl_seconds) {
  if (limit <= 0) return json::array();
  return ids_json(tx.exec_params(
      "with candidates as (select id from coordination where platform = $1 and "
      "(claimed_by is null or claim_expires is null or claim_expires <= now()) and "
      "($4::jsonb is null or entity_id in (select jsonb_array_elements_text($4::jsonb))) and "
      "($5::jsonb is null or entity_id not in (select jsonb_array_elements_text($5::jsonb))) "
      "order by (status = 'error'), is_live desc, priority, viewer_count desc, id limit $3 "
      "for update skip locked) "
      "update coordination c set claimed_by = $2, claimed_at = now(), "
      "claim_expires = now() + $6::bigint * interval '1 second', last_checkin = now(), "
      "status = case when c.is_live then 'live' else 'claimed' end "
      "from candidates where c.id = candidates.id returning c.entity_id",
      platform, instance, limit, only, exclude, ttl_seconds));
}

class Coordination {
 public:
  Coordination(Engine& engine, pg::Pool& pool) : engine_(engine), pool_(pool) {}

  asio::awaitable<net::Response> claim(net::Request& request, const ApiKey& key) {
    check_scope(key);
    json body = object_body(request);
    model::FieldReader r(body, "");
    const std::string instance = read_instance(r);
    const std::string platform = read_platform(r);
    const std::int64_t capacity = model::int_value(r.require("capacity"), "capacity", 1, 100000);
    const auto only = read_entity_ids(r);
    r.finish();
    const std::int64_t ttl = ttl_seconds();
    // Named: g++ 12 destroys a capturing lambda temporary in a co_await twice.
    auto job = [=](pqxx::work& tx) {
      lock_instance(tx, instance);
      const std::int64_t held = held_count(tx, instance, platform);
      json claimed = claim_rows(tx, instance, platform, capacity - held, only, std::nullopt, ttl);
      Holdings now = holdings(tx, instance);
      return std::make_pair(std::move(claimed), std::move(now));
    };
    auto [claimed, now] = co_await pool_.transaction(std::move(job));
    const std::size_t count = claimed.size();
    mirror(instance, now);
    if (count > 0) {
      log::audit({log::Category::audit, "-", key.prefix, "coordination.claim",
                  instance + " claimed " + std::to_string(count)});
    }
    co_return net::json_response(
        200,
        reply(instance, now,
              {{"platform", platform}, {"capacity", capacity}, {"claimed", std::move(claimed)}}));
  }

  // checkin extends the claims and records the checkin; heartbeat only extends them (seeds).
  asio::awaitable<net::Response> checkin(net::Request& request, const ApiKey& key, bool full) {
    check_scope(key);
    json body = object_body(request);
    model::FieldReader r(body, "");
    const std::string instance = read_instance(r);
    r.finish();
    const std::int64_t ttl = ttl_seconds();
    auto job = [=](pqxx::work& tx) {
      tx.exec_params(std::string("update coordination set claim_expires = now() + $2::bigint * "
                                 "interval '1 second'") +
                         (full ? ", last_checkin = now()" : "") + " where claimed_by = $1",
                     instance, ttl);
      return holdings(tx, instance);
    };
    Holdings now = co_await pool_.transaction(std::move(job));
    mirror(instance, now);
    co_return net::json_response(200, reply(instance, now, json::object()));
  }

  asio::awaitable<net::Response> release(net::Request& request, const ApiKey& key) {
    check_scope(key);
    json body = object_body(request);
    model::FieldReader r(body, "");
    const std::string instance = read_instance(r);
    const auto only = read_entity_ids(r);
    r.finish();
    auto job = [=](pqxx::work& tx) {
      json released = ids_json(tx.exec_params(
          "update coordination set claimed_by = null, claimed_at = null, claim_expires = null, "
          "status = case when status = 'claimed' then 'available' else status end "
          "where claimed_by = $1 and "
          "($2::jsonb is null or entity_id in (select jsonb_array_elements_text($2::jsonb))) "
          "returning entity_id",
          instance, only));
      return std::make_pair(std::move(released), holdings(tx, instance));
    };
    auto [released, now] = co_await pool_.transaction(std::move(job));
    mirror(instance, now);
    if (!released.empty()) {
      log::audit({log::Category::audit, "-", key.prefix, "coordination.release",
                  instance + " released " + std::to_string(released.size())});
    }
    co_return net::json_response(200, reply(instance, now, {{"released", std::move(released)}}));
  }

  asio::awaitable<net::Response> release_offline(net::Request& request, const ApiKey& key) {
    check_scope(key);
    json body = object_body(request);
    model::FieldReader r(body, "");
    const std::string instance = read_instance(r);
    const std::string platform = read_platform(r);
    std::optional<std::int64_t> capacity;
    if (const json* value = r.get("capacity")) {
      capacity = model::int_value(*value, "capacity", 1, 100000);
    }
    r.finish();
    const std::int64_t ttl = ttl_seconds();
    auto job = [=](pqxx::work& tx) {
      lock_instance(tx, instance);
      const std::int64_t before = held_count(tx, instance, platform);
      json released = ids_json(tx.exec_params(
          "update coordination set claimed_by = null, claimed_at = null, claim_expires = null "
          "where claimed_by = $1 and platform = $2 and claim_expires > now() and "
          "status = 'offline' and not is_live returning entity_id",
          instance, platform));
      const std::int64_t held = before - static_cast<std::int64_t>(released.size());
      // The channels just released are not taken straight back: others may take them.
      json claimed = claim_rows(tx, instance, platform, capacity.value_or(before) - held,
                                std::nullopt, released.dump(), ttl);
      return std::make_tuple(std::move(released), std::move(claimed), holdings(tx, instance));
    };
    auto [released, claimed, now] = co_await pool_.transaction(std::move(job));
    mirror(instance, now);
    co_return net::json_response(200, reply(instance, now,
                                            {{"platform", platform},
                                             {"released", std::move(released)},
                                             {"claimed", std::move(claimed)}}));
  }

  asio::awaitable<net::Response> status(net::Request& request, const ApiKey& key) {
    check_scope(key);
    json body = object_body(request);
    model::FieldReader r(body, "");
    const std::string instance = read_instance(r);
    const std::string entity_id = read_entity_id(r);
    const json& live_value = r.require("is_live");
    if (!live_value.is_boolean()) throw model::FieldError("is_live", "expected true or false");
    const bool is_live = live_value.get<bool>();
    const std::int64_t viewers = r.int_or("viewer_count", 0, 0, 2147483647);
    std::string metadata = "{}";
    if (const json* value = r.get("metadata")) {
      if (!value->is_object()) throw model::FieldError("metadata", "expected an object");
      metadata = value->dump(-1, ' ', false, json::error_handler_t::replace);
      if (metadata.size() > 16384) throw model::FieldError("metadata", "larger than 16 KiB");
    }
    r.finish();
    auto job = [=](pqxx::work& tx) {
      auto rows = tx.exec_params(
          "update coordination set is_live = $3, viewer_count = $4, last_activity = now(), "
          "last_check = now(), last_checkin = now(), metadata = metadata || $5::jsonb, "
          "live_since = case when $3 and not is_live then now() when $3 then live_since end, "
          "status = case when $3 then 'live' else 'offline' end "
          "where entity_id = $2 and claimed_by = $1 and claim_expires > now() returning " +
              kColumns,
          instance, entity_id, is_live, viewers, metadata);
      if (rows.empty()) not_held(tx, instance, entity_id);
      return pg::rows_json(rows)[0];
    };
    json row = co_await pool_.transaction(std::move(job));
    co_return net::json_response(200, row);
  }

  asio::awaitable<net::Response> error(net::Request& request, const ApiKey& key) {
    check_scope(key);
    json body = object_body(request);
    model::FieldReader r(body, "");
    const std::string instance = read_instance(r);
    const std::string entity_id = read_entity_id(r);
    const std::string message = r.required_string("message", model::StringRule{2000, false, false});
    r.finish();
    auto job = [=](pqxx::work& tx) {
      auto rows = tx.exec_params(
          "update coordination set error_count = error_count + 1, last_check = now(), "
          "metadata = metadata || jsonb_build_object('last_error', $3::text, 'last_error_at', "
          "now()), status = case when error_count + 1 >= $4 then 'error' else status end "
          "where entity_id = $2 and claimed_by = $1 and claim_expires > now() returning " +
              kColumns,
          instance, entity_id, message, kErrorThreshold);
      if (rows.empty()) not_held(tx, instance, entity_id);
      return pg::rows_json(rows)[0];
    };
    json row = co_await pool_.transaction(std::move(job));
    spdlog::warn("coordination: {} reports an error on {}: {}", instance, entity_id, message);
    co_return net::json_response(200, row);
  }

  asio::awaitable<net::Response> stats(net::Request&, const ApiKey&) {
    auto job = [](pqxx::connection& c) {
      pqxx::nontransaction tx(c);
      json platforms = pg::rows_json(tx.exec(
          "select platform::text as platform, count(*) as total, "
          "count(*) filter (where claimed_by is null or claim_expires <= now()) as unclaimed, "
          "count(*) filter (where claimed_by is not null and claim_expires > now()) as claimed, "
          "count(*) filter (where claimed_by is not null and claim_expires <= now()) as expired, "
          "count(*) filter (where is_live) as live, "
          "count(*) filter (where status = 'available') as status_available, "
          "count(*) filter (where status = 'claimed') as status_claimed, "
          "count(*) filter (where status = 'live') as status_live, "
          "count(*) filter (where status = 'offline') as status_offline, "
          "count(*) filter (where status = 'error') as status_error "
          "from coordination group by platform order by platform"));
      json instances = pg::rows_json(
          tx.exec("select claimed_by as instance, platform::text as platform, count(*) as claims, "
                  "count(*) filter (where is_live) as live, " +
                  utc_as("min(claim_expires)", "next_expiry") + ", " +
                  utc_as("max(last_checkin)", "last_checkin") +
                  " from coordination where claimed_by is not null and claim_expires > now() "
                  "group by claimed_by, platform order by claimed_by, platform"));
      return json{{"platforms", std::move(platforms)}, {"instances", std::move(instances)}};
    };
    json out = co_await pool_.run(std::move(job), pg::Target::primary);
    out["claim_ttl_seconds"] = ttl_seconds();
    co_return net::json_response(200, out);
  }

  asio::awaitable<net::Response> entities(net::Request& request, const ApiKey&) {
    auto platform = query_value(request, "platform");
    auto status = query_value(request, "status");
    auto claimed_by = query_value(request, "claimed_by");
    if (platform && !model::is_platform(*platform)) {
      throw model::FieldError("platform", "expected twitch, discord, slack or console");
    }
    if (status) model::check_one_of(*status, "status", kStatuses);
    std::int64_t limit = 1000;
    if (auto text = query_value(request, "limit")) {
      if (text->size() > 6 || text->find_first_not_of("0123456789") != std::string::npos ||
          (limit = std::stoll(*text)) < 1 || limit > 10000) {
        throw model::FieldError("limit", "expected an integer from 1 to 10000");
      }
    }
    auto job = [=](pqxx::connection& c) {
      pqxx::nontransaction tx(c);
      return pg::rows_json(tx.exec_params(
          "select " + kColumns +
              ", (claimed_by is not null and claim_expires <= now()) as claim_expired "
              "from coordination where ($1::text is null or platform::text = $1) and "
              "($2::text is null or status = $2) and ($3::text is null or claimed_by = $3) "
              "order by platform, is_live desc, priority, entity_id limit $4",
          platform, status, claimed_by, limit));
    };
    json rows = co_await pool_.run(std::move(job), pg::Target::primary);
    co_return net::json_response(200, {{"entities", std::move(rows)}});
  }

  asio::awaitable<net::Response> populate(net::Request& request, const ApiKey& key) {
    check_scope(key);
    std::optional<std::string> platform;
    if (!request.body.empty()) {
      json body = object_body(request);
      model::FieldReader r(body, "");
      if (r.get("platform")) platform = read_platform(r);
      r.finish();
    }
    auto job = [=](pqxx::work& tx) {
      // Console entities have no collector instances to share them; only asked for by name.
      return ids_json(tx.exec_params(
          "insert into coordination (platform, server_id, channel_id, entity_id) "
          "select e.platform, e.server_id, e.channel_id, e.entity_id from entities e "
          "where e.is_active and (($1::text is null and e.platform <> 'console') or "
          "e.platform::text = $1) order by e.id on conflict do nothing returning entity_id",
          platform));
    };
    json added = co_await pool_.transaction(std::move(job));
    log::audit({log::Category::audit, "-", key.prefix, "coordination.populate",
                platform.value_or("all") + ": added " + std::to_string(added.size())});
    co_return net::json_response(200, {{"added", added.size()}, {"entity_ids", std::move(added)}});
  }

 private:
  // Coordination spans every community: a key limited to one community may not take part.
  void check_scope(const ApiKey& key) const {
    if (key.community_id) {
      ++engine_.parts().metrics.authz_failures;
      throw Error(Errc::forbidden, "API key '" + key.name +
                                       "' is limited to one community; coordination needs a key "
                                       "for every community");
    }
  }

  // The row exists but `instance` does not hold it (409), or there is no row (404).
  [[noreturn]] static void not_held(pqxx::work& tx, const std::string& instance,
                                    const std::string& entity_id) {
    auto row = tx.exec_params(
        "select claimed_by, claim_expires > now() from coordination where entity_id = $1",
        entity_id);
    if (row.empty()) {
      throw Error(Errc::not_found, "no coordination row for '" + entity_id +
                                       "' (POST /router/coordination/populate adds them)");
    }
    std::string holder = row[0][0].is_null() || !row[0][1].as<bool>(false)
                             ? std::string("nobody")
                             : "'" + row[0][0].as<std::string>() + "'";
    throw Error(Errc::conflict, "'" + instance + "' does not hold the claim on '" + entity_id +
                                    "' (held by " + holder + ")");
  }

  std::int64_t ttl_seconds() const { return engine_.settings()->claim_ttl.count(); }

  void mirror(const std::string& instance, const Holdings& now) {
    engine_.parts().registry.hold_claims(instance, now.claims);
  }

  json reply(const std::string& instance, const Holdings& now, json extra) const {
    json out = {
        {"instance", instance},
        {"claim_ttl_seconds", ttl_seconds()},
        {"claim_expires", now.claim_expires.empty() ? json(nullptr) : json(now.claim_expires)},
        {"held", now.entities.size()},
        {"entities", now.entities}};
    for (auto& [k, v] : extra.items()) out[k] = std::move(v);
    return out;
  }

  Engine& engine_;
  pg::Pool& pool_;
};

}  // namespace

void add_coordination_routes(net::Router& router, Engine& engine, pg::Pool& pool,
                             CoordinationGuard guard) {
  auto c = std::make_shared<Coordination>(engine, pool);
  const net::RouteOptions small{256 * 1024};
  using R = net::Request;
  using K = ApiKey;
  const std::string base = "/router/coordination/";
  auto post = [&](const char* path, CoordinationHandler handler) {
    router.add("POST", base + path, guard(kRoleCollector, std::move(handler)), small);
  };
  post("claim", [c](R& r, const K& k) { return c->claim(r, k); });
  post("checkin", [c](R& r, const K& k) { return c->checkin(r, k, true); });
  post("heartbeat", [c](R& r, const K& k) { return c->checkin(r, k, false); });
  post("release", [c](R& r, const K& k) { return c->release(r, k); });
  post("release-offline", [c](R& r, const K& k) { return c->release_offline(r, k); });
  post("status", [c](R& r, const K& k) { return c->status(r, k); });
  post("error", [c](R& r, const K& k) { return c->error(r, k); });
  post("populate", [c](R& r, const K& k) { return c->populate(r, k); });
  router.add("GET", base + "stats",
             guard(kRoleCollector, [c](R& r, const K& k) { return c->stats(r, k); }));
  router.add("GET", base + "entities",
             guard(kRoleCollector, [c](R& r, const K& k) { return c->entities(r, k); }));
}

asio::awaitable<void> load_claims(pg::Pool& pool, Registry& registry) {
  auto job = [](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    std::vector<Registry::Claim> claims;
    for (const auto& row :
         tx.exec("select entity_id, claimed_by, extract(epoch from claim_expires)::float8 from "
                 "coordination where claimed_by is not null and claim_expires > now()")) {
      claims.push_back(
          {row[0].as<std::string>(), row[1].as<std::string>(),
           std::chrono::system_clock::time_point(std::chrono::milliseconds(
               static_cast<std::int64_t>(std::llround(row[2].as<double>() * 1000.0))))});
    }
    return claims;
  };
  auto claims = co_await pool.run(std::move(job), pg::Target::primary);
  registry.replace_claims(std::move(claims));
}

}  // namespace waddle::router
