#pragma once
// The messages the router publishes for overlays, on Redis channel waddlebot:overlay:<id> or in
// the body of POST /internal/overlay/<id>:
//   {"community_id": 1, "community": "demo", "entity_id": "…", "action": {…}, "published_at": "…"}

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "model/action.hpp"

namespace waddle::overlay {

inline constexpr std::string_view kChannelPrefix = "waddlebot:overlay:";
inline constexpr std::size_t kMaxPublishedBytes = 256 * 1024;

struct Published {
  std::int64_t community_id = 0;
  model::Action action;
};

// Parses and checks one published message. Throws waddle::Error(invalid_argument) naming the
// field (model::FieldError for the action's own fields): bad JSON, no positive community_id, no
// action, an action that is not an overlay action (chat, block), or more than 256 KiB.
Published parse_published(std::string_view text);

// 42 for "waddlebot:overlay:42"; nullopt for any other channel.
std::optional<std::int64_t> community_of_channel(std::string_view channel);

// A positive decimal community id ("42"), or nullopt.
std::optional<std::int64_t> parse_community_id(std::string_view text);

}  // namespace waddle::overlay
