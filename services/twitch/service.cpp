#include "twitch/service.hpp"

#include <atomic>
#include <fstream>
#include <future>
#include <mutex>
#include <sstream>
#include <thread>

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "crypto/random.hpp"
#include "error/error.hpp"
#include "model/field_reader.hpp"
#include "net/http_client.hpp"
#include "net/http_server.hpp"
#include "twitch/bot_account.hpp"
#include "twitch/claims.hpp"
#include "twitch/eventsub.hpp"
#include "twitch/helix_chat.hpp"
#include "twitch/irc_client.hpp"
#include "twitch/limits.hpp"
#include "twitch/metrics.hpp"
#include "twitch/normalize.hpp"
#include "twitch/router_link.hpp"
#include "twitch/session.hpp"
#include "twitch/settings.hpp"
#include "twitch/subscriptions.hpp"

namespace waddle::twitch {
namespace asio = boost::asio;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

std::string read_file(const std::string& path, const char* key) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(Errc::invalid_argument, std::string(key) + ": cannot read '" + path + "'");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

json to_array(const std::set<std::string>& items) {
  json out = json::array();
  for (const auto& item : items) out.push_back(item);
  return out;
}

// Everything that touches the IRC client, the send queue or the duplicate guard runs on strand_:
// the IRC client's handlers, the send loop, the router calls (coroutines spawned on the strand
// resume on it) and the admin commands (which hop onto it). The HTTP handlers run on the
// server's own strands and only post work here. status() and stats() read atomics and a snapshot.
class TwitchService final : public daemon::Service {
 public:
  explicit TwitchService(daemon::Context& context)
      : io_(context.io()),
        strand_(asio::make_strand(io_)),
        settings_(load_settings(context.config())),
        queue_(settings_.send_limits, settings_.queue_per_channel, settings_.queue_total),
        send_timer_(strand_),
        heartbeat_timer_(strand_) {
    callback_token_ =
        settings_.callback_token.empty() ? crypto::random_token(32) : settings_.callback_token;
    if (!settings_.eventsub_secret.empty()) {
      try {
        eventsub_ =
            std::make_unique<EventSubHandler>(EventSubOptions{.secret = settings_.eventsub_secret});
      } catch (const Error& e) {
        throw Error(Errc::invalid_argument, std::string("twitch.eventsub_secret: ") + e.what());
      }
    }

    net::ClientOptions client_options;
    client_options.max_idle_per_host = 16;
    http_ = std::make_unique<net::HttpClient>(io_.get_executor(), client_options);
    RouterLinkOptions link;
    link.base_url = settings_.router_url;
    link.api_key = settings_.router_api_key;
    link.timeout = settings_.router_timeout;
    link.name = settings_.name;
    link.callback_url = callback_url_of(settings_);
    link.callback_token = callback_token_;
    link.version = daemon_info().version;
    router_ = std::make_unique<RouterLink>(*http_, std::move(link));

    account_ = make_bot_account();
    const std::string chat_token = account_->chat_token();
    if (!settings_.nick.empty() && !chat_token.empty() && !settings_.chat_over_eventsub) {
      IrcClientOptions options;
      options.host = settings_.irc_host;
      options.port = settings_.irc_port;
      options.tls = settings_.irc_tls;
      if (!settings_.irc_ca_file.empty()) {
        options.ca_pem = read_file(settings_.irc_ca_file, "twitch.irc_ca_file");
      }
      options.session.nick = settings_.nick;
      options.session.token = chat_token;
      irc_token_ = chat_token;
      options.session.join_limits = settings_.join_limits;
      try {
        irc_ = std::make_unique<IrcClient>(
            strand_, std::move(options), [this](const IrcMessage& m) { on_irc_message(m); },
            [this](IrcState s) { on_irc_state(s); });
      } catch (const Error& e) {
        throw Error(Errc::invalid_argument,
                    std::string("twitch.nick / twitch.oauth_token: ") + e.what());
      }
      nick_ = *normalize_login(settings_.nick);
      for (const auto& channel : settings_.channels) irc_->join(channel);
    }

    setup_eventsub_side(context.commands());

    net::ServerOptions server_options;
    server_options.address = settings_.listen_address;
    server_options.port = settings_.port;
    server_options.server_name = "waddle-twitchd";
    server_ = std::make_unique<net::HttpServer>(io_, make_routes(), server_options);
    register_commands(context.commands());
    if (settings_.claim_channels) {
      claims_ = std::make_unique<ChannelClaims>(
          strand_, *http_, claim_options(settings_),
          [this](const std::string& c) { join_claimed(c); },
          [this](const std::string& c) { part_claimed(c); });
    }
    add_claims_command(context.commands(), claims_.get());
    publish_status();
  }

