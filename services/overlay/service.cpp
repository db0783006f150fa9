#include "overlay/service.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <system_error>
#include <thread>

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <pqxx/pqxx>

#include "error/error.hpp"
#include "model/field_reader.hpp"
#include "net/websocket.hpp"
#include "overlay/feed.hpp"
#include "redis/subscriber.hpp"

namespace waddle::overlay {

namespace asio = boost::asio;
using namespace std::chrono_literals;

const char* const kPagePolicy =
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' https: data:; font-src 'self' data:; connect-src 'self'; "
    "frame-src 'self'; base-uri 'none'; form-action 'none'";

namespace {

constexpr const char* kInstalledWebDir = "/usr/share/waddlebot/overlay";
constexpr const char* kPages[] = {"ticker", "media", "general", "all"};

struct RequiredFile {
  const char* name;
  const char* content_type;
};
constexpr RequiredFile kWebFiles[] = {
    {"ticker.html", "text/html; charset=utf-8"},      {"media.html", "text/html; charset=utf-8"},
    {"general.html", "text/html; charset=utf-8"},     {"all.html", "text/html; charset=utf-8"},
    {"overlay.js", "text/javascript; charset=utf-8"}, {"overlay.css", "text/css; charset=utf-8"},
};

// Run from the build tree, the pages come from the source tree; installed, from /usr/share.
std::string default_web_dir() {
#if defined(WADDLE_OVERLAY_BUILD_DIR) && defined(WADDLE_OVERLAY_SOURCE_WEB_DIR)
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  const std::string build = WADDLE_OVERLAY_BUILD_DIR;
  if (!ec && exe.compare(0, build.size(), build) == 0) return WADDLE_OVERLAY_SOURCE_WEB_DIR;
#endif
  return kInstalledWebDir;
}

net::Response with_page_headers(net::Response response) {
  response.headers.emplace_back("Content-Security-Policy", kPagePolicy);
  // The token is in the URL: it must not leak to album-art hosts through Referer.
  response.headers.emplace_back("Referrer-Policy", "no-referrer");
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  response.headers.emplace_back("Cache-Control", "no-store");
  return response;
}

// One answer for every bad token or page, so that probing learns nothing.
net::Response not_found() {
  return with_page_headers(net::error_response(Errc::not_found, "no such overlay"));
}

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= path.size()) {
    auto end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    if (end > start) parts.emplace_back(path.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

}  // namespace

void add_config_keys(config::Schema& schema) {
  using config::Type;
  schema.add({.section = "overlay",
              .name = "listen",
              .type = Type::string,
              .default_value = "127.0.0.1",
              .doc = "address the pages and the WebSocket listen on"});
  schema.add({.section = "overlay",
              .name = "port",
              .type = Type::integer,
              .default_value = 8080,
              .min = 1,
              .max = 65535,
              .doc = "TCP port of the pages, the WebSocket and POST /internal/overlay"});
  schema.add({.section = "overlay",
              .name = "web_dir",
              .type = Type::string,
              .default_value = "",
              .doc = "directory of the pages; empty = the source tree's when run from the build, "
                     "else /usr/share/waddlebot/overlay"});
  schema.add({.section = "overlay",
              .name = "max_connections",
              .type = Type::integer,
              .default_value = 10000,
              .min = 1,
              .max = 1000000,
              .doc = "open connections in all (pages, WebSockets, API calls)"});
  schema.add({.section = "overlay",
              .name = "max_connections_per_token",
              .type = Type::integer,
              .default_value = 20,
              .min = 1,
              .max = 100000,
              .doc = "WebSocket connections one overlay token may hold at once"});
  schema.add({.section = "overlay",
              .name = "send_queue_limit",
              .type = Type::integer,
              .default_value = 256,
              .min = 1,
              .max = 100000,
              .doc = "messages queued for one client; a client further behind is dropped"});
  schema.add({.section = "overlay",
              .name = "ping_interval",
              .type = Type::duration,
              .default_value = "15s",
              .min = 0,
              .max = 3600000,
              .doc = "WebSocket ping after this much silence; twice as long closes (0 = never)"});
  schema.add({.section = "overlay",
              .name = "token_check_interval",
              .type = Type::duration,
              .default_value = "10s",
              .min = 1000,
              .max = 3600000,
              .doc = "how often connected tokens are checked; revoked or expired ones are cut"});
}

Settings settings_from_config(const config::Config& config) {
  Settings s;
  s.address = config.get_string("overlay", "listen");
  s.port = static_cast<std::uint16_t>(config.get_int("overlay", "port"));
  s.web_dir = config.get_string("overlay", "web_dir");
  if (config.has("database", "url")) s.database_url = config.get_string("database", "url");
  if (config.has("database", "replica_url")) {
    s.replica_url = config.get_string("database", "replica_url");
  }
  s.pool_size = static_cast<std::size_t>(config.get_int("database", "pool_size"));
  if (config.has("redis", "url")) s.redis_url = config.get_string("redis", "url");
  s.max_connections = static_cast<std::size_t>(config.get_int("overlay", "max_connections"));
  s.max_connections_per_token =
      static_cast<std::size_t>(config.get_int("overlay", "max_connections_per_token"));
  s.send_queue_limit = static_cast<std::size_t>(config.get_int("overlay", "send_queue_limit"));
  s.ping_interval = config.get_duration("overlay", "ping_interval");
  s.token_check_interval = config.get_duration("overlay", "token_check_interval");
  return s;
}

std::map<std::string, WebFile> load_web_dir(const std::string& given) {
  const std::string dir = given.empty() ? default_web_dir() : given;
  std::map<std::string, WebFile> files;
  for (const auto& f : kWebFiles) {
    const std::string path = dir + "/" + f.name;
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      throw Error(Errc::invalid_argument, "overlay.web_dir: cannot read " + path + " (is " + dir +
                                              " the pages' directory?)");
    }
    std::ostringstream body;
    body << in.rdbuf();
    files[f.name] = WebFile{f.content_type, body.str()};
  }
  return files;
}

OverlayService::OverlayService(asio::io_context& io, Settings settings)
    : io_(io), settings_(std::move(settings)), check_timer_(io) {
  if (settings_.database_url.empty()) {
    throw Error(Errc::invalid_argument,
                "database.url: required (overlay tokens and API keys live in PostgreSQL)");
  }
  pool_ = std::make_unique<pg::Pool>(pg::PoolOptions{.primary_url = settings_.database_url,
                                                     .replica_url = settings_.replica_url,
                                                     .size = settings_.pool_size,
                                                     .worker_threads = settings_.pool_size,
                                                     .application_name = "waddle-overlayd"});
  access_ = std::make_unique<AccessStore>(*pool_);
  hub_ = std::make_shared<Hub>(io_.get_executor(), HubOptions{settings_.max_connections_per_token});
  if (!settings_.redis_url.empty()) {
    redis::Options options;
    options.url = settings_.redis_url;
    subscriber_ = std::make_unique<redis::Subscriber>(io_.get_executor(), options);
  }
}

OverlayService::~OverlayService() {
  stopping_ = true;
  check_timer_.cancel();
  if (subscriber_) subscriber_->close();
}

void OverlayService::start() {
  auto files =
      std::make_shared<const std::map<std::string, WebFile>>(load_web_dir(settings_.web_dir));
  {
    std::lock_guard lock(web_mutex_);
    web_ = files;
  }
  // Fails start-up at once when Postgres cannot be reached.
  pool_->run_sync([](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    tx.exec("select 1 from overlay_tokens limit 1");
  });
  net::ServerOptions options;
  options.address = settings_.address;
  options.port = settings_.port;
  options.max_connections = settings_.max_connections;
  options.server_name = "waddle-overlayd";
  options.websocket = make_websocket_service();
  server_ = std::make_unique<net::HttpServer>(io_, make_routes(), options);
  port_ = server_->start();
  if (subscriber_) {
    subscriber_->on_message([this](std::string channel, std::string message) {
      auto community = community_of_channel(channel);
      if (!community) return;
      try {
        publish_message(message, *community);
      } catch (const std::exception& e) {
        feed_errors_.fetch_add(1);
        spdlog::warn("overlay message on {} dropped: {}", channel, e.what());
      }
    });
    asio::co_spawn(io_, run_feed(), asio::detached);
  } else {
    feed_ready_ = true;
  }
  asio::co_spawn(io_, run_token_check(), asio::detached);
}

asio::awaitable<void> OverlayService::run_feed() {
  // Once subscribed, the subscriber resubscribes after every reconnect by itself; only the
  // first connection is retried here.
  auto backoff = 100ms;
  while (!stopping_) {
    try {
      co_await subscriber_->connect();
      std::vector<std::string> patterns{std::string(kChannelPrefix) + "*"};
      co_await subscriber_->psubscribe(std::move(patterns));
      feed_ready_ = true;
      spdlog::info("overlay feed: subscribed to {}*", kChannelPrefix);
      co_return;
    } catch (const std::exception& e) {
      spdlog::warn("overlay feed: Redis not reachable yet ({}); retrying", e.what());
    }
    asio::steady_timer pause(io_, backoff);
    co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
    backoff = std::min<std::chrono::milliseconds>(backoff * 2, 5s);
  }
}

asio::awaitable<void> OverlayService::run_token_check() {
  while (!stopping_) {
    check_timer_.expires_after(settings_.token_check_interval);
    auto [ec] = co_await check_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec || stopping_) co_return;
    auto tokens = hub_->connected_tokens();
    if (tokens.empty()) continue;
    try {
      auto inactive = co_await access_->inactive_tokens(tokens);
      if (!inactive.empty()) {
        auto closed = hub_->close_tokens(inactive);
        tokens_closed_.fetch_add(closed);
        spdlog::info("overlay: closed {} connection(s) of {} revoked or expired token(s)", closed,
                     inactive.size());
      }
    } catch (const std::exception& e) {
      spdlog::warn("overlay token check failed: {}", e.what());
    }
  }
}

