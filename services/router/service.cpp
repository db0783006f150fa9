#include "router/service.hpp"

#include <future>
#include <thread>

#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <pqxx/pqxx>

#include "error/error.hpp"
#include "net/http_client.hpp"
#include "net/http_server.hpp"
#include "ratelimit/fallback_limiter.hpp"
#include "ratelimit/local_limiter.hpp"
#include "redis/client.hpp"
#include "router/api.hpp"
#include "router/change_listener.hpp"
#include "router/coordination.hpp"
#include "router/engine.hpp"

namespace waddle::router {
namespace asio = boost::asio;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

// The newest migration the router reads from (0006: module_secrets).
constexpr int kRequiredSchema = 6;

// Runs a coroutine to completion on a private io_context: for start(), which runs before the
// daemon's io_context does.
template <class T>
T run_blocking(asio::awaitable<T> task) {
  asio::io_context io;
  std::future<T> result = asio::co_spawn(io, std::move(task), asio::use_future);
  io.run();
  return result.get();
}

class RouterService final : public daemon::Service {
 public:
  explicit RouterService(daemon::Context& context)
      : io_(context.io()), settings_(load_settings(context.config())) {
    const config::Config& config = context.config();
    if (!config.has("database", "url")) {
      throw Error(Errc::invalid_argument,
                  "database.url is not set: the router needs PostgreSQL (set it in waddle.yaml or "
                  "WADDLE_DATABASE_URL)");
    }
    database_url_ = config.get_string("database", "url");
    pg::PoolOptions pool_options;
    pool_options.primary_url = database_url_;
    if (config.has("database", "replica_url")) {
      pool_options.replica_url = config.get_string("database", "replica_url");
    }
    pool_options.size = static_cast<std::size_t>(config.get_int("database", "pool_size"));
    pool_options.worker_threads = pool_options.size;
    pool_options.acquire_timeout = 3s;
    pool_options.connect_timeout = 3s;
    pool_options.application_name = "waddle-routerd";
    pool_ = std::make_unique<pg::Pool>(pool_options);

    if (config.has("redis", "url") && !config.get_string("redis", "url").empty()) {
      redis::Options options;
      options.url = config.get_string("redis", "url");
      options.command_timeout = 1s;
      options.connect_timeout = 1s;
      redis_ = std::make_unique<redis::Client>(io_.get_executor(), options);
      limiter_ = std::make_unique<ratelimit::FallbackLimiter>(*redis_);
    } else {
      limiter_ = std::make_unique<ratelimit::LocalLimiter>();
    }

    CatalogOptions catalog_options;
    catalog_options.command_ttl = settings_.command_ttl;
    catalog_options.community_ttl = settings_.community_ttl;
    catalog_ = std::make_unique<Catalog>(*pool_, io_.get_executor(), catalog_options);
    ChangeListener::Handlers handlers = catalog_->change_handlers();
    auto forward = handlers.on_change;
    handlers.on_change = [this, forward](const std::string& payload) {
      // module_secrets and api_keys are not the catalog's: reload them here.
      if (payload.find("\"module_secrets\"") != std::string::npos) {
        asio::co_spawn(io_, reload_secrets(), asio::detached);
        return;
      }
      // An identity moved to another user or was unlinked: user ids and roles cached for it
      // are wrong now.
      if (payload.find("\"platform_identities\"") != std::string::npos) {
        if (audit_) audit_->forget_users();
        if (members_) members_->clear();
        return;
      }
      forward(payload);
    };
    auto resync = handlers.on_resync;
    handlers.on_resync = [this, resync] {
      resync();
      asio::co_spawn(io_, reload_secrets(), asio::detached);
    };
    listener_ = std::make_unique<ChangeListener>(ChangeListenerOptions{.url = database_url_},
                                                 std::move(handlers));

    net::ClientOptions client_options;
    client_options.ca_file = settings_.ca_file;
    client_options.max_idle_per_host = 64;
    http_ = std::make_unique<net::HttpClient>(io_.get_executor(), client_options);
    ExecutorOptions executor_options;
    executor_options.lambda_endpoint = settings_.lambda_endpoint;
    executor_ = std::make_unique<Executor>(io_.get_executor(), *http_, executor_options);

    dedupe_ = std::make_unique<Deduper>(
        settings_.dedupe_capacity,
        std::chrono::duration_cast<std::chrono::milliseconds>(settings_.dedupe_ttl));
    sessions_ = std::make_unique<SessionStore>(redis_.get(), 100000, settings_.session_ttl);
    AuditOptions audit_options;
    audit_options.flush_interval = settings_.audit_flush_interval;
    audit_options.batch_size = settings_.audit_batch_size;
    audit_options.buffer_limit = settings_.audit_buffer_limit;
    audit_options.reputation_interval = settings_.reputation_flush_interval;
    audit_ = std::make_unique<AuditWriter>(*pool_, io_.get_executor(), audit_options);
    keys_ = std::make_unique<ApiKeys>(*pool_, settings_.api_key_ttl);
    secrets_ = std::make_unique<ModuleSecrets>(*pool_);
    points_ = std::make_unique<ReputationPoints>(*pool_);
    members_ = std::make_unique<MemberCache>(*pool_, settings_.member_ttl);

    Parts parts{io_.get_executor(), *catalog_,  *executor_, *http_,      *limiter_,
                *dedupe_,           *sessions_, *audit_,    *secrets_,   *points_,
                *members_,          registry_,  metrics_,   redis_.get()};
    engine_ = std::make_unique<Engine>(parts, settings_);

    ApiParts api{*engine_,
                 *keys_,
                 *pool_,
                 [this]() { return readiness(); },
                 [this]() { return gauges(); },
                 [this]() { return health(); }};
    net::ServerOptions server_options;
    server_options.address = settings_.listen_address;
    server_options.port = settings_.port;
    server_options.server_name = "waddle-routerd";
    server_ = std::make_unique<net::HttpServer>(io_, make_api(std::move(api)), server_options);

    register_commands(context.commands());
  }

