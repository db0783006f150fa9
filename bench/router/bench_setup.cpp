#include "router/bench_setup.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <future>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include <hiredis/hiredis.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <pqxx/pqxx>

#include "crypto/encoding.hpp"
#include "crypto/hash.hpp"
#include "crypto/random.hpp"
#include "error/error.hpp"
#include "migrate/migrate.hpp"
#include "net/http_client.hpp"

extern char** environ;

namespace waddle::bench {

namespace asio = boost::asio;

namespace {

std::string with_database(const std::string& url, const std::string& database) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) throw Error(Errc::invalid_argument, "not a database URL: " + url);
  boost::urls::url copy(*parsed);
  copy.set_path("/" + database);
  return std::string(copy.buffer());
}

}  // namespace

std::uint16_t free_port() {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  return acceptor.local_endpoint().port();
}

BenchDatabase::BenchDatabase(const std::string& server_url, const std::string& migrations_dir)
    : server_url_(server_url),
      name_("waddle_bench_" + crypto::hex_encode(crypto::random_bytes(6))),
      url_(with_database(server_url, name_)) {
  {
    pqxx::connection admin(server_url_);
    pqxx::nontransaction tx(admin);
    tx.exec("create database " + tx.quote_name(name_));
  }
  try {
    pqxx::connection conn(url_);
    migrate::apply(conn, migrate::discover(migrations_dir), false, "waddle-bench-router", {});
  } catch (...) {
    drop();
    throw;
  }
}

BenchDatabase::~BenchDatabase() {
  drop();
}

void BenchDatabase::drop() noexcept {
  try {
    pqxx::connection admin(server_url_);
    pqxx::nontransaction tx(admin);
    tx.exec("drop database if exists " + tx.quote_name(name_) + " with (force)");
  } catch (const std::exception&) {
    // Best effort: a dead server has nothing left to clean.
  }
}

void seed(const std::string& database_url, const SeedOptions& options) {
  pqxx::connection conn(database_url);
  pqxx::work tx(conn);
  auto community = [&](const char* name) {
    return tx
        .exec_params1(
            "insert into communities (name, display_name) values ($1, $1) "
            "returning id",
            name)[0]
        .as<std::int64_t>();
  };
  auto entity = [&](const char* entity_id, const char* channel, std::int64_t community_id) {
    tx.exec_params(
        "insert into entities (entity_id, platform, server_id, channel_id, "
        "community_id) values ($1, 'console', 'local', $2, $3)",
        entity_id, channel, community_id);
  };
  const auto demo = community("demo");
  const auto rules = community("rules");
  entity(kChatEntity, "demo", demo);
  entity(kRulesEntity, "rules", rules);
  const std::string key = kCollectorKey;
  tx.exec_params(
      "insert into api_keys (name, key_prefix, key_hash, roles) "
      "values ('bench-collector', $1, $2, '{collector}')",
      key.substr(0, 8), crypto::sha256_hex(key));
  tx.exec_params(
      "insert into commands (command, prefix, location_url, location, type, "
      "module_name, timeout) values ('ping', '!', $1, 'internal', 'container', $2, 5)",
      options.module_url, kPingModule);
  tx.exec_params("insert into module_secrets (module_name, secret) values ($1, $2)", kPingModule,
                 kModuleSecret);
  // Mostly literals (contains / word, one Aho–Corasick pass) and every tenth a PCRE2 regex, as a
  // moderated channel's list looks; none occurs in kChatMessage.
  tx.exec_params(
      "insert into string_rules (community_id, string, match_type, action, warning_message, "
      "block_message) "
      "select $1, "
      "  case when i % 10 = 0 then '(?:cheap|free)\\s+follow(?:er)?s\\s+n' || i || '\\b' "
      "       when i % 2 = 0 then 'spamlink' || i || '.example' else 'badword' || i end, "
      "  case when i % 10 = 0 then 'regex' when i % 2 = 0 then 'contains' else 'word' end, "
      "  case when i % 3 = 0 then 'block' else 'warn' end, "
      "  'please keep the chat friendly', 'message removed' "
      "from generate_series(1, $2) as i",
      rules, options.rules);
  tx.commit();
}

nlohmann::json chat_event(const std::string& event_id, const std::string& entity_id,
                          const std::string& message, const std::string& user) {
  return {{"event_id", event_id},
          {"platform", "console"},
          {"message_type", "chatMessage"},
          {"entity_id", entity_id},
          {"user", {{"id", "id-" + user}, {"name", user}, {"roles", nlohmann::json::array()}}},
          {"message", message},
          {"timestamp", "2026-11-23T12:00:00Z"}};
}

