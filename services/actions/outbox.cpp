#include "actions/outbox.hpp"

#include <exception>

#include "actions/text.hpp"
#include "error/error.hpp"
#include "error/peer_status.hpp"
#include "net/http_client.hpp"

namespace waddle::actions {
namespace {

// The router's {"error": {"message": ...}} text, or the start of the body when it has none.
std::string router_error_text(const net::ClientResponse& response) {
  try {
    const nlohmann::json body = nlohmann::json::parse(response.body);
    if (const auto* error = body.contains("error") ? &body["error"] : nullptr;
        error && error->is_object() && error->contains("message") &&
        (*error)["message"].is_string()) {
      std::string text = (*error)["message"].get<std::string>();
      if (error->contains("field") && (*error)["field"].is_string()) {
        text += " (field " + (*error)["field"].get<std::string>() + ")";
      }
      return text;
    }
  } catch (const std::exception&) {
  }
  return trim_chat(response.body, 200);
}

}  // namespace

RouterOutbox::RouterOutbox(boost::asio::any_io_executor executor, RouterOutboxSettings settings)
    : settings_(std::move(settings)) {
  while (!settings_.router_url.empty() && settings_.router_url.back() == '/') {
    settings_.router_url.pop_back();
  }
  if (!is_http_url(settings_.router_url)) {
    throw Error(Errc::invalid_argument,
                "actions.router_url: '" + settings_.router_url + "' is not an http(s) URL");
  }
  if (settings_.api_key.empty()) {
    throw Error(Errc::invalid_argument,
                "actions.router_api_key: empty (an API key with role module is needed)");
  }
  url_ = settings_.router_url + "/router/messages";
  client_ = std::make_unique<net::HttpClient>(
      std::move(executor),
      net::ClientOptions{.connect_timeout = settings_.timeout, .total_timeout = settings_.timeout});
}

RouterOutbox::~RouterOutbox() = default;

boost::asio::awaitable<void> RouterOutbox::send(std::string entity_id,
                                                std::vector<model::Action> actions,
                                                std::string module_name) {
  const nlohmann::json body = {
      {"entity_id", entity_id}, {"module_name", module_name}, {"actions", model::to_json(actions)}};
  net::HeaderList headers;
  headers.emplace_back("X-API-Key", settings_.api_key);
  net::ClientResponse response;
  try {
    response = co_await client_->post_json(url_, body, std::move(headers));
  } catch (const Error& e) {
    // Not retried here: the scheduler retries with backoff, and a POST is not idempotent.
    throw Error(Errc::unavailable, "the router at " + url_ + " cannot be reached: " + e.what());
  }
  if (response.status != 200) {
    throw Error(errc_for_http_status(response.status),
                "the router refused the message for " + entity_id + " (HTTP " +
                    std::to_string(response.status) + "): " + router_error_text(response));
  }
  nlohmann::json reply;
  try {
    reply = nlohmann::json::parse(response.body);
  } catch (const std::exception&) {
    throw Error(Errc::unavailable, "the router's answer to " + url_ + " is not JSON");
  }
  if (reply.is_object() && reply.contains("delivered") && reply["delivered"].is_boolean() &&
      !reply["delivered"].get<bool>()) {
    const auto collector = reply.contains("collector") && reply["collector"].is_string()
                               ? "collector " + reply["collector"].get<std::string>()
                               : std::string("no collector registered for the platform");
    throw Error(Errc::unavailable, "the router could not hand the message for " + entity_id +
                                       " over (" + collector + ")");
  }
}

bool is_retryable(const std::exception_ptr& error) noexcept {
  try {
    std::rethrow_exception(error);
  } catch (const Error& e) {
    switch (e.code()) {
      case Errc::invalid_argument:
      case Errc::not_found:
      case Errc::forbidden:
      case Errc::payload_too_large: return false;
      default: return true;
    }
  } catch (...) {
    return true;
  }
}

}  // namespace waddle::actions
