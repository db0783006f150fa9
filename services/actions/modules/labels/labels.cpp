#include "actions/modules/labels/labels.hpp"

#include <exception>
#include <map>

#include <pqxx/pqxx>

#include "actions/modules/platform_users/platform_users.hpp"
#include "actions/text.hpp"
#include "model/event.hpp"
#include "pg/pool.hpp"

namespace waddle::actions {
namespace {

using Actions = std::vector<model::Action>;

constexpr std::string_view kUsage =
    "Usage: !labels [@user] | !label who <label> | !label list | !label add @user <label> | "
    "!label remove @user <label> | !label delete <label> | !label role <label> <platform> "
    "<role|none>";
constexpr std::string_view kAddUsage = "Usage: !label add @user <label>";
constexpr std::string_view kRemoveUsage = "Usage: !label remove @user <label>";
constexpr std::string_view kWhoUsage = "Usage: !label who <label>";
constexpr std::string_view kDeleteUsage = "Usage: !label delete <label>";
constexpr std::string_view kRoleUsage = "Usage: !label role <label> <platform> <role|none>";
constexpr std::string_view kBadLabel = "A label is 1 to 63 characters without control characters.";

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

std::string show_label(const std::string& name) {
  return trim_chat(name, kMaxLabelCharacters);
}

// A platform role as label_roles stores it: 1 to 100 bytes without whitespace or control
// characters (a Twitch badge name, a Discord role id, a Slack user group).
bool is_platform_role(std::string_view role) {
  if (role.empty() || role.size() > 100) return false;
  for (char c : role) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7F) return false;
  }
  return true;
}

// The label's platform roles for `user_id`'s accounts, and the community's channel per platform,
// read inside the caller's transaction.
std::vector<RoleGrant> role_grants(pqxx::transaction_base& tx, std::int64_t community_id,
                                   std::int64_t label_id, std::int64_t user_id) {
  std::vector<RoleGrant> grants;
  for (const auto& row : tx.exec_params(
           "select lr.platform, lr.role, pi.platform_user_id, pi.username, (select e.entity_id "
           "from entities e where e.community_id = $3 and e.platform = lr.platform and "
           "e.is_active order by e.id limit 1) from label_roles lr join platform_identities pi "
           "on pi.user_id = $2 and pi.platform = lr.platform where lr.label_id = $1 order by "
           "lr.platform, pi.id",
           label_id, user_id, community_id)) {
    grants.push_back({.platform = row[0].as<std::string>(),
                      .role = row[1].as<std::string>(),
                      .platform_user_id = row[2].as<std::string>(),
                      .username = row[3].as<std::string>(),
                      .entity_id = row[4].is_null() ? std::string() : row[4].as<std::string>()});
  }
  return grants;
}

}  // namespace

std::optional<std::string> parse_label_name(std::string_view text) {
  text = trim(text);
  if (text.size() >= 2 && text.front() == '"' && text.back() == '"') {
    text = trim(text.substr(1, text.size() - 2));
  }
  if (text.empty() || utf8_length(text) > kMaxLabelCharacters) return std::nullopt;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) return std::nullopt;
  }
  return std::string(text);
}

boost::asio::awaitable<Actions> Labels::with_roles(const ModuleRequest& request, std::string text,
                                                   const std::vector<RoleGrant>& grants,
                                                   const std::string& label, bool grant) {
  Actions reply;
  std::map<std::string, std::pair<std::string, Actions>> elsewhere;  // platform → entity, actions
  for (const auto& g : grants) {
    model::RoleAction action{.user_id = g.platform_user_id,
                             .user_name = g.username,
                             .role = g.role,
                             .grant = grant,
                             .reason = "label " + label};
    if (g.platform == request.platform) {
      reply.emplace_back(std::move(action));
    } else {
      auto& slot = elsewhere[g.platform];
      slot.first = g.entity_id;
      slot.second.emplace_back(std::move(action));
    }
  }
  std::string notes;
  for (auto& [platform, slot] : elsewhere) {
    std::string problem;
    if (slot.first.empty()) {
      problem = "this community has no " + platform + " channel";
    } else if (!env_.outbox) {
      problem = "no connection to the router";
    } else {
      std::exception_ptr failure;
      try {
        co_await env_.outbox->send(slot.first, std::move(slot.second), std::string(kLabelsModule));
      } catch (const std::exception&) {
        failure = std::current_exception();
      }
      if (failure) {
        try {
          std::rethrow_exception(failure);
        } catch (const std::exception& e) {
          problem = trim_chat(e.what(), 100);
        }
      }
    }
    if (!problem.empty()) {
      notes += " (could not " + std::string(grant ? "grant" : "revoke") + " the " + platform +
               " role: " + problem + ")";
    }
  }
  reply.insert(reply.begin(), model::ChatAction{.text = std::move(text) + notes});
  co_return reply;
}

