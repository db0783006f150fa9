#pragma once
// Twitch's REST side: OAuth (id.twitch.tv/oauth2: client credentials, refresh, authorization
// code, validate) and the Helix calls the collector makes (moderation, whispers, chat, roles,
// users, EventSub subscriptions). Built on net::HttpClient; the base URLs are settings so tests
// point them at tests/fakes/twitch_helix_server. Wire facts: shared/reference/platforms.md §1.4.
//
//   OAuthClient oauth(http, options);
//   AppTokens app(oauth);                        // client credentials, cached until expiry
//   HelixClient helix(http, options, &app, &user_tokens);
//   co_await helix.delete_chat_message(broadcaster_id, moderator_id, message_id);
//
// Every Helix call honours Ratelimit-Remaining/Reset (waits for the reset on a 429, at most
// max_rate_limit_retries times) and answers a 401 with one token renewal and one retry.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include "error/error.hpp"
#include "net/http_client.hpp"

namespace waddle::twitch {

// The user-token scopes the bot asks for in `waddle twitch auth url`.
inline constexpr const char* kBotScopes =
    "chat:read chat:edit user:read:chat user:write:chat user:bot user:manage:whispers "
    "moderator:manage:chat_messages moderator:manage:banned_users channel:manage:vips "
    "channel:manage:moderators moderator:read:followers channel:read:subscriptions bits:read";

struct HelixOptions {
  std::string helix_url = "https://api.twitch.tv/helix";  // without a trailing '/'
  std::string auth_url = "https://id.twitch.tv/oauth2";   // without a trailing '/'
  std::string client_id;
  std::string client_secret;
  std::chrono::milliseconds timeout{10000};  // one HTTP call
  int max_rate_limit_retries = 3;            // 429s waited out per call before giving up
  std::chrono::milliseconds max_rate_limit_wait{60000};  // one wait for Ratelimit-Reset at most
};

using QueryParams = std::vector<std::pair<std::string, std::string>>;

// RFC 3986 unreserved characters stay, everything else is %XX (so '+' and ' ' are escaped).
std::string percent_encode(std::string_view text);
// "a=1&b=x%20y" for a query string or an application/x-www-form-urlencoded body.
std::string form_encode(const QueryParams& params);

// https://id.twitch.tv/oauth2/authorize?response_type=code&client_id=…&redirect_uri=…&scope=…
std::string authorization_url(const HelixOptions& options, std::string_view redirect_uri,
                              std::string_view scopes, std::string_view state);

struct OAuthToken {
  std::string access_token;
  std::string refresh_token;  // empty for app tokens
  std::int64_t expires_in = 0;
  std::vector<std::string> scopes;
};

// What GET /oauth2/validate says about a token.
struct TokenInfo {
  std::string client_id;
  std::string login;    // empty for an app token
  std::string user_id;  // empty for an app token
  std::vector<std::string> scopes;
  std::int64_t expires_in = 0;
};

// Parse the OAuth answers; throw Error(invalid_argument) naming the missing field.
OAuthToken parse_token_response(const nlohmann::json& body);
TokenInfo parse_validate_response(const nlohmann::json& body);

// The scopes of `required` (space separated) missing from `granted`.
std::vector<std::string> missing_scopes(const std::vector<std::string>& granted,
                                        std::string_view required);

// Ratelimit-Reset (Unix seconds) as a wait from `now_unix_seconds`, clamped to [0, cap];
// nullopt when the header is missing or not a number.
std::optional<std::chrono::milliseconds> rate_limit_wait(const net::ClientResponse& response,
                                                         std::int64_t now_unix_seconds,
                                                         std::chrono::milliseconds cap);

class OAuthClient {
 public:
  OAuthClient(net::HttpClient& http, HelixOptions options);

  // Errors: Error(unauthenticated) when Twitch refuses the client, the code or the refresh token
  // (with Twitch's message), unavailable/timeout for the network.
  boost::asio::awaitable<OAuthToken> client_credentials();
  boost::asio::awaitable<OAuthToken> refresh(std::string refresh_token);
  boost::asio::awaitable<OAuthToken> exchange_code(std::string code, std::string redirect_uri);
  // nullopt when the token is invalid or expired (401).
  boost::asio::awaitable<std::optional<TokenInfo>> validate(std::string access_token);

  const HelixOptions& options() const { return options_; }

 private:
  boost::asio::awaitable<OAuthToken> token_call(QueryParams form, const char* what);

