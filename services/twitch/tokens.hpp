#pragma once
// The bot's Twitch user token at rest and in use. TokenVault is the storage (table
// platform_tokens, migration 0016), shared by `waddle twitch auth` and waddle-twitchd: both
// tokens sealed with AES-256-GCM under the key in twitch.token_key_file, bound (AAD) to the
// platform, account and column, so a sealed value copied to another row does not open.
// UserTokens is the daemon's TokenProvider: it refreshes on a 401 or a refused IRC login and
// persists the new pair, compare-and-swap on the refresh token it read, BEFORE using it, so two
// instances sharing the row never lose the refresh token Twitch handed out last.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <pqxx/pqxx>

#include "pg/pool.hpp"
#include "twitch/helix.hpp"

namespace waddle::twitch {

// Reads a 32-byte key written as 64 hex digits or base64 (`openssl rand -hex 32 > FILE`);
// surrounding whitespace is ignored. Throws Error(invalid_argument) naming `key_name` and the
// path when the file is unreadable or holds anything else.
std::string load_token_key(const std::string& path, std::string_view key_name);

struct StoredToken {
  std::string account;  // the bot's login
  std::string access_token;
  std::string refresh_token;
  std::vector<std::string> scopes;
  std::string user_id;  // from /oauth2/validate; may be empty
  std::optional<std::chrono::system_clock::time_point> expires_at;
  std::string refresh_sealed;  // the row's refresh_token_enc as read (hex): the CAS value
};

class TokenVault {
 public:
  // Throws Error(invalid_argument) unless key32 is 32 bytes.
  explicit TokenVault(std::string key32, std::string platform = "twitch");

  // nullopt when there is no row. Throws Error(invalid_argument) when the row does not open with
  // this key (another key, or tampered with).
  std::optional<StoredToken> load(pqxx::transaction_base& tx, std::string_view account) const;
  // Insert or overwrite the account's row (the CLI, after an authorization).
  void store(pqxx::transaction_base& tx, const StoredToken& token) const;
  // One UPDATE, only if the row still holds `expected_refresh_sealed`: false when another
  // instance refreshed first (reload and use its token instead).
  bool replace_if_unchanged(pqxx::transaction_base& tx, const StoredToken& next,
                            std::string_view expected_refresh_sealed) const;

  std::string seal(std::string_view account, std::string_view column,
                   std::string_view plaintext) const;  // hex
  std::string open(std::string_view account, std::string_view column,
                   std::string_view sealed_hex) const;

 private:
  std::string key_;
  std::string platform_;
};

struct UserTokenStats {
  std::uint64_t refreshes = 0;  // refresh_token grants made by this instance
  std::uint64_t adopted = 0;    // renewals answered by a token another instance stored
  std::uint64_t refresh_failures = 0;
};

// Use from one strand (twitchd's): refreshes are serialised, waiting callers share the result.
class UserTokens final : public TokenProvider {
 public:
  UserTokens(OAuthClient& oauth, pg::Pool& pool, TokenVault vault, std::string account);

  // Reads the row; false when there is none (run `waddle twitch auth`).
  boost::asio::awaitable<bool> load();
  // The same, blocking: for start-up code, never on an io_context thread.
  bool load_blocking();
  boost::asio::awaitable<std::string> current() override;
  boost::asio::awaitable<std::string> renew(std::string rejected) override;
  // GET /oauth2/validate for the current token (refreshing once if it is refused): the login,
  // user id, scopes and expiry. Throws Error(unauthenticated) when no valid token can be had.
  boost::asio::awaitable<TokenInfo> validate();

  bool loaded() const { return token_.has_value(); }
  // The current access token; "" when nothing is loaded.
  std::string access_token() const { return token_ ? token_->access_token : std::string(); }
  const std::string& user_id() const { return user_id_; }
  std::optional<std::chrono::system_clock::time_point> expires_at() const {
    return token_ ? token_->expires_at : std::nullopt;
  }
  const UserTokenStats& stats() const { return stats_; }

 private:
  boost::asio::awaitable<std::string> refresh_now(std::string rejected);

  OAuthClient& oauth_;
  pg::Pool& pool_;
  TokenVault vault_;
  std::string account_;
  std::optional<StoredToken> token_;
  std::string user_id_;
  // Set while a refresh runs; other callers wait on it (cancel() wakes them).
  std::shared_ptr<boost::asio::steady_timer> refreshing_;
  UserTokenStats stats_;
};

}  // namespace waddle::twitch
