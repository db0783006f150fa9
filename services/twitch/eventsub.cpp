#include "twitch/eventsub.hpp"

#include <algorithm>
#include <cctype>
#include <limits>

#include "crypto/hash.hpp"
#include "error/error.hpp"
#include "twitch/normalize.hpp"
#include "twitch/text.hpp"

namespace waddle::twitch {
namespace {

constexpr std::string_view kSignaturePrefix = "sha256=";
constexpr std::string_view kAnonymousId = "anonymous";

// A string member, or "" when absent, null or not a string: Twitch sends null for anonymous
// users, and a payload we do not expect must not throw.
std::string str(const nlohmann::json& object, std::string_view key) {
  if (!object.is_object()) return {};
  auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

const nlohmann::json& member(const nlohmann::json& object, std::string_view key) {
  static const nlohmann::json kNull;
  if (!object.is_object()) return kNull;
  auto it = object.find(key);
  return it == object.end() ? kNull : *it;
}

// A non-negative integer member (a number or a numeric string); 0 otherwise.
std::int64_t amount(const nlohmann::json& object, std::string_view key) {
  const nlohmann::json& value = member(object, key);
  if (value.is_number_unsigned()) {
    auto v = value.get<std::uint64_t>();
    return v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())
               ? std::numeric_limits<std::int64_t>::max()
               : static_cast<std::int64_t>(v);
  }
  if (value.is_number_integer()) return std::max<std::int64_t>(0, value.get<std::int64_t>());
  if (value.is_number_float()) {
    double v = value.get<double>();
    return v > 0 && v < 9e18 ? static_cast<std::int64_t>(v) : 0;
  }
  if (value.is_string()) {
    const std::string& s = value.get_ref<const std::string&>();
    bool digits_only = std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (s.empty() || s.size() > 18 || !digits_only) return 0;
    return std::stoll(s);
  }
  return 0;
}

bool is_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  });
}

