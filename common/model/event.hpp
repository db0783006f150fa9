#pragma once
// The normalised event every collector posts to the router (DESIGN.md §2.1).

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/field_reader.hpp"

namespace waddle::model {

inline constexpr std::size_t kMaxIdBytes = 256;
inline constexpr std::size_t kMaxMessageBytes = 4000;
inline constexpr std::size_t kMaxMetadataBytes = 16 * 1024;
inline constexpr std::size_t kMaxMetadataDepth = 32;
inline constexpr std::size_t kMaxRoles = 32;

inline constexpr std::array<std::string_view, 4> kPlatforms = {"twitch", "discord", "slack",
                                                               "console"};

// The seeds' message types (004 "Message Types" plus the 23 of the G1 router). "cheer" carries
// Twitch bits in `amount`; "subgift" (G1) and "gift_subscription" (004) are both accepted.
inline constexpr std::array<std::string_view, 31> kMessageTypes = {
    // commands
    "chatMessage", "slashCommand",
    // interactions (Discord components, Slack Block Kit)
    "interaction", "modal_submit", "button_click", "select_menu",
    // subscriptions and money
    "subscription", "gift_subscription", "subgift", "resub", "follow", "donation", "cheer",
    // stream
    "raid", "host", "stream_online", "stream_offline",
    // members
    "member_join", "member_leave", "voice_join", "voice_leave", "voice_time", "boost",
    "channel_join",
    // moderation
    "ban", "kick", "timeout", "warn",
    // other
    "reaction", "file_share", "app_mention"};

bool is_platform(std::string_view platform) noexcept;
bool is_message_type(std::string_view message_type) noexcept;

struct User {
  std::string id;
  std::string name;
  std::string display_name;  // defaults to name
  std::vector<std::string> roles;

  bool operator==(const User&) const = default;
};

struct Event {
  std::string event_id;
  std::string platform;
  std::string message_type;
  std::string entity_id;   // "<platform>:<server_id>:<channel_id>"
  std::string server_id;   // defaults to the middle part of entity_id
  std::string channel_id;  // defaults to the last part of entity_id
  User user;
  std::string message;
  std::int64_t amount = 0;  // bits, cents, raid viewers, months, gifted count
  nlohmann::json metadata = nlohmann::json::object();
  std::string timestamp;  // RFC 3339

  bool operator==(const Event&) const = default;
};

// Strict parse: unknown fields, wrong types, oversize or non-UTF-8 strings, a malformed
// entity_id and values outside the lists above throw FieldError naming the field path.
Event parse_event(const nlohmann::json& json);
nlohmann::json to_json(const Event& event);

// "<platform>:<server>:<channel>".
std::string make_entity_id(std::string_view platform, std::string_view server,
                           std::string_view channel);
// RFC 3339 date-time ("2026-01-01T12:00:00Z", "2026-01-01T12:00:00.123+02:00").
bool is_rfc3339(std::string_view timestamp) noexcept;
// The current UTC time as "YYYY-MM-DDTHH:MM:SSZ".
std::string now_rfc3339();

}  // namespace waddle::model
