#pragma once
// What waddle-twitchd does as the bot's Twitch account over Helix: carries out the router's
// block (delete a message, or time the user out), whisper and role (VIP, moderator) actions,
// keeps the user token valid (validated at start and every token_validate_interval, refreshed
// on a 401 or a refused IRC login, stored through TokenVault) and looks up user ids by login.
// Everything runs on the strand it is given; status() may be called from any thread.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include "model/action.hpp"
#include "net/http_client.hpp"
#include "pg/pool.hpp"
#include "twitch/helix.hpp"
#include "twitch/tokens.hpp"

namespace waddle::twitch {

struct BotAccountOptions {
  HelixOptions helix;          // client_id empty: Helix off (actions are logged and skipped)
  std::string ca_file;         // extra CA for helix/auth URLs
  std::string database_url;    // with token_key_file: the user token lives in platform_tokens
  std::string token_key_file;  // empty: only fallback_token, never refreshed
  std::string login;           // the bot's login (twitch.nick)
  std::string fallback_token;  // twitch.oauth_token
  std::chrono::milliseconds validate_interval{3600000};
};

class BotAccount {
 public:
  // Reads the stored user token, blocking: construct before the io_context runs. Throws
  // Error(invalid_argument) for a bad key file, Error(unavailable) when Postgres cannot be
  // reached.
  BotAccount(boost::asio::any_io_executor strand, BotAccountOptions options);
  ~BotAccount();
  BotAccount(const BotAccount&) = delete;
  BotAccount& operator=(const BotAccount&) = delete;

  bool helix_enabled() const { return helix_ != nullptr; }
  // The Helix client (app and user tokens), null when Helix is off; use it on the strand.
  HelixClient* helix() const { return helix_.get(); }
  // The token IRC logs in with: the stored user token, else twitch.oauth_token; may be empty.
  std::string chat_token() const;

  // Starts the validation loop (on the strand).
  void start();
  // Ends it; actions in flight finish or fail on their own deadlines.
  void stop();

  // On the strand. Each runs detached and logs its outcome.
  void block(std::string channel, model::BlockAction action);
  void whisper(model::WhisperAction action);
  void role(std::string channel, model::RoleAction action);

  // On the strand: the IRC server refused `token`. `done` gets a refreshed token, or nullopt
  // when there is none to be had (stop retrying).
  void on_chat_login_refused(std::string token,
                             std::function<void(std::optional<std::string>)> done);

  nlohmann::json status() const;

 private:
  boost::asio::awaitable<void> validate_loop();
  boost::asio::awaitable<std::string> user_id_of(std::string login);
  boost::asio::awaitable<std::string> bot_user_id();
  boost::asio::awaitable<void> run_block(std::string channel, model::BlockAction action);
  boost::asio::awaitable<void> run_whisper(model::WhisperAction action);
  boost::asio::awaitable<void> run_role(std::string channel, model::RoleAction action);
  boost::asio::awaitable<void> refresh_for_chat(
      std::string token, std::function<void(std::optional<std::string>)> done);
  void spawn(boost::asio::awaitable<void> task, std::string what);
  void set_token_state(std::string state, std::string detail = {});
  void publish();

  boost::asio::any_io_executor strand_;
  BotAccountOptions options_;
  std::unique_ptr<net::HttpClient> http_;
  std::unique_ptr<pg::Pool> pool_;
  std::unique_ptr<OAuthClient> oauth_;
  std::unique_ptr<AppTokens> app_tokens_;
  std::unique_ptr<UserTokens> user_tokens_;
  std::unique_ptr<TokenProvider> static_user_;  // twitch.oauth_token when nothing is stored
  std::unique_ptr<HelixClient> helix_;
  boost::asio::steady_timer validate_timer_;
  bool stopped_ = false;
  std::map<std::string, std::string> user_ids_;  // login → id, cached
  std::optional<TokenInfo> last_validation_;

  mutable std::mutex snapshot_mutex_;
  nlohmann::json snapshot_ = nlohmann::json::object();
  std::string token_state_ = "unknown";
  std::string token_detail_;
  std::uint64_t actions_done_ = 0, actions_failed_ = 0, actions_skipped_ = 0;
};

}  // namespace waddle::twitch
