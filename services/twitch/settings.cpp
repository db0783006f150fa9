#include "twitch/settings.hpp"

#include "config/keys.hpp"
#include "error/error.hpp"
#include "twitch/normalize.hpp"

#ifndef WADDLE_VERSION
#define WADDLE_VERSION "0.0.0"
#endif

namespace waddle::twitch {
namespace {

constexpr const char* kSection = "twitch";

const config::KeyMaker key(kSection);

config::KeySpec secret(std::string name, std::string doc) {
  return key.secret(std::move(name), std::move(doc));
}

bool is_http_url(const std::string& url) {
  return url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0;
}

void add_helix_keys(config::Schema& schema) {
  using config::Type;
  schema.add(key("client_id", Type::string, "",
                 "the Twitch application's client ID (dev.twitch.tv/console); empty turns Helix "
                 "(block, whisper, role actions, token refresh) off"));
  schema.add(secret("client_secret", "the Twitch application's client secret"));
  schema.add(key("helix_url", Type::string, "https://api.twitch.tv/helix", "Helix API base URL"));
  schema.add(key("auth_url", Type::string, "https://id.twitch.tv/oauth2",
                 "Twitch OAuth base URL (token, validate, authorize)"));
  schema.add(key("api_ca_file", Type::string, "",
                 "extra CA certificates (PEM) trusted for helix_url and auth_url; empty = system "
                 "store"));
  schema.add(key("token_key_file", Type::string, "",
                 "file with the 32-byte key (64 hex digits or base64; `openssl rand -hex 32`) that "
                 "seals the bot's tokens in platform_tokens; empty = use oauth_token only"));
  schema.add(config::bounded(key("token_validate_interval", Type::duration, "1h",
                                 "how often the stored user token is checked with "
                                 "/oauth2/validate (Twitch asks for hourly)"),
                             60000, 86400000));
}

// Helix and OAuth settings, checked where the schema cannot.
void load_helix_settings(const config::Config& c, Settings& s) {
  auto opt = [&](const char* name) {
    return c.has(kSection, name) ? c.get_string(kSection, name) : std::string();
  };
  s.client_id = opt("client_id");
  s.client_secret = opt("client_secret");
  for (auto [name, field] :
       {std::pair{"helix_url", &s.helix_url}, std::pair{"auth_url", &s.auth_url}}) {
    *field = c.get_string(kSection, name);
    while (!field->empty() && field->back() == '/') field->pop_back();
    if (!is_http_url(*field)) {
      throw Error(Errc::invalid_argument, std::string("twitch.") + name +
                                              ": expected an http:// or https:// URL, got '" +
                                              *field + "'");
    }
  }
  s.api_ca_file = opt("api_ca_file");
  s.token_key_file = opt("token_key_file");
  s.token_validate_interval = c.get_duration(kSection, "token_validate_interval");
  s.database_url = c.has("database", "url") ? c.get_string("database", "url") : std::string();
  if (!s.client_id.empty() && s.client_secret.empty()) {
    throw Error(Errc::invalid_argument,
                "twitch.client_secret: required when twitch.client_id is set (or "
                "twitch.client_secret_file)");
  }
  if (!s.token_key_file.empty() && s.client_id.empty()) {
    throw Error(Errc::invalid_argument,
                "twitch.token_key_file: stored tokens need twitch.client_id and client_secret "
                "to be refreshed");
  }
}

void add_claim_keys(config::Schema& schema) {
  using config::Type;
  config::KeySpec mode =
      key("channels_mode", Type::enumeration, "static",
          "static = join twitch.channels; claim = take channels from the router's coordination "
          "API, shared with the other instances (twitch.channels must then be empty)");
  mode.choices = {"static", "claim"};
  schema.add(std::move(mode));
  schema.add(config::bounded(
      key("capacity", Type::integer, 50, "channels_mode claim: most channels this instance claims"),
      1, 100000));
  schema.add(
      config::bounded(key("checkin_interval", Type::duration, "5m",
                          "channels_mode claim: how often claims are renewed (keep it well "
                          "below router.claim_ttl) and more are claimed when below capacity"),
                      1000, 3600000));
}

void load_claim_settings(const config::Config& c, Settings& s) {
  s.claim_channels = c.get_string(kSection, "channels_mode") == "claim";
  s.capacity = static_cast<std::size_t>(c.get_int(kSection, "capacity"));
  s.checkin_interval = c.get_duration(kSection, "checkin_interval");
  if (s.claim_channels && !s.channels.empty()) {
    throw Error(Errc::invalid_argument,
                "twitch.channels: must be empty with twitch.channels_mode: claim (the channels "
                "come from the router's coordination table; `waddle coordination populate`)");
  }
}

void add_eventsub_keys(config::Schema& schema) {
  using config::Type;
  schema.add(key("eventsub_callback_url", Type::string, "",
                 "the public https:// URL (port 443) Twitch posts EventSub notifications to, e.g. "
                 "https://bot.example.com/twitch/eventsub behind a reverse proxy that forwards to "
                 "this daemon's /twitch/eventsub; needed by the `subscribe` admin command"));
  config::KeySpec transport =
      key("chat_transport", Type::enumeration, "irc",
          "irc = read and send chat over IRC (at most 100 joined channels per account); "
          "eventsub = read chat from channel.chat.message notifications and send it with Helix "
          "Send Chat Message (needs client_id, client_secret, nick, a user token and the "
          "EventSub callback)");
  transport.choices = {"irc", "eventsub"};
  schema.add(std::move(transport));
}

void load_eventsub_settings(const config::Config& c, Settings& s) {
  s.eventsub_callback_url = c.get_string(kSection, "eventsub_callback_url");
  if (!s.eventsub_callback_url.empty() && s.eventsub_callback_url.rfind("https://", 0) != 0) {
    throw Error(Errc::invalid_argument,
                "twitch.eventsub_callback_url: Twitch calls only https:// URLs on port 443, got '" +
                    s.eventsub_callback_url + "'");
  }
  s.chat_over_eventsub = c.get_string(kSection, "chat_transport") == "eventsub";
  if (s.chat_over_eventsub && (s.client_id.empty() || s.nick.empty())) {
    throw Error(Errc::invalid_argument,
                "twitch.chat_transport: eventsub sends chat through Helix as the bot: set "
                "twitch.client_id, twitch.client_secret and twitch.nick");
  }
  if (s.chat_over_eventsub && s.eventsub_secret.empty()) {
    throw Error(Errc::invalid_argument,
                "twitch.chat_transport: eventsub reads chat from EventSub notifications: set "
                "twitch.eventsub_secret");
  }
}

}  // namespace

daemon::Info daemon_info() {
  return {"twitch", "waddle-twitchd", WADDLE_VERSION,
          "the WaddleBot Twitch collector: IRC chat, EventSub webhooks, late answers"};
}

config::Schema config_schema() {
  using config::Type;
  config::Schema schema = daemon::base_schema(daemon_info());
  schema.add(key("listen", Type::string, "127.0.0.1",
                 "address the webhook server (EventSub, router callback) listens on"));
  schema.add(config::bounded(key("port", Type::integer, 8002, "webhook server port"), 1, 65535));
  schema.add(key("irc_host", Type::string, "irc.chat.twitch.tv", "Twitch chat (IRC) server"));
  schema.add(
      config::bounded(key("irc_port", Type::integer, 6697, "Twitch chat (IRC) port"), 1, 65535));
  schema.add(key("irc_tls", Type::boolean, true, "speak TLS to the IRC server"));
  schema.add(key("irc_ca_file", Type::string, "",
                 "extra CA certificates (PEM) trusted for the IRC server; empty = system store"));
  schema.add(key("nick", Type::string, "",
                 "the bot account's login; empty (or no oauth_token) turns IRC chat off"));
  schema.add(secret("oauth_token",
                    "the bot account's user access token (scopes chat:read chat:edit), with or "
                    "without the oauth: prefix"));
  schema.add(secret("eventsub_secret",
                    "the EventSub subscriptions' transport secret (10-100 ASCII characters); "
                    "unset: /twitch/eventsub answers 503"));
  schema.add(key("channels", Type::string_list, nlohmann::json::array(),
                 "channel logins to join at start (admin commands join/part change it live)"));
  schema.add(key("router_url", Type::string, "http://127.0.0.1:8000", "waddle-routerd's base URL"));
  schema.add(secret("router_api_key",
                    "API key with role collector (waddle apikey create NAME --role collector)"));
  schema.add(config::bounded(key("name", Type::string, "twitch",
                                 "the name this collector registers with the router under"),
                             1, 128));
  schema.add(key("callback_url", Type::string, "",
                 "URL the router posts late answers to; empty = "
                 "http://<listen>:<port>/twitch/callback"));
  schema.add(secret("callback_token",
                    "bearer token the router must send to /twitch/callback; unset = a random "
                    "one made at start and given to the router when registering"));
  schema.add(config::bounded(key("heartbeat_interval", Type::duration, "30s",
                                 "how often the collector tells the router it is alive"),
                             1000, 3600000));
  schema.add(config::bounded(key("router_timeout", Type::duration, "10s",
                                 "deadline of one call to the router (events, registration)"),
                             100, 120000));
  schema.add(config::bounded(key("max_in_flight", Type::integer, 1000,
                                 "router calls at once; events beyond it are dropped and counted"),
                             1, 100000));
  schema.add(config::bounded(key("send_limit", Type::integer, 20,
                                 "chat messages per send_window where the bot is not a moderator"),
                             1, 10000));
  schema.add(config::bounded(key("send_limit_privileged", Type::integer, 100,
                                 "chat messages per send_window where the bot is moderator, VIP or "
                                 "broadcaster"),
                             1, 10000));
  schema.add(config::bounded(
      key("send_window", Type::duration, "30s", "the chat send limits' window"), 1000, 3600000));
  schema.add(
      config::bounded(key("channel_interval", Type::duration, "1s",
                          "least time between two messages in a channel where the bot is not "
                          "privileged"),
                      0, 60000));
  schema.add(config::bounded(key("send_margin", Type::duration, "500ms",
                                 "added to send_window and channel_interval, for network jitter"),
                             0, 10000));
  schema.add(config::bounded(
      key("join_limit", Type::integer, 20, "JOINs per join_window (20; 2000 for verified bots)"), 1,
      100000));
  schema.add(config::bounded(key("join_window", Type::duration, "10s", "the JOIN limit's window"),
                             1000, 3600000));
  schema.add(config::bounded(
      key("queue_per_channel", Type::integer, 100,
          "chat messages waiting per channel at most; more are dropped and counted"),
      1, 100000));
  schema.add(
      config::bounded(key("queue_total", Type::integer, 2000,
                          "chat messages waiting in all at most; more are dropped and counted"),
                      1, 1000000));
  add_claim_keys(schema);
  add_helix_keys(schema);
  add_eventsub_keys(schema);
  return schema;
}

Settings load_settings(const config::Config& c) {
  Settings s;
  auto str = [&](const char* name) { return c.get_string(kSection, name); };
  auto opt = [&](const char* name) { return c.has(kSection, name) ? str(name) : std::string(); };
  auto size = [&](const char* name) { return static_cast<std::size_t>(c.get_int(kSection, name)); };
  auto port = [&](const char* name) {
    return static_cast<std::uint16_t>(c.get_int(kSection, name));
  };
  auto duration = [&](const char* name) { return c.get_duration(kSection, name); };
  s.listen_address = str("listen");
  s.port = port("port");
  s.irc_host = str("irc_host");
  s.irc_port = port("irc_port");
  s.irc_tls = c.get_bool(kSection, "irc_tls");
  s.irc_ca_file = str("irc_ca_file");
  s.nick = str("nick");
  s.oauth_token = opt("oauth_token");
  if (s.oauth_token.rfind("oauth:", 0) == 0) s.oauth_token.erase(0, 6);
  s.eventsub_secret = opt("eventsub_secret");
  for (const std::string& channel : c.get_list(kSection, "channels")) {
    auto login = normalize_login(channel);
    if (!login) {
      throw Error(Errc::invalid_argument,
                  "twitch.channels: '" + channel + "' is not a channel login ([a-z0-9_], 1-64)");
    }
    s.channels.push_back(*login);
  }
  s.router_url = str("router_url");
  while (!s.router_url.empty() && s.router_url.back() == '/') s.router_url.pop_back();
  if (!is_http_url(s.router_url)) {
    throw Error(
        Errc::invalid_argument,
        "twitch.router_url: expected an http:// or https:// URL, got '" + s.router_url + "'");
  }
  s.router_api_key = opt("router_api_key");
  s.name = str("name");
  s.callback_url = str("callback_url");
  if (!s.callback_url.empty() && !is_http_url(s.callback_url)) {
    throw Error(
        Errc::invalid_argument,
        "twitch.callback_url: expected an http:// or https:// URL, got '" + s.callback_url + "'");
  }
  s.callback_token = opt("callback_token");
  s.heartbeat_interval = duration("heartbeat_interval");
  s.router_timeout = duration("router_timeout");
  s.max_in_flight = size("max_in_flight");
  s.send_limits.account_limit = size("send_limit");
  s.send_limits.privileged_limit = size("send_limit_privileged");
  s.send_limits.window = duration("send_window");
  s.send_limits.channel_interval = duration("channel_interval");
  s.send_limits.margin = duration("send_margin");
  s.join_limits.limit = size("join_limit");
  s.join_limits.window = duration("join_window");
  s.join_limits.margin = s.send_limits.margin;
  s.queue_per_channel = size("queue_per_channel");
  s.queue_total = size("queue_total");
  load_claim_settings(c, s);
  load_helix_settings(c, s);
  load_eventsub_settings(c, s);
  return s;
}

std::string callback_url_of(const Settings& settings) {
  if (!settings.callback_url.empty()) return settings.callback_url;
  std::string host = settings.listen_address;
  if (host.empty() || host == "0.0.0.0" || host == "::") host = "127.0.0.1";
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return "http://" + host + ":" + std::to_string(settings.port) + "/twitch/callback";
}

}  // namespace waddle::twitch
