#pragma once
// waddle-twitchd's configuration: the `twitch` section of waddle.yaml declared as data (the schema
// feeds validation, --print-default-config and waddle.yaml(5)), and the typed Settings the service
// reads once per (re)load.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "daemon/daemon.hpp"
#include "twitch/limits.hpp"

namespace waddle::twitch {

daemon::Info daemon_info();

// daemon::base_schema(daemon_info()) plus the collector's own keys.
config::Schema config_schema();

struct Settings {
  std::string listen_address = "127.0.0.1";  // webhooks: EventSub and the router's callback
  std::uint16_t port = 8002;
  std::string irc_host = "irc.chat.twitch.tv";
  std::uint16_t irc_port = 6697;
  bool irc_tls = true;
  std::string irc_ca_file;      // extra trusted CA (PEM) for the IRC server; empty: system store
  std::string nick;             // the bot account's login; empty (or no token): no IRC chat
  std::string oauth_token;      // user token with chat:read chat:edit, without "oauth:"
  std::string eventsub_secret;  // empty: /twitch/eventsub answers 503
  // The public https:// URL Twitch posts EventSub to (a reverse proxy in front of
  // /twitch/eventsub); empty: `subscribe` refuses.
  std::string eventsub_callback_url;
  bool chat_over_eventsub = false;    // twitch.chat_transport: eventsub (no IRC; Helix sends chat)
  std::vector<std::string> channels;  // logins, normalised
  std::string router_url = "http://127.0.0.1:8000";
  std::string router_api_key;
  std::string name = "twitch";  // the name this collector registers under
  std::string callback_url;     // empty: http://<listen>:<port>/twitch/callback
  std::string callback_token;   // empty: a random one made at start
  std::chrono::milliseconds heartbeat_interval{30000};
  std::chrono::milliseconds router_timeout{10000};
  std::size_t max_in_flight = 1000;  // router calls at once; more events are dropped and counted
  SendLimits send_limits{};
  JoinLimits join_limits{};
  std::size_t queue_per_channel = 100;
  std::size_t queue_total = 2000;
  // Coordination (docs/twitch.md "Several instances"): static = join `channels`; claim = take
  // channels from the router's coordination API, at most `capacity`, as instance `name`.
  bool claim_channels = false;
  std::size_t capacity = 50;
  std::chrono::milliseconds checkin_interval{300000};
  // Helix and OAuth (docs/twitch.md "Helix and tokens").
  std::string client_id;
  std::string client_secret;
  std::string helix_url = "https://api.twitch.tv/helix";
  std::string auth_url = "https://id.twitch.tv/oauth2";
  std::string api_ca_file;     // extra trusted CA (PEM) for Helix/OAuth; empty: system store
  std::string token_key_file;  // 32-byte key sealing platform_tokens; empty: no stored tokens
  std::chrono::milliseconds token_validate_interval{3600000};
  std::string database_url;  // database.url: where the user token is stored
};

// Reads the twitch section of an already validated config. Throws Error(invalid_argument) naming
// the key for values the schema cannot check (a channel that is not a login, a router_url that
// is not http(s)).
Settings load_settings(const config::Config& config);

// The URL the router posts late answers to: callback_url, or one built from listen and port
// (a wildcard listen address becomes 127.0.0.1).
std::string callback_url_of(const Settings& settings);

}  // namespace waddle::twitch
