#include "twitch/subscriptions.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "error/error.hpp"
#include "twitch/normalize.hpp"

namespace waddle::twitch {
namespace asio = boost::asio;
using json = nlohmann::json;

namespace {

bool is_empty_value(const json& value) {
  return value.is_null() || (value.is_string() && value.get<std::string>().empty());
}

std::string key_of(std::string_view type, const json& condition) {
  return std::string(type) + " " + condition.dump();
}

// A revocation carries every condition key, the unused ones empty; Twitch wants only the used.
json without_empty(const json& condition) {
  json out = json::object();
  if (!condition.is_object()) return out;
  for (const auto& [name, value] : condition.items()) {
    if (!is_empty_value(value)) out[name] = value;
  }
  return out;
}

}  // namespace

std::vector<SubscriptionSpec> wanted_subscriptions(const std::string& broadcaster_id,
                                                   const std::string& bot_user_id,
                                                   bool chat_over_eventsub) {
  const json broadcaster = {{"broadcaster_user_id", broadcaster_id}};
  std::vector<SubscriptionSpec> out;
  // Follows need a moderator's permission since v2: the bot's when it moderates the channel.
  out.push_back({"channel.follow",
                 "2",
                 {{"broadcaster_user_id", broadcaster_id},
                  {"moderator_user_id", bot_user_id.empty() ? broadcaster_id : bot_user_id}}});
  for (const char* type : {"channel.subscribe", "channel.subscription.gift",
                           "channel.subscription.message", "channel.cheer"}) {
    out.push_back({type, "1", broadcaster});
  }
  out.push_back({"channel.raid", "1", {{"to_broadcaster_user_id", broadcaster_id}}});
  out.push_back({"stream.online", "1", broadcaster});
  out.push_back({"stream.offline", "1", broadcaster});
  if (chat_over_eventsub) {
    out.push_back({"channel.chat.message",
                   "1",
                   {{"broadcaster_user_id", broadcaster_id}, {"user_id", bot_user_id}}});
  }
  return out;
}

bool delivers(const EventSubSubscription& existing) {
  return existing.status == "enabled" || existing.status == "webhook_callback_verification_pending";
}

bool same_condition(const EventSubSubscription& existing, const SubscriptionSpec& spec) {
  if (existing.type != spec.type || !existing.condition.is_object()) return false;
  for (const auto& [name, value] : spec.condition.items()) {
    auto it = existing.condition.find(name);
    if (it == existing.condition.end() || *it != value) return false;
  }
  for (const auto& [name, value] : existing.condition.items()) {
    if (!spec.condition.contains(name) && !is_empty_value(value)) return false;
  }
  return true;
}

bool serves(const EventSubSubscription& existing, const SubscriptionSpec& spec,
            std::string_view callback) {
  return existing.version == spec.version && existing.callback == callback && delivers(existing) &&
         same_condition(existing, spec);
}

RevocationAction revocation_action(std::string_view status) {
  if (status == "notification_failures_exceeded" || status == "version_removed") {
    return RevocationAction::resubscribe;
  }
  return RevocationAction::mark;
}

EventSubSubscriber::EventSubSubscriber(HelixClient* helix, SubscriberOptions options)
    : helix_(helix), options_(std::move(options)) {}

void EventSubSubscriber::require_ready() const {
  if (!helix_) {
    throw Error(Errc::unavailable,
                "EventSub subscriptions need the app token: set twitch.client_id and "
                "twitch.client_secret");
  }
  if (options_.callback_url.empty()) {
    throw Error(Errc::invalid_argument,
                "twitch.eventsub_callback_url is not set (the public https:// URL Twitch "
                "calls, ending in /twitch/eventsub)");
  }
  if (options_.secret.empty()) {
    throw Error(Errc::invalid_argument, "twitch.eventsub_secret is not set");
  }
}

asio::awaitable<void> EventSubSubscriber::delete_if_there(std::string id) {
  try {
    co_await helix_->delete_eventsub_subscription(std::move(id));
  } catch (const Error& e) {
    if (e.code() != Errc::not_found) throw;  // Twitch usually has removed it already
  }
}

asio::awaitable<std::map<std::string, std::string>> EventSubSubscriber::user_ids(
    std::vector<std::string> logins) {
  std::map<std::string, std::string> out;
  // Get Users takes up to 100 logins a call; the app token will do.
  for (std::size_t start = 0; start < logins.size(); start += 100) {
    QueryParams query;
    for (std::size_t i = start; i < std::min(logins.size(), start + 100); ++i) {
      query.emplace_back("login", logins[i]);
    }
    HelixResponse response = co_await helix_->call(TokenKind::app, "GET", "/users", query);
    for (const HelixUser& user : parse_users(response.body)) out[user.login] = user.id;
  }
  co_return out;
}

asio::awaitable<json> EventSubSubscriber::subscribe(std::vector<std::string> channels) {
  require_ready();
  std::vector<std::string> logins = channels;
  if (!options_.bot_login.empty()) logins.push_back(options_.bot_login);
  std::sort(logins.begin(), logins.end());
  logins.erase(std::unique(logins.begin(), logins.end()), logins.end());
  std::map<std::string, std::string> ids;
  std::vector<EventSubSubscription> existing;
  try {
    ids = co_await user_ids(logins);
    existing = co_await helix_->list_eventsub_subscriptions();
  } catch (const Error& e) {
    std::lock_guard lock(mutex_);
    last_error_ = e.what();
    throw;
  }
  std::string bot_id;
  if (!options_.bot_login.empty()) {
    auto it = ids.find(options_.bot_login);
    if (it != ids.end()) bot_id = it->second;
  }

  json report = {{"created", 0}, {"existing", 0}, {"failed", 0}, {"channels", json::object()}};
  std::uint64_t created = 0, found = 0, failed = 0;
  std::string last_error;
  for (const std::string& channel : channels) {
    json entry = {
        {"created", json::array()}, {"existing", json::array()}, {"failed", json::array()}};
    auto id = ids.find(channel);
    if (id == ids.end()) {
      ++failed;
      last_error = "no Twitch user '" + channel + "'";
      entry["failed"].push_back({{"type", "*"}, {"error", last_error}});
      report["channels"][channel] = std::move(entry);
      continue;
    }
    entry["broadcaster_id"] = id->second;
    for (SubscriptionSpec& spec :
         wanted_subscriptions(id->second, bot_id, options_.chat_over_eventsub)) {
      const bool have = std::any_of(existing.begin(), existing.end(), [&](const auto& s) {
        return serves(s, spec, options_.callback_url);
      });
      if (have) {
        ++found;
        entry["existing"].push_back(spec.type);
        continue;
      }
      if (spec.type == "channel.chat.message" && bot_id.empty()) {
        ++failed;
        last_error = "channel.chat.message needs the bot's user id: set twitch.nick";
        entry["failed"].push_back({{"type", spec.type}, {"error", last_error}});
        continue;
      }
      try {
        // One Twitch stopped delivering (failures, a revocation) blocks a new one with the same
        // condition until it is gone.
        for (auto it = existing.begin(); it != existing.end();) {
          if (same_condition(*it, spec) && it->callback == options_.callback_url &&
              !delivers(*it)) {
            co_await delete_if_there(it->id);
            it = existing.erase(it);
          } else {
            ++it;
          }
        }
        EventSubSubscription made = co_await helix_->create_eventsub_subscription(
            spec.type, spec.version, spec.condition, options_.callback_url, options_.secret);
        ++created;
        entry["created"].push_back(spec.type);
        existing.push_back(std::move(made));
      } catch (const Error& e) {
        ++failed;
        last_error = e.what();
        entry["failed"].push_back({{"type", spec.type}, {"error", e.what()}});
        spdlog::warn("twitch eventsub: {} for #{} not created: {}", spec.type, channel, e.what());
      }
    }
    report["channels"][channel] = std::move(entry);
  }
  report["created"] = created;
  report["existing"] = found;
  report["failed"] = failed;
  spdlog::info("twitch eventsub: subscribe for {} channels: {} created, {} existing, {} failed",
               channels.size(), created, found, failed);
  {
    std::lock_guard lock(mutex_);
    created_ += created;
    existing_ += found;
    failed_ += failed;
    if (!last_error.empty()) last_error_ = last_error;
  }
  co_return report;
}

asio::awaitable<json> EventSubSubscriber::list() {
  if (!helix_) require_ready();
  auto all = co_await helix_->list_eventsub_subscriptions();
  json items = json::array();
  for (const auto& s : all) {
    items.push_back({{"id", s.id},
                     {"type", s.type},
                     {"version", s.version},
                     {"status", s.status},
                     {"condition", s.condition},
                     {"callback", s.callback}});
  }
  json out = {{"subscriptions", items}, {"total", all.size()}};
  std::lock_guard lock(mutex_);
  out["revoked"] = revoked_;
  co_return out;
}

asio::awaitable<void> EventSubSubscriber::on_revocation(Revocation revocation) {
  const RevocationAction action = revocation_action(revocation.status);
  const std::string key = key_of(revocation.type, without_empty(revocation.condition));
  const bool retry = action == RevocationAction::resubscribe && helix_ &&
                     !options_.callback_url.empty() && resubscribed_keys_[key] == 0;
  {
    std::lock_guard lock(mutex_);
    revoked_.push_back({{"id", revocation.subscription_id},
                        {"type", revocation.type},
                        {"version", revocation.version},
                        {"status", revocation.status},
                        {"condition", revocation.condition},
                        {"action", retry ? "resubscribe" : "marked"}});
    while (revoked_.size() > options_.max_revoked_kept) revoked_.erase(revoked_.begin());
  }
  if (!retry) {
    spdlog::warn(
        "twitch eventsub: subscription {} ({} v{}, condition {}) revoked: {}; not subscribing "
        "again{}",
        revocation.subscription_id, revocation.type, revocation.version,
        revocation.condition.dump(), revocation.status,
        action == RevocationAction::resubscribe
            ? " (already tried once, or no Helix/callback)"
            : " (the broadcaster must authorize the app again)");
    co_return;
  }
  ++resubscribed_keys_[key];
  // version_removed: take the version this build asks for, which may be newer than the revoked
  // one; a type we do not know keeps its version.
  std::string version = revocation.version;
  for (const auto& spec : wanted_subscriptions("0", "0", true)) {
    if (spec.type == revocation.type) version = spec.version;
  }
  try {
    co_await delete_if_there(revocation.subscription_id);
    co_await helix_->create_eventsub_subscription(revocation.type, version,
                                                  without_empty(revocation.condition),
                                                  options_.callback_url, options_.secret);
    std::lock_guard lock(mutex_);
    ++resubscribed_;
    spdlog::info("twitch eventsub: {} ({}) revoked for {}; subscribed again", revocation.type,
                 revocation.condition.dump(), revocation.status);
  } catch (const std::exception& e) {
    std::lock_guard lock(mutex_);
    ++failed_;
    last_error_ = e.what();
    spdlog::error("twitch eventsub: subscribing again to {} ({}) failed: {}", revocation.type,
                  revocation.condition.dump(), e.what());
  }
}

json EventSubSubscriber::snapshot() const {
  std::lock_guard lock(mutex_);
  return {{"callback_url", options_.callback_url},
          {"chat_over_eventsub", options_.chat_over_eventsub},
          {"created", created_},
          {"existing", existing_},
          {"failed", failed_},
          {"resubscribed", resubscribed_},
          {"revoked", revoked_},
          {"last_error", last_error_}};
}

namespace {

// Free functions rather than capturing lambdas: a coroutine lambda's captures die with the
// temporary closure before the coroutine finishes.
asio::awaitable<json> run_subscribe(EventSubSubscriber* subscriber,
                                    std::vector<std::string> channels,
                                    std::function<std::vector<std::string>()> defaults) {
  if (channels.empty()) channels = defaults();
  if (channels.empty()) co_return json(nullptr);
  co_return co_await subscriber->subscribe(std::move(channels));
}

asio::awaitable<json> run_list(EventSubSubscriber* subscriber) {
  co_return co_await subscriber->list();
}

}  // namespace

void add_subscription_commands(ctl::Registry& commands, asio::any_io_executor strand,
                               EventSubSubscriber& subscriber,
                               std::function<std::vector<std::string>()> default_channels) {
  commands.add(
      "subscribe",
      "create the EventSub webhook subscriptions a channel lacks (arguments: {\"channel\": "
      "\"login\"}; default: every joined or claimed channel)",
      ctl::Access::write,
      ctl::Handler([strand, &subscriber,
                    default_channels](const ctl::Call& call) -> asio::awaitable<ctl::Reply> {
        std::vector<std::string> channels;
        if (auto it = call.arguments.find("channel"); it != call.arguments.end()) {
          auto login = it->is_string() ? normalize_login(it->get<std::string>()) : std::nullopt;
          if (!login) {
            throw Error(Errc::invalid_argument,
                        "channel: expected a channel login ([a-z0-9_], 1-64), got " + it->dump());
          }
          channels.push_back(*login);
        }
        auto task = run_subscribe(&subscriber, std::move(channels), default_channels);
        json report = co_await asio::co_spawn(strand, std::move(task), asio::use_awaitable);
        if (report.is_null()) {
          co_return ctl::Reply::empty(
              "no channels to subscribe (none joined or claimed; name one with "
              "{\"channel\": \"login\"})");
        }
        const std::string text =
            std::to_string(report["created"].get<std::uint64_t>()) + " created, " +
            std::to_string(report["existing"].get<std::uint64_t>()) + " already there, " +
            std::to_string(report["failed"].get<std::uint64_t>()) + " failed";
        if (report["failed"].get<std::uint64_t>() > 0) {
          ctl::Reply reply = ctl::Reply::error(Errc::unavailable, text);
          reply.arguments = std::move(report);
          co_return reply;
        }
        co_return ctl::Reply::ok(text, std::move(report));
      }));
  commands.add("subscriptions",
               "the app's EventSub subscriptions as Twitch lists them, and the revocations seen",
               ctl::Access::read,
               ctl::Handler([strand, &subscriber](const ctl::Call&) -> asio::awaitable<ctl::Reply> {
                 auto task = run_list(&subscriber);
                 json list = co_await asio::co_spawn(strand, std::move(task), asio::use_awaitable);
                 const std::string text =
                     std::to_string(list["total"].get<std::size_t>()) + " subscriptions";
                 co_return ctl::Reply::ok(text, std::move(list));
               }));
}

}  // namespace waddle::twitch
