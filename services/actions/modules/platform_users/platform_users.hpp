#pragma once
// The people chat commands talk about, as WaddleBot users (users.id): the caller by the request's
// platform and user id, anyone else by their @name on the request's platform. Shared by the
// labels, reputation and inventory modules.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <pqxx/pqxx>

#include "actions/request.hpp"

namespace waddle::actions {

// What a chat user may be called: 1 to 100 bytes, no whitespace or control characters.
inline constexpr std::size_t kMaxUsernameBytes = 100;

// "@Bob" -> "Bob". A word without '@' counts only when `at_optional`; nullopt for anything that
// is not a plausible username.
std::optional<std::string> parse_mention(std::string_view word, bool at_optional);

// Whether users of the request's platform can be stored (platform_identities takes only the
// known platforms).
bool tracks_users(const ModuleRequest& request);

// The caller's users.id, nullopt when WaddleBot has never stored them.
std::optional<std::int64_t> find_caller(pqxx::transaction_base& tx, const ModuleRequest& request);

// The caller's users.id, creating the user and its platform identity when missing (as the
// router's reputation writer does). Needs tracks_users(request).
std::int64_t resolve_caller(pqxx::transaction_base& tx, const ModuleRequest& request);

// The user known as `username` (case-insensitive) on `platform`, the most recently seen one when
// a name was reused; nullopt when nobody by that name was ever stored.
std::optional<std::int64_t> find_username(pqxx::transaction_base& tx, const std::string& platform,
                                          const std::string& username);

struct Person {
  std::int64_t id = 0;  // 0: nobody by that name is known
  std::string name;     // as chat should show it
  bool is_caller = false;
};

// The user `mention` names (without '@'), or the caller when it is empty or the caller's own
// name. A caller missing from the database is created when `create_caller`.
Person find_person(pqxx::transaction_base& tx, const ModuleRequest& request,
                   const std::string& mention, bool create_caller);

// "I have not seen bob on twitch yet; they need to chat first."
std::string unknown_person(const ModuleRequest& request, const std::string& name);

// SQL for a user's name on the platform bound as parameter `platform_param` (e.g. "$2"), else
// users.display_name; `user_id_sql` is the column holding users.id.
std::string user_name_sql(std::string_view user_id_sql, std::string_view platform_param);

// The SQLSTATE the label limit triggers raise (migrations/0003_community.sql).
bool is_limit_error(const pqxx::sql_error& error);

}  // namespace waddle::actions
