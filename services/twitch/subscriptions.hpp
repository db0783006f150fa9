#pragma once
// EventSub webhook subscriptions: which ones a channel needs, creating the missing ones with the
// app token (the `subscribe` admin command), listing them (`subscriptions`) and acting on
// revocations: authorization_revoked / user_removed are marked and left alone (the broadcaster
// took the permission back; subscribing again would fail or go against their wish),
// notification_failures_exceeded / version_removed are created again once.
//
//   EventSubSubscriber subscriber(helix, {.callback_url =
//   "https://bot.example.com/twitch/eventsub",
//                                         .secret = secret, .bot_login = "waddlebot"});
//   json report = co_await subscriber.subscribe({"chan_a", "chan_b"});
//
// Use it on one strand (HelixClient is not thread-safe); snapshot() may be called from anywhere.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include "ctl/registry.hpp"
#include "twitch/eventsub.hpp"
#include "twitch/helix.hpp"

namespace waddle::twitch {

struct SubscriptionSpec {
  std::string type;
  std::string version;
  nlohmann::json condition = nlohmann::json::object();
};

// The subscriptions one channel needs: channel.follow v2 (moderator_user_id = the bot, or the
// broadcaster when bot_user_id is empty), channel.subscribe, channel.subscription.gift,
// channel.subscription.message, channel.cheer, channel.raid (to_broadcaster_user_id),
// stream.online, stream.offline, and channel.chat.message (user_id = the bot) when chat goes
// over EventSub.
std::vector<SubscriptionSpec> wanted_subscriptions(const std::string& broadcaster_id,
                                                   const std::string& bot_user_id,
                                                   bool chat_over_eventsub);

// Whether Twitch still delivers `existing` (enabled, or waiting for the callback verification).
bool delivers(const EventSubSubscription& existing);
// Same type and condition (keys the spec lacks must be empty in `existing`).
bool same_condition(const EventSubSubscription& existing, const SubscriptionSpec& spec);
// True when `existing` already delivers `spec` to `callback`: same type, version and condition
// (keys the spec lacks must be empty there) and a status that still delivers (enabled or waiting
// for the callback verification).
bool serves(const EventSubSubscription& existing, const SubscriptionSpec& spec,
            std::string_view callback);

enum class RevocationAction { mark, resubscribe };
// authorization_revoked, user_removed and anything unknown → mark; notification_failures_exceeded
// and version_removed → resubscribe.
RevocationAction revocation_action(std::string_view status);

struct SubscriberOptions {
  std::string callback_url;  // twitch.eventsub_callback_url: https on 443, Twitch's requirement
  std::string secret;        // twitch.eventsub_secret
  std::string bot_login;     // twitch.nick; empty: follow uses the broadcaster as moderator
  bool chat_over_eventsub = false;
  std::size_t max_revoked_kept = 100;  // revocations status remembers
};

class EventSubSubscriber {
 public:
  // `helix` may be null (twitch.client_id unset): every call then throws Error(unavailable).
  EventSubSubscriber(HelixClient* helix, SubscriberOptions options);

  // Creates the subscriptions `channels` (logins) lack, after listing the existing ones; ids come
  // from Get Users with the app token. Answers {"created": n, "existing": n, "failed": n,
  // "channels": {login: {"created": [types], "existing": [types], "failed": [{"type", "error"}]}}}.
  // Throws Error(invalid_argument) without a callback URL or secret, Error(unavailable) without
  // Helix; a failure of one subscription is reported in the answer, not thrown.
  boost::asio::awaitable<nlohmann::json> subscribe(std::vector<std::string> channels);

  // Every subscription of the app as Twitch lists it, plus the revocations marked here.
  boost::asio::awaitable<nlohmann::json> list();

  // A revocation from /twitch/eventsub: marked, or (once per type and condition, for the
  // daemon's lifetime) deleted and created again. Never throws; logs the outcome.
  boost::asio::awaitable<void> on_revocation(Revocation revocation);

  // {"callback_url", "chat_over_eventsub", "created", "existing", "failed", "resubscribed",
  //  "revoked": [{"id", "type", "version", "status", "condition", "action"}], "last_error"}.
  nlohmann::json snapshot() const;

 private:
  void require_ready() const;
  boost::asio::awaitable<void> delete_if_there(std::string id);
  boost::asio::awaitable<std::map<std::string, std::string>> user_ids(
      std::vector<std::string> logins);

  HelixClient* helix_;
  SubscriberOptions options_;
  std::map<std::string, std::size_t> resubscribed_keys_;  // type + condition → attempts

  mutable std::mutex mutex_;
  std::uint64_t created_ = 0, existing_ = 0, failed_ = 0, resubscribed_ = 0;
  nlohmann::json revoked_ = nlohmann::json::array();
  std::string last_error_;
};

// The admin commands `subscribe` (arguments {"channel": login} optional; default: the logins
// `default_channels` gives, called on the strand) and `subscriptions`. Both run on `strand`.
void add_subscription_commands(ctl::Registry& commands, boost::asio::any_io_executor strand,
                               EventSubSubscriber& subscriber,
                               std::function<std::vector<std::string>()> default_channels);

}  // namespace waddle::twitch