  void start() override {
    port_ = server_->start();
    if (settings_.router_api_key.empty()) {
      spdlog::error(
          "twitch.router_api_key is not set: the router will refuse every event (make one with "
          "`waddle apikey create twitch --role collector`)");
    }
    asio::post(strand_, [this] {
      if (irc_) irc_->start();
    });
    account_->start();
    asio::co_spawn(strand_, send_loop(), asio::detached);
    asio::co_spawn(strand_, registration_loop(), asio::detached);
    if (claims_) claims_->start();
    spdlog::info("twitch: webhooks on {}:{}; IRC {}; EventSub {}; router {}",
                 settings_.listen_address, port_,
                 irc_ ? settings_.irc_host + ":" + std::to_string(settings_.irc_port) + " as " +
                            nick_ + " (" + std::to_string(settings_.channels.size()) + " channels)"
                      : std::string("off (twitch.nick or twitch.oauth_token not set)"),
                 eventsub_ ? "on" : "off (twitch.eventsub_secret not set)", settings_.router_url);
  }

  void reload(const config::Config& config) override {
    Settings next = load_settings(config);
    std::set<std::string> before(settings_.channels.begin(), settings_.channels.end());
    std::set<std::string> after(next.channels.begin(), next.channels.end());
    if (irc_) {
      asio::post(strand_, [this, before, after] {
        for (const auto& channel : after) {
          if (!before.count(channel)) irc_->join(channel);
        }
        for (const auto& channel : before) {
          if (!after.count(channel)) {
            irc_->part(channel);
            queue_.clear(channel);
          }
        }
        publish_status();
      });
    }
    spdlog::info(
        "twitch: configuration reloaded (channels applied; other keys take effect at the next "
        "restart)");
    settings_.channels = next.channels;
  }

  void stop(std::chrono::steady_clock::time_point deadline) override {
    stopping_ = true;
    if (claims_) claims_->stop(deadline - 3s);  // released first, while the router is reachable
    auto stopped = std::make_shared<std::promise<void>>();
    auto future = stopped->get_future();
    const auto drain = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now() - 2s);
    server_->stop(std::max<std::chrono::milliseconds>(drain, 100ms),
                  [stopped] { stopped->set_value(); });
    future.wait_until(deadline - 1500ms);
    // Router calls in flight may still bring chat to send: let them finish while there is time.
    while (in_flight_ > 0 && std::chrono::steady_clock::now() < deadline - 1s) {
      std::this_thread::sleep_for(20ms);
    }
    auto closed = std::make_shared<std::promise<void>>();
    auto done = closed->get_future();
    asio::post(strand_, [this, closed] {
      closed_ = true;
      if (queue_.size() > 0) {
        spdlog::warn("twitch: {} chat messages still queued at shutdown are dropped",
                     queue_.size());
      }
      if (irc_) irc_->stop();
      account_->stop();
      send_timer_.cancel();
      heartbeat_timer_.cancel();
      closed->set_value();
    });
    done.wait_until(deadline - 500ms);
  }

