// waddle twitch auth url | code CODE | tokens --access X --refresh Y | status.
// Authorises the bot's Twitch account: prints the authorization URL with the scopes the bot
// needs, exchanges the code Twitch redirects back with (or takes a token pair for headless
// setups), validates the token and stores it sealed in platform_tokens with the same TokenVault
// waddle-twitchd reads (services/twitch/tokens.hpp). Settings come from the twitch section of
// the config (client_id, client_secret, auth_url, token_key_file, nick).
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "checks.hpp"
#include "error/error.hpp"
#include "nouns.hpp"
#include "twitch/helix.hpp"
#include "twitch/settings.hpp"
#include "twitch/tokens.hpp"

namespace waddle::cli {
namespace {

namespace asio = boost::asio;
using json = nlohmann::json;

constexpr const char* kDefaultRedirect = "http://localhost:3000";

twitch::Settings twitch_settings(Context& ctx) {
  const config::Schema schema = twitch::config_schema();
  config::LoadResult loaded;
  if (ctx.options.config_given || access(ctx.options.config_path.c_str(), R_OK) == 0) {
    loaded = config::load(schema, ctx.options.config_path);
  } else {
    loaded = config::load_string(schema, "", "the environment");  // WADDLE_TWITCH_* only
  }
  if (!loaded.errors.empty()) {
    throw Error(Errc::invalid_argument, loaded.errors.front().to_string());
  }
  return twitch::load_settings(*loaded.config);
}

void require_client(const twitch::Settings& s, bool secret, const Context& ctx) {
  if (s.client_id.empty()) {
    throw Error(Errc::invalid_argument, "twitch.client_id is not set in " +
                                            ctx.options.config_path +
                                            " (or WADDLE_TWITCH_CLIENT_ID)");
  }
  if (secret && s.client_secret.empty()) {
    throw Error(Errc::invalid_argument, "twitch.client_secret is not set in " +
                                            ctx.options.config_path +
                                            " (or twitch.client_secret_file)");
  }
}

twitch::TokenVault vault_of(const twitch::Settings& s, const Context& ctx) {
  if (s.token_key_file.empty()) {
    throw Error(Errc::invalid_argument,
                "twitch.token_key_file is not set in " + ctx.options.config_path +
                    " (make a key with `openssl rand -hex 32 > /etc/waddlebot/twitch-token.key`)");
  }
  return twitch::TokenVault(twitch::load_token_key(s.token_key_file, "twitch.token_key_file"));
}

twitch::HelixOptions helix_options(const twitch::Settings& s) {
  twitch::HelixOptions o;
  o.client_id = s.client_id;
  o.client_secret = s.client_secret;
  o.helix_url = s.helix_url;
  o.auth_url = s.auth_url;
  return o;
}

// Runs `body(oauth)` to completion on a private io_context.
template <class T, class Body>
T with_oauth(const twitch::Settings& s, Body body) {
  asio::io_context io;
  net::ClientOptions client;
  client.ca_file = s.api_ca_file;
  net::HttpClient http(io.get_executor(), client);
  twitch::OAuthClient oauth(http, helix_options(s));
  auto task = body(oauth);
  auto future = asio::co_spawn(io, std::move(task), asio::use_future);
  io.run();
  try {
    return future.get();
  } catch (const Error& e) {
    // Twitch refusing a code, token or client is bad input to this command (exit 2).
    if (e.code() == Errc::unauthenticated) throw Error(Errc::invalid_argument, e.what());
    throw;
  }
}

std::string rfc3339(std::chrono::system_clock::time_point at) {
  std::time_t t = std::chrono::system_clock::to_time_t(at);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

// Validates a fresh pair, then stores it under the token's own login.
json store_pair(Context& ctx, const twitch::Settings& s, twitch::OAuthToken token,
                const char* how) {
  auto vault = vault_of(s, ctx);
  auto info = with_oauth<std::optional<twitch::TokenInfo>>(
      s, [&](twitch::OAuthClient& oauth) { return oauth.validate(token.access_token); });
  if (!info && !token.refresh_token.empty()) {
    token = with_oauth<twitch::OAuthToken>(
        s, [&](twitch::OAuthClient& oauth) { return oauth.refresh(token.refresh_token); });
    info = with_oauth<std::optional<twitch::TokenInfo>>(
        s, [&](twitch::OAuthClient& oauth) { return oauth.validate(token.access_token); });
  }
  if (!info) throw Error(Errc::invalid_argument, "Twitch says the access token is not valid");
  if (info->login.empty()) {
    throw Error(Errc::invalid_argument,
                "that is an app access token; the bot needs a user token (waddle twitch auth url)");
  }
  if (info->client_id != s.client_id) {
    throw Error(Errc::invalid_argument, "the token belongs to client '" + info->client_id +
                                            "', not twitch.client_id '" + s.client_id + "'");
  }
  twitch::StoredToken stored;
  stored.account = info->login;
  stored.access_token = token.access_token;
  stored.refresh_token = token.refresh_token;
  stored.scopes = info->scopes;
  stored.user_id = info->user_id;
  if (info->expires_in > 0) {
    stored.expires_at = std::chrono::system_clock::now() + std::chrono::seconds(info->expires_in);
  }
  ctx.write(
      "twitch.auth", info->login,
      [&](pqxx::work& tx) {
        vault.store(tx, stored);
        return json::object();
      },
      json{{"how", how}, {"user_id", info->user_id}});
  json out = {{"account", info->login},
              {"user_id", info->user_id},
              {"scopes", info->scopes},
              {"missing_scopes", twitch::missing_scopes(info->scopes, twitch::kBotScopes)},
              {"refresh_token", !stored.refresh_token.empty()},
              {"expires_at", stored.expires_at ? json(rfc3339(*stored.expires_at)) : json()}};
  if (ctx.format() == Format::table) {
    ctx.out() << "stored the Twitch token of " << info->login << " (user id " << info->user_id
              << ")\n";
    if (!out["missing_scopes"].empty()) {
      ctx.err() << "waddle: warning: the token lacks " << cell(out["missing_scopes"])
                << "; those actions will fail\n";
    }
    if (stored.refresh_token.empty()) {
      ctx.err() << "waddle: warning: no refresh token: waddle-twitchd cannot renew it\n";
    }
  } else {
    print_object(ctx.out(), ctx.format(), out, "account");
  }
  if (!s.nick.empty() && s.nick != info->login) {
    ctx.err() << "waddle: warning: twitch.nick is '" << s.nick << "' but the token is "
              << info->login << "'s; waddle-twitchd reads the token of twitch.nick\n";
  }
  return out;
}

}  // namespace

void add_twitch_commands(CLI::App& app, Context& ctx) {
  auto* noun = app.add_subcommand("twitch", "Twitch: authorise the bot account (auth)");
  noun->require_subcommand(1);
  auto* auth =
      noun->add_subcommand("auth", "the bot's Twitch user token: url, code, tokens, status");
  auth->require_subcommand(1);

  {
    auto* url = auth->add_subcommand(
        "url", "print the URL that authorises the bot account with the scopes it needs");
    auto redirect = std::make_shared<std::string>(kDefaultRedirect);
    auto state = std::make_shared<std::string>();
    url->add_option("--redirect-uri", *redirect,
                    "an OAuth Redirect URL registered for the app at dev.twitch.tv/console")
        ->capture_default_str();
    url->add_option("--state", *state, "opaque value Twitch hands back with the code");
    url->callback([&ctx, redirect, state] {
      auto s = twitch_settings(ctx);
      require_client(s, false, ctx);
      if (!checks::is_http_url(*redirect)) {
        throw Error(Errc::invalid_argument,
                    "--redirect-uri: expected an http:// or https:// URL, got '" + *redirect + "'");
      }
      const std::string link =
          twitch::authorization_url(helix_options(s), *redirect, twitch::kBotScopes, *state);
      if (ctx.format() == Format::json) {
        ctx.out() << json{{"url", link}, {"scopes", twitch::kBotScopes}}.dump() << '\n';
      } else {
        ctx.out() << link << '\n';
      }
      if (ctx.format() == Format::table) {
        ctx.err() << "Open it logged in as the bot account; Twitch redirects to " << *redirect
                  << "?code=CODE&scope=...\nthen run: waddle twitch auth code CODE\n";
      }
    });
  }

  {
    auto* code = auth->add_subcommand(
        "code", "exchange the code from the redirect for tokens and store them (encrypted)");
    auto value = std::make_shared<std::string>();
    auto redirect = std::make_shared<std::string>(kDefaultRedirect);
    code->add_option("code", *value, "the code= parameter of the redirect")->required();
    code->add_option("--redirect-uri", *redirect, "the same redirect URI given to `auth url`")
        ->capture_default_str();
    code->callback([&ctx, value, redirect] {
      if (value->empty() || value->find_first_of(" \t\r\n&=?") != std::string::npos) {
        throw Error(Errc::invalid_argument,
                    "CODE: expected the code= value of the redirect URL, got '" + *value + "'");
      }
      auto s = twitch_settings(ctx);
      require_client(s, true, ctx);
      vault_of(s, ctx);  // a missing key fails before the single-use code is spent
      auto token = with_oauth<twitch::OAuthToken>(
          s, [&](twitch::OAuthClient& oauth) { return oauth.exchange_code(*value, *redirect); });
      store_pair(ctx, s, std::move(token), "code");
    });
  }

  {
    auto* tokens =
        auth->add_subcommand("tokens", "store a user token pair made elsewhere (headless setups)");
    auto access = std::make_shared<std::string>();
    auto refresh = std::make_shared<std::string>();
    tokens->add_option("--access", *access, "user access token (without oauth:)")->required();
    tokens->add_option("--refresh", *refresh, "its refresh token")->required();
    tokens->callback([&ctx, access, refresh] {
      for (auto [name, value] : {std::pair{"--access", access}, std::pair{"--refresh", refresh}}) {
        if (value->rfind("oauth:", 0) == 0) value->erase(0, 6);
        if (value->empty() || value->find_first_of(" \t\r\n") != std::string::npos) {
          throw Error(
              Errc::invalid_argument,
              std::string(name) + ": expected a token without spaces, got '" + *value + "'");
        }
      }
      auto s = twitch_settings(ctx);
      require_client(s, true, ctx);
      twitch::OAuthToken token;
      token.access_token = *access;
      token.refresh_token = *refresh;
      store_pair(ctx, s, std::move(token), "tokens");
    });
  }

  {
    auto* status = auth->add_subcommand(
        "status", "show the stored token (account, scopes, expiry); --validate asks Twitch");
    auto account = std::make_shared<std::string>();
    auto validate = std::make_shared<bool>(false);
    status->add_option("--account", *account, "the bot login (default: twitch.nick)");
    status->add_flag("--validate", *validate, "check the token with GET /oauth2/validate");
    status->callback([&ctx, account, validate] {
      auto s = twitch_settings(ctx);
      const std::string login = account->empty() ? s.nick : *account;
      if (login.empty()) {
        throw Error(Errc::invalid_argument, "no account: pass --account LOGIN or set twitch.nick");
      }
      auto vault = vault_of(s, ctx);
      json row = ctx.read([&](pqxx::work& tx) {
        auto token = vault.load(tx, login);
        if (!token) {
          throw Error(Errc::not_found, "no Twitch token stored for '" + login +
                                           "' (waddle twitch auth url, then auth code)");
        }
        auto meta = tx.exec_params1(
            "select updated_at::text from platform_tokens where platform = 'twitch' and "
            "account = $1",
            login);
        return json{{"account", login},
                    {"user_id", token->user_id},
                    {"scopes", token->scopes},
                    {"missing_scopes", twitch::missing_scopes(token->scopes, twitch::kBotScopes)},
                    {"refresh_token", !token->refresh_token.empty()},
                    {"expires_at", token->expires_at ? json(rfc3339(*token->expires_at)) : json()},
                    {"updated_at", meta[0].c_str()},
                    {"access_token", token->access_token}};
      });
      const std::string access_token = row["access_token"].get<std::string>();
      row.erase("access_token");
      if (*validate) {
        require_client(s, false, ctx);
        auto info = with_oauth<std::optional<twitch::TokenInfo>>(
            s, [&](twitch::OAuthClient& oauth) { return oauth.validate(access_token); });
        row["valid"] = info.has_value();
        if (info) row["expires_in"] = info->expires_in;
      }
      print_object(ctx.out(), ctx.format(), row, "account");
    });
  }
}

}  // namespace waddle::cli