void OverlayService::publish_message(std::string_view text, std::int64_t channel_community) {
  Published published = parse_published(text);
  if (published.community_id != channel_community) {
    throw model::FieldError("community_id", "is " + std::to_string(published.community_id) +
                                                " but the message was sent for community " +
                                                std::to_string(channel_community));
  }
  hub_->publish(published.community_id, published.action);
}

net::Router OverlayService::make_routes() {
  net::Router router;
  router.add("GET", "/overlay/{token}/{page}",
             [this](net::Request& req) -> asio::awaitable<net::Response> {
               const std::string page(req.param("page"));
               if (page == "ws") {
                 co_return with_page_headers(net::error_response(
                     Errc::invalid_argument, "this address takes WebSocket connections only"));
               }
               std::shared_ptr<const std::map<std::string, WebFile>> web;
               {
                 std::lock_guard lock(web_mutex_);
                 web = web_;
               }
               auto file = web->find(page + ".html");
               if (std::find(std::begin(kPages), std::end(kPages), page) == std::end(kPages) ||
                   file == web->end()) {
                 co_return not_found();
               }
               auto grant = co_await access_->find_token(std::string(req.param("token")));
               if (!grant || sources_for_page(page, grant->sources).empty()) co_return not_found();
               co_return with_page_headers(
                   net::text_response(200, file->second.body, file->second.content_type));
             });
  router.add("GET", "/overlay/static/{file}",
             [this](net::Request& req) -> asio::awaitable<net::Response> {
               const std::string name(req.param("file"));
               std::shared_ptr<const std::map<std::string, WebFile>> web;
               {
                 std::lock_guard lock(web_mutex_);
                 web = web_;
               }
               auto file = web->find(name);
               if (file == web->end() || name.find(".html") != std::string::npos) {
                 co_return not_found();
               }
               auto response = with_page_headers(
                   net::text_response(200, file->second.body, file->second.content_type));
               co_return response;
             });
  router.add("POST", "/internal/overlay/{community_id}",
             [this](net::Request& req) -> asio::awaitable<net::Response> {
               auto community = parse_community_id(req.param("community_id"));
               if (!community) {
                 throw model::FieldError("community_id", "expected a positive integer in the path");
               }
               auto key = req.header("X-API-Key");
               if (!key || key->empty()) throw Error(Errc::unauthenticated, "X-API-Key: missing");
               bool allowed = co_await access_->may_publish(std::string(*key), *community);
               if (!allowed) {
                 throw Error(Errc::forbidden,
                             "X-API-Key: not an active key with the role module or admin for this "
                             "community");
               }
               std::optional<net::Response> refused;
               try {
                 publish_message(req.body, *community);
               } catch (const model::FieldError& e) {
                 refused = net::error_response(e.code(), e.what(), e.field());
               }
               if (refused) co_return *refused;
               co_return net::json_response(202, {{"accepted", true}});
             },
             {.body_limit = kMaxPublishedBytes});
  router.add("GET", "/healthz", [](net::Request&) -> asio::awaitable<net::Response> {
    co_return net::json_response(200, {{"status", "ok"}});
  });
  router.add("GET", "/readyz", [this](net::Request&) -> asio::awaitable<net::Response> {
    if (stopping_ || !feed_ready_) {
      co_return net::json_response(503, {{"status", stopping_ ? "stopping" : "waiting for Redis"}});
    }
    co_return net::json_response(200, {{"status", "ready"}});
  });
  return router;
}

