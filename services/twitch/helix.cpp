#include "twitch/helix.hpp"
#include "error/peer_status.hpp"

#include <algorithm>
#include <charconv>
#include <set>

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace waddle::twitch {
namespace asio = boost::asio;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::vector<std::string> split_scopes(std::string_view text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find(' ', start);
    if (end == std::string_view::npos) end = text.size();
    if (end > start) out.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::vector<std::string> string_list(const json& body, const char* field) {
  std::vector<std::string> out;
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return out;
  if (!it->is_array()) {
    throw Error(Errc::invalid_argument, std::string(field) + ": expected an array of strings");
  }
  for (const auto& item : *it) {
    if (!item.is_string()) {
      throw Error(Errc::invalid_argument, std::string(field) + ": expected an array of strings");
    }
    out.push_back(item.get<std::string>());
  }
  return out;
}

std::string required_string(const json& body, const char* field, const char* what) {
  if (!body.is_object()) throw Error(Errc::invalid_argument, std::string(what) + ": not an object");
  auto it = body.find(field);
  if (it == body.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) {
    throw Error(Errc::invalid_argument,
                std::string(what) + ": missing or empty string field '" + field + "'");
  }
  return it->get<std::string>();
}

std::string optional_string(const json& body, const char* field) {
  if (!body.is_object()) return {};
  auto it = body.find(field);
  return it != body.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Twitch's error bodies: {"error":"Unauthorized","status":401,"message":"Invalid OAuth token"}.
std::string twitch_message(const net::ClientResponse& response) {
  try {
    json body = json::parse(response.body);
    std::string message = optional_string(body, "message");
    if (!message.empty()) return message;
    std::string error = optional_string(body, "error");
    if (!error.empty()) return error;
  } catch (const std::exception&) {
  }
  std::string text = response.body.substr(0, 200);
  return text.empty() ? "HTTP " + std::to_string(response.status) : text;
}

const json& data_array(const json& body, const char* what) {
  if (!body.is_object() || !body.contains("data") || !body["data"].is_array()) {
    throw Error(Errc::invalid_argument, std::string(what) + ": expected {\"data\": [...]}");
  }
  return body["data"];
}

EventSubSubscription subscription_of(const json& item) {
  EventSubSubscription s;
  s.id = required_string(item, "id", "eventsub subscription");
  s.status = optional_string(item, "status");
  s.type = optional_string(item, "type");
  s.version = optional_string(item, "version");
  s.condition = item.value("condition", json::object());
  if (item.contains("transport") && item["transport"].is_object()) {
    s.callback = optional_string(item["transport"], "callback");
  }
  return s;
}

asio::awaitable<void> sleep_for(std::chrono::milliseconds wait) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  timer.expires_after(wait);
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
}

}  // namespace

std::string percent_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string form_encode(const QueryParams& params) {
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out.push_back('&');
    out += percent_encode(name) + "=" + percent_encode(value);
  }
  return out;
}

std::string authorization_url(const HelixOptions& options, std::string_view redirect_uri,
                              std::string_view scopes, std::string_view state) {
  QueryParams params{{"response_type", "code"},
                     {"client_id", options.client_id},
                     {"redirect_uri", std::string(redirect_uri)},
                     {"scope", std::string(scopes)}};
  if (!state.empty()) params.emplace_back("state", std::string(state));
  return options.auth_url + "/authorize?" + form_encode(params);
}

OAuthToken parse_token_response(const json& body) {
  OAuthToken token;
  token.access_token = required_string(body, "access_token", "OAuth token response");
  token.refresh_token = optional_string(body, "refresh_token");
  auto expires = body.find("expires_in");
  if (expires != body.end() && expires->is_number_integer()) {
    token.expires_in = expires->get<std::int64_t>();
  }
  // Twitch sends scope as an array; RFC 6749 as a space-separated string.
  auto scope = body.find("scope");
  if (scope != body.end() && scope->is_string()) {
    token.scopes = split_scopes(scope->get<std::string>());
  } else {
    token.scopes = string_list(body, "scope");
  }
  return token;
}