int digits(std::string_view s, std::size_t pos, std::size_t count) noexcept {
  if (pos + count > s.size()) return -1;
  int value = 0;
  for (std::size_t i = pos; i < pos + count; ++i) {
    if (s[i] < '0' || s[i] > '9') return -1;
    value = value * 10 + (s[i] - '0');
  }
  return value;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
std::int64_t days_from_civil(int y, int m, int d) noexcept {
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const int yoe = y - era * 400;
  const int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return static_cast<std::int64_t>(era) * 146097 + doe - 719468;
}

// The event's base: channel from `broadcaster_prefix`_user_login, user from `user_prefix`_user_*
// (the anonymous user when those are null).
std::optional<model::Event> base_event(const nlohmann::json& event, std::string_view message_type,
                                       std::string_view channel_prefix,
                                       std::string_view user_prefix, std::string_view message_id,
                                       std::string_view timestamp) {
  std::string prefix(channel_prefix);
  auto channel = normalize_login(str(event, prefix + "_user_login"));
  if (!channel) return std::nullopt;
  model::Event out;
  out.platform = std::string(kPlatform);
  out.server_id = std::string(kServerId);
  out.channel_id = *channel;
  out.entity_id = model::make_entity_id(kPlatform, kServerId, *channel);
  out.message_type = std::string(message_type);
  out.event_id = "twitch:eventsub:" + std::string(message_id);
  out.timestamp = std::string(timestamp);

  std::string user(user_prefix);
  std::string user_id = str(event, user + "_id");
  if (user_id.empty()) {
    out.user.id = std::string(kAnonymousId);
    out.user.name = std::string(kAnonymousId);
    out.metadata["anonymous"] = true;
  } else {
    out.user.id = user_id;
    out.user.name = str(event, user + "_login");
    out.user.display_name = str(event, user + "_name");
  }
  if (std::string id = str(event, prefix + "_user_id"); !id.empty()) {
    out.metadata["broadcaster_user_id"] = id;
  }
  return out;
}

void copy_strings(const nlohmann::json& event, nlohmann::json& meta,
                  std::initializer_list<std::string_view> keys) {
  for (std::string_view key : keys) {
    const nlohmann::json& value = member(event, key);
    if (value.is_string() || value.is_number() || value.is_boolean())
      meta[std::string(key)] = value;
  }
}

// channel.chat.message: roles from the badges array, emotes from the fragments (indices in code
// points, as IRC gives them), the reply, and cheers as cheer events.
std::optional<model::Event> chat_message(const nlohmann::json& event, std::string_view timestamp) {
  std::string message_id = str(event, "message_id");
  const nlohmann::json& cheer = member(event, "cheer");
  std::int64_t bits = amount(cheer, "bits");
  auto out = base_event(event, bits > 0 ? "cheer" : "chatMessage", "broadcaster", "chatter_user",
                        message_id, timestamp);
  if (!out || message_id.empty() || str(event, "chatter_user_id").empty()) return std::nullopt;
  out->event_id = "twitch:" + message_id;
  out->amount = bits;
  const nlohmann::json& message = member(event, "message");
  out->message = str(message, "text");

  std::string badge_list;
  nlohmann::json badges = nlohmann::json::object();
  for (const auto& badge :
       member(event, "badges").is_array() ? member(event, "badges") : nlohmann::json::array()) {
    std::string set = str(badge, "set_id");
    if (set.empty()) continue;
    badges[set] = str(badge, "id");
    if (!badge_list.empty()) badge_list += ',';
    badge_list += set + "/" + str(badge, "id");
  }
  out->user.roles = roles_from_badges(badge_list);

  nlohmann::json& meta = out->metadata;
  meta["message_id"] = message_id;
  if (!badges.empty()) meta["badges"] = std::move(badges);
  if (std::string color = str(event, "color"); !color.empty()) meta["color"] = color;
  if (std::string type = str(event, "message_type"); !type.empty())
    meta["chat_message_type"] = type;
  if (std::string reward = str(event, "channel_points_custom_reward_id"); !reward.empty()) {
    meta["custom_reward_id"] = reward;
  }
  const nlohmann::json& reply = member(event, "reply");
  if (reply.is_object()) {
    nlohmann::json r = nlohmann::json::object();
    static constexpr std::pair<std::string_view, std::string_view> kReply[] = {
        {"parent_message_id", "parent_msg_id"},
        {"parent_user_id", "parent_user_id"},
        {"parent_user_login", "parent_user_login"},
        {"parent_user_name", "parent_display_name"},
        {"parent_message_body", "parent_msg_body"},
        {"thread_message_id", "thread_parent_msg_id"},
        {"thread_user_login", "thread_parent_user_login"},
    };
    for (auto [from, to] : kReply) {
      if (std::string value = str(reply, from); !value.empty()) r[std::string(to)] = value;
    }
    if (!r.empty()) meta["reply"] = std::move(r);
  }
  nlohmann::json emotes = nlohmann::json::array();
  std::size_t position = 0;
  const nlohmann::json& fragments = member(message, "fragments");
  for (const auto& fragment : fragments.is_array() ? fragments : nlohmann::json::array()) {
    std::string text = sanitize_utf8(str(fragment, "text"));
    std::size_t length = code_point_offsets(text).size() - 1;
    const nlohmann::json& emote = member(fragment, "emote");
    if (str(fragment, "type") == "emote" && emote.is_object() && length > 0) {
      emotes.push_back({{"id", str(emote, "id")},
                        {"start", position},
                        {"end", position + length - 1},
                        {"code", text}});
    }
    position += length;
  }
  if (!emotes.empty()) meta["emotes"] = std::move(emotes);
  return out;
}

}  // namespace

std::string eventsub_signature(std::string_view secret, std::string_view message_id,
                               std::string_view timestamp, std::string_view body) {
  std::string message;
  message.reserve(message_id.size() + timestamp.size() + body.size());
  message.append(message_id).append(timestamp).append(body);
  return std::string(kSignaturePrefix) + crypto::hmac_sha256_hex(secret, message);
}

