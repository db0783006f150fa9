#include "actions/modules/aliases/aliases.hpp"

#include <pqxx/pqxx>

#include "actions/text.hpp"
#include "pg/pool.hpp"

namespace waddle::actions {
namespace {

using Actions = std::vector<model::Action>;

constexpr std::string_view kUsage =
    "Usage: !alias add <alias> <command…> | !alias remove <alias> | !alias list";
constexpr std::string_view kAddUsage =
    "Usage: !alias add <alias> <command…> (e.g. !alias add so !shoutout {arg1})";
constexpr std::string_view kRemoveUsage = "Usage: !alias remove <alias>";

// Serialises alias changes in one community, so the per-community limit holds.
constexpr const char* kLockCommunity =
    "select pg_advisory_xact_lock(hashtext('waddle.aliases'), ($1 % 2147483647)::integer)";

}  // namespace

std::string alias_name_arg(std::string_view word) {
  if (!word.empty() && word.front() == '!') word.remove_prefix(1);
  std::string name = lower_ascii(word);
  return is_command_name(name) ? name : std::string();
}

ExpansionTarget parse_expansion(std::string_view expansion) {
  ExpansionTarget target;
  expansion = trim(expansion);
  const std::string_view first = expansion.substr(0, expansion.find_first_of(" \t\n\r\f\v"));
  if (first.size() < 2 || (first.front() != '!' && first.front() != '#')) {
    target.error =
        "An alias must run a command: its text starts with ! or # and the command's "
        "name.";
    return target;
  }
  target.command = lower_ascii(first.substr(1));
  if (!is_command_name(target.command)) {
    target.error = "'" + trim_chat(first, 70) + "' is not a command name.";
    target.command.clear();
    return target;
  }
  target.prefix = first.front();
  return target;
}

std::vector<CommandSpec> Aliases::commands() const {
  return {{"alias", "command aliases: !alias add <alias> <command…> | remove <alias> | list"}};
}

boost::asio::awaitable<Actions> Aliases::handle(const ModuleRequest& request) {
  if (request.trigger != "command" || request.command != "alias") co_return Actions{};
  const std::string sub = request.args.empty() ? std::string() : lower_ascii(request.args[0]);
  if (sub == "list") co_return co_await list(request);
  if (sub != "add" && sub != "remove" && sub != "delete") co_return say(std::string(kUsage));
  if (request.role() < Role::moderator) {
    co_return say(role_refusal(request, Role::moderator, "manage aliases"));
  }
  if (sub == "add") co_return co_await add(request);
  co_return co_await remove(request);
}

boost::asio::awaitable<Actions> Aliases::add(const ModuleRequest& request) {
  if (request.args.size() < 3) co_return say(std::string(kAddUsage));
  const std::string alias = alias_name_arg(request.args[1]);
  if (alias.empty()) {
    co_return say("'" + trim_chat(request.args[1], 70) +
                  "' is not an alias name (letters, digits, - and _, up to 64). " +
                  std::string(kAddUsage));
  }
  const std::string expansion(skip_words(request.raw_args, 2));
  const ExpansionTarget target = parse_expansion(expansion);
  if (!target.error.empty()) co_return say(target.error + " " + std::string(kAddUsage));
  if (const std::size_t length = utf8_length(expansion); length > kMaxExpansionCharacters) {
    co_return say("That alias is too long (" + std::to_string(length) + " characters; at most " +
                  std::to_string(kMaxExpansionCharacters) + ").");
  }
  for (char c : expansion) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) co_return say("An alias cannot hold control characters or lines.");
  }
  if (target.prefix == '!' && target.command == alias) {
    co_return say("!" + alias + " cannot be an alias of itself.");
  }
  enum class Outcome { taken, no_target, exists, full, added };
  struct Result {
    Outcome outcome = Outcome::added;
    std::string owner;
  };
  const std::string target_prefix(1, target.prefix);
  Result result = co_await env_.pool.transaction([&](pqxx::work& tx) {
    Result r;
    tx.exec_params(kLockCommunity, request.community_id);
    auto owner = tx.exec_params(
        "select coalesce(module_name, '') from commands where prefix = '!' and command = $1",
        alias);
    if (!owner.empty()) {
      r.outcome = Outcome::taken;
      r.owner = owner[0][0].as<std::string>();
      return r;
    }
    const bool target_exists =
        !tx.exec_params(
               "select 1 from commands where prefix = $1 and command = $2 and is_active union all "
               "select 1 from aliases where $1 = '!' and community_id = $3 and alias = $2",
               target_prefix, target.command, request.community_id)
             .empty();
    if (!target_exists) {
      r.outcome = Outcome::no_target;
      return r;
    }
    if (tx.exec_params1("select count(*) from aliases where community_id = $1",
                        request.community_id)[0]
            .as<int>() >= kMaxAliasesPerCommunity) {
      r.outcome = Outcome::full;
      return r;
    }
    auto inserted = tx.exec_params(
        "insert into aliases (community_id, alias, expansion, created_by) values ($1, $2, $3, "
        "$4) on conflict (community_id, alias) do nothing returning id",
        request.community_id, alias, expansion, request.user_name);
    if (inserted.empty()) r.outcome = Outcome::exists;
    return r;
  });
  switch (result.outcome) {
    case Outcome::taken:
      co_return say("!" + alias + " is already a command" +
                    (result.owner.empty() ? std::string() : " (module " + result.owner + ")") +
                    "; pick another name.");
    case Outcome::no_target:
      co_return say("There is no command " + target_prefix + target.command +
                    " for the alias to run.");
    case Outcome::exists:
      co_return say("The alias !" + alias + " already exists; remove it first to change it.");
    case Outcome::full:
      co_return say("This community already has " + std::to_string(kMaxAliasesPerCommunity) +
                    " aliases, the limit.");
    case Outcome::added: break;
  }
  co_return say("Added the alias !" + alias + " → " + expansion + ".");
}

