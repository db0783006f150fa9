#pragma once
// What the router benchmark sets up around waddle-routerd: a database of its own (migrated with
// the shipped migrations and seeded), the daemon as a child process, and the counters read
// around each mix (the daemon's CPU time, Redis commands processed).

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace waddle::bench {

inline constexpr const char* kCollectorKey = "wdl_bnch_router-benchmark-collector-key-0123456789";
inline constexpr const char* kModuleSecret =
    "8f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";
inline constexpr const char* kChatEntity = "console:local:demo";    // community "demo"
inline constexpr const char* kRulesEntity = "console:local:rules";  // community "rules"
inline constexpr const char* kPingModule = "benchping";

// A database named waddle_bench_<random> on the server of `server_url`, created and migrated by
// the constructor and dropped (WITH FORCE) by the destructor. Throws waddle::Error or
// pqxx exceptions on failure.
class BenchDatabase {
 public:
  BenchDatabase(const std::string& server_url, const std::string& migrations_dir);
  ~BenchDatabase();
  BenchDatabase(const BenchDatabase&) = delete;
  BenchDatabase& operator=(const BenchDatabase&) = delete;
  const std::string& url() const { return url_; }
  const std::string& name() const { return name_; }

 private:
  void drop() noexcept;

  std::string server_url_;
  std::string name_;
  std::string url_;
};

struct SeedOptions {
  std::string module_url;  // the fake module, registered as the container command !ping
  int rules = 1000;        // string rules of community "rules", none matching chat_message()
};

// Communities "demo" (entity kChatEntity) and "rules" (entity kRulesEntity, `rules` string
// rules), the collector key kCollectorKey, the command !ping and its module secret.
void seed(const std::string& database_url, const SeedOptions& options);

// The plain chat line every mix sends; it matches none of the seeded rules.
inline constexpr const char* kChatMessage = "hello everyone, how is the stream going today? gg";
// A line that matches one seeded `word` rule (to check that the rules are loaded).
inline constexpr const char* kRuleHit = "that was a badword7 moment";

// A normalised chat event (DESIGN.md §2.1).
nlohmann::json chat_event(const std::string& event_id, const std::string& entity_id,
                          const std::string& message, const std::string& user);

struct RouterConfig {
  std::string binary;
  std::string database_url;
  std::string redis_url;  // empty: without Redis
  int threads = 2;
  std::string log_level = "warning";
  std::string workdir;  // config, admin socket and log go here
};

// waddle-routerd as a child process (its stderr in workdir/router.log), stopped with SIGTERM
// (then SIGKILL after 15 s) by stop() or the destructor.
// A loopback port nobody listens on right now.
std::uint16_t free_port();

// A daemon from the build tree as a child process: `config_yaml` is written to
// workdir/waddle.yaml, the database and Redis URLs go in through the environment (the caller's
// other WADDLE_* variables are dropped), stderr goes to workdir/<name>.log. Stopped with SIGTERM
// (then SIGKILL after 15 s) by stop() or the destructor.
class DaemonProcess {
 public:
  DaemonProcess(std::string name, const std::string& binary, const std::string& workdir,
                const std::string& config_yaml, const std::string& database_url,
                const std::string& redis_url, std::uint16_t port);
  ~DaemonProcess();
  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;

  // Polls GET /readyz; throws std::runtime_error with the log's tail when the daemon exits or is
  // not ready within `limit`.
  void wait_ready(std::chrono::seconds limit);
  bool alive();
  // Returns the exit status (as from waitpid), or nullopt when it had already been reaped.
  std::optional<int> stop();
  std::uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  double cpu_seconds() const;  // user + system time so far, from /proc/PID/stat
  std::string log_tail(std::size_t bytes = 4000) const;

 private:
  std::string name_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
  std::string log_path_;
};

// User + system CPU seconds of a process so far (/proc/PID/stat); 0 when it is gone.
double process_cpu_seconds(pid_t pid);

class RouterProcess : public DaemonProcess {
 public:
  explicit RouterProcess(const RouterConfig& config) : RouterProcess(config, free_port()) {}

 private:
  RouterProcess(const RouterConfig& config, std::uint16_t port);
};

struct HttpAnswer {
  int status = 0;
  std::string body;
};

// One blocking request through net::HttpClient (for probes, not for load).
HttpAnswer http_call(const std::string& method, const std::string& url, const std::string& body,
                     const std::string& api_key);

// Redis' total_commands_processed (INFO stats), for commands per event; nullopt without Redis
// or when it cannot be read.
std::optional<std::uint64_t> redis_commands(const std::string& redis_url);

}  // namespace waddle::bench