std::shared_ptr<const net::WebSocketService> OverlayService::make_websocket_service() {
  auto service = std::make_shared<net::WebSocketService>();
  service->options.send_queue_limit = settings_.send_queue_limit;
  service->options.ping_interval = settings_.ping_interval;
  service->options.max_message = 4096;  // pages send nothing but pongs and the odd hello
  service->accept = [this](const net::Request& req, std::shared_ptr<net::WebSocket> socket)
      -> asio::awaitable<std::optional<net::Response>> {
    auto parts = split_path(req.path);
    if (parts.size() != 3 || parts[0] != "overlay" || parts[2] != "ws") co_return not_found();
    if (stopping_) {
      co_return net::error_response(Errc::unavailable, "overlay daemon stopping");
    }
    auto grant = co_await access_->find_token(parts[1]);
    if (!grant) co_return not_found();
    auto source = req.query.find("source");
    const std::string page = source == req.query.end() ? "all" : source->second;
    auto sources = sources_for_page(page, grant->sources);
    if (sources.empty()) co_return not_found();
    Viewer viewer{grant->community_id, grant->token_id, sources};
    switch (hub_->join(viewer, socket)) {
      case Hub::Join::joined: break;
      case Hub::Join::too_many:
        co_return net::error_response(Errc::rate_limited,
                                      "too many connections for this overlay token");
      case Hub::Join::closed:
        co_return net::error_response(Errc::unavailable, "overlay daemon stopping");
    }
    co_await access_->touch_token(grant->token_id);
    co_return std::nullopt;
  };
  return service;
}

