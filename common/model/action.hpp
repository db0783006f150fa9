#pragma once
// What an action module asks for (DESIGN.md §2.2): chat goes back to the platform, the others
// to the OBS overlay. On the wire each is a JSON object with "type".

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/field_reader.hpp"

namespace waddle::model {

inline constexpr std::size_t kMaxChatBytes = 2000;
inline constexpr std::size_t kMaxTickerBytes = 1000;
inline constexpr std::size_t kMaxGeneralContentBytes = 64 * 1024;
inline constexpr std::size_t kMaxActions = 32;
inline constexpr std::size_t kMaxFormFields = 32;
inline constexpr std::size_t kMaxFieldOptions = 64;

inline constexpr std::array<std::string_view, 8> kActionTypes = {
    "chat", "media", "ticker", "general", "form", "block", "whisper", "role"};
inline constexpr std::array<std::string_view, 4> kMediaTypes = {"music", "video", "audio", "image"};
inline constexpr std::array<std::string_view, 3> kTickerPriorities = {"low", "normal", "high"};
inline constexpr std::array<std::string_view, 2> kContentTypes = {"html", "text"};
inline constexpr std::array<std::string_view, 12> kFormFieldTypes = {
    "text",   "textarea", "select", "multiselect", "radio", "checkbox",
    "number", "email",    "url",    "date",        "time",  "password"};
inline constexpr std::array<std::string_view, 2> kSubmitMethods = {"POST", "GET"};

struct ChatAction {
  std::string text;                     // 1..2000 bytes
  std::optional<std::string> reply_to;  // platform message id to thread under
  bool ephemeral = false;               // only the invoking user sees it (Discord, Slack)

  bool operator==(const ChatAction&) const = default;
};

struct MediaAction {
  std::string media_type;  // music | video | audio | image
  std::string media_url;   // http(s)
  std::string title;
  std::string artist;
  std::string album;
  int duration = 0;           // seconds; 0 = unknown
  std::string thumbnail_url;  // http(s) or empty
  std::string service;        // "youtube", "spotify", …

  bool operator==(const MediaAction&) const = default;
};

struct TickerAction {
  std::string text;
  int duration = 10;                // seconds on screen
  std::string priority = "normal";  // low | normal | high
  std::string style;                // overlay style name, e.g. "info"

  bool operator==(const TickerAction&) const = default;
};

struct GeneralAction {
  std::string content_type = "html";  // html | text
  std::string content;
  int duration = 10;  // seconds; 0 = until replaced

  bool operator==(const GeneralAction&) const = default;
};

struct FormField {
  std::string name;   // submitted key
  std::string type;   // one of kFormFieldTypes
  std::string label;  // defaults to name
  bool required = false;
  std::vector<std::string> options;  // required for select, multiselect and radio

  bool operator==(const FormField&) const = default;
};

struct FormAction {
  std::string title;
  std::string description;
  std::vector<FormField> fields;  // 1..32, names unique
  std::string submit_url;         // http(s)
  std::string submit_method = "POST";
  std::string callback_url;  // http(s) or empty

  bool operator==(const FormAction&) const = default;
};

// Moderation the collector carries out (a string rule's `block`): delete the message, or time the
// user out when `timeout` is set. Collectors that cannot do either log it.
struct BlockAction {
  std::string message_id;  // the platform's id of the message to delete; may be empty
  std::string user_id;     // whose message it was
  std::string user_name;
  std::string reason;  // shown to moderators / in the platform's audit log
  int timeout = 0;     // seconds; 0 = delete only
  bool operator==(const BlockAction&) const = default;
};

// A private message to one user on the collector's platform (Twitch whisper, Discord DM, Slack
// DM): identity verification codes, which must never reach a public channel.
struct WhisperAction {
  std::string user_id;    // the platform's user id, or empty: the collector looks user_name up
  std::string user_name;  // login / username; one of the two is required
  std::string text;       // 1..2000 bytes
  bool operator==(const WhisperAction&) const = default;
};

// Grant or revoke a platform role (a label mapped to a Twitch VIP/moderator, a Discord role id, a
// Slack user group). Collectors that cannot do it log it.
struct RoleAction {
  std::string user_id;  // the platform's user id; required
  std::string user_name;
  std::string role;  // the platform's role name or id; required
  bool grant = true;
  std::string reason;
  bool operator==(const RoleAction&) const = default;
};

// Alternatives in the order of kActionTypes.
using Action = std::variant<ChatAction, MediaAction, TickerAction, GeneralAction, FormAction,
                            BlockAction, WhisperAction, RoleAction>;

// Actions for the collector (chat, block, whisper, role) rather than the overlay.
bool is_overlay_action(const Action& action) noexcept;

// "chat", "media", "ticker", "general", "form", "block", "whisper" or "role".
std::string_view action_type(const Action& action) noexcept;

// One action object. Field errors are named under path ("text", or "actions[2].text" when path
// is "actions[2]"); an unknown or missing type names "<path>.type".
Action parse_action(const nlohmann::json& json, std::string_view path = "");
// A JSON array of at most 32 actions; element errors are named "<path>[i].<field>".
std::vector<Action> parse_actions(const nlohmann::json& array, std::string_view path = "actions");

nlohmann::json to_json(const Action& action);
nlohmann::json to_json(const std::vector<Action>& actions);

}  // namespace waddle::model