  json status() const override {
    json out;
    {
      std::lock_guard lock(snapshot_mutex_);
      out = snapshot_;
    }
    out["listen"] = settings_.listen_address + ":" + std::to_string(port_.load());
    out["send_queue"] = queue_length_.load();
    out["router"] = {{"url", settings_.router_url},
                     {"name", settings_.name},
                     {"callback_url", callback_url_of(settings_)},
                     {"registered", registered_.load()},
                     {"in_flight", in_flight_.load()}};
    out["eventsub"] = eventsub_ ? "on" : "off";
    out["channels_mode"] = claims_ ? "claim" : "static";
    add_status(out);
    out["twitch_api"] = account_->status();
    return out;
  }

  json stats() const override {
    return {{"irc_messages", irc_messages_.load()},
            {"events_posted", events_posted_.load()},
            {"events_failed", events_failed_.load()},
            {"events_dropped", events_dropped_.load()},
            {"router_duplicates", router_duplicates_.load()},
            {"chat_queued", chat_queued_.load()},
            {"chat_sent", chat_sent_.load()},
            {"chat_dropped", chat_dropped_.load()},
            {"block_actions", block_actions_.load()},
            {"eventsub_notifications", eventsub_notifications_.load()},
            {"eventsub_duplicates", eventsub_duplicates_.load()},
            {"eventsub_rejected", eventsub_rejected_.load()},
            {"eventsub_revocations", eventsub_revocations_.load()},
            {"callbacks", callbacks_.load()},
            {"callbacks_refused", callbacks_refused_.load()},
            {"heartbeats", heartbeats_.load()},
            {"send_queue", queue_length_.load()}};
  }

 private:
  // ---- IRC ----------------------------------------------------------------------------------

  void on_irc_message(const IrcMessage& message) {
    ++irc_messages_;
    last_irc_message_ = std::chrono::steady_clock::now().time_since_epoch().count();
    const std::string& command = message.command;
    if (command == "USERSTATE") {
      // The bot's badges in that channel: moderators, VIPs and the broadcaster get the 100 bucket.
      if (auto channel = normalize_login(message.param(0))) {
        const bool privileged =
            *channel == nick_ || is_privileged(roles_from_badges(message.tag_or_empty("badges")));
        queue_.set_privileged(*channel, privileged);
      }
      publish_status();
      return;
    }
    if (command == "JOIN" || command == "PART") {
      if (message.nick() == nick_) publish_status();
      return;
    }
    if (command == "NOTICE") {
      spdlog::info("twitch irc: NOTICE {} {}: {}", message.param(0), message.tag_or_empty("msg-id"),
                   message.param(1));
      return;
    }
    if (command != "PRIVMSG" && command != "USERNOTICE") return;
    if (auto event = normalize_irc_message(message)) forward(std::move(*event));
  }

  void on_irc_state(IrcState state) {
    spdlog::info("twitch irc: {}", irc_state_name(state));
    on_irc_login_state(state);
    publish_status();
    if (state == IrcState::ready) send_timer_.cancel();  // queued chat may go now
  }

  // ---- Helix and the bot's token ----------------------------------------------------------------

  std::unique_ptr<BotAccount> make_bot_account() {
    BotAccountOptions options;
    options.helix.client_id = settings_.client_id;
    options.helix.client_secret = settings_.client_secret;
    options.helix.helix_url = settings_.helix_url;
    options.helix.auth_url = settings_.auth_url;
    options.ca_file = settings_.api_ca_file;
    options.database_url = settings_.database_url;
    options.token_key_file = settings_.token_key_file;
    options.login =
        settings_.nick.empty() ? std::string() : normalize_login(settings_.nick).value_or("");
    options.fallback_token = settings_.oauth_token;
    options.validate_interval = settings_.token_validate_interval;
    return std::make_unique<BotAccount>(strand_, std::move(options));
  }

  // On the strand. A refused chat login gets one token refresh and one more try; a second
  // refusal (or no refresh token) leaves IRC in auth_failed, reported in status, with no retries.
  void on_irc_login_state(IrcState state) {
    if (state == IrcState::ready) {
      irc_refresh_tried_ = false;
      return;
    }
    if (state != IrcState::auth_failed || !irc_) return;
    if (irc_refresh_tried_) {
      spdlog::error("twitch irc: the refreshed token was refused too; not retrying (see status)");
      return;
    }
    irc_refresh_tried_ = true;
    account_->on_chat_login_refused(irc_token_, [this](std::optional<std::string> token) {
      if (token && irc_ && !closed_) {
        spdlog::info("twitch irc: logging in again with the refreshed token");
        irc_token_ = *token;
        irc_->set_token(*token);
      }
      publish_status();
    });
  }

