#pragma once
// The collector's side of the router's HTTP API (docs/http-api.md): events in, actions back,
// registration and heartbeats, and the late answers the router posts to /twitch/callback.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include "model/action.hpp"
#include "model/event.hpp"
#include "net/http_client.hpp"

namespace waddle::twitch {

struct RouterLinkOptions {
  std::string base_url = "http://127.0.0.1:8000";  // without a trailing '/'
  std::string api_key;                             // role collector
  std::chrono::milliseconds timeout{10000};
  std::string name = "twitch";  // registration name
  std::string callback_url;
  std::string callback_token;
  std::string version;
};

// What the router asks the collector to do for one event.
struct RouterReply {
  bool duplicate = false;
  std::string session_id;              // empty when no module ran
  std::vector<model::Action> actions;  // chat and block are the collector's; overlay ones are not
  std::size_t invalid_actions = 0;     // entries that did not parse, skipped
};

// The body of a 200 from POST /router/events. Throws Error(invalid_argument) when it is not an
// object; single actions that do not parse are skipped and counted.
RouterReply parse_router_reply(const nlohmann::json& body);

// A late answer the router delivers to POST /twitch/callback.
struct CallbackDelivery {
  std::string channel;  // login, from entity_id "twitch:channel:<login>"
  std::string session_id;
  std::vector<model::Action> actions;
};

// Throws model::FieldError naming the field (entity_id, actions[i].text…) or
// Error(invalid_argument) for a body that is not a JSON object.
CallbackDelivery parse_callback(std::string_view body);

// Whether `authorization` is exactly "Bearer <token>", compared in constant time. An empty
// token never matches.
bool bearer_matches(std::optional<std::string_view> authorization, std::string_view token) noexcept;

class RouterLink {
 public:
  RouterLink(net::HttpClient& http, RouterLinkOptions options);

  // POST /router/events. Throws waddle::Error: unavailable or timeout when the router cannot be
  // reached, the router's own code (unauthenticated, not_found…) with its message otherwise.
  boost::asio::awaitable<RouterReply> post_event(const model::Event& event);
  // POST /router/modules/register as a collector for twitch. Throws like post_event.
  boost::asio::awaitable<void> register_collector();
  // POST /router/modules/heartbeat: false when the router does not know this collector (it
  // restarted): register again. Throws like post_event for anything else.
  boost::asio::awaitable<bool> heartbeat();

  const RouterLinkOptions& options() const { return options_; }

 private:
  boost::asio::awaitable<net::ClientResponse> call(std::string path, std::string body,
                                                   bool retry_safe);

  net::HttpClient& http_;
  RouterLinkOptions options_;
};

}  // namespace waddle::twitch
