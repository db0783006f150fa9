#pragma once
// EventSub over webhooks: the signature check over the exact received bytes, the 10-minute
// freshness window, a bounded set of seen message ids, the three message types and the
// notification payloads → normalised events. EventSubHandler turns one verified HTTP request
// into the response to send at once plus the work to do after it (events, a revocation), so the
// daemon answers Twitch before it calls the router.

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/event.hpp"
#include "net/http.hpp"

namespace waddle::twitch {

inline constexpr std::string_view kHeaderMessageId = "Twitch-Eventsub-Message-Id";
inline constexpr std::string_view kHeaderMessageTimestamp = "Twitch-Eventsub-Message-Timestamp";
inline constexpr std::string_view kHeaderMessageSignature = "Twitch-Eventsub-Message-Signature";
inline constexpr std::string_view kHeaderMessageType = "Twitch-Eventsub-Message-Type";
inline constexpr std::string_view kHeaderSubscriptionType = "Twitch-Eventsub-Subscription-Type";
inline constexpr std::string_view kHeaderSubscriptionVersion =
    "Twitch-Eventsub-Subscription-Version";

// "sha256=" + lowercase hex of HMAC-SHA256(secret, message_id ‖ timestamp ‖ body): what Twitch
// sends, for fakes and tests.
std::string eventsub_signature(std::string_view secret, std::string_view message_id,
                               std::string_view timestamp, std::string_view body);

// True when `signature` is exactly "sha256=" plus 64 hex digits and matches, compared in
// constant time. The timestamp is the header text verbatim and the body the raw received bytes.
bool verify_eventsub_signature(std::string_view secret, std::string_view message_id,
                               std::string_view timestamp, std::string_view body,
                               std::string_view signature) noexcept;

// A lenient RFC 3339 parse (0 to 9 fractional digits, Z or ±hh:mm) for the freshness check only;
// nullopt when it is not a date-time.
std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view text) noexcept;

// Message ids seen within `ttl`, at most `capacity` of them (the oldest go first when full).
class SeenMessageIds {
 public:
  using Clock = std::chrono::steady_clock;
  SeenMessageIds(std::size_t capacity, Clock::duration ttl) : capacity_(capacity), ttl_(ttl) {}

  // True when `id` was new (and is now remembered); false when seen within the ttl.
  bool insert(std::string_view id, Clock::time_point now);
  bool contains(std::string_view id, Clock::time_point now);
  std::size_t size() const { return order_.size(); }

 private:
  void expire(Clock::time_point now);

  std::size_t capacity_;
  Clock::duration ttl_;
  std::deque<std::pair<Clock::time_point, std::string>> order_;
  std::unordered_set<std::string> ids_;
};

struct EventSubOptions {
  std::string secret;  // transport.secret of the subscriptions, 10–100 ASCII characters
  std::chrono::seconds max_age{600};     // older timestamps are replays
  std::chrono::seconds max_future{600};  // clocks disagree a little, never by this much
  std::chrono::seconds seen_ttl{1200};   // longer than max_age, so a replay is caught either way
  std::size_t seen_capacity = 100000;
};

struct Revocation {
  std::string subscription_id;
  std::string type;
  std::string version;
  std::string status;  // user_removed, authorization_revoked, notification_failures_exceeded…
  nlohmann::json condition = nlohmann::json::object();
};

// What one request asks for: the response to send now, then events to post to the router and a
// revocation to act on.
struct EventSubOutcome {
  net::Response response;
  std::vector<model::Event> events;
  std::optional<Revocation> revocation;
  bool duplicate = false;
  std::string rejected;  // why the request was refused (empty when accepted), for the log
};

// notification payload → normalised events: channel.follow → follow; channel.subscribe →
// subscription; channel.subscription.gift → subgift (amount = total); channel.subscription.message
// → resub (amount = cumulative months); channel.cheer → cheer (amount = bits); channel.raid →
// raid in the raided channel (amount = viewers); stream.online / stream.offline →
// stream_online / stream_offline; channel.chat.message → chatMessage, or cheer when it carries
// bits. event_id is "twitch:eventsub:<message id>" (a redelivery keeps its id), except for chat
// messages: "twitch:<message_id>", the id IRC uses too. Unknown types or payloads missing the
// broadcaster give an empty vector.
std::vector<model::Event> normalize_eventsub(std::string_view subscription_type,
                                             const nlohmann::json& event,
                                             std::string_view message_id,
                                             std::string_view message_timestamp);

Revocation parse_revocation(const nlohmann::json& body);

class EventSubHandler {
 public:
  using SystemClock = std::function<std::chrono::system_clock::time_point()>;
  using SteadyClock = std::function<std::chrono::steady_clock::time_point()>;

  // Throws Error(invalid_argument) when the secret is not 10–100 ASCII characters.
  explicit EventSubHandler(EventSubOptions options, SystemClock system_now = {},
                           SteadyClock steady_now = {});

  // Signature (403 on failure), freshness (403), seen id (204, nothing to do), then by type:
  // webhook_callback_verification → 200 text/plain with the raw challenge; revocation → 204 and
  // the revocation; notification → 204 and its events. A body that is not the JSON Twitch sends
  // → 400. Never throws for anything in the request.
  EventSubOutcome handle(const net::Request& request);

  std::size_t seen_ids() const { return seen_.size(); }

 private:
  EventSubOptions options_;
  SystemClock system_now_;
  SteadyClock steady_now_;
  SeenMessageIds seen_;
};

}  // namespace waddle::twitch
