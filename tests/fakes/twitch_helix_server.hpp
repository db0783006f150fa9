#pragma once
// A fake Twitch REST side for tests: HTTPS (HTTP/1.1, keep-alive) on 127.0.0.1 with a
// self-signed certificate made at start, serving both id.twitch.tv/oauth2 (token: client
// credentials, refresh_token (rotating), authorization_code; validate) and the Helix endpoints
// the collector calls (users, moderation/chat, moderation/bans, whispers, chat/messages,
// channels/vips, moderation/moderators, eventsub/subscriptions) with Twitch's JSON shapes,
// status codes and Ratelimit-* headers. A refused token gets 401 like Twitch's. It records every
// request. All methods are thread-safe: run the io_context on its own thread.
//
//   FakeTwitchHelixServer fake(io, {.client_id = "cid", .client_secret = "secret"});
//   auto port = fake.start();
//   fake.add_user("alice", "1001");
//   auto [access, refresh] = fake.issue_user_token("waddlebot");
//   // point helix_url at fake.helix_url(), auth_url at fake.auth_url(), trust
//   fake.certificate_pem()

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

namespace waddle::fakes {

struct TwitchHelixConfig {
  std::string client_id = "fake-client-id";
  std::string client_secret = "fake-client-secret";
};

struct HelixRequest {
  std::string method;
  std::string path;                                // "/helix/moderation/chat", "/oauth2/token"
  std::string query;                               // raw, without '?'
  std::multimap<std::string, std::string> params;  // decoded query (and form body for /token)
  std::map<std::string, std::string> headers;      // names lower case
  std::string body;

  // The first value of a query/form parameter, or "".
  std::string param(const std::string& name) const;
  nlohmann::json json() const;  // the body parsed; null when empty or not JSON
};

class FakeTwitchHelixServer {
 public:
  explicit FakeTwitchHelixServer(boost::asio::io_context& io, TwitchHelixConfig config = {});
  ~FakeTwitchHelixServer();
  FakeTwitchHelixServer(const FakeTwitchHelixServer&) = delete;
  FakeTwitchHelixServer& operator=(const FakeTwitchHelixServer&) = delete;

  // Listens on 127.0.0.1 (ephemeral port) and returns the port.
  std::uint16_t start();
  void stop();

  std::string certificate_pem() const;
  std::string helix_url() const;  // https://127.0.0.1:<port>/helix
  std::string auth_url() const;   // https://127.0.0.1:<port>/oauth2

  // A Twitch user Get Users knows.
  void add_user(const std::string& login, const std::string& id);
  // A fresh user access + refresh token pair for `login` (added as a user when unknown), with
  // every scope the bot asks for.
  std::pair<std::string, std::string> issue_user_token(const std::string& login);
  // An authorization code that /token (grant_type=authorization_code) exchanges for a pair.
  void add_authorization_code(const std::string& code, const std::string& login);
  // Makes an access token invalid (Helix and validate answer 401), as if it expired.
  void expire_access_token(const std::string& access_token);
  // Every access token issued so far stops working.
  void expire_all_access_tokens();
  // The next `count` Helix requests get 429 with Ratelimit-Remaining: 0.
  void rate_limit_next(std::size_t count);
  // Send Chat Message answers 200 with is_sent false and this drop code ("" = send).
  void drop_chat_messages(const std::string& code);
  // The EventSub subscriptions as Get EventSub Subscriptions lists them.
  nlohmann::json subscriptions() const;
  // Sets a subscription's status (e.g. "authorization_revoked"), as Twitch does before it sends
  // the revocation; false when no such id.
  bool set_subscription_status(const std::string& id, const std::string& status);
  // The latest refresh token valid for `login` ("" when none).
  std::string refresh_token_of(const std::string& login) const;
  std::string access_token_of(const std::string& login) const;

  std::vector<HelixRequest> requests() const;
  std::size_t count(std::string_view method, std::string_view path) const;
  std::size_t accepted_connections() const;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace waddle::fakes