  // On the strand: channels gained or lost through coordination claims (twitch.channels_mode).
  void join_claimed(const std::string& channel) {
    if (!irc_) return;
    irc_->join(channel);
    publish_status();
  }
  void part_claimed(const std::string& channel) {
    if (!irc_) return;
    irc_->part(channel);
    queue_.clear(channel);
    queue_length_ = queue_.size();
    publish_status();
  }

  // ---- the router -----------------------------------------------------------------------------

  // On the strand. Spawns the router call; the caller (an IRC read, an EventSub answer) never
  // waits for it.
  void forward(model::Event event) {
    if (claims_) claims_->observe(event);
    if (in_flight_ >= settings_.max_in_flight) {
      if (events_dropped_++ % 100 == 0) {
        spdlog::warn("twitch: {} router calls in flight; dropping event {} ({} dropped so far)",
                     in_flight_.load(), event.event_id, events_dropped_.load());
      }
      return;
    }
    ++in_flight_;
    asio::co_spawn(strand_, post_event(std::move(event)), asio::detached);
  }

  asio::awaitable<void> post_event(model::Event event) {
    try {
      RouterReply reply = co_await router_->post_event(event);
      ++events_posted_;
      if (reply.duplicate) {
        ++router_duplicates_;
      } else {
        if (reply.invalid_actions > 0) {
          spdlog::warn("twitch: {} actions of the router's reply to {} did not parse; skipped",
                       reply.invalid_actions, event.event_id);
        }
        apply_actions(event.channel_id, reply.actions, event.event_id);
      }
    } catch (const std::exception& e) {
      ++events_failed_;
      spdlog::warn("twitch: event {} ({}) did not reach the router: {}", event.event_id,
                   event.message_type, e.what());
    }
    --in_flight_;
  }

  // On the strand: chat actions go to the send queue, block actions are logged.
  void apply_actions(const std::string& channel, const std::vector<model::Action>& actions,
                     std::string_view origin) {
    for (const model::Action& action : actions) {
      if (const auto* chat = std::get_if<model::ChatAction>(&action)) {
        enqueue_chat(channel, *chat, origin);
      } else if (const auto* block = std::get_if<model::BlockAction>(&action)) {
        ++block_actions_;
        account_->block(channel, *block);
      } else if (const auto* whisper = std::get_if<model::WhisperAction>(&action)) {
        account_->whisper(*whisper);
      } else if (const auto* role = std::get_if<model::RoleAction>(&action)) {
        account_->role(channel, *role);
      }
      // media, ticker, general and form are the overlay's: the router publishes them.
    }
  }

  void enqueue_chat(const std::string& channel, const model::ChatAction& chat,
                    std::string_view origin) {
    if (!irc_ && !helix_chat_) {
      ++chat_dropped_;
      spdlog::warn("twitch: chat for #{} ({}) dropped: IRC chat is off", channel, origin);
      return;
    }
    const std::string reply_to = chat.reply_to.value_or("");
    for (std::string& part : split_message(chat.text)) {
      if (queue_.push({channel, std::move(part), reply_to})) {
        ++chat_queued_;
      } else {
        ++chat_dropped_;
        spdlog::warn("twitch: send queue full ({} waiting); chat for #{} ({}) dropped",
                     queue_.size(), channel, origin);
      }
    }
    queue_length_ = queue_.size();
    send_timer_.cancel();
  }

