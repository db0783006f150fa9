#include "twitch/normalize.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <ctime>
#include <limits>

#include "twitch/text.hpp"

namespace waddle::twitch {
namespace {

constexpr std::size_t kMaxEmotes = 512;
constexpr std::string_view kActionPrefix =
    "\x01"
    "ACTION ";

std::int64_t parse_amount(std::string_view text) {
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec == std::errc::result_out_of_range && !text.empty() && text[0] != '-') {
    return std::numeric_limits<std::int64_t>::max();
  }
  if (ec != std::errc() || end != text.data() + text.size() || value < 0) return 0;
  return value;
}

std::optional<std::size_t> parse_index(std::string_view text) {
  std::size_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

bool is_control(unsigned char c) {
  return c < 0x20 || c == 0x7F;
}

// An id fit for model::kIdRule: valid UTF-8, no controls or spaces, at most 256 bytes.
std::string clean_id(std::string_view text) {
  std::string out = sanitize_utf8(text);
  for (char& c : out) {
    if (is_control(static_cast<unsigned char>(c)) || c == ' ') c = '_';
  }
  return std::string(truncate_utf8(out, model::kMaxIdBytes));
}

// A single-line name fit for model::kNameRule.
std::string clean_name(std::string_view text) {
  std::string out = sanitize_utf8(text);
  for (char& c : out) {
    if (is_control(static_cast<unsigned char>(c))) c = ' ';
  }
  std::size_t first = out.find_first_not_of(' ');
  if (first == std::string::npos) return {};
  out = out.substr(first, out.find_last_not_of(' ') - first + 1);
  return std::string(truncate_utf8(out, model::kMaxIdBytes));
}

// Makes every string and key of `value` valid UTF-8, in place; only what is not gets rebuilt.
void sanitize_in_place(nlohmann::json& value) {
  if (value.is_string()) {
    auto& text = value.get_ref<std::string&>();
    if (!is_clean_utf8(text)) text = sanitize_utf8(text);
  } else if (value.is_object()) {
    bool keys_clean = true;
    for (auto& item : value.items()) {
      keys_clean = keys_clean && is_clean_utf8(item.key());
      sanitize_in_place(item.value());
    }
    if (!keys_clean) {
      nlohmann::json out = nlohmann::json::object();
      for (auto& item : value.items()) out[sanitize_utf8(item.key())] = std::move(item.value());
      value = std::move(out);
    }
  } else if (value.is_array()) {
    for (auto& element : value) sanitize_in_place(element);
  }
}

void add_role(std::vector<std::string>& roles, std::string_view role) {
  if (std::find(roles.begin(), roles.end(), role) == roles.end()) roles.emplace_back(role);
}

void order_roles(std::vector<std::string>& roles) {
  static constexpr std::string_view kOrder[] = {"broadcaster", "moderator", "vip", "subscriber"};
  std::vector<std::string> ordered;
  for (std::string_view role : kOrder) {
    if (std::find(roles.begin(), roles.end(), role) != roles.end()) ordered.emplace_back(role);
  }
  roles = std::move(ordered);
}

nlohmann::json badges_object(std::string_view badges) {
  nlohmann::json out = nlohmann::json::object();
  while (!badges.empty()) {
    std::size_t comma = badges.find(',');
    std::string_view badge = badges.substr(0, comma);
    badges = comma == std::string_view::npos ? std::string_view() : badges.substr(comma + 1);
    std::size_t slash = badge.find('/');
    std::string_view set = badge.substr(0, slash);
    if (set.empty()) continue;
    out[std::string(set)] =
        slash == std::string_view::npos ? std::string() : std::string(badge.substr(slash + 1));
  }
  return out;
}

nlohmann::json emotes_json(const std::vector<Emote>& emotes) {
  nlohmann::json out = nlohmann::json::array();
  for (const Emote& e : emotes) {
    out.push_back({{"id", e.id}, {"start", e.start}, {"end", e.end}, {"code", e.code}});
  }
  return out;
}

// The parts PRIVMSG and USERNOTICE share: channel, user, roles, badges, ids and time.
std::optional<model::Event> base_event(const IrcMessage& message, std::string_view user_login,
                                       std::string_view fallback_timestamp) {
  auto channel = normalize_login(message.param(0));
  std::string_view user_id = message.tag_or_empty("user-id");
  if (!channel || user_id.empty()) return std::nullopt;

  model::Event event;
  event.platform = std::string(kPlatform);
  event.server_id = std::string(kServerId);
  event.channel_id = *channel;
  event.entity_id = model::make_entity_id(kPlatform, kServerId, *channel);

  event.user.id = clean_id(user_id);
  std::string login(user_login);
  std::transform(login.begin(), login.end(), login.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  event.user.name = clean_name(login.empty() ? user_id : std::string_view(login));
  std::string display = clean_name(message.tag_or_empty("display-name"));
  event.user.display_name = display.empty() ? event.user.name : display;

  std::string_view badges = message.tag_or_empty("badges");
  event.user.roles = roles_from_badges(badges);
  if (message.tag_or_empty("mod") == "1") add_role(event.user.roles, "moderator");
  if (message.tag("vip")) add_role(event.user.roles, "vip");  // present only for VIPs
  if (message.tag_or_empty("subscriber") == "1") add_role(event.user.roles, "subscriber");
  order_roles(event.user.roles);

  // Without an id (never seen from Twitch) the room, time and user still make redeliveries of
  // the same line collapse to one event at the router.
  std::string_view id = message.tag_or_empty("id");
  event.event_id = "twitch:" + (id.empty() ? std::string(message.tag_or_empty("room-id")) + ":" +
                                                 std::string(message.tag_or_empty("tmi-sent-ts")) +
                                                 ":" + std::string(user_id)
                                           : std::string(id));

  nlohmann::json& meta = event.metadata;
  if (!id.empty()) meta["message_id"] = std::string(id);
  if (auto room = message.tag("room-id")) meta["room_id"] = std::string(*room);
  if (!badges.empty()) meta["badges"] = badges_object(badges);
  if (auto info = message.tag("badge-info"); info && !info->empty()) {
    meta["badge_info"] = badges_object(*info);
  }
  if (auto color = message.tag("color"); color && !color->empty()) {
    meta["color"] = std::string(*color);
  }
  if (auto type = message.tag("user-type"); type && !type->empty()) {
    meta["user_type"] = std::string(*type);
  }
  if (auto sent = message.tag("tmi-sent-ts")) {
    meta["tmi_sent_ts"] = std::string(*sent);
    if (auto time = rfc3339_from_millis(*sent)) event.timestamp = *time;
  }
  for (std::string_view key : {"source-room-id", "source-id"}) {
    if (auto value = message.tag(key); value && !value->empty()) {
      std::string name(key);
      std::replace(name.begin(), name.end(), '-', '_');
      meta[name] = std::string(*value);
    }
  }
  if (event.timestamp.empty()) {
    event.timestamp = model::is_rfc3339(fallback_timestamp) ? std::string(fallback_timestamp)
                                                            : model::now_rfc3339();
  }
  return event;
}

std::optional<model::Event> normalize_privmsg(const IrcMessage& message,
                                              std::string_view fallback_timestamp) {
  if (message.params.size() < 2) return std::nullopt;
  auto event = base_event(message, message.nick(), fallback_timestamp);
  if (!event) return std::nullopt;

  std::string_view text = message.params[1];
  if (text.size() > kActionPrefix.size() && text.substr(0, kActionPrefix.size()) == kActionPrefix) {
    text.remove_prefix(kActionPrefix.size());
    if (!text.empty() && text.back() == '\x01') text.remove_suffix(1);
    event->metadata["action"] = true;
  }
  std::string clean = sanitize_utf8(text);
  nlohmann::json& meta = event->metadata;
  if (auto emotes = message.tag("emotes"); emotes && !emotes->empty()) {
    auto parsed = parse_emotes(*emotes, clean);
    if (!parsed.empty()) meta["emotes"] = emotes_json(parsed);
  }
  if (auto first = message.tag("first-msg")) meta["first_msg"] = *first == "1";
  if (auto returning = message.tag("returning-chatter"))
    meta["returning_chatter"] = *returning == "1";

  nlohmann::json reply = nlohmann::json::object();
  static constexpr std::pair<std::string_view, std::string_view> kReplyTags[] = {
      {"reply-parent-msg-id", "parent_msg_id"},
      {"reply-parent-user-id", "parent_user_id"},
      {"reply-parent-user-login", "parent_user_login"},
      {"reply-parent-display-name", "parent_display_name"},
      {"reply-parent-msg-body", "parent_msg_body"},
      {"reply-thread-parent-msg-id", "thread_parent_msg_id"},
      {"reply-thread-parent-user-login", "thread_parent_user_login"},
  };
  for (auto [tag, key] : kReplyTags) {
    if (auto value = message.tag(tag)) reply[std::string(key)] = std::string(*value);
  }
  if (!reply.empty()) meta["reply"] = std::move(reply);

  if (auto bits = message.tag("bits")) {
    event->message_type = "cheer";
    event->amount = parse_amount(*bits);
  } else {
    event->message_type = "chatMessage";
  }
  event->message = std::move(clean);
  fit_to_model(*event);
  return event;
}

struct NoticeKind {
  std::string_view msg_id;
  std::string_view message_type;
  std::string_view amount_param;  // msg-param-* whose number is the amount; empty: fixed_amount
  std::int64_t fixed_amount;
};

constexpr NoticeKind kNoticeKinds[] = {
    {"sub", "subscription", "msg-param-cumulative-months", 1},
    {"resub", "resub", "msg-param-cumulative-months", 1},
    {"subgift", "subgift", "", 1},
    {"anonsubgift", "subgift", "", 1},
    {"submysterygift", "subgift", "msg-param-mass-gift-count", 1},
    {"anonsubmysterygift", "subgift", "msg-param-mass-gift-count", 1},
    {"giftpaidupgrade", "subscription", "", 0},
    {"anongiftpaidupgrade", "subscription", "", 0},
    {"primepaidupgrade", "subscription", "", 0},
    {"raid", "raid", "msg-param-viewerCount", 0},
};

std::optional<model::Event> normalize_usernotice(const IrcMessage& message,
                                                 std::string_view fallback_timestamp) {
  std::string_view msg_id = message.tag_or_empty("msg-id");
  const NoticeKind* kind = nullptr;
  for (const NoticeKind& k : kNoticeKinds) {
    if (k.msg_id == msg_id) kind = &k;
  }
  if (kind == nullptr) return std::nullopt;
  auto event = base_event(message, message.tag_or_empty("login"), fallback_timestamp);
  if (!event) return std::nullopt;

  event->message_type = std::string(kind->message_type);
  event->amount = kind->fixed_amount;
  if (!kind->amount_param.empty()) {
    if (auto value = message.tag(kind->amount_param); value && parse_amount(*value) > 0) {
      event->amount = parse_amount(*value);
    }
  }
  nlohmann::json& meta = event->metadata;
  meta["msg_id"] = std::string(msg_id);
  if (auto system = message.tag("system-msg")) meta["system_msg"] = std::string(*system);
  nlohmann::json params = nlohmann::json::object();
  constexpr std::string_view kParamPrefix = "msg-param-";
  for (auto it = message.tags.lower_bound(kParamPrefix);
       it != message.tags.end() && it->first.starts_with(kParamPrefix); ++it) {
    params[it->first.substr(kParamPrefix.size())] = it->second;
  }
  if (!params.empty()) meta["params"] = std::move(params);
  if (msg_id.starts_with("anon")) meta["anonymous"] = true;

  std::string clean = sanitize_utf8(message.param(1));
  if (auto emotes = message.tag("emotes"); emotes && !emotes->empty() && !clean.empty()) {
    auto parsed = parse_emotes(*emotes, clean);
    if (!parsed.empty()) meta["emotes"] = emotes_json(parsed);
  }
  event->message = std::move(clean);
  fit_to_model(*event);
  return event;
}

}  // namespace

std::optional<std::string> normalize_login(std::string_view login) {
  if (!login.empty() && login.front() == '#') login.remove_prefix(1);
  if (login.empty() || login.size() > 64) return std::nullopt;
  std::string out;
  out.reserve(login.size());
  for (char c : login) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return std::nullopt;
    out += c;
  }
  return out;
}

std::optional<std::string> channel_entity_id(std::string_view login) {
  auto normal = normalize_login(login);
  if (!normal) return std::nullopt;
  return model::make_entity_id(kPlatform, kServerId, *normal);
}

std::vector<std::string> roles_from_badges(std::string_view badges) {
  std::vector<std::string> roles;
  nlohmann::json sets = badges_object(badges);  // named: items() would dangle on a temporary
  for (const auto& item : sets.items()) {
    const std::string& set = item.key();
    if (set == "broadcaster" || set == "moderator" || set == "vip") add_role(roles, set);
    if (set == "subscriber" || set == "founder") add_role(roles, "subscriber");
  }
  order_roles(roles);
  return roles;
}

std::vector<Emote> parse_emotes(std::string_view tag, std::string_view text) {
  std::vector<Emote> emotes;
  std::vector<std::size_t> offsets = code_point_offsets(text);
  std::size_t count = offsets.size() - 1;
  while (!tag.empty() && emotes.size() < kMaxEmotes) {
    std::size_t slash = tag.find('/');
    std::string_view entry = tag.substr(0, slash);
    tag = slash == std::string_view::npos ? std::string_view() : tag.substr(slash + 1);
    std::size_t colon = entry.find(':');
    if (colon == std::string_view::npos || colon == 0) continue;
    std::string_view id = entry.substr(0, colon);
    std::string_view ranges = entry.substr(colon + 1);
    while (!ranges.empty() && emotes.size() < kMaxEmotes) {
      std::size_t comma = ranges.find(',');
      std::string_view range = ranges.substr(0, comma);
      ranges = comma == std::string_view::npos ? std::string_view() : ranges.substr(comma + 1);
      std::size_t dash = range.find('-');
      if (dash == std::string_view::npos) continue;
      auto start = parse_index(range.substr(0, dash));
      auto end = parse_index(range.substr(dash + 1));
      if (!start || !end || *start >= count) continue;
      // The server's indices are sometimes one past the text (twitch-irc-rs captures): clamp.
      std::size_t last = std::min(*end, count - 1);
      if (*start > last) continue;
      Emote emote;
      emote.id = std::string(id);
      emote.start = *start;
      emote.end = last;
      emote.code = std::string(text.substr(offsets[*start], offsets[last + 1] - offsets[*start]));
      emotes.push_back(std::move(emote));
    }
  }
  std::stable_sort(emotes.begin(), emotes.end(),
                   [](const Emote& a, const Emote& b) { return a.start < b.start; });
  return emotes;
}

std::optional<std::string> rfc3339_from_millis(std::string_view millis) {
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(millis.data(), millis.data() + millis.size(), value);
  constexpr std::int64_t kMax = 253402300799999;  // 9999-12-31T23:59:59.999Z
  if (ec != std::errc() || end != millis.data() + millis.size() || value < 0 || value > kMax) {
    return std::nullopt;
  }
  std::time_t seconds = static_cast<std::time_t>(value / 1000);
  std::tm utc{};
  if (gmtime_r(&seconds, &utc) == nullptr) return std::nullopt;
  char buf[40];
  std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(value % 1000));
  return std::string(buf);
}

