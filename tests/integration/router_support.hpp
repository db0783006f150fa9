#pragma once
// A real waddle-routerd for integration tests: a fresh migrated database with one community
// ("demo", entity console:local:demo), three API keys (collector, module, admin), the fake module
// host of tests/fakes on 127.0.0.1, and the daemon itself started as a child process with a
// config pointing at all of them. Requests go over real HTTP on loopback.
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "crypto/encoding.hpp"
#include "crypto/hash.hpp"
#include "crypto/random.hpp"
#include "fakes/module_server.hpp"
#include "net/http_client.hpp"
#include "support/async.hpp"
#include "support/child.hpp"
#include "support/cluster.hpp"
#include "support/database.hpp"
#include "support/ports.hpp"
#include "support/process.hpp"

#ifndef WADDLE_ROUTERD
#error "WADDLE_ROUTERD must name the waddle-routerd binary"
#endif

namespace waddle::test {

inline constexpr const char* kCollectorKey = "wdl_coll_test-collector-key-0123456789abcdef";
inline constexpr const char* kModuleKey = "wdl_modl_test-module-key-0123456789abcdef";
inline constexpr const char* kAdminKey = "wdl_admn_test-admin-key-0123456789abcdef";
inline constexpr const char* kOtherKey = "wdl_othr_test-other-community-key-0123456789";
inline constexpr const char* kSecret =
    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
inline constexpr const char* kEntity = "console:local:demo";

struct RouterOptions {
  bool redis = true;
  std::string extra_router_config;  // more "  key: value" lines for the router section
  std::string database_url;         // empty: the fresh database
};

class RouterHarness {
 public:
  explicit RouterHarness(RouterOptions options = {})
      : options_(std::move(options)),
        db_(true),
        guard_(fake_io_.get_executor()),
        modules_(std::make_unique<fakes::ModuleServer>(fake_io_, std::chrono::seconds(4))) {
    fake_thread_ = std::thread([this] { fake_io_.run(); });
    http_ = std::make_unique<net::HttpClient>(io_.get_executor());
    pqxx::connection c(db_.url());
    pqxx::work tx(c);
    community_id_ = tx.exec1(
                          "insert into communities (name, display_name) values ('demo', 'Demo') "
                          "returning id")[0]
                        .as<std::int64_t>();
    tx.exec_params(
        "insert into entities (entity_id, platform, server_id, channel_id, community_id) "
        "values ($1, 'console', 'local', 'demo', $2)",
        kEntity, community_id_);
    other_community_id_ =
        tx.exec1("insert into communities (name) values ('other') returning id")[0]
            .as<std::int64_t>();
    auto key = [&](const char* name, const char* value, const char* roles,
                   std::optional<std::int64_t> community) {
      tx.exec_params(
          "insert into api_keys (name, key_prefix, key_hash, roles, community_id) "
          "values ($1, $2, $3, $4::text[], $5)",
          name, std::string(value).substr(0, 8), crypto::sha256_hex(value), roles, community);
    };
    key("collector", kCollectorKey, "{collector}", std::nullopt);
    key("module", kModuleKey, "{module}", std::nullopt);
    key("admin", kAdminKey, "{admin}", std::nullopt);
    key("other", kOtherKey, "{collector,module}", other_community_id_);
    tx.commit();
  }

  ~RouterHarness() {
    if (router_) router_->stop();
    http_.reset();
    guard_.reset();
    fake_io_.stop();
    if (fake_thread_.joinable()) fake_thread_.join();
  }