boost::asio::awaitable<Actions> Aliases::remove(const ModuleRequest& request) {
  if (request.args.size() != 2) co_return say(std::string(kRemoveUsage));
  const std::string alias = alias_name_arg(request.args[1]);
  if (alias.empty()) {
    co_return say("'" + trim_chat(request.args[1], 70) + "' is not an alias name. " +
                  std::string(kRemoveUsage));
  }
  const bool removed = co_await env_.pool.transaction([&](pqxx::work& tx) {
    tx.exec_params(kLockCommunity, request.community_id);
    return !tx.exec_params(
                  "delete from aliases where community_id = $1 and alias = $2 returning id",
                  request.community_id, alias)
                .empty();
  });
  if (!removed) co_return say("There is no alias !" + alias + ".");
  co_return say("Removed the alias !" + alias + ".");
}

boost::asio::awaitable<Actions> Aliases::list(const ModuleRequest& request) {
  const std::vector<std::string> entries = co_await env_.pool.run(
      [&](pqxx::connection& conn) {
        pqxx::nontransaction tx(conn);
        std::vector<std::string> out;
        for (const auto& row : tx.exec_params(
                 "select alias, expansion from aliases where community_id = $1 and is_active "
                 "order by alias",
                 request.community_id)) {
          out.push_back("!" + row[0].as<std::string>() + " → " + row[1].as<std::string>());
        }
        return out;
      },
      pg::Target::replica);
  if (entries.empty()) {
    co_return say("No aliases yet. Moderators add them with !alias add <alias> <command…>.");
  }
  std::string text = "Aliases:";
  for (std::size_t i = 0; i < entries.size(); ++i) text += (i == 0 ? " " : ", ") + entries[i];
  co_return say(std::move(text));
}

}  // namespace waddle::actions