bool verify_eventsub_signature(std::string_view secret, std::string_view message_id,
                               std::string_view timestamp, std::string_view body,
                               std::string_view signature) noexcept {
  if (signature.size() != kSignaturePrefix.size() + 64) return false;
  if (signature.substr(0, kSignaturePrefix.size()) != kSignaturePrefix) return false;
  std::string given(signature.substr(kSignaturePrefix.size()));
  if (!is_hex(given)) return false;
  std::transform(given.begin(), given.end(), given.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  try {
    std::string expected = eventsub_signature(secret, message_id, timestamp, body);
    return crypto::constant_time_equal(expected.substr(kSignaturePrefix.size()), given);
  } catch (...) {
    return false;  // OpenSSL failing to compute a MAC is not a valid signature
  }
}

std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view s) noexcept {
  if (s.size() < 20 || s.size() > 40) return std::nullopt;
  int year = digits(s, 0, 4), month = digits(s, 5, 2), day = digits(s, 8, 2);
  int hour = digits(s, 11, 2), minute = digits(s, 14, 2), second = digits(s, 17, 2);
  if (s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' ||
      s[16] != ':' || year < 0 || month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 ||
      hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 60) {
    return std::nullopt;
  }
  std::size_t pos = 19;
  std::int64_t nanos = 0;
  if (s[pos] == '.') {
    std::size_t start = ++pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (pos - start < 9) nanos = nanos * 10 + (s[pos] - '0');
      ++pos;
    }
    if (pos == start) return std::nullopt;
    for (std::size_t n = pos - start; n < 9; ++n) nanos *= 10;
  }
  if (pos >= s.size()) return std::nullopt;
  std::int64_t offset = 0;
  if (s[pos] == 'Z' || s[pos] == 'z') {
    if (pos + 1 != s.size()) return std::nullopt;
  } else if (s[pos] == '+' || s[pos] == '-') {
    if (pos + 6 != s.size() || s[pos + 3] != ':') return std::nullopt;
    int oh = digits(s, pos + 1, 2), om = digits(s, pos + 4, 2);
    if (oh < 0 || oh > 23 || om < 0 || om > 59) return std::nullopt;
    offset = (oh * 60 + om) * 60 * (s[pos] == '+' ? 1 : -1);
  } else {
    return std::nullopt;
  }
  std::int64_t seconds =
      days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset;
  auto since_epoch = std::chrono::seconds(seconds) + std::chrono::nanoseconds(nanos);
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(since_epoch));
}

void SeenMessageIds::expire(Clock::time_point now) {
  while (!order_.empty() && (now - order_.front().first >= ttl_ || order_.size() > capacity_)) {
    ids_.erase(order_.front().second);
    order_.pop_front();
  }
}

bool SeenMessageIds::contains(std::string_view id, Clock::time_point now) {
  expire(now);
  return ids_.count(std::string(id)) > 0;
}

bool SeenMessageIds::insert(std::string_view id, Clock::time_point now) {
  expire(now);
  std::string key(id);
  if (ids_.count(key) > 0) return false;
  if (capacity_ == 0) return true;
  if (order_.size() == capacity_) {
    ids_.erase(order_.front().second);
    order_.pop_front();
  }
  ids_.insert(key);
  order_.emplace_back(now, std::move(key));
  return true;
}

std::vector<model::Event> normalize_eventsub(std::string_view type, const nlohmann::json& event,
                                             std::string_view message_id,
                                             std::string_view message_timestamp) {
  std::string timestamp =
      model::is_rfc3339(message_timestamp) ? std::string(message_timestamp) : model::now_rfc3339();
  std::optional<model::Event> out;
  if (type == "channel.follow") {
    out = base_event(event, "follow", "broadcaster", "user", message_id, timestamp);
    if (out) copy_strings(event, out->metadata, {"followed_at"});
  } else if (type == "channel.subscribe") {
    out = base_event(event, "subscription", "broadcaster", "user", message_id, timestamp);
    if (out) {
      out->amount = 1;
      copy_strings(event, out->metadata, {"tier", "is_gift"});
    }
  } else if (type == "channel.subscription.gift") {
    out = base_event(event, "subgift", "broadcaster", "user", message_id, timestamp);
    if (out) {
      out->amount = amount(event, "total");
      copy_strings(event, out->metadata, {"tier", "cumulative_total", "is_anonymous"});
    }
  } else if (type == "channel.subscription.message") {
    out = base_event(event, "resub", "broadcaster", "user", message_id, timestamp);
    if (out) {
      out->amount = amount(event, "cumulative_months");
      out->message = str(member(event, "message"), "text");
      copy_strings(event, out->metadata,
                   {"tier", "cumulative_months", "streak_months", "duration_months"});
      const nlohmann::json& emotes = member(member(event, "message"), "emotes");
      if (emotes.is_array() && !emotes.empty()) out->metadata["emotes"] = emotes;
    }
  } else if (type == "channel.cheer") {
    out = base_event(event, "cheer", "broadcaster", "user", message_id, timestamp);
    if (out) {
      out->amount = amount(event, "bits");
      out->message = str(event, "message");
      copy_strings(event, out->metadata, {"is_anonymous"});
    }
  } else if (type == "channel.raid") {
    out =
        base_event(event, "raid", "to_broadcaster", "from_broadcaster_user", message_id, timestamp);
    if (out) out->amount = amount(event, "viewers");
  } else if (type == "stream.online") {
    out = base_event(event, "stream_online", "broadcaster", "broadcaster_user", message_id,
                     timestamp);
    if (out) {
      copy_strings(event, out->metadata, {"type", "started_at"});
      if (std::string id = str(event, "id"); !id.empty()) out->metadata["stream_id"] = id;
    }
  } else if (type == "stream.offline") {
    out = base_event(event, "stream_offline", "broadcaster", "broadcaster_user", message_id,
                     timestamp);
  } else if (type == "channel.chat.message") {
    out = chat_message(event, timestamp);
  }
  if (!out) return {};
  out->metadata["subscription_type"] = std::string(type);
  fit_to_model(*out);
  return {std::move(*out)};
}

