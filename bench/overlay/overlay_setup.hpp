#pragma once
// What the overlay benchmark sets up around waddle-overlayd: a community with an overlay token
// in a database of its own (bench/router's BenchDatabase), the daemon as a child process, and
// the Redis connection the actions are published on.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

struct redisContext;

namespace waddle::bench {

// User + system CPU time of process `pid` so far, from /proc/PID/stat (0 when unreadable).
double process_cpu_seconds(pid_t pid);

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

// waddle-overlayd as a child process (its stderr in workdir/overlayd.log), stopped with SIGTERM
// (then SIGKILL after 15 s) by stop() or the destructor.
class OverlayProcess {
 public:
  explicit OverlayProcess(const OverlayConfig& config);
  ~OverlayProcess();
  OverlayProcess(const OverlayProcess&) = delete;
  OverlayProcess& operator=(const OverlayProcess&) = delete;

  // Polls GET /readyz (503 until the Redis subscription is confirmed); throws
  // std::runtime_error with the log's tail when the daemon exits or is not ready in time.
  void wait_ready(std::chrono::seconds limit);
  bool alive();
  std::optional<int> stop();
  std::uint16_t port() const { return port_; }
  double cpu_seconds() const { return process_cpu_seconds(pid_); }
  std::string log_tail(std::size_t bytes = 4000) const;

 private:
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
  std::string log_path_;
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