  void start() override {
    check_schema();
    listener_->start();
    if (!listener_->wait_until_listening(10s)) {
      spdlog::warn("change listener: not listening yet; caches rely on their TTL until it is");
    }
    catalog_->load_all_sync();
    run_blocking(load_directory());
    catalog_->start();
    audit_->start();
    if (redis_) {
      connect_redis_before_ready();
      asio::co_spawn(io_, keep_redis_connected(), asio::detached);
    }
    asio::co_spawn(io_, refresh_loop(), asio::detached);
    const std::uint16_t port = server_->start();
    loaded_ = true;
    const auto stats = catalog_->stats();
    spdlog::info("router: listening on {}:{}; {} API keys, {} module secrets, redis {}",
                 settings_.listen_address, port, keys_->size(), secrets_->size(),
                 redis_ ? redis_->endpoint().describe() : std::string("not configured"));
    (void)stats;
  }

  void reload(const config::Config& config) override {
    Settings next = load_settings(config);
    if (next.listen_address != settings_.listen_address || next.port != settings_.port) {
      spdlog::warn("router: listen address changes take effect at the next restart");
    }
    engine_->set_settings(next);
    settings_ = next;
    members_->clear();
    catalog_->request_full_reload();
    spdlog::info("router: configuration reloaded");
  }

  void stop(std::chrono::steady_clock::time_point deadline) override {
    stopping_ = true;
    auto stopped = std::make_shared<std::promise<void>>();
    auto future = stopped->get_future();
    const auto drain = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now() - 1s);
    server_->stop(std::max<std::chrono::milliseconds>(drain, 100ms),
                  [stopped] { stopped->set_value(); });
    future.wait_until(deadline - 500ms);
    auto flushed = asio::co_spawn(io_, audit_->stop(deadline - 200ms), asio::use_future);
    flushed.wait_until(deadline - 100ms);
    listener_->stop();
    catalog_->stop();
    asio::post(io_, [refresh = refresh_timer_, redis = redis_timer_] {
      refresh->cancel();
      redis->cancel();
    });
    if (redis_) redis_->close();
  }