TokenInfo parse_validate_response(const json& body) {
  TokenInfo info;
  info.client_id = required_string(body, "client_id", "OAuth validate response");
  info.login = optional_string(body, "login");
  info.user_id = optional_string(body, "user_id");
  info.scopes = string_list(body, "scopes");
  auto expires = body.find("expires_in");
  if (expires != body.end() && expires->is_number_integer()) {
    info.expires_in = expires->get<std::int64_t>();
  }
  return info;
}

std::vector<std::string> missing_scopes(const std::vector<std::string>& granted,
                                        std::string_view required) {
  std::set<std::string> have(granted.begin(), granted.end());
  std::vector<std::string> out;
  for (auto& scope : split_scopes(required)) {
    if (!have.count(scope)) out.push_back(std::move(scope));
  }
  return out;
}

std::optional<std::chrono::milliseconds> rate_limit_wait(const net::ClientResponse& response,
                                                         std::int64_t now_unix_seconds,
                                                         std::chrono::milliseconds cap) {
  auto header = response.header("Ratelimit-Reset");
  if (!header) return std::nullopt;
  std::int64_t reset = 0;
  auto [end, ec] = std::from_chars(header->data(), header->data() + header->size(), reset);
  if (ec != std::errc() || end != header->data() + header->size()) return std::nullopt;
  std::chrono::milliseconds wait = std::chrono::seconds(std::max<std::int64_t>(
      0, std::min<std::int64_t>(reset - now_unix_seconds, cap.count() / 1000 + 1)));
  return std::min(wait, cap);
}

// ---- OAuthClient --------------------------------------------------------------------------

OAuthClient::OAuthClient(net::HttpClient& http, HelixOptions options)
    : http_(http), options_(std::move(options)) {}

asio::awaitable<OAuthToken> OAuthClient::token_call(QueryParams form, const char* what) {
  if (options_.client_id.empty() || options_.client_secret.empty()) {
    throw Error(Errc::invalid_argument,
                std::string(what) + ": twitch.client_id and twitch.client_secret must be set");
  }
  form.emplace_back("client_id", options_.client_id);
  form.emplace_back("client_secret", options_.client_secret);
  net::ClientRequest request;
  request.method = "POST";
  request.url = options_.auth_url + "/token";
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                     {"Accept", "application/json"}};
  request.body = form_encode(form);
  request.timeout = options_.timeout;
  net::ClientResponse response = co_await http_.request(std::move(request));
  if (response.status / 100 != 2) {
    const Errc code = response.status == 400 || response.status == 401 || response.status == 403
                          ? Errc::unauthenticated
                          : errc_for_http_status(response.status);
    throw Error(code, std::string(what) + " refused by " + options_.auth_url + " (" +
                          std::to_string(response.status) + "): " + twitch_message(response));
  }
  co_return parse_token_response(response.json());
}

asio::awaitable<OAuthToken> OAuthClient::client_credentials() {
  QueryParams form{{"grant_type", "client_credentials"}};
  co_return co_await token_call(std::move(form), "client credentials");
}

asio::awaitable<OAuthToken> OAuthClient::refresh(std::string refresh_token) {
  QueryParams form{{"grant_type", "refresh_token"}, {"refresh_token", std::move(refresh_token)}};
  co_return co_await token_call(std::move(form), "token refresh");
}

asio::awaitable<OAuthToken> OAuthClient::exchange_code(std::string code, std::string redirect_uri) {
  QueryParams form{{"grant_type", "authorization_code"},
                   {"code", std::move(code)},
                   {"redirect_uri", std::move(redirect_uri)}};
  co_return co_await token_call(std::move(form), "authorization code exchange");
}