  net::HttpClient& http_;
  HelixOptions options_;
};

// Where Helix calls get their bearer token.
class TokenProvider {
 public:
  virtual ~TokenProvider() = default;
  // The token to send now. Throws Error(unauthenticated) when there is none.
  virtual boost::asio::awaitable<std::string> current() = 0;
  // `rejected` was answered 401: a fresh token, or the one another caller already renewed it
  // to. Throws Error(unauthenticated) when no fresh token can be had.
  virtual boost::asio::awaitable<std::string> renew(std::string rejected) = 0;
};

// App access token by client credentials, fetched on first use and again when it is within a
// minute of expiry or refused. Use it from one strand.
class AppTokens final : public TokenProvider {
 public:
  explicit AppTokens(OAuthClient& oauth) : oauth_(oauth) {}
  boost::asio::awaitable<std::string> current() override;
  boost::asio::awaitable<std::string> renew(std::string rejected) override;
  std::size_t fetched() const { return fetched_; }

 private:
  OAuthClient& oauth_;
  std::string token_;
  std::chrono::steady_clock::time_point expires_{};
  std::size_t fetched_ = 0;
};

struct HelixUser {
  std::string id;
  std::string login;
  std::string display_name;
};

struct ChatMessageResult {
  std::string message_id;
  bool is_sent = false;
  std::string drop_code;  // drop_reason.code when not sent
  std::string drop_message;
};

ChatMessageResult parse_chat_message_result(const nlohmann::json& body);
std::vector<HelixUser> parse_users(const nlohmann::json& body);

struct EventSubSubscription {
  std::string id;
  std::string status;
  std::string type;
  std::string version;
  nlohmann::json condition;
  std::string callback;
};

std::vector<EventSubSubscription> parse_subscriptions(const nlohmann::json& body);

struct HelixResponse {
  int status = 0;
  nlohmann::json body;  // null for 204
};

enum class TokenKind { app, user };

struct HelixStats {
  std::uint64_t calls = 0;
  std::uint64_t rate_limited = 0;  // 429s waited out
  std::uint64_t renewals = 0;      // 401s answered with a renewed token
};

class HelixClient {
 public:
  // Either provider may be null when the daemon has no such token; calls needing it then throw
  // Error(unauthenticated).
  HelixClient(net::HttpClient& http, HelixOptions options, TokenProvider* app_tokens,
              TokenProvider* user_tokens);

  // One Helix call with the rate-limit and 401 handling. `path` is under helix_url
  // ("/moderation/chat"). Non-2xx answers (after retries) throw Error(errc_for_http_status) with
  // Twitch's message.
  boost::asio::awaitable<HelixResponse> call(TokenKind kind, std::string method, std::string path,
                                             QueryParams query, nlohmann::json body = nullptr);

  // nullopt when no such user.
  boost::asio::awaitable<std::optional<HelixUser>> get_user_by_login(std::string login);
  boost::asio::awaitable<void> delete_chat_message(std::string broadcaster_id,
                                                   std::string moderator_id,
                                                   std::string message_id);
  // duration 0 bans; 1..1209600 s is a timeout.
  boost::asio::awaitable<void> ban_user(std::string broadcaster_id, std::string moderator_id,
                                        std::string user_id, int duration, std::string reason);
  boost::asio::awaitable<void> send_whisper(std::string from_user_id, std::string to_user_id,
                                            std::string message);
  boost::asio::awaitable<ChatMessageResult> send_chat_message(std::string broadcaster_id,
                                                              std::string sender_id,
                                                              std::string message,
                                                              std::string reply_parent_id = {});
  boost::asio::awaitable<void> set_vip(std::string broadcaster_id, std::string user_id, bool grant);
  boost::asio::awaitable<void> set_moderator(std::string broadcaster_id, std::string user_id,
                                             bool grant);
  // Webhook subscriptions (app token).
  boost::asio::awaitable<EventSubSubscription> create_eventsub_subscription(
      std::string type, std::string version, nlohmann::json condition, std::string callback,
      std::string secret);
  boost::asio::awaitable<std::vector<EventSubSubscription>> list_eventsub_subscriptions();
  boost::asio::awaitable<void> delete_eventsub_subscription(std::string id);

  const HelixStats& stats() const { return stats_; }

 private:
  net::HttpClient& http_;
  HelixOptions options_;
  TokenProvider* app_tokens_;
  TokenProvider* user_tokens_;
  HelixStats stats_;
  // After an answer with Ratelimit-Remaining: 0, calls wait until this point.
  std::optional<std::chrono::steady_clock::time_point> bucket_empty_until_;
};

}  // namespace waddle::twitch
