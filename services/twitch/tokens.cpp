#include "twitch/tokens.hpp"

#include <cctype>
#include <fstream>
#include <sstream>

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "crypto/aead.hpp"
#include "crypto/encoding.hpp"
#include "error/error.hpp"

namespace waddle::twitch {
namespace asio = boost::asio;

namespace {

std::string join_scopes(const std::vector<std::string>& scopes) {
  std::string out;
  for (const auto& scope : scopes) {
    if (!out.empty()) out.push_back(' ');
    out += scope;
  }
  return out;
}

std::vector<std::string> split_words(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string word;
  while (in >> word) out.push_back(word);
  return out;
}

// Seconds since the epoch as text for to_timestamp(), or "" for NULL.
std::string epoch_text(const std::optional<std::chrono::system_clock::time_point>& at) {
  if (!at) return {};
  return std::to_string(
      std::chrono::duration_cast<std::chrono::seconds>(at->time_since_epoch()).count());
}

constexpr const char* kSelect =
    "select encode(access_token_enc, 'hex'), coalesce(encode(refresh_token_enc, 'hex'), ''), "
    "array_to_string(scopes, ' '), coalesce(user_id, ''), "
    "coalesce(extract(epoch from expires_at)::bigint::text, '') "
    "from platform_tokens where platform = $1 and account = $2";

}  // namespace

std::string load_token_key(const std::string& path, std::string_view key_name) {
  const std::string where = std::string(key_name) + " ('" + path + "')";
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(Errc::invalid_argument, where + ": cannot read the file");
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  std::size_t start = 0;
  while (start < text.size() && std::isspace(static_cast<unsigned char>(text[start]))) ++start;
  text.erase(0, start);
  std::string key;
  try {
    key = text.size() == 2 * crypto::kAes256KeySize ? crypto::hex_decode(text)
                                                    : crypto::base64_decode(text);
  } catch (const Error&) {
    key.clear();
  }
  if (key.size() != crypto::kAes256KeySize) {
    throw Error(Errc::invalid_argument,
                where +
                    ": expected 32 random bytes as 64 hex digits or base64 (make one with "
                    "`openssl rand -hex 32`)");
  }
  return key;
}

TokenVault::TokenVault(std::string key32, std::string platform)
    : key_(std::move(key32)), platform_(std::move(platform)) {
  if (key_.size() != crypto::kAes256KeySize) {
    throw Error(Errc::invalid_argument, "token key: expected 32 bytes");
  }
}

std::string TokenVault::seal(std::string_view account, std::string_view column,
                             std::string_view plaintext) const {
  const std::string aad =
      "platform_tokens:" + platform_ + ":" + std::string(account) + ":" + std::string(column);
  return crypto::hex_encode(crypto::aes256gcm_seal(key_, plaintext, aad));
}

std::string TokenVault::open(std::string_view account, std::string_view column,
                             std::string_view sealed_hex) const {
  const std::string aad =
      "platform_tokens:" + platform_ + ":" + std::string(account) + ":" + std::string(column);
  auto plain = crypto::aes256gcm_open(key_, crypto::hex_decode(sealed_hex), aad);
  if (!plain) {
    throw Error(Errc::invalid_argument,
                "platform_tokens (" + platform_ + ", " + std::string(account) + ")." +
                    std::string(column) +
                    " does not open with twitch.token_key_file: another key, or the row was "
                    "altered; store the tokens again with `waddle twitch auth`");
  }
  return *plain;
}

std::optional<StoredToken> TokenVault::load(pqxx::transaction_base& tx,
                                            std::string_view account) const {
  pqxx::result rows = tx.exec_params(kSelect, platform_, std::string(account));
  if (rows.empty()) return std::nullopt;
  const pqxx::row& row = rows[0];
  StoredToken token;
  token.account = std::string(account);
  token.access_token = open(account, "access_token", row[0].c_str());
  token.refresh_sealed = row[1].c_str();
  if (!token.refresh_sealed.empty()) {
    token.refresh_token = open(account, "refresh_token", token.refresh_sealed);
  }
  token.scopes = split_words(row[2].c_str());
  token.user_id = row[3].c_str();
  const std::string expires = row[4].c_str();
  if (!expires.empty()) {
    token.expires_at =
        std::chrono::system_clock::time_point(std::chrono::seconds(std::stoll(expires)));
  }
  return token;
}

void TokenVault::store(pqxx::transaction_base& tx, const StoredToken& token) const {
  const std::string refresh = token.refresh_token.empty()
                                  ? std::string()
                                  : seal(token.account, "refresh_token", token.refresh_token);
  tx.exec_params(
      "insert into platform_tokens (platform, account, access_token_enc, refresh_token_enc, "
      "scopes, user_id, expires_at, updated_at) values ($1, $2, decode($3, 'hex'), "
      "decode(nullif($4, ''), 'hex'), string_to_array($5, ' '), nullif($6, ''), "
      "to_timestamp(nullif($7, '')::bigint), now()) "
      "on conflict (platform, account) do update set access_token_enc = excluded.access_token_enc, "
      "refresh_token_enc = excluded.refresh_token_enc, scopes = excluded.scopes, "
      "user_id = excluded.user_id, expires_at = excluded.expires_at, updated_at = now()",
      platform_, token.account, seal(token.account, "access_token", token.access_token), refresh,
      join_scopes(token.scopes), token.user_id, epoch_text(token.expires_at));
}

bool TokenVault::replace_if_unchanged(pqxx::transaction_base& tx, const StoredToken& next,
                                      std::string_view expected_refresh_sealed) const {
  const std::string refresh = next.refresh_token.empty()
                                  ? std::string()
                                  : seal(next.account, "refresh_token", next.refresh_token);
  pqxx::result updated = tx.exec_params(
      "update platform_tokens set access_token_enc = decode($3, 'hex'), "
      "refresh_token_enc = decode(nullif($4, ''), 'hex'), "
      "scopes = case when $5 = '' then scopes else string_to_array($5, ' ') end, "
      "expires_at = to_timestamp(nullif($6, '')::bigint), updated_at = now() "
      "where platform = $1 and account = $2 and "
      "refresh_token_enc is not distinct from decode(nullif($7, ''), 'hex')",
      platform_, next.account, seal(next.account, "access_token", next.access_token), refresh,
      join_scopes(next.scopes), epoch_text(next.expires_at), std::string(expected_refresh_sealed));
  return updated.affected_rows() == 1;
}

// ---- UserTokens -----------------------------------------------------------------------------

UserTokens::UserTokens(OAuthClient& oauth, pg::Pool& pool, TokenVault vault, std::string account)
    : oauth_(oauth), pool_(pool), vault_(std::move(vault)), account_(std::move(account)) {}

asio::awaitable<bool> UserTokens::load() {
  auto job = [this](pqxx::connection& c) {
    pqxx::read_transaction tx(c);
    return vault_.load(tx, account_);
  };
  token_ = co_await pool_.run(std::move(job));
  if (token_ && !token_->user_id.empty()) user_id_ = token_->user_id;
  co_return token_.has_value();
}

bool UserTokens::load_blocking() {
  token_ = pool_.run_sync([this](pqxx::connection& c) {
    pqxx::read_transaction tx(c);
    return vault_.load(tx, account_);
  });
  if (token_ && !token_->user_id.empty()) user_id_ = token_->user_id;
  return token_.has_value();
}

asio::awaitable<std::string> UserTokens::current() {
  if (!token_) {
    throw Error(Errc::unauthenticated, "no Twitch user token stored for '" + account_ +
                                           "': run `waddle twitch auth url` / `auth code`");
  }
  co_return token_->access_token;
}

asio::awaitable<std::string> UserTokens::renew(std::string rejected) {
  // Another caller is refreshing: wait for it and take its result.
  while (refreshing_) {
    auto signal = refreshing_;
    co_await signal->async_wait(asio::as_tuple(asio::use_awaitable));
  }
  if (token_ && token_->access_token != rejected) co_return token_->access_token;
  refreshing_ = std::make_shared<asio::steady_timer>(co_await asio::this_coro::executor,
                                                     asio::steady_timer::time_point::max());
  std::exception_ptr failure;
  std::string fresh;
  try {
    fresh = co_await refresh_now(std::move(rejected));
  } catch (...) {
    failure = std::current_exception();
  }
  auto signal = std::move(refreshing_);
  refreshing_.reset();
  signal->cancel();
  if (failure) std::rethrow_exception(failure);
  co_return fresh;
}

asio::awaitable<std::string> UserTokens::refresh_now(std::string rejected) {
  // The row may hold a newer pair than ours (another instance refreshed): use that first.
  co_await load();
  if (!token_) {
    throw Error(Errc::unauthenticated, "no Twitch user token stored for '" + account_ +
                                           "': run `waddle twitch auth code`");
  }
  if (token_->access_token != rejected) {
    ++stats_.adopted;
    spdlog::info("twitch: using the user token another instance stored for '{}'", account_);
    co_return token_->access_token;
  }
  if (token_->refresh_token.empty()) {
    ++stats_.refresh_failures;
    throw Error(Errc::unauthenticated, "the Twitch user token of '" + account_ +
                                           "' was refused and no refresh token is stored");
  }
  OAuthToken fresh;
  try {
    fresh = co_await oauth_.refresh(token_->refresh_token);
  } catch (const Error& e) {
    ++stats_.refresh_failures;
    throw Error(Errc::unauthenticated,
                std::string(e.what()) + " (authorise again with `waddle twitch auth`)");
  }
  ++stats_.refreshes;
  StoredToken next = *token_;
  next.access_token = fresh.access_token;
  if (!fresh.refresh_token.empty()) next.refresh_token = fresh.refresh_token;
  if (!fresh.scopes.empty()) next.scopes = fresh.scopes;
  next.expires_at =
      fresh.expires_in > 0
          ? std::optional(std::chrono::system_clock::now() + std::chrono::seconds(fresh.expires_in))
          : std::nullopt;
  const std::string expected = token_->refresh_sealed;
  // Persisted before use: if this instance died right after, the row still holds the refresh
  // token Twitch now expects.
  auto job = [this, next, expected](pqxx::connection& c) {
    pqxx::work tx(c);
    const bool swapped = vault_.replace_if_unchanged(tx, next, expected);
    tx.commit();
    return swapped;
  };
  const bool swapped = co_await pool_.run(std::move(job));
  co_await load();
  if (!swapped) {
    ++stats_.adopted;
    spdlog::warn("twitch: another instance refreshed the user token of '{}' first; using its token",
                 account_);
  } else {
    spdlog::info("twitch: user token of '{}' refreshed and stored", account_);
  }
  if (!token_)
    throw Error(Errc::unauthenticated, "the Twitch user token row of '" + account_ + "' vanished");
  co_return token_->access_token;
}

asio::awaitable<TokenInfo> UserTokens::validate() {
  std::string token = co_await current();
  std::optional<TokenInfo> info = co_await oauth_.validate(token);
  if (!info) {
    token = co_await renew(token);
    info = co_await oauth_.validate(token);
  }
  if (!info) {
    throw Error(Errc::unauthenticated,
                "Twitch refuses the user token of '" + account_ + "' even after a refresh");
  }
  if (!info->user_id.empty() && info->user_id != user_id_) {
    user_id_ = info->user_id;
    const std::string user_id = user_id_;
    auto job = [this, user_id](pqxx::connection& c) {
      pqxx::work tx(c);
      tx.exec_params(
          "update platform_tokens set user_id = $2 where platform = 'twitch' and account = $1",
          account_, user_id);
      tx.commit();
      return 0;
    };
    co_await pool_.run(std::move(job));
  }
  co_return *info;
}

}  // namespace waddle::twitch