asio::awaitable<std::optional<TokenInfo>> OAuthClient::validate(std::string access_token) {
  net::ClientRequest request;
  request.method = "GET";
  request.url = options_.auth_url + "/validate";
  request.headers = {{"Authorization", "OAuth " + access_token}, {"Accept", "application/json"}};
  request.timeout = options_.timeout;
  request.retry_safe = true;
  net::ClientResponse response = co_await http_.request(std::move(request));
  if (response.status == 401) co_return std::nullopt;
  if (response.status != 200) {
    throw Error(errc_for_http_status(response.status),
                "token validation at " + options_.auth_url + " failed (" +
                    std::to_string(response.status) + "): " + twitch_message(response));
  }
  co_return parse_validate_response(response.json());
}

// ---- AppTokens ----------------------------------------------------------------------------

asio::awaitable<std::string> AppTokens::current() {
  if (token_.empty() || std::chrono::steady_clock::now() >= expires_) {
    OAuthToken token = co_await oauth_.client_credentials();
    ++fetched_;
    token_ = token.access_token;
    // Renew a minute early; a token without expires_in is kept until refused.
    expires_ = token.expires_in > 0 ? std::chrono::steady_clock::now() +
                                          std::chrono::seconds(std::max<std::int64_t>(
                                              token.expires_in - 60, token.expires_in / 2))
                                    : std::chrono::steady_clock::time_point::max();
  }
  co_return token_;
}

asio::awaitable<std::string> AppTokens::renew(std::string rejected) {
  if (token_ == rejected) token_.clear();
  co_return co_await current();
}

// ---- parsing Helix answers ----------------------------------------------------------------

ChatMessageResult parse_chat_message_result(const json& body) {
  const json& data = data_array(body, "Send Chat Message response");
  if (data.empty() || !data[0].is_object()) {
    throw Error(Errc::invalid_argument, "Send Chat Message response: empty data");
  }
  ChatMessageResult result;
  result.message_id = optional_string(data[0], "message_id");
  auto sent = data[0].find("is_sent");
  if (sent == data[0].end() || !sent->is_boolean()) {
    throw Error(Errc::invalid_argument, "Send Chat Message response: missing boolean is_sent");
  }
  result.is_sent = sent->get<bool>();
  auto drop = data[0].find("drop_reason");
  if (drop != data[0].end() && drop->is_object()) {
    result.drop_code = optional_string(*drop, "code");
    result.drop_message = optional_string(*drop, "message");
  }
  return result;
}

std::vector<HelixUser> parse_users(const json& body) {
  std::vector<HelixUser> users;
  for (const auto& item : data_array(body, "Get Users response")) {
    HelixUser user;
    user.id = required_string(item, "id", "Get Users response");
    user.login = required_string(item, "login", "Get Users response");
    user.display_name = optional_string(item, "display_name");
    users.push_back(std::move(user));
  }
  return users;
}

std::vector<EventSubSubscription> parse_subscriptions(const json& body) {
  std::vector<EventSubSubscription> out;
  for (const auto& item : data_array(body, "EventSub subscriptions response")) {
    out.push_back(subscription_of(item));
  }
  return out;
}

// ---- HelixClient --------------------------------------------------------------------------

HelixClient::HelixClient(net::HttpClient& http, HelixOptions options, TokenProvider* app_tokens,
                         TokenProvider* user_tokens)
    : http_(http),
      options_(std::move(options)),
      app_tokens_(app_tokens),
      user_tokens_(user_tokens) {}

