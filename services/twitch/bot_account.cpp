#include "twitch/bot_account.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "error/error.hpp"
#include "model/event.hpp"

namespace waddle::twitch {
namespace asio = boost::asio;
using json = nlohmann::json;

namespace {

constexpr int kMaxTimeout = 1209600;  // Twitch's longest timeout: two weeks

std::string rfc3339(std::chrono::system_clock::time_point at) {
  std::time_t t = std::chrono::system_clock::to_time_t(at);
  char text[32];
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

// A static oauth_token still serves Helix; it just cannot be refreshed.
class StaticToken final : public TokenProvider {
 public:
  explicit StaticToken(std::string token) : token_(std::move(token)) {}
  asio::awaitable<std::string> current() override {
    if (token_.empty()) {
      throw Error(Errc::unauthenticated,
                  "no Twitch user token (run `waddle twitch auth` or set twitch.oauth_token)");
    }
    co_return token_;
  }
  asio::awaitable<std::string> renew(std::string) override {
    throw Error(Errc::unauthenticated,
                "twitch.oauth_token was refused and cannot be refreshed (store a token pair "
                "with `waddle twitch auth`)");
    co_return std::string();
  }

 private:
  std::string token_;
};

}  // namespace

BotAccount::BotAccount(asio::any_io_executor strand, BotAccountOptions options)
    : strand_(std::move(strand)), options_(std::move(options)), validate_timer_(strand_) {
  if (options_.helix.client_id.empty()) {
    set_token_state(options_.fallback_token.empty() ? "none" : "static",
                    "twitch.client_id is not set: Helix actions and token refresh are off");
    return;
  }
  net::ClientOptions client;
  client.ca_file = options_.ca_file;
  client.total_timeout = options_.helix.timeout;
  http_ = std::make_unique<net::HttpClient>(strand_, client);
  oauth_ = std::make_unique<OAuthClient>(*http_, options_.helix);
  app_tokens_ = std::make_unique<AppTokens>(*oauth_);
  if (!options_.token_key_file.empty()) {
    if (options_.database_url.empty()) {
      throw Error(Errc::invalid_argument,
                  "twitch.token_key_file: the tokens live in PostgreSQL; set database.url");
    }
    TokenVault vault(load_token_key(options_.token_key_file, "twitch.token_key_file"));
    pg::PoolOptions pool;
    pool.primary_url = options_.database_url;
    pool.size = 2;
    pool.worker_threads = 1;
    pool.application_name = "waddle-twitchd";
    pool_ = std::make_unique<pg::Pool>(pool);
    user_tokens_ = std::make_unique<UserTokens>(*oauth_, *pool_, std::move(vault), options_.login);
    if (user_tokens_->load_blocking()) {
      set_token_state("stored", "validating");
    } else {
      spdlog::warn(
          "twitch: no user token stored for '{}' in platform_tokens (run `waddle twitch auth url` "
          "and `waddle twitch auth code CODE`){}",
          options_.login, options_.fallback_token.empty() ? "" : "; using twitch.oauth_token");
      user_tokens_.reset();
    }
  }
  if (!user_tokens_) {
    set_token_state(
        options_.fallback_token.empty() ? "none" : "static",
        "no stored user token: Helix user calls use twitch.oauth_token, never refreshed");
  }
  static_user_ = std::make_unique<StaticToken>(options_.fallback_token);
  helix_ = std::make_unique<HelixClient>(
      *http_, options_.helix, app_tokens_.get(),
      user_tokens_ ? static_cast<TokenProvider*>(user_tokens_.get()) : static_user_.get());
}

BotAccount::~BotAccount() = default;

std::string BotAccount::chat_token() const {
  return user_tokens_ && user_tokens_->loaded() ? user_tokens_->access_token()
                                                : options_.fallback_token;
}

void BotAccount::start() {
  publish();
  if (!helix_) return;
  spawn(validate_loop(), "token validation");
}

void BotAccount::stop() {
  asio::post(strand_, [this] {
    stopped_ = true;
    validate_timer_.cancel();
  });
}

void BotAccount::set_token_state(std::string state, std::string detail) {
  token_state_ = std::move(state);
  token_detail_ = std::move(detail);
  publish();
}

void BotAccount::publish() {
  json out = {
      {"helix", helix_ ? "on" : "off"},
      {"login", options_.login},
      {"token", {{"state", token_state_}, {"detail", token_detail_}}},
      {"actions",
       {{"done", actions_done_}, {"failed", actions_failed_}, {"skipped", actions_skipped_}}}};
  if (last_validation_) {
    out["token"]["user_id"] = last_validation_->user_id;
    out["token"]["scopes"] = last_validation_->scopes;
    out["token"]["missing_scopes"] = missing_scopes(last_validation_->scopes, kBotScopes);
    out["token"]["expires_in_at_validation"] = last_validation_->expires_in;
  }
  if (user_tokens_) {
    if (auto expires = user_tokens_->expires_at()) out["token"]["expires_at"] = rfc3339(*expires);
    const auto& s = user_tokens_->stats();
    out["token"]["refreshes"] = s.refreshes;
    out["token"]["adopted"] = s.adopted;
    out["token"]["refresh_failures"] = s.refresh_failures;
  }
  if (helix_) {
    const auto& s = helix_->stats();
    out["calls"] = {{"total", s.calls}, {"rate_limited", s.rate_limited}, {"renewals", s.renewals}};
  }
  std::lock_guard lock(snapshot_mutex_);
  snapshot_ = std::move(out);
}

json BotAccount::status() const {
  std::lock_guard lock(snapshot_mutex_);
  return snapshot_;
}

void BotAccount::spawn(asio::awaitable<void> task, std::string what) {
  asio::co_spawn(strand_, std::move(task), [this, what](std::exception_ptr error) {
    if (!error) return;
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      ++actions_failed_;
      spdlog::warn("twitch: {} failed: {}", what, e.what());
    }
    publish();
  });
}

// Validates the token Helix and IRC use at start and then every validate_interval (Twitch
// requires hourly validation); a refused token is refreshed once by validate().
asio::awaitable<void> BotAccount::validate_loop() {
  while (!stopped_) {
    if (user_tokens_) {
      try {
        TokenInfo info = co_await user_tokens_->validate();
        last_validation_ = info;
        if (!info.login.empty() && info.login != options_.login) {
          set_token_state("wrong_account", "the stored token belongs to '" + info.login +
                                               "', not twitch.nick '" + options_.login + "'");
          spdlog::error("twitch: {}", token_detail_);
        } else {
          auto missing = missing_scopes(info.scopes, kBotScopes);
          std::string detail;
          for (const auto& scope : missing)
            detail += (detail.empty() ? "missing scopes: " : " ") + scope;
          set_token_state("valid", detail);
          if (!missing.empty()) spdlog::warn("twitch: the bot's user token lacks {}", detail);
        }
        if (!info.user_id.empty()) user_ids_[options_.login] = info.user_id;
      } catch (const Error& e) {
        set_token_state(e.code() == Errc::unauthenticated ? "invalid" : "unchecked", e.what());
        spdlog::error("twitch: user token check: {}", e.what());
      }
    }
    validate_timer_.expires_after(options_.validate_interval);
    co_await validate_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

asio::awaitable<std::string> BotAccount::user_id_of(std::string login) {
  if (auto it = user_ids_.find(login); it != user_ids_.end()) co_return it->second;
  auto user = co_await helix_->get_user_by_login(login);
  if (!user) throw Error(Errc::not_found, "no Twitch user '" + login + "'");
  user_ids_[login] = user->id;
  co_return user->id;
}

asio::awaitable<std::string> BotAccount::bot_user_id() {
  if (user_tokens_ && !user_tokens_->user_id().empty()) co_return user_tokens_->user_id();
  co_return co_await user_id_of(options_.login);
}

void BotAccount::block(std::string channel, model::BlockAction action) {
  if (!helix_) {
    ++actions_skipped_;
    spdlog::warn("twitch: block action for #{} skipped: {}", channel, token_detail_);
    return publish();
  }
  spawn(run_block(channel, std::move(action)), "block action for #" + channel);
}

void BotAccount::whisper(model::WhisperAction action) {
  if (!helix_) {
    ++actions_skipped_;
    spdlog::warn("twitch: whisper to {} skipped: {}",
                 action.user_name.empty() ? action.user_id : action.user_name, token_detail_);
    return publish();
  }
  const std::string who = action.user_name.empty() ? action.user_id : action.user_name;
  spawn(run_whisper(std::move(action)), "whisper to " + who);
}

void BotAccount::role(std::string channel, model::RoleAction action) {
  if (action.role != "vip" && action.role != "moderator") {
    ++actions_skipped_;
    spdlog::warn(
        "twitch: role action '{}' for {} in #{} skipped: Twitch roles are 'vip' and "
        "'moderator'",
        action.role, action.user_name.empty() ? action.user_id : action.user_name, channel);
    return publish();
  }
  if (!helix_) {
    ++actions_skipped_;
    spdlog::warn("twitch: role action for #{} skipped: {}", channel, token_detail_);
    return publish();
  }
  spawn(run_role(channel, std::move(action)), "role action for #" + channel);
}

asio::awaitable<void> BotAccount::run_block(std::string channel, model::BlockAction action) {
  const std::string broadcaster = co_await user_id_of(channel);
  const std::string moderator = co_await bot_user_id();
  if (action.timeout > 0) {
    std::string user_id = action.user_id;
    if (user_id.empty() && !action.user_name.empty()) {
      user_id = co_await user_id_of(action.user_name);
    }
    if (user_id.empty()) {
      ++actions_skipped_;
      spdlog::warn("twitch: timeout in #{} skipped: the block action names no user", channel);
      publish();
      co_return;
    }
    const int duration = std::min(action.timeout, kMaxTimeout);
    co_await helix_->ban_user(broadcaster, moderator, user_id, duration, action.reason);
    spdlog::info("twitch: timed out user {} in #{} for {} s ({})", user_id, channel, duration,
                 action.reason);
  } else if (!action.message_id.empty()) {
    co_await helix_->delete_chat_message(broadcaster, moderator, action.message_id);
    spdlog::info("twitch: deleted message {} in #{} ({})", action.message_id, channel,
                 action.reason);
  } else {
    ++actions_skipped_;
    spdlog::warn("twitch: block action in #{} skipped: no message_id and no timeout", channel);
    publish();
    co_return;
  }
  ++actions_done_;
  publish();
}

asio::awaitable<void> BotAccount::run_whisper(model::WhisperAction action) {
  std::string to = action.user_id;
  if (to.empty()) to = co_await user_id_of(action.user_name);
  const std::string from = co_await bot_user_id();
  co_await helix_->send_whisper(from, to, action.text);
  ++actions_done_;
  spdlog::info("twitch: whispered to {}", action.user_name.empty() ? to : action.user_name);
  publish();
}

asio::awaitable<void> BotAccount::run_role(std::string channel, model::RoleAction action) {
  const std::string broadcaster = co_await user_id_of(channel);
  std::string user_id = action.user_id;
  if (user_id.empty()) user_id = co_await user_id_of(action.user_name);
  if (action.role == "vip") {
    co_await helix_->set_vip(broadcaster, user_id, action.grant);
  } else {
    co_await helix_->set_moderator(broadcaster, user_id, action.grant);
  }
  ++actions_done_;
  spdlog::info("twitch: {} {} {} in #{}", action.grant ? "granted" : "revoked", action.role,
               action.user_name.empty() ? user_id : action.user_name, channel);
  publish();
}

void BotAccount::on_chat_login_refused(std::string token,
                                       std::function<void(std::optional<std::string>)> done) {
  if (!user_tokens_) {
    set_token_state("auth_failed",
                    "Twitch refused the chat login and there is no stored refresh token");
    done(std::nullopt);
    return;
  }
  asio::co_spawn(strand_, refresh_for_chat(std::move(token), std::move(done)), asio::detached);
}

asio::awaitable<void> BotAccount::refresh_for_chat(
    std::string token, std::function<void(std::optional<std::string>)> done) {
  std::optional<std::string> fresh;
  try {
    fresh = co_await user_tokens_->renew(token);
    set_token_state("valid", "refreshed after a refused chat login");
  } catch (const std::exception& e) {
    set_token_state("auth_failed", e.what());
    spdlog::error("twitch: the chat login was refused and the token refresh failed: {}", e.what());
  }
  done(fresh);
}

}  // namespace waddle::twitch