  json status() const override {
    const auto catalog = catalog_->stats();
    const auto audit = audit_->stats();
    json status = {{"loaded", loaded_.load()},
                   {"listen", settings_.listen_address + ":" + std::to_string(settings_.port)},
                   {"redis", redis_status()},
                   {"catalog",
                    {{"loads", catalog.loads},
                     {"reloads", catalog.reloads},
                     {"failures", catalog.failures},
                     {"last_reload_error", catalog.last_reload_error},
                     {"skipped_rules", catalog.skipped_rules}}},
                   {"change_listener", listener_->listening() ? "listening" : "reconnecting"},
                   {"audit",
                    {{"pending", audit.pending},
                     {"written", audit.written},
                     {"dropped", audit.dropped},
                     {"last_error", audit.last_error}}},
                   {"api_keys", keys_->size()},
                   {"module_secrets", secrets_->size()},
                   {"registered", registry_.all().size()}};
    return status;
  }

  json stats() const override {
    json out = metrics_.to_json();
    const auto catalog = catalog_->stats();
    const double lookups = static_cast<double>(catalog.hits + catalog.misses);
    out["cache"] = {
        {"catalog_hits", catalog.hits},
        {"catalog_misses", catalog.misses},
        {"catalog_hit_rate", lookups > 0 ? static_cast<double>(catalog.hits) / lookups : 0.0},
        {"member_hits", members_->hits()},
        {"member_misses", members_->misses()}};
    const auto audit = audit_->stats();
    out["audit"] = {{"queued", audit.queued},
                    {"written", audit.written},
                    {"dropped", audit.dropped},
                    {"pending", audit.pending},
                    {"flushes", audit.flushes},
                    {"failures", audit.failures},
                    {"reputation_credits", audit.reputation_credits},
                    {"reputation_rows", audit.reputation_rows}};
    out["rate_limit_refusals"] = metrics_.rate_limited.load();
    return out;
  }

 private:
  json redis_status() const {
    if (!redis_) return {{"configured", false}, {"mode", "in-process"}};
    auto* fallback = dynamic_cast<ratelimit::FallbackLimiter*>(limiter_.get());
    const bool degraded = !redis_->connected() || (fallback && fallback->degraded());
    return {{"configured", true},
            {"endpoint", redis_->endpoint().describe()},
            {"connected", redis_->connected()},
            {"degraded", degraded},
            {"mode", degraded ? "in-process fallback (Redis unreachable)" : "shared"},
            {"fallbacks",
             sessions_->redis_use().fallbacks.load() + (fallback ? fallback->local_checks() : 0)},
            {"last_error", fallback ? fallback->last_error() : std::string()}};
  }

  std::map<std::string, double> gauges() const {
    const auto audit = audit_->stats();
    std::map<std::string, double> g;
    g["audit_pending_rows"] = static_cast<double>(audit.pending);
    g["audit_dropped_rows_total"] = static_cast<double>(audit.dropped);
    g["audit_written_rows_total"] = static_cast<double>(audit.written);
    g["dedupe_ids"] = static_cast<double>(dedupe_->size());
    g["sessions_local"] = static_cast<double>(sessions_->local_size());
    g["redis_connected"] = redis_ && redis_->connected() ? 1 : 0;
    g["catalog_loaded"] = loaded_ ? 1 : 0;
    g["registered_modules"] = static_cast<double>(registry_.all().size());
    return g;
  }

  json health() const {
    const auto audit = audit_->stats();
    const bool redis_ok = !redis_ || redis_->connected();
    const bool db_ok = audit.last_error.empty() && catalog_->stats().last_reload_error.empty();
    return {{"status", redis_ok && db_ok && loaded_ ? "healthy" : "degraded"},
            {"service", "waddle-routerd"},
            {"version", daemon_info().version},
            {"postgres", db_ok ? "ok" : "failing"},
            {"redis", redis_ ? (redis_->connected() ? "ok" : "unreachable") : "not configured"},
            {"caches_loaded", loaded_.load()},
            {"audit_pending", audit.pending}};
  }