boost::asio::awaitable<Actions> Labels::map_role(const ModuleRequest& request) {
  if (request.args.size() < 4) co_return say(std::string(kRoleUsage));
  const std::string& role_word = request.args.back();
  const std::string platform = lower_ascii(request.args[request.args.size() - 2]);
  std::string label_text;
  for (std::size_t i = 1; i + 2 < request.args.size(); ++i) {
    label_text += (label_text.empty() ? "" : " ") + request.args[i];
  }
  const auto label = parse_label_name(label_text);
  if (!label) co_return say(std::string(kBadLabel) + " " + std::string(kRoleUsage));
  if (!model::is_platform(platform)) {
    co_return say("'" + trim_chat(request.args[request.args.size() - 2], 40) +
                  "' is not a platform (twitch, discord, slack or console). " +
                  std::string(kRoleUsage));
  }
  const bool clear = lower_ascii(role_word) == "none";
  if (!clear && !is_platform_role(role_word)) {
    co_return say("A platform role is 1 to 100 characters without spaces. " +
                  std::string(kRoleUsage));
  }
  struct Result {
    std::optional<std::string> name;
    bool changed = false;
  };
  auto store = [&](pqxx::work& tx) {
    Result r;
    auto found = tx.exec_params(
        "select id, name from labels where community_id = $1 and lower(name) = lower($2)",
        request.community_id, *label);
    if (found.empty()) return r;
    r.name = found[0][1].as<std::string>();
    const auto label_id = found[0][0].as<std::int64_t>();
    if (clear) {
      r.changed = !tx.exec_params(
                         "delete from label_roles where label_id = $1 and platform = $2 "
                         "returning id",
                         label_id, platform)
                       .empty();
    } else {
      tx.exec_params(
          "insert into label_roles (community_id, label_id, platform, role, created_by) values "
          "($1, $2, $3, $4, $5) on conflict (label_id, platform) do update set role = "
          "excluded.role, created_by = excluded.created_by, created_at = now()",
          request.community_id, label_id, platform, role_word, request.user_name);
      r.changed = true;
    }
    return r;
  };
  const Result result = co_await env_.pool.transaction(std::move(store));
  if (!result.name) co_return say("There is no label " + show_label(*label) + " here.");
  if (clear) {
    co_return say(result.changed
                      ? "The label " + *result.name + " no longer grants a " + platform + " role."
                      : "The label " + *result.name + " grants no " + platform + " role.");
  }
  co_return say("The label " + *result.name + " now grants the " + platform + " role " + role_word +
                " (to people who get it from now on).");
}

std::vector<CommandSpec> Labels::commands() const {
  return {{"label", "user labels: !label who|list|add|remove|delete|role"},
          {"labels", "a user's labels: !labels [@user]"}};
}

boost::asio::awaitable<Actions> Labels::handle(const ModuleRequest& request) {
  if (request.trigger != "command") co_return Actions{};
  if (request.command == "labels") co_return co_await show(request);
  if (request.command != "label") co_return Actions{};
  const std::string sub = request.args.empty() ? std::string() : lower_ascii(request.args[0]);
  if (sub == "who") co_return co_await who(request);
  if (sub == "list") co_return co_await list(request);
  if (sub == "add" || sub == "remove" || sub == "delete") {
    if (request.role() < Role::moderator) {
      co_return say(role_refusal(request, Role::moderator, "manage labels"));
    }
    if (sub == "add") co_return co_await assign(request);
    if (sub == "remove") co_return co_await unassign(request);
    co_return co_await remove_label(request);
  }
  if (sub == "role") {
    if (request.role() < Role::admin) {
      co_return say(role_refusal(request, Role::admin, "map labels to platform roles"));
    }
    co_return co_await map_role(request);
  }
  co_return say(std::string(kUsage));
}

boost::asio::awaitable<Actions> Labels::show(const ModuleRequest& request) {
  std::string mention;
  if (!request.args.empty()) {
    auto parsed = request.args.size() == 1 ? parse_mention(request.args[0], true) : std::nullopt;
    if (!parsed) co_return say("Usage: !labels [@user]");
    mention = *parsed;
  }
  struct Found {
    Person person;
    std::vector<std::string> labels;
  };
  Found found = co_await env_.pool.run(
      [&](pqxx::connection& conn) {
        pqxx::read_transaction tx(conn);
        Found f;
        f.person = find_person(tx, request, mention, false);
        if (f.person.id == 0) return f;
        for (const auto& row : tx.exec_params(
                 "select l.name from label_assignments a join labels l on l.id = a.label_id "
                 "where a.community_id = $1 and a.user_id = $2 order by lower(l.name)",
                 request.community_id, f.person.id)) {
          f.labels.push_back(row[0].as<std::string>());
        }
        return f;
      },
      pg::Target::replica);
  if (found.person.id == 0 && !found.person.is_caller) {
    co_return say(unknown_person(request, found.person.name));
  }
  if (found.labels.empty()) co_return say(found.person.name + " has no labels here.");
  co_return say(found.person.name + "'s labels: " + join(found.labels));
}