asio::awaitable<HelixResponse> HelixClient::call(TokenKind kind, std::string method,
                                                 std::string path, QueryParams query, json body) {
  TokenProvider* tokens = kind == TokenKind::app ? app_tokens_ : user_tokens_;
  const std::string what = "Helix " + method + " " + path;
  if (!tokens) {
    throw Error(Errc::unauthenticated,
                what + ": no " + (kind == TokenKind::app ? "app" : "user") + " token configured");
  }
  std::string url = options_.helix_url + path;
  if (!query.empty()) url += "?" + form_encode(query);
  std::string token = co_await tokens->current();
  bool renewed = false;
  int rate_limited = 0;
  for (;;) {
    if (bucket_empty_until_) {
      const auto now = std::chrono::steady_clock::now();
      if (*bucket_empty_until_ > now) {
        co_await sleep_for(
            std::chrono::duration_cast<std::chrono::milliseconds>(*bucket_empty_until_ - now));
      }
      bucket_empty_until_.reset();
    }
    net::ClientRequest request;
    request.method = method;
    request.url = url;
    request.headers = {{"Client-Id", options_.client_id}, {"Authorization", "Bearer " + token}};
    if (!body.is_null()) {
      request.headers.emplace_back("Content-Type", "application/json");
      request.body = body.dump();
    }
    request.timeout = options_.timeout;
    request.retry_safe = method == "GET";
    ++stats_.calls;
    net::ClientResponse response = co_await http_.request(std::move(request));

    if (auto remaining = response.header("Ratelimit-Remaining"); remaining && *remaining == "0") {
      if (auto wait = rate_limit_wait(response, unix_now(), options_.max_rate_limit_wait)) {
        bucket_empty_until_ = std::chrono::steady_clock::now() + *wait;
      }
    }
    if (response.status == 429 && rate_limited < options_.max_rate_limit_retries) {
      ++rate_limited;
      ++stats_.rate_limited;
      // Twitch's reset is a whole second; waiting at least a little keeps a clock skew from
      // turning into a burst of retries.
      auto wait = rate_limit_wait(response, unix_now(), options_.max_rate_limit_wait)
                      .value_or(std::chrono::milliseconds(1000));
      spdlog::warn("twitch: {} rate limited (429); retrying in {} ms", what, wait.count());
      bucket_empty_until_ = std::chrono::steady_clock::now() + std::max(wait, 50ms);
      continue;
    }
    if (response.status == 401 && !renewed) {
      renewed = true;
      ++stats_.renewals;
      spdlog::info("twitch: {} answered 401 ({}); renewing the {} token", what,
                   twitch_message(response), kind == TokenKind::app ? "app" : "user");
      token = co_await tokens->renew(token);
      continue;
    }
    if (response.status / 100 != 2) {
      throw Error(errc_for_http_status(response.status),
                  what + ": " + std::to_string(response.status) + " " + twitch_message(response));
    }
    HelixResponse out;
    out.status = response.status;
    if (!response.body.empty()) out.body = response.json();
    co_return out;
  }
}

asio::awaitable<std::optional<HelixUser>> HelixClient::get_user_by_login(std::string login) {
  QueryParams query{{"login", login}};
  HelixResponse response = co_await call(TokenKind::user, "GET", "/users", std::move(query));
  auto users = parse_users(response.body);
  for (auto& user : users) {
    if (user.login == login) co_return std::move(user);
  }
  co_return std::nullopt;
}

asio::awaitable<void> HelixClient::delete_chat_message(std::string broadcaster_id,
                                                       std::string moderator_id,
                                                       std::string message_id) {
  QueryParams query{{"broadcaster_id", std::move(broadcaster_id)},
                    {"moderator_id", std::move(moderator_id)},
                    {"message_id", std::move(message_id)}};
  co_await call(TokenKind::user, "DELETE", "/moderation/chat", std::move(query));
}

asio::awaitable<void> HelixClient::ban_user(std::string broadcaster_id, std::string moderator_id,
                                            std::string user_id, int duration, std::string reason) {
  if (duration < 0 || duration > 1209600) {
    throw Error(
        Errc::invalid_argument,
        "ban duration: expected 0 (ban) or 1..1209600 seconds, got " + std::to_string(duration));
  }
  json data = {{"user_id", std::move(user_id)}};
  if (duration > 0) data["duration"] = duration;
  if (!reason.empty()) data["reason"] = reason.substr(0, 500);
  QueryParams query{{"broadcaster_id", std::move(broadcaster_id)},
                    {"moderator_id", std::move(moderator_id)}};
  json body = {{"data", std::move(data)}};
  co_await call(TokenKind::user, "POST", "/moderation/bans", std::move(query), std::move(body));
}

