#pragma once
// What the overlay benchmark sets up around waddle-overlayd: a community with an overlay token
// in a database of its own (bench/router's BenchDatabase), the daemon as a child process, and
// the Redis connection the actions are published on.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "router/bench_setup.hpp"

struct redisContext;

namespace waddle::bench {

struct OverlaySeed {
  std::int64_t community_id = 0;
  std::string token;  // the clear token the clients put in their URL
};

// Community "bench" (entity console:local:bench) and one overlay token for it.
OverlaySeed seed_overlay(const std::string& database_url);

struct OverlayConfig {
  std::string binary;
  std::string database_url;
  std::string redis_url;
  int threads = 2;
  std::size_t max_connections_per_token = 1000;
  std::string workdir;  // config, admin socket and log go here
};

// waddle-overlayd as a child process (bench/router's DaemonProcess; its stderr in
// workdir/waddle-overlayd.log).
class OverlayProcess : public DaemonProcess {
 public:
  explicit OverlayProcess(const OverlayConfig& config) : OverlayProcess(config, free_port()) {}

 private:
  OverlayProcess(const OverlayConfig& config, std::uint16_t port);
};

// A blocking hiredis connection for PUBLISH. Throws waddle::Error when it cannot connect.
class RedisPublisher {
 public:
  explicit RedisPublisher(const std::string& redis_url);
  ~RedisPublisher();
  RedisPublisher(const RedisPublisher&) = delete;
  RedisPublisher& operator=(const RedisPublisher&) = delete;
  // PUBLISH; returns how many subscribers received it. Throws waddle::Error on a Redis error.
  long long publish(const std::string& channel, const std::string& message);

 private:
  redisContext* context_ = nullptr;
};

}  // namespace waddle::bench