  // Releases queued chat exactly when SendQueue allows it, and only while logged in (a message
  // popped from the queue counts against the limit, so nothing is popped that cannot go out).
  asio::awaitable<void> send_loop() {
    while (!closed_) {
      const auto now = Clock::now();
      std::optional<Clock::time_point> when;
      if ((irc_ && irc_->state() == IrcState::ready) || helix_chat_) {
        when = queue_.next_ready(now);
      }
      if (when && *when <= now) {
        while (auto message = queue_.pop_ready(now)) send_now(*message, now);
        queue_length_ = queue_.size();
        continue;
      }
      send_timer_.expires_at(when ? *when : Clock::time_point::max());
      co_await send_timer_.async_wait(kUseTuple);
    }
  }

  void send_now(const OutgoingMessage& message, Clock::time_point now) {
    auto text = duplicates_.prepare(message.channel, message.text, now);
    if (!text) {
      ++chat_dropped_;
      spdlog::warn(
          "twitch: chat for #{} skipped: identical to a message sent within 30 s and "
          "too long to alter",
          message.channel);
      return;
    }
    if (helix_chat_) return send_over_helix(message, *text, now);
    std::string line;
    try {
      line = make_privmsg(message.channel, *text, message.reply_to);
    } catch (const std::exception& e) {
      ++chat_dropped_;
      spdlog::warn("twitch: chat for #{} dropped: {}", message.channel, e.what());
      return;
    }
    if (irc_->send_line(std::move(line))) {
      duplicates_.sent(message.channel, *text, now);
      ++chat_sent_;
    } else {
      ++chat_dropped_;
      spdlog::warn("twitch: chat for #{} dropped: the IRC connection went away", message.channel);
    }
  }

  // Registers at start and again whenever a heartbeat is answered 404 (the router restarted).
  asio::awaitable<void> registration_loop() {
    bool registered = false;
    bool warned = false;
    while (!closed_) {
      try {
        if (!registered) {
          co_await router_->register_collector();
          registered = true;
          spdlog::info("twitch: registered with the router as '{}' (callback {})", settings_.name,
                       callback_url_of(settings_));
        } else {
          const bool known = co_await router_->heartbeat();
          if (!known) {
            registered = false;
            registered_ = false;
            spdlog::info("twitch: the router does not know '{}' any more; registering again",
                         settings_.name);
            continue;
          }
          ++heartbeats_;
        }
        registered_ = true;
        warned = false;
      } catch (const std::exception& e) {
        if (!warned) spdlog::warn("twitch: router registration: {}", e.what());
        warned = true;
      }
      heartbeat_timer_.expires_after(
          registered ? settings_.heartbeat_interval
                     : std::min<std::chrono::milliseconds>(settings_.heartbeat_interval, 5s));
      co_await heartbeat_timer_.async_wait(kUseTuple);
    }
  }

  // ---- HTTP -----------------------------------------------------------------------------------

  net::Router make_routes() {
    net::Router routes;
    routes.add("GET", "/healthz", [](net::Request&) -> asio::awaitable<net::Response> {
      co_return net::json_response(200, {{"status", "ok"}, {"service", "waddle-twitchd"}});
    });
    routes.add("GET", "/metrics", [this](net::Request&) -> asio::awaitable<net::Response> {
      co_return net::text_response(
          200, prometheus_text(stats(), status(), std::chrono::system_clock::now()),
          kMetricsContentType);
    });
    routes.add(
        "POST", "/twitch/eventsub",
        [this](net::Request& request) -> asio::awaitable<net::Response> {
          co_return handle_eventsub(request);
        },
        net::RouteOptions{256 * 1024});
    routes.add(
        "POST", "/twitch/callback",
        [this](net::Request& request) -> asio::awaitable<net::Response> {
          co_return handle_callback(request);
        },
        net::RouteOptions{64 * 1024});
    return routes;
  }