Revocation parse_revocation(const nlohmann::json& body) {
  const nlohmann::json& subscription = member(body, "subscription");
  Revocation out;
  out.subscription_id = str(subscription, "id");
  out.type = str(subscription, "type");
  out.version = str(subscription, "version");
  out.status = str(subscription, "status");
  const nlohmann::json& condition = member(subscription, "condition");
  if (condition.is_object()) out.condition = condition;
  return out;
}

EventSubHandler::EventSubHandler(EventSubOptions options, SystemClock system_now,
                                 SteadyClock steady_now)
    : options_(std::move(options)),
      system_now_(system_now ? std::move(system_now) : SystemClock(std::chrono::system_clock::now)),
      steady_now_(steady_now ? std::move(steady_now) : SteadyClock(std::chrono::steady_clock::now)),
      seen_(options_.seen_capacity, options_.seen_ttl) {
  const std::string& secret = options_.secret;
  bool ascii = std::all_of(secret.begin(), secret.end(),
                           [](unsigned char c) { return c >= 0x21 && c <= 0x7E; });
  if (secret.size() < 10 || secret.size() > 100 || !ascii) {
    throw Error(Errc::invalid_argument,
                "twitch eventsub secret: expected 10 to 100 printable ASCII characters, got " +
                    std::to_string(secret.size()) + " bytes");
  }
}

EventSubOutcome EventSubHandler::handle(const net::Request& request) {
  EventSubOutcome outcome;
  auto reject = [&](int status, std::string why) {
    outcome.rejected = why;
    outcome.response = net::error_response(status == 400 ? Errc::invalid_argument : Errc::forbidden,
                                           std::move(why));
    return std::move(outcome);
  };
  try {
    auto id = request.header(kHeaderMessageId);
    auto timestamp = request.header(kHeaderMessageTimestamp);
    auto signature = request.header(kHeaderMessageSignature);
    auto type = request.header(kHeaderMessageType);
    if (!id || !timestamp || !signature || !type) {
      return reject(403, "missing Twitch-Eventsub-Message-{Id,Timestamp,Signature,Type} header");
    }
    if (!verify_eventsub_signature(options_.secret, *id, *timestamp, request.body, *signature)) {
      return reject(403, "Twitch-Eventsub-Message-Signature does not match");
    }
    auto sent = parse_rfc3339(*timestamp);
    if (!sent) return reject(403, "Twitch-Eventsub-Message-Timestamp is not an RFC 3339 time");
    auto now = system_now_();
    if (*sent < now - options_.max_age) {
      return reject(403, "Twitch-Eventsub-Message-Timestamp is older than " +
                             std::to_string(options_.max_age.count()) + " s");
    }
    if (*sent > now + options_.max_future) {
      return reject(403, "Twitch-Eventsub-Message-Timestamp is in the future");
    }
    if (!seen_.insert(*id, steady_now_())) {
      outcome.duplicate = true;
      outcome.response = net::text_response(204, "");
      return outcome;
    }
    nlohmann::json body = nlohmann::json::parse(request.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) return reject(400, "body is not a JSON object");

    if (*type == "webhook_callback_verification") {
      const nlohmann::json& challenge = member(body, "challenge");
      if (!challenge.is_string()) return reject(400, "challenge: expected a string");
      // The raw challenge and nothing else: Twitch rejects it wrapped in JSON.
      outcome.response = net::text_response(200, challenge.get<std::string>(), "text/plain");
      return outcome;
    }
    if (*type == "revocation") {
      outcome.revocation = parse_revocation(body);
      outcome.response = net::text_response(204, "");
      return outcome;
    }
    if (*type == "notification") {
      std::string subscription_type = str(member(body, "subscription"), "type");
      if (subscription_type.empty()) {
        subscription_type = std::string(request.header(kHeaderSubscriptionType).value_or(""));
      }
      outcome.events =
          normalize_eventsub(subscription_type, member(body, "event"), *id, *timestamp);
      outcome.response = net::text_response(204, "");
      return outcome;
    }
    return reject(400, "unknown Twitch-Eventsub-Message-Type");
  } catch (const std::exception& e) {
    return reject(400, std::string("cannot handle the request: ") + e.what());
  }
}

}  // namespace waddle::twitch
