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

namespace {

std::uint16_t free_port() {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  return acceptor.local_endpoint().port();
}

}  // namespace

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

OverlayProcess::OverlayProcess(const OverlayConfig& config)
    : port_(free_port()), log_path_(config.workdir + "/overlayd.log") {
  const std::string config_path = config.workdir + "/waddle.yaml";
  {
    std::ofstream out(config_path);
    out << "log:\n  level: warning\n"
        << "overlay:\n  threads: " << config.threads << "\n  listen: 127.0.0.1\n  port: " << port_
        << "\n  admin_socket: " << config.workdir << "/overlay.sock"
        << "\n  max_connections: " << config.max_connections_per_token + 100
        << "\n  max_connections_per_token: " << config.max_connections_per_token << "\n";
    if (!out) throw Error(Errc::unavailable, "cannot write " + config_path);
  }
  // The URLs go in through the environment; other WADDLE_* variables of the caller must not
  // change the daemon's settings.
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    if (std::strncmp(*e, "WADDLE_", 7) != 0) env.emplace_back(*e);
  }
  env.push_back("WADDLE_DATABASE_URL=" + config.database_url);
  env.push_back("WADDLE_REDIS_URL=" + config.redis_url);
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<std::string> args{config.binary, "--config", config_path};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  const int rc =
      posix_spawn(&pid_, config.binary.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    pid_ = -1;
    throw Error(Errc::unavailable, "cannot start " + config.binary + ": " + std::strerror(rc));
  }
}

OverlayProcess::~OverlayProcess() {
  stop();
}

bool OverlayProcess::alive() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == 0) return true;
  pid_ = -1;  // reaped: never signal a pid that may be reused
  return false;
}

std::optional<int> OverlayProcess::stop() {
  if (pid_ <= 0) return std::nullopt;
  kill(pid_, SIGTERM);
  int status = 0;
  for (int i = 0; i < 1500; ++i) {
    const pid_t done = waitpid(pid_, &status, WNOHANG);
    if (done != 0) {
      pid_ = -1;
      return done > 0 ? std::optional<int>(status) : std::nullopt;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return status;
}

void OverlayProcess::wait_ready(std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  const std::string url = "http://127.0.0.1:" + std::to_string(port_) + "/readyz";
  while (std::chrono::steady_clock::now() < deadline) {
    if (!alive()) {
      throw std::runtime_error("waddle-overlayd exited during start; its log:\n" + log_tail());
    }
    try {
      if (http_call("GET", url, "", "").status == 200) return;
    } catch (const std::exception&) {
      // not listening yet
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  throw std::runtime_error("waddle-overlayd not ready within " + std::to_string(limit.count()) +
                           " s; its log:\n" + log_tail());
}

double process_cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = stat.rfind(')');  // the command name may hold spaces
  if (close == std::string::npos) return 0;
  std::istringstream fields(stat.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

std::string OverlayProcess::log_tail(std::size_t bytes) const {
  std::ifstream in(log_path_);
  std::string log((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return log.size() > bytes ? log.substr(log.size() - bytes) : log;
}

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
