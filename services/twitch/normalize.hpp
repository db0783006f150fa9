#pragma once
// IRC PRIVMSG and USERNOTICE lines → the normalised event the router takes (DESIGN.md §2.1),
// with the seeds' message types (model::kMessageTypes). Every event returned passes
// model::parse_event(model::to_json(event)): text is made valid UTF-8 and cut to the model's
// limits, so hostile input can only ever lose detail, never produce an event the router rejects.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/event.hpp"
#include "twitch/irc.hpp"

namespace waddle::twitch {

inline constexpr std::string_view kPlatform = "twitch";
// Twitch has no servers; the entity id is "twitch:channel:<login>".
inline constexpr std::string_view kServerId = "channel";

// "twitch:channel:<login>" for a login (a leading '#' is removed, letters lower-cased), or
// nullopt when the login is not 1–64 characters of [a-z0-9_].
std::optional<std::string> channel_entity_id(std::string_view login);
// The login normalised as channel_entity_id does, or nullopt.
std::optional<std::string> normalize_login(std::string_view login);

// "moderator/1,subscriber/12" → roles in the order broadcaster, moderator, vip, subscriber
// (founder counts as subscriber).
std::vector<std::string> roles_from_badges(std::string_view badges);

struct Emote {
  std::string id;
  std::size_t start = 0;  // code point index, inclusive
  std::size_t end = 0;    // code point index, inclusive
  std::string code;       // the text the range covers

  bool operator==(const Emote&) const = default;
};

// Parses the `emotes` tag ("25:0-4,12-16/1902:6-10") against `text`, whose indices count
// Unicode code points. Ranges past the end are clamped to it; ranges left empty (or malformed)
// are dropped. The result is ordered by start.
std::vector<Emote> parse_emotes(std::string_view emotes_tag, std::string_view text);

// Milliseconds since the epoch → "2023-01-17T03:26:23.585Z"; nullopt for a value that is not a
// number in the years 1970–9999.
std::optional<std::string> rfc3339_from_millis(std::string_view millis);

// PRIVMSG → chatMessage, or cheer (amount = bits) when the `bits` tag is present. USERNOTICE →
// sub: subscription; resub: resub (amount = cumulative months); subgift, anonsubgift: subgift
// (amount 1); submysterygift, anonsubmysterygift: subgift (amount = gift count);
// giftpaidupgrade, anongiftpaidupgrade, primepaidupgrade: subscription; raid: raid (amount =
// viewers). Other lines, other msg-ids, a channel that is not a login and a missing user-id
// (the tags capability is off) give nullopt. `fallback_timestamp` is used when tmi-sent-ts is
// absent or bad; empty means now.
std::optional<model::Event> normalize_irc_message(const IrcMessage& message,
                                                  std::string_view fallback_timestamp = {});

// Makes `event` fit the model's limits (valid UTF-8, ids without spaces or controls, message and
// metadata sizes); used by every normaliser before returning.
void fit_to_model(model::Event& event);

}  // namespace waddle::twitch