std::optional<model::Event> normalize_irc_message(const IrcMessage& message,
                                                  std::string_view fallback_timestamp) {
  if (message.command == "PRIVMSG") return normalize_privmsg(message, fallback_timestamp);
  if (message.command == "USERNOTICE") return normalize_usernotice(message, fallback_timestamp);
  return std::nullopt;
}

namespace {

// At least the size of value.dump(): a string escapes to at most 6 bytes per byte ("\u001f").
// Real metadata is far below the limit, so this spares the serialisations fit_to_model would
// otherwise make for every chat line.
std::size_t dump_size_bound(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::string: return 2 + 6 * value.get_ref<const std::string&>().size();
    case nlohmann::json::value_t::object: {
      std::size_t n = 2;
      for (const auto& item : value.items()) {
        n += 2 + 6 * item.key().size() + 2 + dump_size_bound(item.value());
      }
      return n;
    }
    case nlohmann::json::value_t::array: {
      std::size_t n = 2;
      for (const auto& item : value) n += 1 + dump_size_bound(item);
      return n;
    }
    default: return 32;  // numbers, booleans, null
  }
}

bool metadata_fits(const nlohmann::json& metadata) {
  return dump_size_bound(metadata) <= model::kMaxMetadataBytes ||
         metadata.dump().size() <= model::kMaxMetadataBytes;
}

}  // namespace

