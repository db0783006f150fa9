#include "actions/modules/platform_users/platform_users.hpp"

#include "actions/text.hpp"
#include "model/event.hpp"

namespace waddle::actions {

std::optional<std::string> parse_mention(std::string_view word, bool at_optional) {
  if (!word.empty() && word.front() == '@') {
    word.remove_prefix(1);
  } else if (!at_optional) {
    return std::nullopt;
  }
  if (word.empty() || word.size() > kMaxUsernameBytes) return std::nullopt;
  for (char c : word) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7F || c == '@') return std::nullopt;
  }
  return std::string(word);
}

bool tracks_users(const ModuleRequest& request) {
  return model::is_platform(request.platform) && !request.user_id.empty();
}

std::optional<std::int64_t> find_caller(pqxx::transaction_base& tx, const ModuleRequest& request) {
  auto found = tx.exec_params(
      "select user_id from platform_identities where platform = $1 and platform_user_id = $2",
      request.platform, request.user_id);
  if (found.empty()) return std::nullopt;
  return found[0][0].as<std::int64_t>();
}

std::int64_t resolve_caller(pqxx::transaction_base& tx, const ModuleRequest& request) {
  if (auto id = find_caller(tx, request)) return *id;
  const std::string& name = request.user_name.empty() ? request.user_id : request.user_name;
  const std::string& display = request.user_display_name.empty() ? name : request.user_display_name;
  const auto user_id = tx.exec_params1(
                             "insert into users (display_name, primary_platform) values ($1, $2) "
                             "returning id",
                             display, request.platform)[0]
                           .as<std::int64_t>();
  auto identity = tx.exec_params(
      "insert into platform_identities (user_id, platform, platform_user_id, username, "
      "display_name) values ($1, $2, $3, $4, $5) on conflict (platform, platform_user_id) do "
      "nothing returning user_id",
      user_id, request.platform, request.user_id, name, display);
  if (!identity.empty()) return user_id;
  // Someone else (the router, another worker) stored them meanwhile: use theirs.
  tx.exec_params("delete from users where id = $1", user_id);
  return *find_caller(tx, request);
}

std::optional<std::int64_t> find_username(pqxx::transaction_base& tx, const std::string& platform,
                                          const std::string& username) {
  auto found = tx.exec_params(
      "select user_id from platform_identities where platform = $1 and lower(username) = "
      "lower($2) order by updated_at desc, id desc limit 1",
      platform, username);
  if (found.empty()) return std::nullopt;
  return found[0][0].as<std::int64_t>();
}

Person find_person(pqxx::transaction_base& tx, const ModuleRequest& request,
                   const std::string& mention, bool create_caller) {
  Person person;
  const bool caller = mention.empty() || lower_ascii(mention) == lower_ascii(request.user_name) ||
                      lower_ascii(mention) == lower_ascii(request.user_display_name);
  if (caller) {
    person.is_caller = true;
    person.name = request.user_display_name;
    if (!tracks_users(request)) return person;
    if (create_caller) {
      person.id = resolve_caller(tx, request);
    } else {
      person.id = find_caller(tx, request).value_or(0);
    }
    return person;
  }
  person.name = mention;
  if (model::is_platform(request.platform)) {
    person.id = find_username(tx, request.platform, mention).value_or(0);
  }
  return person;
}

std::string unknown_person(const ModuleRequest& request, const std::string& name) {
  if (!model::is_platform(request.platform)) {
    return "I cannot keep track of users on this platform.";
  }
  return "I have not seen " + trim_chat(name, 40) + " on " + request.platform +
         " yet; they need to chat first.";
}

std::string user_name_sql(std::string_view user_id_sql, std::string_view platform_param) {
  const std::string id(user_id_sql);
  return "coalesce((select pi.username from platform_identities pi where pi.user_id = " + id +
         " and pi.platform = " + std::string(platform_param) +
         " order by pi.updated_at desc, pi.id desc limit 1), (select u.display_name from users u "
         "where u.id = " +
         id + "))";
}

bool is_limit_error(const pqxx::sql_error& error) {
  return error.sqlstate() == "WD001";
}

}  // namespace waddle::actions