void OverlayService::reload(const config::Config& config) {
  auto files = std::make_shared<const std::map<std::string, WebFile>>(
      load_web_dir(config.get_string("overlay", "web_dir")));
  std::lock_guard lock(web_mutex_);
  web_ = files;
}

void OverlayService::stop(std::chrono::steady_clock::time_point deadline) {
  stopping_ = true;
  asio::post(io_, [this] {
    check_timer_.cancel();
    if (subscriber_) subscriber_->close();
  });
  hub_->close_all();
  if (server_) {
    auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    auto done = std::make_shared<std::promise<void>>();
    auto finished = done->get_future();
    server_->stop(std::max(remaining - 500ms, 0ms), [done] { done->set_value(); });
    finished.wait_until(deadline);
  }
}

nlohmann::json OverlayService::status() const {
  return {{"port", port_},
          {"feed", subscriber_ ? (feed_ready_ ? "redis" : "redis (connecting)") : "http"},
          {"connections", hub_->connections()}};
}

nlohmann::json OverlayService::stats() const {
  auto out = hub_->stats();
  out["feed_errors"] = feed_errors_.load();
  out["token_closed_connections"] = tokens_closed_.load();
  if (server_) out["http_connections"] = server_->active_connections();
  return out;
}

}  // namespace waddle::overlay
