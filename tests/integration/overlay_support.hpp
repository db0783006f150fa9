#pragma once
// Shared by the overlay integration tests: a migrated database with a community, its overlay
// token and API keys; waddle-overlayd's service running on its own thread; publishing helpers.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "crypto/hash.hpp"
#include "crypto/random.hpp"
#include "overlay/service.hpp"
#include "support/async.hpp"
#include "support/cluster.hpp"
#include "support/database.hpp"

namespace waddle::test::overlay_support {

struct Community {
  std::int64_t id = 0;
  std::string token;
  std::int64_t token_id = 0;
};

class OverlayDatabase {
 public:
  OverlayDatabase() : db_(true) {}
  const std::string& url() const { return db_.url(); }

  void exec(const std::string& sql) {
    pqxx::connection c(db_.url());
    pqxx::work tx(c);
    tx.exec(sql);
    tx.commit();
  }

  // A community with one token (default sources unless `sources` is a Postgres array literal).
  Community add_community(const std::string& name, const std::string& sources = "") {
    pqxx::connection c(db_.url());
    pqxx::work tx(c);
    Community out;
    out.id = tx.exec_params1("insert into communities (name) values ($1) returning id", name)[0]
                 .as<std::int64_t>();
    auto [token, token_id] = insert_token(tx, out.id, "default", sources);
    out.token = token;
    out.token_id = token_id;
    tx.commit();
    return out;
  }

  // Another token for the community, as `waddle overlay token create --name` makes it.
  std::pair<std::string, std::int64_t> add_token(std::int64_t community_id,
                                                 const std::string& name) {
    pqxx::connection c(db_.url());
    pqxx::work tx(c);
    auto made = insert_token(tx, community_id, name, "");
    tx.commit();
    return made;
  }

  // An API key with `roles` (a Postgres array literal such as {module}); returns the key.
  std::string add_api_key(const std::string& name, const std::string& roles,
                          std::optional<std::int64_t> community_id = std::nullopt) {
    const std::string key = crypto::random_token(32);
    pqxx::connection c(db_.url());
    pqxx::work tx(c);
    if (community_id) {
      tx.exec_params(
          "insert into api_keys (name, key_prefix, key_hash, roles, community_id) "
          "values ($1, $2, $3, $4::text[], $5)",
          name, key.substr(0, 8), crypto::sha256_hex(key), roles, *community_id);
    } else {
      tx.exec_params(
          "insert into api_keys (name, key_prefix, key_hash, roles) values ($1, $2, $3, "
          "$4::text[])",
          name, key.substr(0, 8), crypto::sha256_hex(key), roles);
    }
    tx.commit();
    return key;
  }

 private:
  static std::pair<std::string, std::int64_t> insert_token(pqxx::work& tx,
                                                           std::int64_t community_id,
                                                           const std::string& name,
                                                           const std::string& sources) {
    const std::string token = crypto::random_token(32);
    std::int64_t id;
    if (sources.empty()) {
      id = tx.exec_params1(
                 "insert into overlay_tokens (community_id, name, token_prefix, token_hash) "
                 "values ($1, $2, $3, $4) returning id",
                 community_id, name, token.substr(0, 8), crypto::sha256_hex(token))[0]
               .as<std::int64_t>();
    } else {
      id = tx.exec_params1(
                 "insert into overlay_tokens (community_id, name, token_prefix, token_hash, "
                 "sources) values ($1, $2, $3, $4, $5::text[]) returning id",
                 community_id, name, token.substr(0, 8), crypto::sha256_hex(token), sources)[0]
               .as<std::int64_t>();
    }
    return {token, id};
  }

  FreshDatabase db_;
};

inline overlay::Settings settings_for(const std::string& database_url, bool with_redis) {
  overlay::Settings s;
  s.port = 0;
  s.web_dir = source_dir() + "/services/overlay/web";
  s.database_url = database_url;
  s.pool_size = 2;
  if (with_redis) s.redis_url = redis_url();
  s.token_check_interval = std::chrono::seconds(1);
  return s;
}

// The daemon's service, started, with its io_context on two threads of its own.
class RunningOverlay {
 public:
  explicit RunningOverlay(overlay::Settings settings)
      : work_(io_.get_executor()), service_(io_, std::move(settings)) {
    service_.start();
    for (auto& t : threads_) t = std::thread([this] { io_.run(); });
  }
  ~RunningOverlay() {
    // stop() blocks until the connections are gone, so it runs beside the loop.
    service_.stop(std::chrono::steady_clock::now() + std::chrono::seconds(5));
    work_.reset();
    io_.stop();
    for (auto& t : threads_) t.join();
  }
  RunningOverlay(const RunningOverlay&) = delete;
  RunningOverlay& operator=(const RunningOverlay&) = delete;

  std::uint16_t port() const { return service_.port(); }
  overlay::OverlayService& service() { return service_; }
  std::string base() const { return "http://127.0.0.1:" + std::to_string(port()); }

  // Waits (bounded) until the Redis subscription is confirmed.
  void wait_for_feed() {
    for (int i = 0; i < 500 && !service_.feed_ready(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    REQUIRE(service_.feed_ready());
  }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  overlay::OverlayService service_;
  std::thread threads_[2];
};

// The router's message for `action`.
inline std::string published(std::int64_t community_id, const nlohmann::json& action) {
  return nlohmann::json{{"community_id", community_id},
                        {"community", "demo"},
                        {"entity_id", "twitch:channel:demo"},
                        {"action", action},
                        {"published_at", "2026-01-01T12:00:00Z"}}
      .dump();
}

inline std::string channel_of(std::int64_t community_id) {
  return "waddlebot:overlay:" + std::to_string(community_id);
}

}  // namespace waddle::test::overlay_support
