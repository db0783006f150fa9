#pragma once
// A fake collector for tests of messages sent outside a request (POST /router/messages,
// late answers): a real net::HttpServer on 127.0.0.1 that registers with a real router as a
// collector and records every callback the router POSTs to it.
//
//   waddle::fakes::CollectorServer collector(io, "console", "console-test");  // io runs elsewhere
//   collector.register_with(router_base_url, kCollectorKey);
//   ... something makes the router deliver ...
//   REQUIRE(collector.wait_for([](const auto& calls) { return calls.size() >= 1; },
//                              std::chrono::seconds(10)));
//   collector.chat_texts();  // every chat action's text, in arrival order
//
// Callbacks must carry "Authorization: Bearer <token()>", else 401 (counted in refused()).
// Thread-safe: the io_context may run on any thread; readers may call from any other.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

namespace waddle::fakes {

class CollectorServer {
 public:
  using Calls = std::vector<nlohmann::json>;

  // Starts listening at once on 127.0.0.1 with an ephemeral port; serves POST /callback.
  CollectorServer(boost::asio::io_context& io, std::string platform, std::string name);
  ~CollectorServer();
  CollectorServer(const CollectorServer&) = delete;
  CollectorServer& operator=(const CollectorServer&) = delete;

  // POST <router_base_url>/router/modules/register {"name", "kind": "collector", "platform",
  // "callback_url", "callback_token"} with X-API-Key (role collector). Blocking (own
  // io_context); throws std::runtime_error with the router's answer unless it is 200.
  void register_with(const std::string& router_base_url, const std::string& api_key) const;

  // While true, callbacks are answered 500 (and still recorded in failed_calls()).
  void set_failing(bool failing);

  std::string callback_url() const;  // http://127.0.0.1:<port>/callback
  const std::string& token() const { return token_; }
  const std::string& platform() const { return platform_; }
  const std::string& name() const { return name_; }

  // Every accepted callback body (parsed), in arrival order.
  Calls calls() const;
  // The text of every chat action of every accepted callback, in arrival order.
  std::vector<std::string> chat_texts() const;
  std::size_t refused() const;       // 401: wrong or missing bearer token
  std::size_t failed_calls() const;  // answered 500 while set_failing(true)

  // Waits until `predicate(calls())` holds (re-checked on every callback) or `timeout` passes.
  // The predicate runs under the fake's lock: it must use its argument, not call back into this.
  bool wait_for(const std::function<bool(const Calls&)>& predicate,
                std::chrono::milliseconds timeout) const;

  struct State;

 private:
  std::string platform_;
  std::string name_;
  std::string token_;
  std::shared_ptr<State> state_;
};

}  // namespace waddle::fakes