  net::Response handle_eventsub(const net::Request& request) {
    if (!eventsub_) {
      return net::error_response(Errc::unavailable,
                                 "EventSub is not configured: set twitch.eventsub_secret");
    }
    EventSubOutcome outcome;
    {
      std::lock_guard lock(eventsub_mutex_);
      outcome = eventsub_->handle(request);
    }
    if (!outcome.rejected.empty()) {
      ++eventsub_rejected_;
      spdlog::warn("AUTH twitch eventsub from {} refused: {}", request.remote_address,
                   outcome.rejected);
      return outcome.response;
    }
    if (outcome.duplicate) {
      ++eventsub_duplicates_;
      return outcome.response;
    }
    if (outcome.revocation) {
      ++eventsub_revocations_;
      // Answered first; the subscriber marks it or subscribes again on the strand.
      asio::co_spawn(strand_, subscriber_->on_revocation(std::move(*outcome.revocation)),
                     asio::detached);
    }
    if (!outcome.events.empty()) {
      ++eventsub_notifications_;
      // The answer goes out now; the router calls run after it, detached on the strand.
      asio::post(strand_, [this, events = std::move(outcome.events)]() mutable {
        for (auto& event : events) {
          if (is_own_chat(event)) continue;
          forward(std::move(event));
        }
      });
    }
    return outcome.response;
  }

  net::Response handle_callback(const net::Request& request) {
    if (!bearer_matches(request.header("Authorization"), callback_token_)) {
      ++callbacks_refused_;
      spdlog::warn("AUTH twitch callback from {} refused: wrong or missing bearer token",
                   request.remote_address);
      auto response = net::error_response(Errc::unauthenticated,
                                          "Authorization: expected Bearer <the callback token>");
      response.headers.emplace_back("WWW-Authenticate", "Bearer");
      return response;
    }
    CallbackDelivery delivery;
    try {
      delivery = parse_callback(request.body);
    } catch (const model::FieldError& e) {
      return net::error_response(Errc::invalid_argument, e.what(), e.field());
    } catch (const Error& e) {
      return net::error_response(e.code(), e.what());
    }
    std::size_t chat = 0;
    for (const auto& action : delivery.actions) {
      chat += std::holds_alternative<model::ChatAction>(action) ? 1 : 0;
    }
    if (chat > 0 && !irc_ && !helix_chat_) {
      return net::error_response(Errc::unavailable,
                                 "IRC chat is off (twitch.nick / twitch.oauth_token not set)");
    }
    ++callbacks_;
    const std::string origin = "late answer " + delivery.session_id;
    asio::post(strand_, [this, delivery = std::move(delivery), origin] {
      apply_actions(delivery.channel, delivery.actions, origin);
    });
    return net::json_response(200, {{"accepted", true}, {"chat", chat}});
  }

  // ---- admin commands -------------------------------------------------------------------------

  // Runs `f` on the strand and returns its result to the calling coroutine.
  template <class F>
  asio::awaitable<json> on_strand(F f) {
    auto task = [](F fn) -> asio::awaitable<json> { co_return fn(); };
    auto op = task(std::move(f));
    co_return co_await asio::co_spawn(strand_, std::move(op), asio::use_awaitable);
  }

  static std::string channel_argument(const ctl::Call& call) {
    const json& arguments = call.arguments;
    auto it = arguments.find("channel");
    if (it == arguments.end() || !it->is_string()) {
      throw Error(Errc::invalid_argument,
                  "channel: expected a channel login, e.g. {\"channel\": "
                  "\"waddlebot\"}");
    }
    auto login = normalize_login(it->get<std::string>());
    if (!login) {
      throw Error(Errc::invalid_argument,
                  "channel: '" + it->get<std::string>() + "' is not a login ([a-z0-9_], 1-64)");
    }
    return *login;
  }

