#pragma once
// The module protocol request (DESIGN.md §2.3, docs/module-protocol.md) as the modules see it,
// and the roles that decide who may manage what.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace waddle::actions {

// WaddleBot's community roles, ordered: a higher role may do what a lower one may.
enum class Role { member = 0, moderator = 1, admin = 2, owner = 3 };

// owner|admin|moderator|member, plus the words chat users type: broadcaster (owner), mod,
// everyone/all/user (member). Case-insensitive; nullopt for anything else.
std::optional<Role> parse_role(std::string_view text);
std::string_view role_name(Role role) noexcept;

struct ModuleRequest {
  std::string session_id;
  std::string execution_id;
  std::string entity_id;
  std::string platform;
  std::string channel_id;  // event.channel_id, else the last part of entity_id
  std::int64_t community_id = 0;
  std::string community_name;
  std::string user_id;
  std::string user_name;
  std::string user_display_name;        // user_name when the request has none
  std::vector<std::string> user_roles;  // the platform's: broadcaster, moderator, vip, …
  std::string community_role;           // WaddleBot's: owner|admin|moderator|member
  std::string trigger;                  // command | event | rule
  std::string prefix;
  std::string command;  // lower case, without the prefix
  std::vector<std::string> args;
  std::string raw_args;
  std::string message;
  nlohmann::json config = nlohmann::json::object();

  // The higher of community_role and the platform roles (broadcaster counts as owner, a platform
  // moderator as moderator); member when neither says more.
  Role role() const;
};

// Reads the fields the modules use; unknown fields are ignored (the protocol may grow). Throws
// model::FieldError (a waddle::Error, invalid_argument) naming the field for a missing
// community.id, user.id or command, or a field of the wrong type.
ModuleRequest parse_module_request(const nlohmann::json& body);

}  // namespace waddle::actions