boost::asio::awaitable<Actions> Labels::who(const ModuleRequest& request) {
  const auto label = parse_label_name(skip_words(request.raw_args, 1));
  if (!label) co_return say(std::string(kWhoUsage));
  struct Found {
    std::optional<std::string> name;
    std::vector<std::string> users;
    std::int64_t total = 0;
  };
  Found found = co_await env_.pool.run(
      [&](pqxx::connection& conn) {
        pqxx::read_transaction tx(conn);
        Found f;
        auto rows = tx.exec_params(
            "select id, name, (select count(*) from label_assignments a where a.label_id = "
            "labels.id) from labels where community_id = $1 and lower(name) = lower($2)",
            request.community_id, *label);
        if (rows.empty()) return f;
        f.name = rows[0][1].as<std::string>();
        f.total = rows[0][2].as<std::int64_t>();
        for (const auto& row :
             tx.exec_params("select " + user_name_sql("a.user_id", "$2") +
                                " as who from label_assignments a where a.label_id = $1 "
                                "order by lower(" +
                                user_name_sql("a.user_id", "$2") + "), a.user_id limit 50",
                            rows[0][0].as<std::int64_t>(), request.platform)) {
          f.users.push_back(row[0].as<std::string>());
        }
        return f;
      },
      pg::Target::replica);
  if (!found.name) co_return say("There is no label " + show_label(*label) + " here.");
  if (found.users.empty()) co_return say("Nobody has the label " + *found.name + ".");
  std::string text = *found.name + " (" + std::to_string(found.total) + "): " + join(found.users);
  if (found.total > static_cast<std::int64_t>(found.users.size())) text += ", …";
  co_return say(std::move(text));
}

boost::asio::awaitable<Actions> Labels::list(const ModuleRequest& request) {
  const std::vector<std::string> labels = co_await env_.pool.run(
      [&](pqxx::connection& conn) {
        pqxx::nontransaction tx(conn);
        std::vector<std::string> out;
        for (const auto& row : tx.exec_params(
                 "select l.name, (select count(*) from label_assignments a where a.label_id = "
                 "l.id) from labels l where l.community_id = $1 order by lower(l.name)",
                 request.community_id)) {
          out.push_back(row[0].as<std::string>() + " (" + row[1].as<std::string>() + ")");
        }
        return out;
      },
      pg::Target::replica);
  if (labels.empty()) {
    co_return say("No labels yet. Moderators add them with !label add @user <label>.");
  }
  co_return say("Labels: " + join(labels));
}

boost::asio::awaitable<Actions> Labels::assign(const ModuleRequest& request) {
  const auto mention =
      request.args.size() >= 2 ? parse_mention(request.args[1], true) : std::nullopt;
  const auto label = parse_label_name(skip_words(request.raw_args, 2));
  if (!mention || request.args.size() < 3) co_return say(std::string(kAddUsage));
  if (!label) co_return say(std::string(kBadLabel) + " " + std::string(kAddUsage));
  if (!tracks_users(request)) co_return say(unknown_person(request, *mention));
  enum class Outcome { unknown_user, added, created, already };
  enum class Stage { label, assignment };
  struct Result {
    Outcome outcome = Outcome::unknown_user;
    Person person;
    std::string label;
    std::vector<RoleGrant> grants;
  };
  Stage stage = Stage::label;
  Result result;
  try {
    result = co_await env_.pool.transaction([&](pqxx::work& tx) {
      Result r;
      stage = Stage::label;
      r.person = find_person(tx, request, *mention, true);
      if (r.person.id == 0) return r;
      auto found = tx.exec_params(
          "select id, name from labels where community_id = $1 and lower(name) = lower($2)",
          request.community_id, *label);
      bool created = false;
      if (found.empty()) {
        found = tx.exec_params(
            "insert into labels (community_id, name, created_by) values ($1, $2, $3) returning "
            "id, name",
            request.community_id, *label, request.user_name);
        created = true;
      }
      r.label = found[0][1].as<std::string>();
      stage = Stage::assignment;
      auto assigned = tx.exec_params(
          "insert into label_assignments (community_id, label_id, user_id, assigned_by) values "
          "($1, $2, $3, $4) on conflict (label_id, user_id) do nothing returning id",
          request.community_id, found[0][0].as<std::int64_t>(), r.person.id, request.user_name);
      r.outcome =
          assigned.empty() ? Outcome::already : (created ? Outcome::created : Outcome::added);
      if (r.outcome == Outcome::added) {
        r.grants =
            role_grants(tx, request.community_id, found[0][0].as<std::int64_t>(), r.person.id);
      }
      return r;
    });
  } catch (const pqxx::sql_error& e) {
    if (!is_limit_error(e)) throw;
    if (stage == Stage::label) {
      co_return say("This community already has " + std::to_string(kLabelLimit) +
                    " labels, the limit. Delete one first with !label delete <label>.");
    }
    co_return say(*mention + " already has " + std::to_string(kLabelLimit) +
                  " labels here, the limit.");
  }
  switch (result.outcome) {
    case Outcome::unknown_user: co_return say(unknown_person(request, result.person.name));
    case Outcome::already:
      co_return say(result.person.name + " already has the label " + result.label + ".");
    case Outcome::created:
      co_return say("Created the label " + result.label + " and gave it to " + result.person.name +
                    ".");
    case Outcome::added: break;
  }
  co_return co_await with_roles(request,
                                "Gave " + result.person.name + " the label " + result.label + ".",
                                result.grants, result.label, true);
}

