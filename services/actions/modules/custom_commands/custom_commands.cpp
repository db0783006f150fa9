#include "actions/modules/custom_commands/custom_commands.hpp"

#include <pqxx/pqxx>

#include "actions/text.hpp"
#include "actions/variables.hpp"
#include "pg/pool.hpp"

namespace waddle::actions {
namespace {

using Actions = std::vector<model::Action>;

constexpr std::string_view kUsage =
    "Usage: !command add !name [-cd=seconds] [-ul=role] <text> | !command edit !name "
    "[-cd=seconds] [-ul=role] [<text>] | !command remove !name | !command list";
constexpr std::string_view kAddUsage =
    "Usage: !command add !name [-cd=seconds] [-ul=role] <text> (variables: $(user) $(touser) "
    "$(args) $(arg1) $(count) $(random 1-100) $(channel))";
constexpr std::string_view kEditUsage =
    "Usage: !command edit !name [-cd=seconds] [-ul=role] [<text>]";
constexpr std::string_view kRemoveUsage = "Usage: !command remove !name";

// Serialises changes to one name across communities, so that removing the last command of a
// name and adding it elsewhere cannot leave the shared `commands` row wrong.
constexpr const char* kLockName =
    "select pg_advisory_xact_lock(hashtext('waddle.custom_commands'), hashtext($1))";

std::string_view first_word(std::string_view text) {
  text = trim(text);
  std::size_t end = 0;
  while (end < text.size() && text[end] != ' ' && text[end] != '\t' && text[end] != '\n') ++end;
  return text.substr(0, end);
}

// "!Hello" or "hello" -> "hello"; empty when it is not a valid name.
std::string command_name_arg(std::string_view word) {
  if (!word.empty() && word.front() == '!') word.remove_prefix(1);
  std::string name = lower_ascii(word);
  return is_command_name(name) ? name : std::string();
}

std::optional<std::string_view> flag_value(std::string_view word,
                                           std::initializer_list<std::string_view> names) {
  for (auto name : names) {
    if (word.size() > name.size() && word.substr(0, name.size()) == name &&
        word[name.size()] == '=') {
      return word.substr(name.size() + 1);
    }
  }
  return std::nullopt;
}

std::string text_limit_message(std::size_t length) {
  return "That text is too long (" + std::to_string(length) + " characters; at most " +
         std::to_string(kMaxCustomTextCharacters) + ").";
}

}  // namespace

CustomCommandInput parse_custom_command_input(std::string_view rest) {
  CustomCommandInput input;
  rest = trim(rest);
  for (;;) {
    const std::string_view word = first_word(rest);
    if (word.empty() || word.front() != '-') break;
    if (auto value = flag_value(word, {"-cd", "--cooldown"})) {
      // parse_positive takes "#5" for quote numbers; a cooldown is plain digits.
      const bool digits = !value->empty() && value->front() != '#';
      const int seconds = *value == "0" ? 0 : parse_positive(*value);
      if (!digits || (seconds == 0 && *value != "0") || seconds > kMaxCooldownSeconds) {
        input.error = "The cooldown must be a number of seconds from 0 to " +
                      std::to_string(kMaxCooldownSeconds) + ", not '" + std::string(*value) + "'.";
        return input;
      }
      input.cooldown_seconds = seconds;
    } else if (auto role_value = flag_value(word, {"-ul", "--role"})) {
      auto role = parse_role(*role_value);
      if (!role) {
        input.error =
            "Unknown role '" + std::string(*role_value) + "' (member, moderator, admin or owner).";
        return input;
      }
      input.min_role = role;
    } else {
      break;  // a text that starts with '-' is text
    }
    rest = skip_words(rest, 1);
  }
  input.text = std::string(rest);
  return input;
}

std::vector<CommandSpec> CustomCommands::commands() const {
  return {{"command", "manage custom commands: !command add|edit|remove|list"}};
}

void CustomCommands::on_start() {
  env_.pool.transaction_sync([&](pqxx::work& tx) {
    tx.exec_params(
        "insert into commands (command, prefix, description, location_url, location, type, "
        "module_name, module_type) select distinct name, '!', 'custom command', $1, 'internal', "
        "'container', $2, 'action' from custom_commands on conflict (prefix, command) do update "
        "set location_url = excluded.location_url, is_active = true where commands.module_name "
        "= excluded.module_name",
        env_.location_url, std::string(kCustomCommandsModule));
  });
}

boost::asio::awaitable<Actions> CustomCommands::handle(const ModuleRequest& request) {
  if (request.trigger != "command") co_return Actions{};
  if (request.command == "command") co_return co_await manage(request);
  co_return co_await run(request);
}

boost::asio::awaitable<Actions> CustomCommands::manage(const ModuleRequest& request) {
  const std::string sub = request.args.empty() ? std::string() : lower_ascii(request.args[0]);
  if (sub == "list") co_return co_await list(request);
  if (sub != "add" && sub != "edit" && sub != "remove" && sub != "delete") {
    co_return say(std::string(kUsage));
  }
  if (request.role() < Role::moderator) {
    co_return say(role_refusal(request, Role::moderator, "manage custom commands"));
  }
  const std::string_view usage =
      sub == "add" ? kAddUsage : (sub == "edit" ? kEditUsage : kRemoveUsage);
  if (request.args.size() < 2) co_return say(std::string(usage));
  const std::string name = command_name_arg(first_word(skip_words(request.raw_args, 1)));
  if (name.empty()) {
    co_return say("'" + std::string(first_word(skip_words(request.raw_args, 1))) +
                  "' is not a command name (letters, digits, - and _, up to 64). " +
                  std::string(usage));
  }
  if (sub == "remove" || sub == "delete") co_return co_await remove(request, name);
  CustomCommandInput input = parse_custom_command_input(skip_words(request.raw_args, 2));
  if (!input.error.empty()) co_return say(input.error);
  if (const std::size_t length = utf8_length(input.text); length > kMaxCustomTextCharacters) {
    co_return say(text_limit_message(length));
  }
  if (sub == "add") {
    if (input.text.empty()) co_return say(std::string(kAddUsage));
    co_return co_await add(request, name, std::move(input));
  }
  if (input.text.empty() && !input.cooldown_seconds && !input.min_role) {
    co_return say(std::string(kEditUsage));
  }
  co_return co_await edit(request, name, std::move(input));
}

boost::asio::awaitable<Actions> CustomCommands::add(const ModuleRequest& request,
                                                    const std::string& name,
                                                    CustomCommandInput input) {
  enum class Outcome { added, exists, taken };
  struct Result {
    Outcome outcome;
    std::string owner;
  };
  const std::string module(kCustomCommandsModule);
  Result result = co_await env_.pool.transaction([&](pqxx::work& tx) -> Result {
    tx.exec_params(kLockName, name);
    auto owner = tx.exec_params(
        "select module_name from commands where prefix = '!' and command = $1", name);
    if (!owner.empty() && owner[0][0].as<std::string>() != module) {
      return {Outcome::taken, owner[0][0].as<std::string>()};
    }
    auto inserted = tx.exec_params(
        "insert into custom_commands (community_id, name, response, min_role, cooldown_seconds, "
        "created_by, updated_by) values ($1, $2, $3, $4, $5, $6, $6) on conflict (community_id, "
        "name) do nothing returning id",
        request.community_id, name, input.text,
        std::string(role_name(input.min_role.value_or(Role::member))),
        input.cooldown_seconds.value_or(0), request.user_name);
    if (inserted.empty()) return {Outcome::exists, {}};
    tx.exec_params(
        "insert into commands (command, prefix, description, location_url, location, type, "
        "module_name, module_type) values ($1, '!', 'custom command', $2, 'internal', "
        "'container', $3, 'action') on conflict (prefix, command) do update set location_url = "
        "excluded.location_url, is_active = true where commands.module_name = "
        "excluded.module_name",
        name, env_.location_url, module);
    return {Outcome::added, {}};
  });
  switch (result.outcome) {
    case Outcome::taken:
      co_return say("!" + name + " is already a command (module " + result.owner +
                    "); pick another name.");
    case Outcome::exists:
      co_return say("!" + name + " already exists; change it with !command edit !" + name + ".");
    case Outcome::added: break;
  }
  co_return say("Added !" + name + ".");
}

boost::asio::awaitable<Actions> CustomCommands::edit(const ModuleRequest& request,
                                                     const std::string& name,
                                                     CustomCommandInput input) {
  const std::optional<std::string> text =
      input.text.empty() ? std::nullopt : std::optional<std::string>(input.text);
  const std::optional<std::string> role =
      input.min_role ? std::optional<std::string>(role_name(*input.min_role)) : std::nullopt;
  const bool updated = co_await env_.pool.transaction([&](pqxx::work& tx) {
    return !tx.exec_params(
                  "update custom_commands set response = coalesce($3, response), min_role = "
                  "coalesce($4, min_role), cooldown_seconds = coalesce($5, cooldown_seconds), "
                  "updated_by = $6 where community_id = $1 and name = $2 returning id",
                  request.community_id, name, text, role, input.cooldown_seconds, request.user_name)
                .empty();
  });
  if (!updated) co_return say("There is no custom command !" + name + ".");
  co_return say("Updated !" + name + ".");
}

boost::asio::awaitable<Actions> CustomCommands::remove(const ModuleRequest& request,
                                                       const std::string& name) {
  const std::string module(kCustomCommandsModule);
  const bool removed = co_await env_.pool.transaction([&](pqxx::work& tx) {
    tx.exec_params(kLockName, name);
    auto deleted = tx.exec_params(
        "delete from custom_commands where community_id = $1 and name = $2 returning id",
        request.community_id, name);
    if (deleted.empty()) return false;
    tx.exec_params(
        "delete from commands where prefix = '!' and command = $1 and module_name = $2 and not "
        "exists (select 1 from custom_commands where name = $1)",
        name, module);
    return true;
  });
  if (!removed) co_return say("There is no custom command !" + name + ".");
  co_return say("Removed !" + name + ".");
}

boost::asio::awaitable<Actions> CustomCommands::list(const ModuleRequest& request) {
  const std::vector<std::string> names = co_await env_.pool.run(
      [&](pqxx::connection& conn) {
        pqxx::nontransaction tx(conn);
        std::vector<std::string> out;
        for (const auto& row : tx.exec_params(
                 "select name from custom_commands where community_id = $1 order by name",
                 request.community_id)) {
          out.push_back(row[0].as<std::string>());
        }
        return out;
      },
      pg::Target::replica);
  if (names.empty())
    co_return say("No custom commands yet. Add one with !command add !name <text>.");
  std::string text = "Custom commands:";
  for (std::size_t i = 0; i < names.size(); ++i) text += (i == 0 ? " !" : ", !") + names[i];
  co_return say(std::move(text));
}

boost::asio::awaitable<Actions> CustomCommands::run(const ModuleRequest& request) {
  enum class Outcome { missing, refused, cooling, ok };
  struct Result {
    Outcome outcome = Outcome::missing;
    Role min_role = Role::member;
    std::string response;
    std::int64_t count = 0;
  };
  const Role caller = request.role();
  Result result = co_await env_.pool.transaction([&](pqxx::work& tx) {
    Result r;
    auto rows = tx.exec_params(
        "select response, min_role, (cooldown_seconds > 0 and last_used_at is not null and "
        "last_used_at > now() - make_interval(secs => cooldown_seconds)) from custom_commands "
        "where community_id = $1 and name = $2 for update",
        request.community_id, request.command);
    if (rows.empty()) return r;
    r.min_role = parse_role(rows[0][1].as<std::string>()).value_or(Role::owner);
    if (caller < r.min_role) {
      r.outcome = Outcome::refused;
      return r;
    }
    if (rows[0][2].as<bool>()) {
      r.outcome = Outcome::cooling;
      return r;
    }
    r.count = tx.exec_params1(
                    "update custom_commands set use_count = use_count + 1, last_used_at = now() "
                    "where community_id = $1 and name = $2 returning use_count",
                    request.community_id, request.command)[0]
                  .as<std::int64_t>();
    r.response = rows[0][0].as<std::string>();
    r.outcome = Outcome::ok;
    return r;
  });
  switch (result.outcome) {
    case Outcome::missing:  // another community's command of that name: not ours to answer
    case Outcome::cooling: co_return Actions{};
    case Outcome::refused:
      co_return say(role_refusal(request, result.min_role, "use !" + request.command));
    case Outcome::ok: break;
  }
  VariableValues values{.user = request.user_display_name,
                        .args = request.args,
                        .raw_args = request.raw_args,
                        .channel = request.channel_id,
                        .count = result.count,
                        .random = random_between};
  co_return say(expand_variables(result.response, values));
}

}  // namespace waddle::actions