  void register_commands(ctl::Registry& commands) {
    commands.add("join", "join a channel's chat (arguments: {\"channel\": \"login\"})",
                 ctl::Access::write,
                 ctl::Handler([this](const ctl::Call& call) -> asio::awaitable<ctl::Reply> {
                   const std::string channel = channel_argument(call);
                   if (!irc_) co_return ctl::Reply::error(Errc::unavailable, kIrcOff);
                   auto join = [this, channel] {
                     irc_->join(channel);
                     publish_status();
                     return to_array(irc_->session().wanted());
                   };
                   json wanted = co_await on_strand(join);
                   co_return ctl::Reply::ok("joining #" + channel, {{"channels", wanted}});
                 }));
    commands.add("part", "leave a channel's chat (arguments: {\"channel\": \"login\"})",
                 ctl::Access::write,
                 ctl::Handler([this](const ctl::Call& call) -> asio::awaitable<ctl::Reply> {
                   const std::string channel = channel_argument(call);
                   if (!irc_) co_return ctl::Reply::error(Errc::unavailable, kIrcOff);
                   auto part = [this, channel] {
                     const bool was = irc_->session().wanted().count(channel) > 0;
                     irc_->part(channel);
                     const std::size_t dropped = queue_.clear(channel);
                     queue_length_ = queue_.size();
                     publish_status();
                     return json{{"was_wanted", was},
                                 {"dropped", dropped},
                                 {"channels", to_array(irc_->session().wanted())}};
                   };
                   json result = co_await on_strand(part);
                   if (!result["was_wanted"].get<bool>()) {
                     co_return ctl::Reply::empty("not in #" + channel, result);
                   }
                   co_return ctl::Reply::ok("left #" + channel, result);
                 }));
  }

  // ---- EventSub subscriptions and chat over Helix (twitch.chat_transport) ---------------------

  void setup_eventsub_side(ctl::Registry& commands) {
    SubscriberOptions options;
    options.callback_url = settings_.eventsub_callback_url;
    options.secret = settings_.eventsub_secret;
    options.bot_login = nick_.empty() ? normalize_login(settings_.nick).value_or("") : nick_;
    options.chat_over_eventsub = settings_.chat_over_eventsub;
    subscriber_ = std::make_unique<EventSubSubscriber>(account_->helix(), std::move(options));
    add_subscription_commands(commands, strand_, *subscriber_, [this] { return chat_channels(); });
    if (!settings_.chat_over_eventsub) return;
    auto login = normalize_login(settings_.nick);
    if (!login) {
      throw Error(Errc::invalid_argument, "twitch.nick: '" + settings_.nick + "' is not a login");
    }
    nick_ = *login;
    if (!account_->helix()) {
      throw Error(Errc::invalid_argument,
                  "twitch.chat_transport: eventsub needs Helix (twitch.client_id)");
    }
    helix_chat_ = std::make_unique<HelixChat>(strand_, *account_->helix(), nick_);
  }

  // channel.chat.message also delivers the bot's own messages (IRC does not echo them): the
  // router must not see them, or the bot would answer itself.
  bool is_own_chat(const model::Event& event) const {
    return settings_.chat_over_eventsub && !nick_.empty() && event.user.name == nick_ &&
           (event.message_type == "chatMessage" || event.message_type == "cheer");
  }

  // On the strand: the channels `subscribe` covers by default: joined (or wanted) over IRC, the
  // configured ones, the claimed ones.
  std::vector<std::string> chat_channels() const {
    std::set<std::string> out(settings_.channels.begin(), settings_.channels.end());
    if (irc_) {
      for (const auto& channel : irc_->session().wanted()) out.insert(channel);
    }
    if (claims_) {
      for (const auto& claim : claims_->snapshot()["claims"]) {
        if (claim.contains("channel") && claim["channel"].is_string()) {
          out.insert(claim["channel"].get<std::string>());
        }
      }
    }
    return {out.begin(), out.end()};
  }

  // On the strand: a message the limiter released goes out through Helix Send Chat Message.
  void send_over_helix(const OutgoingMessage& message, const std::string& text,
                       Clock::time_point now) {
    duplicates_.sent(message.channel, text, now);
    helix_chat_->send(message.channel, text, message.reply_to,
                      [this, channel = message.channel](const ChatOutcome& outcome) {
                        if (outcome.sent) {
                          ++chat_sent_;
                          return;
                        }
                        ++chat_dropped_;
                        spdlog::warn("twitch: chat for #{} not sent by Twitch: {}", channel,
                                     outcome.reason);
                      });
  }

