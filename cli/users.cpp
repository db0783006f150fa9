#include "users.hpp"

#include <algorithm>
#include <cctype>

#include "context.hpp"
#include "error/error.hpp"
#include "model/event.hpp"

namespace waddle::cli {

const std::vector<std::string>& platform_names() {
  static const std::vector<std::string> names(model::kPlatforms.begin(), model::kPlatforms.end());
  return names;
}

void require_platform(const std::string& what, const std::string& value) {
  const auto& names = platform_names();
  if (std::find(names.begin(), names.end(), value) != names.end()) return;
  throw Error(Errc::invalid_argument,
              what + ": unknown platform '" + value + "' (twitch, discord, slack or console)");
}

UserRef parse_user_ref(const std::string& what, const std::string& text) {
  UserRef ref;
  ref.text = text;
  const std::string shape = " (expected <platform>:<username> or #<user id>)";
  if (!text.empty() && text[0] == '#') {
    auto digits = text.substr(1);
    bool numeric = !digits.empty() && digits.size() <= 18 &&
                   std::all_of(digits.begin(), digits.end(),
                               [](unsigned char c) { return std::isdigit(c) != 0; });
    if (!numeric) {
      throw Error(Errc::invalid_argument, what + ": '" + text + "' is not a user id" + shape);
    }
    ref.id = std::stoll(digits);
    return ref;
  }
  auto colon = text.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
    throw Error(Errc::invalid_argument, what + ": malformed user '" + text + "'" + shape);
  }
  ref.platform = text.substr(0, colon);
  ref.username = text.substr(colon + 1);
  require_platform(what, ref.platform);
  for (unsigned char c : ref.username) {
    if (std::iscntrl(c) || std::isspace(c)) {
      throw Error(Errc::invalid_argument,
                  what + ": the username in '" + text + "' contains whitespace or control bytes");
    }
  }
  if (ref.username.size() > 255) {
    throw Error(Errc::invalid_argument, what + ": username longer than 255 bytes");
  }
  return ref;
}

namespace {

long long lookup_user(pqxx::work& tx, const UserRef& ref) {
  if (ref.platform.empty()) {
    auto r = tx.exec_params("select id from users where id = $1", ref.id);
    return r.empty() ? 0 : r[0][0].as<long long>();
  }
  auto r = tx.exec_params(
      "select user_id from platform_identities where platform = $1 and lower(username) = lower($2) "
      "order by id limit 1",
      ref.platform, ref.username);
  if (r.empty()) {
    r = tx.exec_params(
        "select user_id from platform_identities where platform = $1 and platform_user_id = $2",
        ref.platform, ref.username);
  }
  return r.empty() ? 0 : r[0][0].as<long long>();
}

}  // namespace

long long find_user(pqxx::work& tx, const UserRef& ref) {
  auto id = lookup_user(tx, ref);
  if (id == 0) throw Error(Errc::not_found, "user '" + ref.text + "' not found");
  return id;
}

long long find_or_create_user(pqxx::work& tx, const UserRef& ref, bool* created) {
  if (created) *created = false;
  auto id = lookup_user(tx, ref);
  if (id != 0) return id;
  if (ref.platform.empty()) throw Error(Errc::not_found, "user '" + ref.text + "' not found");
  id = tx.exec_params1(
             "insert into users (display_name, primary_platform) values ($1, $2) returning id",
             ref.username, ref.platform)[0]
           .as<long long>();
  tx.exec_params(
      "insert into platform_identities (user_id, platform, platform_user_id, username) "
      "values ($1, $2, $3, $3)",
      id, ref.platform, ref.username);
  if (created) *created = true;
  return id;
}

std::string user_label_sql(const std::string& alias) {
  return "coalesce((select pi.platform || ':' || pi.username from platform_identities pi "
         "where pi.user_id = " +
         alias + ".id order by pi.id limit 1), '#' || " + alias + ".id)";
}

nlohmann::json describe_user(pqxx::work& tx, long long user_id) {
  auto r = tx.exec_params1("select u.id as user_id, " + user_label_sql("u") +
                               " as \"user\", u.display_name from users u where u.id = $1",
                           user_id);
  return row_to_json(r);
}

bool parse_bool_text(const std::string& value) {
  return value == "true";
}

void throw_invalid(const std::string& message) {
  throw Error(Errc::invalid_argument, message);
}

}  // namespace waddle::cli