  asio::awaitable<json> readiness() {
    json checks = json::object();
    bool ready = loaded_ && !stopping_;
    checks["caches"] = loaded_ ? "loaded" : "loading";
    try {
      co_await pool_->run([](pqxx::connection& c) {
        pqxx::nontransaction tx(c);
        tx.exec("select 1");
        return 0;
      });
      checks["postgres"] = "ok";
    } catch (const std::exception& e) {
      checks["postgres"] = std::string("failing: ") + e.what();
      ready = false;
    }
    if (stopping_) checks["state"] = "stopping";
    co_return json{{"ready", ready}, {"checks", checks}};
  }

  // A router on an older schema would fail on its first query; say what to do instead.
  void check_schema() {
    const int version = pool_->run_sync([](pqxx::connection& c) {
      pqxx::nontransaction tx(c);
      if (tx.exec1("select to_regclass('schema_migrations') is null")[0].as<bool>()) return 0;
      return tx.exec1("select coalesce(max(version), 0) from schema_migrations")[0].as<int>();
    });
    if (version < kRequiredSchema) {
      throw Error(Errc::unavailable, "the database schema is at version " +
                                         std::to_string(version) + ", waddle-routerd needs " +
                                         std::to_string(kRequiredSchema) +
                                         ": run `waddle migrate` first");
    }
  }

  asio::awaitable<void> load_directory() {
    co_await keys_->load();
    co_await secrets_->load();
    co_await points_->load();
    co_await load_claims(*pool_, registry_);
  }

  asio::awaitable<void> reload_secrets() {
    try {
      co_await secrets_->load();
    } catch (const std::exception& e) {
      spdlog::warn("module secrets: reload failed: {}", e.what());
    }
  }

  // API keys and points change rarely and without NOTIFY: reload them on the TTL.
  asio::awaitable<void> refresh_loop() {
    asio::steady_timer& timer = *refresh_timer_;
    while (!stopping_) {
      timer.expires_after(settings_.api_key_ttl);
      boost::system::error_code ec;
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (stopping_) break;
      try {
        co_await keys_->load();
        co_await points_->load();
        co_await secrets_->load();
        co_await load_claims(*pool_, registry_);  // claims other routers served
      } catch (const std::exception& e) {
        spdlog::warn("router: periodic reload failed: {}", e.what());
      }
    }
  }

  // Redis before READY, so that an event retried against a just-restarted router is checked
  // against the shared duplicate claims, not only this process's empty memory. The daemon's
  // io_context does not run yet: run it here until the connect (bounded by its own timeout) is
  // done. A Redis that is down only costs that timeout; keep_redis_connected() goes on trying.
  void connect_redis_before_ready() {
    auto attempt = [this]() -> asio::awaitable<void> {
      try {
        co_await redis_->connect();
      } catch (const std::exception& e) {
        spdlog::warn("redis: {} unreachable at start ({}); serving with in-process fallbacks",
                     redis_->endpoint().describe(), e.what());
      }
    };
    auto done = asio::co_spawn(io_, attempt(), asio::use_future);
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (done.wait_for(0s) != std::future_status::ready &&
           std::chrono::steady_clock::now() < deadline) {
      io_.run_one_for(50ms);
    }
    io_.restart();  // run_one_for may have found no work and stopped the context
  }