RouterProcess::RouterProcess(const RouterConfig& config, std::uint16_t port)
    : DaemonProcess(
          "waddle-routerd", config.binary, config.workdir,
          "log:\n  level: " + config.log_level +
              "\ndatabase:\n  pool_size: 8\nrouter:\n  threads: " + std::to_string(config.threads) +
              "\n  listen: 127.0.0.1\n  port: " + std::to_string(port) +
              "\n  admin_socket: " + config.workdir + "/router.sock\n",
          config.database_url, config.redis_url, port) {}

DaemonProcess::DaemonProcess(std::string name, const std::string& binary,
                             const std::string& workdir, const std::string& config_yaml,
                             const std::string& database_url, const std::string& redis_url,
                             std::uint16_t port)
    : name_(std::move(name)), port_(port), log_path_(workdir + "/" + name_ + ".log") {
  const std::string config_path = workdir + "/waddle.yaml";
  {
    std::ofstream out(config_path);
    out << config_yaml;
    if (!out) throw Error(Errc::unavailable, "cannot write " + config_path);
  }
  // The URLs go in through the environment (secrets stay out of the YAML); other WADDLE_*
  // variables of the caller must not change the daemon's settings.
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    if (std::strncmp(*e, "WADDLE_", 7) != 0) env.emplace_back(*e);
  }
  env.push_back("WADDLE_DATABASE_URL=" + database_url);
  if (!redis_url.empty()) env.push_back("WADDLE_REDIS_URL=" + redis_url);
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<std::string> args{binary, "--config", config_path};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  const int rc = posix_spawn(&pid_, binary.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    pid_ = -1;
    throw Error(Errc::unavailable, "cannot start " + binary + ": " + std::strerror(rc));
  }
}

DaemonProcess::~DaemonProcess() {
  stop();
}

bool DaemonProcess::alive() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == 0) return true;
  pid_ = -1;  // reaped: never signal a pid that may be reused
  return false;
}

std::optional<int> DaemonProcess::stop() {
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

void DaemonProcess::wait_ready(std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  const std::string url = "http://127.0.0.1:" + std::to_string(port_) + "/readyz";
  while (std::chrono::steady_clock::now() < deadline) {
    if (!alive()) {
      throw std::runtime_error(name_ + " exited during start; its log:\n" + log_tail());
    }
    try {
      if (http_call("GET", url, "", "").status == 200) return;
    } catch (const std::exception&) {
      // not listening yet
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  throw std::runtime_error(name_ + " not ready within " + std::to_string(limit.count()) +
                           " s; its log:\n" + log_tail());
}

double process_cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Fields after the command name, which is in parentheses and may hold spaces.
  const auto close = stat.rfind(')');
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

double DaemonProcess::cpu_seconds() const {
  return process_cpu_seconds(pid_);
}

std::string DaemonProcess::log_tail(std::size_t bytes) const {
  std::ifstream in(log_path_);
  std::string log((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return log.size() > bytes ? log.substr(log.size() - bytes) : log;
}

HttpAnswer http_call(const std::string& method, const std::string& url, const std::string& body,
                     const std::string& api_key) {
  asio::io_context io;
  net::ClientOptions client_options;
  client_options.connect_timeout = std::chrono::seconds(2);
  net::HttpClient client(io.get_executor(), client_options);
  net::ClientRequest request;
  request.method = method;
  request.url = url;
  if (!api_key.empty()) request.headers.emplace_back("X-API-Key", api_key);
  if (!body.empty()) request.headers.emplace_back("Content-Type", "application/json");
  request.body = body;
  request.timeout = std::chrono::seconds(10);
  auto future = asio::co_spawn(io, client.request(std::move(request)), asio::use_future);
  io.run();
  auto response = future.get();
  return {response.status, std::move(response.body)};
}

std::optional<std::uint64_t> redis_commands(const std::string& redis_url) {
  if (redis_url.empty()) return std::nullopt;
  auto parsed = boost::urls::parse_uri(redis_url);
  if (!parsed || parsed->scheme() != "redis") return std::nullopt;
  const std::string host = parsed->host().empty() ? "127.0.0.1" : std::string(parsed->host());
  const int port = parsed->has_port() ? parsed->port_number() : 6379;
  const timeval timeout{2, 0};
  redisContext* context = redisConnectWithTimeout(host.c_str(), port, timeout);
  if (!context || context->err) {
    if (context) redisFree(context);
    return std::nullopt;
  }
  std::optional<std::uint64_t> result;
  if (auto* reply = static_cast<redisReply*>(redisCommand(context, "INFO stats"))) {
    if (reply->type == REDIS_REPLY_STRING) {
      const std::string info(reply->str, reply->len);
      const std::string field = "total_commands_processed:";
      if (auto at = info.find(field); at != std::string::npos) {
        result = std::stoull(info.substr(at + field.size()));
      }
    }
    freeReplyObject(reply);
  }
  redisFree(context);
  return result;
}

}  // namespace waddle::bench
