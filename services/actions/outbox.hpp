#pragma once
// The Outbox that waddle-actiond's modules and scheduler use: the router's POST /router/messages
// (an API key with role module or admin). The router delivers chat, whisper and role actions to
// the collector serving the channel and publishes overlay actions.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "actions/module.hpp"

namespace waddle::net {
class HttpClient;
}

namespace waddle::actions {

struct RouterOutboxSettings {
  std::string router_url = "http://127.0.0.1:8000";  // the router's base URL, no path
  std::string api_key;                               // role module or admin
  std::chrono::milliseconds timeout{5000};           // per message, connect included
};

class RouterOutbox final : public Outbox {
 public:
  // Throws Error(invalid_argument) naming actions.router_url / actions.router_api_key when the
  // URL is not http(s) or the key is empty.
  RouterOutbox(boost::asio::any_io_executor executor, RouterOutboxSettings settings);
  ~RouterOutbox() override;
  RouterOutbox(const RouterOutbox&) = delete;
  RouterOutbox& operator=(const RouterOutbox&) = delete;

  // Throws waddle::Error whose message carries the router's own error text:
  //   unavailable      connect failure, timeout, 5xx, 429, or 200 with "delivered": false
  //   unauthenticated  401 (a wrong actions.router_api_key: retrying helps once it is fixed)
  //   invalid_argument 400/413 and other 4xx (the body was refused)
  //   not_found        404 (the entity is unknown to the router)
  //   forbidden        403 (the key is limited to another community)
  boost::asio::awaitable<void> send(std::string entity_id, std::vector<model::Action> actions,
                                    std::string module_name) override;

  const std::string& url() const { return url_; }  // <router_url>/router/messages

 private:
  RouterOutboxSettings settings_;
  std::string url_;
  std::unique_ptr<net::HttpClient> client_;
};

// Whether a failed delivery is worth trying again later (unavailable, timeout, unauthenticated,
// internal, or anything that is not a waddle::Error).
bool is_retryable(const std::exception_ptr& error) noexcept;

}  // namespace waddle::actions