boost::asio::awaitable<Actions> Labels::unassign(const ModuleRequest& request) {
  const auto mention =
      request.args.size() >= 2 ? parse_mention(request.args[1], true) : std::nullopt;
  const auto label = parse_label_name(skip_words(request.raw_args, 2));
  if (!mention || !label || request.args.size() < 3) co_return say(std::string(kRemoveUsage));
  enum class Outcome { unknown_user, no_label, not_assigned, removed };
  struct Result {
    Outcome outcome = Outcome::unknown_user;
    Person person;
    std::string label;
    std::vector<RoleGrant> grants;
  };
  Result result = co_await env_.pool.transaction([&](pqxx::work& tx) {
    Result r;
    r.person = find_person(tx, request, *mention, false);
    if (r.person.id == 0) return r;
    auto found = tx.exec_params(
        "select id, name from labels where community_id = $1 and lower(name) = lower($2)",
        request.community_id, *label);
    if (found.empty()) {
      r.outcome = Outcome::no_label;
      return r;
    }
    r.label = found[0][1].as<std::string>();
    const bool removed =
        !tx.exec_params(
               "delete from label_assignments where label_id = $1 and user_id = $2 returning id",
               found[0][0].as<std::int64_t>(), r.person.id)
             .empty();
    r.outcome = removed ? Outcome::removed : Outcome::not_assigned;
    if (removed) {
      r.grants = role_grants(tx, request.community_id, found[0][0].as<std::int64_t>(), r.person.id);
    }
    return r;
  });
  switch (result.outcome) {
    case Outcome::unknown_user:
      if (result.person.is_caller) {
        co_return say(result.person.name + " does not have the label " + show_label(*label) + ".");
      }
      co_return say(unknown_person(request, result.person.name));
    case Outcome::no_label: co_return say("There is no label " + show_label(*label) + " here.");
    case Outcome::not_assigned:
      co_return say(result.person.name + " does not have the label " + result.label + ".");
    case Outcome::removed: break;
  }
  co_return co_await with_roles(
      request, "Took the label " + result.label + " from " + result.person.name + ".",
      result.grants, result.label, false);
}

boost::asio::awaitable<Actions> Labels::remove_label(const ModuleRequest& request) {
  const auto label = parse_label_name(skip_words(request.raw_args, 1));
  if (!label) co_return say(std::string(kDeleteUsage));
  const std::optional<std::pair<std::string, std::int64_t>> removed =
      co_await env_.pool.transaction(
          [&](pqxx::work& tx) -> std::optional<std::pair<std::string, std::int64_t>> {
            auto rows = tx.exec_params(
                "with gone as (delete from labels where community_id = $1 and lower(name) = "
                "lower($2) returning id, name) select gone.name, (select count(*) from "
                "label_assignments a where a.label_id = gone.id) from gone",
                request.community_id, *label);
            if (rows.empty()) return std::nullopt;
            return std::pair{rows[0][0].as<std::string>(), rows[0][1].as<std::int64_t>()};
          });
  if (!removed) co_return say("There is no label " + show_label(*label) + " here.");
  co_return say("Deleted the label " + removed->first + " (" + std::to_string(removed->second) +
                (removed->second == 1 ? " user" : " users") + " had it).");
}

}  // namespace waddle::actions