  void start() {
    port_ = free_port();
    std::string config =
        "database:\n  url: " + (options_.database_url.empty() ? db_.url() : options_.database_url) +
        "\n  pool_size: 4\n";
    if (options_.redis) config += "redis:\n  url: " + redis_url() + "\n";
    config += "log:\n  level: debug\nrouter:\n  threads: 2\n  port: " + std::to_string(port_) +
              "\n  admin_socket: " + dir_.file("router.sock") +
              "\n  audit_flush_interval: 20ms\n  reputation_flush_interval: 50ms\n"
              "  lambda_endpoint: " +
              modules_->base_url() +
              "\n  aws_region: us-east-1\n  aws_access_key_id: AKIDEXAMPLE\n"
              "  aws_secret_access_key: wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY\n"
              "  openwhisk_auth: 'owuser:owpass'\n" +
              options_.extra_router_config;
    config_path_ = dir_.write("waddle.yaml", config);
    std::vector<std::string> argv{WADDLE_ROUTERD, "--config", config_path_};
    if (std::getenv("WADDLE_TEST_GDB")) {  // a backtrace in the log when the daemon crashes
      argv.insert(argv.begin(),
                  {"/usr/bin/gdb", "-q", "-batch", "-ex", "run", "-ex", "bt", "--args"});
    }
    router_ = std::make_unique<ChildProcess>(
        argv, std::vector<std::pair<std::string, std::string>>{}, dir_.file("router.log"));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      if (!router_->alive()) FAIL("waddle-routerd exited during start:\n" << router_->log());
      try {
        if (get("/readyz").status == 200) return;
      } catch (const std::exception&) {
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    FAIL("waddle-routerd not ready within 30 s:\n" << router_->log());
  }

  // A new router process on the same database and Redis (its memory starts empty).
  void restart() {
    if (router_) router_->stop();
    http_ = std::make_unique<net::HttpClient>(io_.get_executor());
    start();
  }

  net::ClientResponse request(std::string method, const std::string& path, std::string body,
                              const char* key) {
    net::ClientRequest request;
    request.method = std::move(method);
    request.url = "http://127.0.0.1:" + std::to_string(port_) + path;
    if (key) request.headers.emplace_back("X-API-Key", key);
    if (!body.empty()) request.headers.emplace_back("Content-Type", "application/json");
    request.body = std::move(body);
    request.timeout = std::chrono::seconds(20);
    net::ClientResponse response;
    try {
      run_bounded(
          io_,
          [&]() -> boost::asio::awaitable<void> {
            response = co_await http_->request(std::move(request));
          }(),
          std::chrono::seconds(30));
    } catch (const std::exception& e) {
      // The daemon's log says why it stopped answering.
      throw std::runtime_error(std::string(e.what()) + "\n--- waddle-routerd log ---\n" + log());
    }
    return response;
  }
  net::ClientResponse get(const std::string& path, const char* key = nullptr) {
    return request("GET", path, "", key);
  }
  net::ClientResponse post(const std::string& path, const nlohmann::json& body,
                           const char* key = kCollectorKey) {
    return request("POST", path, body.dump(), key);
  }
  // POST /router/events; REQUIREs 200 and returns the reply.
  nlohmann::json send(const nlohmann::json& event) {
    auto response = post("/router/events", event);
    INFO(response.body << "\n" << router_->log());
    REQUIRE(response.status == 200);
    return response.json();
  }

  nlohmann::json chat_event(const std::string& message, const std::string& user = "alice",
                            std::vector<std::string> roles = {}) {
    // Random: Redis (shared by every test) remembers event ids for the dedupe TTL.
    return {{"event_id", "console:" + crypto::hex_encode(crypto::random_bytes(8)) + "-" +
                             std::to_string(++event_counter_)},
            {"platform", "console"},
            {"message_type", "chatMessage"},
            {"entity_id", kEntity},
            {"user", {{"id", "id-" + user}, {"name", user}, {"roles", roles}}},
            {"message", message},
            {"timestamp", "2026-11-23T12:00:00Z"}};
  }

  // A command row for the fake module `key` (container, signed with kSecret).
  std::int64_t add_command(const std::string& prefix, const std::string& name,
                           const std::string& module, const std::string& extra_columns = "",
                           const std::string& extra_values = "") {
    pqxx::connection c(db_.url());
    pqxx::work tx(c);
    const bool local = prefix == "!";
    auto id =
        tx.exec_params1(
              "insert into commands (command, prefix, location_url, location, type, module_name" +
                  extra_columns + ") values ($1, $2, $3, $4, $5, $6" + extra_values +
                  ") returning id",
              name, prefix, modules_->module_url(module), local ? "internal" : "community",
              local ? "container" : "webhook", module)[0]
            .as<std::int64_t>();
    tx.exec_params(
        "insert into module_secrets (module_name, secret) values ($1, $2) "
        "on conflict do nothing",
        module, kSecret);
    tx.commit();
    return id;
  }

  void sql(const std::string& statement) {
    pqxx::connection c(db_.url());
    pqxx::work tx(c);
    tx.exec(statement);
    tx.commit();
  }
  pqxx::result query(const std::string& statement) {
    pqxx::connection c(db_.url());
    pqxx::nontransaction tx(c);
    return tx.exec(statement);
  }

  // Polls `statement` (one integer) until it is at least `want`, for a few seconds: audit rows
  // are written in batches after the reply.
  std::int64_t wait_count(const std::string& statement, std::int64_t want) {
    std::int64_t value = 0;
    for (int i = 0; i < 250; ++i) {
      value = query(statement)[0][0].as<std::int64_t>();
      if (value >= want) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return value;
  }

  // Waits for a change (NOTIFY) to reach the router: polls until `probe` returns true.
  template <class Probe>
  bool eventually(Probe probe, int attempts = 150) {
    for (int i = 0; i < attempts; ++i) {
      if (probe()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  fakes::ModuleServer& modules() { return *modules_; }
  ChildProcess& router() { return *router_; }
  std::int64_t community_id() const { return community_id_; }
  const TempDir& dir() const { return dir_; }
  std::uint16_t port() const { return port_; }
  const FreshDatabase& db() const { return db_; }
  std::string log() const { return router_ ? router_->log() : std::string(); }

 private:
  RouterOptions options_;
  FreshDatabase db_;
  TempDir dir_;
  boost::asio::io_context fake_io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  std::unique_ptr<fakes::ModuleServer> modules_;
  std::thread fake_thread_;
  boost::asio::io_context io_;
  std::unique_ptr<net::HttpClient> http_;
  std::int64_t community_id_ = 0;
  std::int64_t other_community_id_ = 0;
  std::uint16_t port_ = 0;
  std::string config_path_;
  std::unique_ptr<ChildProcess> router_;
  int event_counter_ = 0;
};

}  // namespace waddle::test
