#pragma once
// Helpers shared by the community, member, entity, identity, label, reputation and audit nouns:
// user references, platform names, yes/no option values and the SQL that labels a user.

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <string>
#include <vector>

namespace waddle::cli {

// The platforms a user, identity or entity can be on (the waddle_platform domain).
const std::vector<std::string>& platform_names();
// `value` is a known platform; otherwise Error(invalid_argument) naming `what` and the choices.
void require_platform(const std::string& what, const std::string& value);

// A user as typed on the command line: `<platform>:<username>` or `#<users.id>`.
struct UserRef {
  std::string text;      // as given, for messages
  std::string platform;  // empty for the #id form
  std::string username;  // empty for the #id form
  long long id = 0;      // set for the #id form
};

// Parses a user reference; Error(invalid_argument) naming `what` (e.g. "USER") when malformed.
UserRef parse_user_ref(const std::string& what, const std::string& text);

// The users.id of an existing user: by #id, else by platform + username (case-insensitive),
// else by platform + platform_user_id. Error(not_found) when there is no such user.
long long find_user(pqxx::work& tx, const UserRef& ref);

// Like find_user, but a `<platform>:<username>` that matches nobody creates the user and its
// platform identity (platform_user_id = username, since the platform's id is unknown here).
// `created` (if given) says whether that happened. An unknown #id is Error(not_found).
long long find_or_create_user(pqxx::work& tx, const UserRef& ref, bool* created = nullptr);

// SQL expression naming user `<alias>.id` as "<platform>:<username>" of its first identity, or
// "#<id>" when it has none. `alias` must be a fixed identifier from our own code.
std::string user_label_sql(const std::string& alias);

// One user's id, label and display name as JSON.
nlohmann::json describe_user(pqxx::work& tx, long long user_id);

// "true"/"false" (as checked by CLI::IsMember) to bool.
bool parse_bool_text(const std::string& value);

// Throws Error(invalid_argument, message).
[[noreturn]] void throw_invalid(const std::string& message);

// Catches a Postgres error whose SQLSTATE is `state` inside `body` and throws
// Error(invalid_argument, message) instead; everything else passes through unchanged.
template <typename Body>
auto translate_sqlstate(const char* state, const std::string& message, Body&& body) {
  try {
    return body();
  } catch (const pqxx::sql_error& e) {
    if (e.sqlstate() == state) throw_invalid(message);
    throw;
  }
}

}  // namespace waddle::cli
