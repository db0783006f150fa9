#include "twitch/router_link.hpp"

#include "crypto/hash.hpp"
#include "error/error.hpp"
#include "error/peer_status.hpp"
#include "model/field_reader.hpp"
#include "twitch/normalize.hpp"

namespace waddle::twitch {
namespace asio = boost::asio;
using json = nlohmann::json;

namespace {

// The router's {"error": {"message": …}} when there is one, else the start of the body.
[[noreturn]] void throw_router_error(const net::ClientResponse& response, std::string_view what) {
  std::string detail;
  json body = json::parse(response.body, nullptr, false);
  if (body.is_object() && body.contains("error") && body["error"].is_object()) {
    detail = body["error"].value("message", "");
  }
  if (detail.empty()) detail = response.body.substr(0, 200);
  throw Error(errc_for_http_status(response.status),
              std::string(what) + ": router answered HTTP " + std::to_string(response.status) +
                  (detail.empty() ? std::string() : ": " + detail));
}

json parse_body(const net::ClientResponse& response, std::string_view what) {
  json body = json::parse(response.body, nullptr, false);
  if (body.is_discarded()) {
    throw Error(Errc::unavailable, std::string(what) + ": the router's answer is not JSON");
  }
  return body;
}

}  // namespace

RouterReply parse_router_reply(const json& body) {
  if (!body.is_object()) throw Error(Errc::invalid_argument, "router reply: expected an object");
  RouterReply reply;
  if (auto it = body.find("duplicate"); it != body.end() && it->is_boolean()) {
    reply.duplicate = it->get<bool>();
  }
  if (auto it = body.find("session_id"); it != body.end() && it->is_string()) {
    reply.session_id = it->get<std::string>();
  }
  if (auto it = body.find("actions"); it != body.end() && it->is_array()) {
    std::size_t index = 0;
    for (const json& item : *it) {
      try {
        reply.actions.push_back(
            model::parse_action(item, "actions[" + std::to_string(index) + "]"));
      } catch (const std::exception&) {
        ++reply.invalid_actions;
      }
      ++index;
    }
  }
  return reply;
}

CallbackDelivery parse_callback(std::string_view text) {
  json body = json::parse(text, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    throw Error(Errc::invalid_argument, "body: expected a JSON object");
  }
  CallbackDelivery delivery;
  auto entity = body.find("entity_id");
  if (entity == body.end() || !entity->is_string()) {
    throw model::FieldError("entity_id", "expected a string");
  }
  const std::string entity_id = entity->get<std::string>();
  const std::string prefix = std::string(kPlatform) + ":" + std::string(kServerId) + ":";
  std::optional<std::string> login;
  if (entity_id.rfind(prefix, 0) == 0) login = normalize_login(entity_id.substr(prefix.size()));
  if (!login) {
    throw model::FieldError(
        "entity_id", "expected twitch:channel:<login>, got '" + entity_id.substr(0, 100) + "'");
  }
  delivery.channel = *login;
  if (auto it = body.find("session_id"); it != body.end() && it->is_string()) {
    delivery.session_id = it->get<std::string>();
  }
  auto actions = body.find("actions");
  if (actions == body.end()) throw model::FieldError("actions", "missing");
  delivery.actions = model::parse_actions(*actions, "actions");
  return delivery;
}

bool bearer_matches(std::optional<std::string_view> authorization,
                    std::string_view token) noexcept {
  constexpr std::string_view kScheme = "Bearer ";
  if (token.empty() || !authorization || authorization->size() < kScheme.size()) return false;
  if (authorization->substr(0, kScheme.size()) != kScheme) return false;
  return crypto::constant_time_equal(authorization->substr(kScheme.size()), token);
}

RouterLink::RouterLink(net::HttpClient& http, RouterLinkOptions options)
    : http_(http), options_(std::move(options)) {}

asio::awaitable<net::ClientResponse> RouterLink::call(std::string path, std::string body,
                                                      bool retry_safe) {
  net::ClientRequest request;
  request.method = "POST";
  request.url = options_.base_url + path;
  request.headers = {{"Content-Type", "application/json"}, {"X-API-Key", options_.api_key}};
  request.body = std::move(body);
  request.timeout = options_.timeout;
  request.retry_safe = retry_safe;
  co_return co_await http_.request(std::move(request));
}

asio::awaitable<RouterReply> RouterLink::post_event(const model::Event& event) {
  // The router drops a repeated event_id, so a retry cannot run a command twice.
  auto response = co_await call(
      "/router/events", model::to_json(event).dump(-1, ' ', false, json::error_handler_t::replace),
      true);
  if (response.status != 200) throw_router_error(response, "POST /router/events");
  co_return parse_router_reply(parse_body(response, "POST /router/events"));
}

asio::awaitable<void> RouterLink::register_collector() {
  json body = {{"name", options_.name},
               {"kind", "collector"},
               {"platform", std::string(kPlatform)},
               {"callback_url", options_.callback_url},
               {"callback_token", options_.callback_token},
               {"version", options_.version}};
  auto response = co_await call("/router/modules/register", body.dump(), true);
  if (response.status != 200) throw_router_error(response, "POST /router/modules/register");
}

asio::awaitable<bool> RouterLink::heartbeat() {
  json body = {{"name", options_.name}};
  auto response = co_await call("/router/modules/heartbeat", body.dump(), true);
  if (response.status == 404) co_return false;
  if (response.status != 200) throw_router_error(response, "POST /router/modules/heartbeat");
  co_return true;
}

}  // namespace waddle::twitch
