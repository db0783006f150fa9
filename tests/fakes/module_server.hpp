#pragma once
// A fake action module host on 127.0.0.1 for router tests: a real net::HttpServer that records
// every request (headers and the exact body bytes) and answers per scenario. It serves the three
// wire forms the router speaks:
//   POST /modules/{key}                                   container and webhook modules
//   POST /2015-03-31/functions/{key}/invocations          AWS Lambda Invoke
//   POST /api/v1/namespaces/{ns}/actions/{key}            OpenWhisk blocking invoke
// Each request gets a start and an end mark from one counter, so a test can see the ORDER in
// which requests began and finished (sequential vs overlapping) without measuring time.
// Run the io_context on one thread: the scenarios share state without a strand.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

namespace waddle::fakes {

enum class ModuleScenario {
  actions,                // 200 {"actions": behaviour.actions}
  accepted,               // 202 {"status": "accepted"}
  server_error,           // 500 {"error": "module exploded"}
  invalid_json,           // 200 with a truncated JSON body
  invalid_actions,        // 200 {"actions": [{"type": "chat"}]} (no text)
  lambda_function_error,  // 200 + X-Amz-Function-Error: Unhandled, {"errorMessage": …}
  hang,                   // answers only after the server's hang bound (past any sane timeout)
  // Waits until rendezvous_count requests of this scenario have arrived, then answers like
  // `actions`; 504 if they have not all arrived within the hang bound. Proves overlap.
  rendezvous,
};

struct ModuleBehaviour {
  ModuleScenario scenario = ModuleScenario::actions;
  // Empty: [{"type": "chat", "text": "hello from <key>"}].
  nlohmann::json actions;
  // Waited (asio timer) before the scenario runs, so an overlapping caller would be visible.
  std::chrono::milliseconds delay{0};
  std::size_t rendezvous_count = 2;
};

struct RecordedModuleRequest {
  std::string key;  // the {key} path segment, percent-decoded
  std::string method;
  std::string target;  // as sent, still percent-encoded, with the query
  std::string path;    // percent-decoded
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // the exact bytes received
  std::uint64_t start_mark = 0;
  std::uint64_t end_mark = 0;  // 0 while the request is still being answered

  std::optional<std::string> header(std::string_view name) const;
};

class ModuleServer {
 public:
  // Starts listening at once on 127.0.0.1 with an ephemeral port.
  explicit ModuleServer(boost::asio::io_context& io,
                        std::chrono::milliseconds hang_bound = std::chrono::seconds(5));
  ~ModuleServer();
  ModuleServer(const ModuleServer&) = delete;
  ModuleServer& operator=(const ModuleServer&) = delete;

  // Keys without a behaviour answer as ModuleScenario::actions.
  void set(std::string key, ModuleBehaviour behaviour);

  std::uint16_t port() const;
  std::string base_url() const;                        // "http://127.0.0.1:<port>"
  std::string module_url(std::string_view key) const;  // base_url() + "/modules/<key>"

  std::vector<RecordedModuleRequest> requests() const;
  // The first request for `key`, if one arrived.
  std::optional<RecordedModuleRequest> request_for(std::string_view key) const;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace waddle::fakes