  // status() additions: the chat transport, the last IRC line's age, the claims count and the
  // EventSub subscriptions.
  void add_status(json& out) const {
    out["chat_transport"] = settings_.chat_over_eventsub ? "eventsub" : "irc";
    if (settings_.chat_over_eventsub) {
      out["irc"] = {{"state", "off"}, {"reason", "twitch.chat_transport is eventsub"}};
    }
    const auto last = last_irc_message_.load();
    if (last != 0 && out.contains("irc") && out["irc"].is_object()) {
      const auto age = std::chrono::steady_clock::now().time_since_epoch() -
                       std::chrono::steady_clock::duration(last);
      out["irc"]["last_message_age_seconds"] =
          std::chrono::duration_cast<std::chrono::milliseconds>(age).count() / 1000.0;
    }
    if (claims_) out["claims"] = {{"held", claims_->snapshot()["held"]}};
    out["eventsub_subscriptions"] = subscriber_->snapshot();
  }

  // On the strand: what status() shows of the IRC side.
  void publish_status() {
    json irc;
    if (irc_) {
      const IrcSession& session = irc_->session();
      irc = {{"state", std::string(irc_state_name(irc_->state()))},
             {"server", settings_.irc_host + ":" + std::to_string(settings_.irc_port)},
             {"nick", nick_},
             {"connections", irc_->connections()},
             {"channels", to_array(session.wanted())},
             {"joined", to_array(session.joined())},
             {"joining", to_array(session.joining())}};
    } else {
      irc = {{"state", "off"}, {"reason", kIrcOff}};
    }
    std::lock_guard lock(snapshot_mutex_);
    snapshot_["irc"] = std::move(irc);
  }

  static constexpr const char* kIrcOff =
      "IRC chat is off (twitch.nick / twitch.oauth_token not set)";

  asio::io_context& io_;
  asio::strand<asio::io_context::executor_type> strand_;
  Settings settings_;
  std::string callback_token_;
  std::string nick_;
  std::unique_ptr<net::HttpClient> http_;
  std::unique_ptr<RouterLink> router_;
  std::unique_ptr<BotAccount> account_;
  bool irc_refresh_tried_ = false;  // on the strand: one token refresh per refused login streak
  std::string irc_token_;           // on the strand: the token IRC logs in with
  std::unique_ptr<IrcClient> irc_;
  std::unique_ptr<EventSubHandler> eventsub_;
  std::mutex eventsub_mutex_;
  SendQueue queue_;
  DuplicateGuard duplicates_;
  asio::steady_timer send_timer_;
  asio::steady_timer heartbeat_timer_;
  std::unique_ptr<net::HttpServer> server_;
  std::unique_ptr<ChannelClaims> claims_;  // twitch.channels_mode: claim
  std::unique_ptr<EventSubSubscriber> subscriber_;
  std::unique_ptr<HelixChat> helix_chat_;          // twitch.chat_transport: eventsub
  std::atomic<std::int64_t> last_irc_message_{0};  // steady_clock ticks; 0 = none yet

  mutable std::mutex snapshot_mutex_;
  json snapshot_ = json::object();
  std::atomic<std::uint16_t> port_{0};
  std::atomic<bool> stopping_{false};
  bool closed_ = false;  // on the strand: the loops end
  std::atomic<bool> registered_{false};
  std::atomic<std::size_t> in_flight_{0};
  std::atomic<std::size_t> queue_length_{0};
  std::atomic<std::uint64_t> irc_messages_{0}, events_posted_{0}, events_failed_{0},
      events_dropped_{0}, router_duplicates_{0}, chat_queued_{0}, chat_sent_{0}, chat_dropped_{0},
      block_actions_{0}, eventsub_notifications_{0}, eventsub_duplicates_{0}, eventsub_rejected_{0},
      eventsub_revocations_{0}, callbacks_{0}, callbacks_refused_{0}, heartbeats_{0};
};

}  // namespace

std::unique_ptr<daemon::Service> make_service(daemon::Context& context) {
  return std::make_unique<TwitchService>(context);
}

}  // namespace waddle::twitch
