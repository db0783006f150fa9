#include "overlay/overlay_setup.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include <hiredis/hiredis.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/url/parse.hpp>
#include <pqxx/pqxx>

#include "crypto/hash.hpp"
#include "crypto/random.hpp"
#include "error/error.hpp"
#include "router/bench_setup.hpp"

extern char** environ;

namespace waddle::bench {

namespace asio = boost::asio;

OverlaySeed seed_overlay(const std::string& database_url) {
  pqxx::connection conn(database_url);
  pqxx::work tx(conn);
  OverlaySeed seed;
  seed.community_id = tx.exec1(
                            "insert into communities (name, display_name) values "
                            "('bench', 'bench') returning id")[0]
                          .as<std::int64_t>();
  tx.exec_params(
      "insert into entities (entity_id, platform, server_id, channel_id, community_id) "
      "values ('console:local:bench', 'console', 'local', 'bench', $1)",
      seed.community_id);
  // The same shape as `waddle overlay token create` makes (cli/overlay.cpp).
  seed.token = crypto::random_token(32);
  tx.exec_params(
      "insert into overlay_tokens (community_id, name, token_prefix, token_hash, sources, "
      "created_by) values ($1, 'bench', $2, $3, array['ticker', 'media', 'general']::text[], "
      "'waddle-bench-overlay')",
      seed.community_id, seed.token.substr(0, 8), crypto::sha256_hex(seed.token));
  tx.commit();
  return seed;
}

OverlayProcess::OverlayProcess(const OverlayConfig& config, std::uint16_t port)
    : DaemonProcess(
          "waddle-overlayd", config.binary, config.workdir,
          "log:\n  level: warning\noverlay:\n  threads: " + std::to_string(config.threads) +
              "\n  listen: 127.0.0.1\n  port: " + std::to_string(port) +
              "\n  admin_socket: " + config.workdir + "/overlay.sock\n  max_connections: " +
              std::to_string(config.max_connections_per_token + 100) +
              "\n  max_connections_per_token: " + std::to_string(config.max_connections_per_token) +
              "\n",
          config.database_url, config.redis_url, port) {}

RedisPublisher::RedisPublisher(const std::string& redis_url) {
  auto parsed = boost::urls::parse_uri(redis_url);
  if (!parsed || parsed->scheme() != "redis") {
    throw Error(Errc::invalid_argument, "not a redis:// URL: " + redis_url);
  }
  const std::string host = parsed->host().empty() ? "127.0.0.1" : std::string(parsed->host());
  const int port = parsed->has_port() ? parsed->port_number() : 6379;
  const timeval timeout{5, 0};
  context_ = redisConnectWithTimeout(host.c_str(), port, timeout);
  if (!context_ || context_->err) {
    std::string why = context_ ? context_->errstr : "out of memory";
    if (context_) redisFree(context_);
    context_ = nullptr;
    throw Error(Errc::unavailable, "cannot connect to Redis at " + redis_url + ": " + why);
  }
  redisSetTimeout(context_, timeout);
  if (!parsed->password().empty()) {
    const std::string password(parsed->password());
    auto* reply = static_cast<redisReply*>(redisCommand(context_, "AUTH %s", password.c_str()));
    const bool ok = reply && reply->type != REDIS_REPLY_ERROR;
    if (reply) freeReplyObject(reply);
    if (!ok) throw Error(Errc::unavailable, "Redis refused AUTH");
  }
}

RedisPublisher::~RedisPublisher() {
  if (context_) redisFree(context_);
}

long long RedisPublisher::publish(const std::string& channel, const std::string& message) {
  auto* reply = static_cast<redisReply*>(redisCommand(
      context_, "PUBLISH %b %b", channel.data(), channel.size(), message.data(), message.size()));
  if (!reply) throw Error(Errc::unavailable, std::string("Redis PUBLISH: ") + context_->errstr);
  long long receivers = -1;
  std::string error;
  if (reply->type == REDIS_REPLY_INTEGER) {
    receivers = reply->integer;
  } else if (reply->type == REDIS_REPLY_ERROR) {
    error.assign(reply->str, reply->len);
  }
  freeReplyObject(reply);
  if (receivers < 0) throw Error(Errc::unavailable, "Redis PUBLISH failed: " + error);
  return receivers;
}

}  // namespace waddle::bench