  asio::awaitable<void> keep_redis_connected() {
    asio::steady_timer& timer = *redis_timer_;
    bool warned = false;
    while (!stopping_) {
      if (!redis_->connected()) {
        try {
          co_await redis_->connect();
          if (warned) spdlog::info("redis: connected to {}", redis_->endpoint().describe());
          warned = false;
        } catch (const std::exception& e) {
          if (!warned) {
            spdlog::warn("redis: {} unreachable ({}); serving with in-process fallbacks",
                         redis_->endpoint().describe(), e.what());
          }
          warned = true;
        }
      }
      timer.expires_after(1s);
      boost::system::error_code ec;
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
  }

  void register_commands(ctl::Registry& commands) {
    commands.add("cache-flush",
                 "reload the catalog, keys and secrets; forget cached members (arguments: "
                 "{\"what\": \"all|catalog|members|dedupe|sessions\"})",
                 ctl::Access::write,
                 ctl::Handler([this](const ctl::Call& call) -> asio::awaitable<ctl::Reply> {
                   const std::string what = call.arguments.value("what", "all");
                   if (what != "all" && what != "catalog" && what != "members" &&
                       what != "dedupe" && what != "sessions") {
                     co_return ctl::Reply::error(
                         Errc::invalid_argument,
                         "what: expected all, catalog, members, dedupe or sessions");
                   }
                   if (what == "all" || what == "catalog") {
                     catalog_->request_full_reload();
                     co_await load_directory();
                   }
                   if (what == "all" || what == "members") members_->clear();
                   if (what == "dedupe") dedupe_->clear();
                   if (what == "sessions") sessions_->clear();
                   co_return ctl::Reply::ok("flushed " + what);
                 }));
    commands.add("session", "show a session (arguments: {\"id\": \"ses_…\"})", ctl::Access::read,
                 ctl::Handler([this](const ctl::Call& call) -> asio::awaitable<ctl::Reply> {
                   const std::string id = call.arguments.value("id", "");
                   if (id.empty()) {
                     co_return ctl::Reply::error(Errc::invalid_argument, "id: missing");
                   }
                   auto session = co_await sessions_->get(id);
                   if (!session) co_return ctl::Reply::empty("no session " + id);
                   co_return ctl::Reply::ok("session " + id, session->to_json());
                 }));
    commands.add(
        "modules", "collectors and modules that registered", ctl::Access::read,
        ctl::SyncHandler([this](const ctl::Call&) {
          json list = json::array();
          for (const auto& r : registry_.all()) {
            list.push_back({{"name", r.name},
                            {"kind", r.kind},
                            {"platform", r.platform},
                            {"callback_url", r.callback_url},
                            {"version", r.version},
                            {"last_heartbeat", r.last_heartbeat}});
          }
          return ctl::Reply::ok(std::to_string(list.size()) + " registered", {{"modules", list}});
        }));
  }

  asio::io_context& io_;
  Settings settings_;
  std::string database_url_;
  std::unique_ptr<pg::Pool> pool_;
  std::unique_ptr<redis::Client> redis_;
  std::unique_ptr<ratelimit::Limiter> limiter_;
  std::unique_ptr<Catalog> catalog_;
  std::unique_ptr<ChangeListener> listener_;
  std::unique_ptr<net::HttpClient> http_;
  std::unique_ptr<Executor> executor_;
  std::unique_ptr<Deduper> dedupe_;
  std::unique_ptr<SessionStore> sessions_;
  std::unique_ptr<AuditWriter> audit_;
  std::unique_ptr<ApiKeys> keys_;
  std::unique_ptr<ModuleSecrets> secrets_;
  std::unique_ptr<ReputationPoints> points_;
  std::unique_ptr<MemberCache> members_;
  Registry registry_;
  Metrics metrics_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<net::HttpServer> server_;
  // Cancelled by stop(), so that no timer keeps the io_context running after the drain.
  std::shared_ptr<asio::steady_timer> refresh_timer_ = std::make_shared<asio::steady_timer>(io_);
  std::shared_ptr<asio::steady_timer> redis_timer_ = std::make_shared<asio::steady_timer>(io_);
  std::atomic<bool> loaded_{false};
  std::atomic<bool> stopping_{false};
};

}  // namespace

std::unique_ptr<daemon::Service> make_service(daemon::Context& context) {
  return std::make_unique<RouterService>(context);
}

}  // namespace waddle::router
