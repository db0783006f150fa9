#pragma once
// waddle-actiond's HTTP side: `POST /modules/<name>` for every enabled module. A request must
// carry the router's signature (X-Waddle-Timestamp, X-Waddle-Signature; DESIGN.md §2.3) made with
// the module's secret from module_secrets, else 401; the body is parsed only after that. The
// answer is 200 {"actions": [...]} with chat texts cut to 500 characters.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "actions/module.hpp"
#include "actions/scheduler.hpp"
#include "net/http.hpp"

namespace waddle::net {
class HttpServer;
}
namespace waddle::pg {
class Pool;
}

namespace waddle::actions {

struct Settings {
  std::string listen_address = "127.0.0.1";
  std::uint16_t port = 8010;  // 0: an ephemeral port (tests)
  // What the router calls: the `commands` rows get <public_url>/modules/<name>. Empty: taken from
  // the bound address and port.
  std::string public_url;
  std::vector<std::string> modules;  // empty: every known module
  std::string database_url;
  std::size_t pool_size = 4;
  // The router's POST /router/messages, for messages outside requests (reminders, timers,
  // whispers). An empty key: no outbox (ModuleEnv::outbox is null) and no scheduler.
  std::string router_url = "http://127.0.0.1:8000";
  std::string router_api_key;
  // database_url is filled from the one above when empty.
  SchedulerSettings scheduler;
};

// Why a request to a module is refused: nullopt when X-Waddle-Timestamp/X-Waddle-Signature
// verify against `secret` over the exact body at `now_unix_seconds` (300 s tolerance), else the
// reason for the 401 body (unsigned, malformed, stale, mismatch).
std::optional<std::string> signature_refusal(std::string_view secret, const net::Request& request,
                                             std::int64_t now_unix_seconds);

class ActionServer {
 public:
  // Checks the settings (Error(invalid_argument) naming the key: an unknown module, a bad URL);
  // connects nothing yet.
  ActionServer(boost::asio::io_context& io, Settings settings);
  ~ActionServer();
  ActionServer(const ActionServer&) = delete;
  ActionServer& operator=(const ActionServer&) = delete;

  // Creates missing module secrets, binds, registers every module's commands, then starts the
  // scheduler (when router_api_key is set). Blocking: call it from a thread that is not running
  // the io_context's handlers for it to wait on. Returns the bound port. Throws
  // Error(unavailable) when Postgres or the port cannot be had.
  std::uint16_t start();

  // Stops the scheduler first (blocking, at most `drain`: the delivery in progress is finished),
  // then as net::HttpServer::stop: stop accepting, let requests in flight finish within `drain`.
  // Call it from a thread that is not the io_context's only runner.
  void stop(std::chrono::milliseconds drain, std::function<void()> on_stopped = {});

  // Null when router_api_key is empty (or before start() for the scheduler).
  Outbox* outbox() const { return outbox_.get(); }
  Scheduler* scheduler() const { return scheduler_.get(); }

  // <public_url> once started.
  std::string base_url() const;
  std::vector<std::string> module_names() const { return settings_.modules; }
  // {"requests": N, "refused": N (401), "bad_requests": N (400), "modules": {name: N},
  //  "scheduler": Scheduler::stats() | null}.
  nlohmann::json stats() const;
  // {"state": "disabled", "reason": ...} without an outbox, else Scheduler::status().
  nlohmann::json scheduler_status() const;

 private:
  struct SecretEntry {
    std::string secret;
    std::chrono::steady_clock::time_point refreshed;
  };

  boost::asio::awaitable<net::Response> handle(net::Request& request);
  boost::asio::awaitable<std::optional<std::string>> verify(const std::string& module,
                                                            const net::Request& request);

  boost::asio::io_context& io_;
  Settings settings_;
  std::unique_ptr<pg::Pool> pool_;
  std::unique_ptr<net::HttpServer> http_;
  // Written by start() before ready_ is set, read-only afterwards.
  std::map<std::string, std::unique_ptr<Module>, std::less<>> modules_;
  std::unique_ptr<Outbox> outbox_;
  std::unique_ptr<Scheduler> scheduler_;  // destroyed first: it uses the modules and the outbox
  std::string base_url_;
  std::atomic<bool> ready_{false};

  mutable std::mutex mutex_;
  std::map<std::string, SecretEntry, std::less<>> secrets_;
  std::map<std::string, std::uint64_t, std::less<>> module_requests_;
  std::uint64_t requests_ = 0;
  std::uint64_t refused_ = 0;
  std::uint64_t bad_requests_ = 0;
};

}  // namespace waddle::actions