asio::awaitable<void> HelixClient::send_whisper(std::string from_user_id, std::string to_user_id,
                                                std::string message) {
  QueryParams query{{"from_user_id", std::move(from_user_id)},
                    {"to_user_id", std::move(to_user_id)}};
  json body = {{"message", std::move(message)}};
  co_await call(TokenKind::user, "POST", "/whispers", std::move(query), std::move(body));
}

asio::awaitable<ChatMessageResult> HelixClient::send_chat_message(std::string broadcaster_id,
                                                                  std::string sender_id,
                                                                  std::string message,
                                                                  std::string reply_parent_id) {
  json body = {{"broadcaster_id", std::move(broadcaster_id)},
               {"sender_id", std::move(sender_id)},
               {"message", std::move(message)}};
  if (!reply_parent_id.empty()) body["reply_parent_message_id"] = std::move(reply_parent_id);
  QueryParams query;
  HelixResponse response =
      co_await call(TokenKind::user, "POST", "/chat/messages", std::move(query), std::move(body));
  co_return parse_chat_message_result(response.body);
}

asio::awaitable<void> HelixClient::set_vip(std::string broadcaster_id, std::string user_id,
                                           bool grant) {
  QueryParams query{{"broadcaster_id", std::move(broadcaster_id)}, {"user_id", std::move(user_id)}};
  co_await call(TokenKind::user, grant ? "POST" : "DELETE", "/channels/vips", std::move(query));
}

asio::awaitable<void> HelixClient::set_moderator(std::string broadcaster_id, std::string user_id,
                                                 bool grant) {
  QueryParams query{{"broadcaster_id", std::move(broadcaster_id)}, {"user_id", std::move(user_id)}};
  co_await call(TokenKind::user, grant ? "POST" : "DELETE", "/moderation/moderators",
                std::move(query));
}

asio::awaitable<EventSubSubscription> HelixClient::create_eventsub_subscription(
    std::string type, std::string version, json condition, std::string callback,
    std::string secret) {
  json body = {{"type", std::move(type)},
               {"version", std::move(version)},
               {"condition", std::move(condition)},
               {"transport",
                {{"method", "webhook"}, {"callback", std::move(callback)}, {"secret", secret}}}};
  QueryParams query;
  HelixResponse response = co_await call(TokenKind::app, "POST", "/eventsub/subscriptions",
                                         std::move(query), std::move(body));
  auto subscriptions = parse_subscriptions(response.body);
  if (subscriptions.empty()) {
    throw Error(Errc::invalid_argument, "Create EventSub Subscription response: empty data");
  }
  co_return std::move(subscriptions.front());
}

asio::awaitable<std::vector<EventSubSubscription>> HelixClient::list_eventsub_subscriptions() {
  std::vector<EventSubSubscription> all;
  std::string cursor;
  // Pages of up to 100; a bound keeps a misbehaving cursor from looping forever.
  for (int page = 0; page < 1000; ++page) {
    QueryParams query;
    if (!cursor.empty()) query.emplace_back("after", cursor);
    HelixResponse response =
        co_await call(TokenKind::app, "GET", "/eventsub/subscriptions", std::move(query));
    auto items = parse_subscriptions(response.body);
    all.insert(all.end(), std::make_move_iterator(items.begin()),
               std::make_move_iterator(items.end()));
    cursor.clear();
    if (response.body.contains("pagination") && response.body["pagination"].is_object()) {
      cursor = optional_string(response.body["pagination"], "cursor");
    }
    if (cursor.empty() || items.empty()) break;
  }
  co_return all;
}

asio::awaitable<void> HelixClient::delete_eventsub_subscription(std::string id) {
  QueryParams query{{"id", std::move(id)}};
  co_await call(TokenKind::app, "DELETE", "/eventsub/subscriptions", std::move(query));
}

}  // namespace waddle::twitch
