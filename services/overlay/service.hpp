#pragma once
// waddle-overlayd: the OBS browser-source pages, their WebSocket feed, and the two ways actions
// come in (Redis pub/sub, or an authenticated POST when there is no Redis).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "config/config.hpp"
#include "config/schema.hpp"
#include "daemon/daemon.hpp"
#include "net/http_server.hpp"
#include "overlay/access.hpp"
#include "overlay/hub.hpp"
#include "pg/pool.hpp"

namespace waddle::redis {
class Subscriber;
}

namespace waddle::overlay {

struct Settings {
  std::string address = "127.0.0.1";
  std::uint16_t port = 8080;  // 0: an ephemeral port (tests)
  std::string web_dir;        // the pages, scripts and styles served under /overlay/
  std::string database_url;
  std::string replica_url;
  std::size_t pool_size = 4;
  std::string redis_url;  // empty: no Redis, actions arrive by POST /internal/overlay/{id}
  std::size_t max_connections = 10000;
  std::size_t max_connections_per_token = 20;
  std::size_t send_queue_limit = 256;
  std::chrono::milliseconds ping_interval{15000};
  std::chrono::milliseconds token_check_interval{10000};
};

// The overlay.* keys, for main() and the man page.
void add_config_keys(config::Schema& schema);
Settings settings_from_config(const config::Config& config);

// The files a web_dir must hold, and the content type each is served with.
struct WebFile {
  std::string content_type;
  std::string body;
};
// Reads every required page, script and stylesheet. Throws waddle::Error(invalid_argument,
// "overlay.web_dir: …") naming the directory and the missing or unreadable file.
std::map<std::string, WebFile> load_web_dir(const std::string& dir);

// The Content-Security-Policy of every page the daemon serves.
extern const char* const kPagePolicy;

class OverlayService : public daemon::Service {
 public:
  OverlayService(boost::asio::io_context& io, Settings settings);
  ~OverlayService() override;

  // Loads the pages, binds the listener, and starts the Redis feed (which connects in the
  // background, retrying) and the token check. Throws waddle::Error on a bad web_dir or port.
  void start() override;
  // Re-reads the pages (a changed web_dir included); the listener and limits stay.
  void reload(const config::Config& config) override;
  void stop(std::chrono::steady_clock::time_point deadline) override;
  nlohmann::json status() const override;
  nlohmann::json stats() const override;

  std::uint16_t port() const { return port_; }
  // Subscribed to Redis (always true without Redis).
  bool feed_ready() const { return feed_ready_.load(); }
  // One published message (the router's JSON text) into the hub. `channel_community` is the id
  // the message arrived for (channel or URL), which must match its community_id. Throws
  // waddle::Error(invalid_argument) naming the problem.
  void publish_message(std::string_view text, std::int64_t channel_community);
  Hub& hub() { return *hub_; }

 private:
  boost::asio::awaitable<void> run_feed();
  boost::asio::awaitable<void> run_token_check();
  net::Router make_routes();
  std::shared_ptr<const net::WebSocketService> make_websocket_service();

  boost::asio::io_context& io_;
  Settings settings_;
  std::unique_ptr<pg::Pool> pool_;
  std::unique_ptr<AccessStore> access_;
  std::shared_ptr<Hub> hub_;
  std::unique_ptr<net::HttpServer> server_;
  std::unique_ptr<redis::Subscriber> subscriber_;
  boost::asio::steady_timer check_timer_;
  std::uint16_t port_ = 0;
  std::atomic<bool> feed_ready_{false};
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> feed_errors_{0};
  std::atomic<std::uint64_t> tokens_closed_{0};

  mutable std::mutex web_mutex_;
  std::shared_ptr<const std::map<std::string, WebFile>> web_;
};

}  // namespace waddle::overlay