void fit_to_model(model::Event& event) {
  event.event_id = clean_id(event.event_id);
  event.user.id = clean_id(event.user.id);
  event.user.name = clean_name(event.user.name);
  if (event.user.name.empty()) event.user.name = event.user.id;
  event.user.display_name = clean_name(event.user.display_name);
  if (event.user.display_name.empty()) event.user.display_name = event.user.name;
  if (event.user.roles.size() > model::kMaxRoles) event.user.roles.resize(model::kMaxRoles);
  event.message = std::string(truncate_utf8(sanitize_utf8(event.message), model::kMaxMessageBytes));
  if (!model::is_rfc3339(event.timestamp)) event.timestamp = model::now_rfc3339();

  if (!event.metadata.is_object()) event.metadata = nlohmann::json::object();
  sanitize_in_place(event.metadata);
  // Shed the bulkiest optional parts first; what is left is a handful of short ids.
  for (std::string_view key : {"emotes", "reply", "params", "badges", "badge_info"}) {
    if (metadata_fits(event.metadata)) break;
    event.metadata.erase(std::string(key));
    event.metadata["truncated"] = true;
  }
  if (!metadata_fits(event.metadata)) {
    event.metadata = nlohmann::json{{"truncated", true}};
  }
}

}  // namespace waddle::twitch
