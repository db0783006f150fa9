// waddle community list | show NAME | add NAME | set NAME | remove NAME [--force]
#include <algorithm>
#include <cctype>
#include <optional>
#include <regex>

#include "actions/modules/calendar/time_zone.hpp"
#include "error/error.hpp"
#include "nouns.hpp"
#include "users.hpp"

namespace waddle::cli {
namespace {

constexpr const char* kColumns =
    "c.id, c.name, c.display_name, c.description, c.is_global, c.is_active, "
    "coalesce(c.config->>'command_prefixes', '!') as prefixes, "
    "coalesce(c.config->>'timezone', 'UTC') as timezone, "
    "(select count(*) from community_members m where m.community_id = c.id) as members, "
    "(select count(*) from entities e where e.community_id = c.id) as entities, "
    "c.created_by, c.created_at, c.updated_at";

void check_name(const std::string& name) {
  static const std::regex shape("^[a-z0-9][a-z0-9_-]{0,62}$");
  if (!std::regex_match(name, shape)) {
    throw Error(Errc::invalid_argument,
                "NAME: '" + name +
                    "' is not a valid community name (lower-case letters, digits, '_' and '-', "
                    "starting with a letter or digit, at most 63 characters)");
  }
}

nlohmann::json load(pqxx::work& tx, long long id) {
  return row_to_json(tx.exec_params1(
      std::string("select ") + kColumns + " from communities c where c.id = $1", id));
}

}  // namespace

void add_community_commands(CLI::App& app, Context& ctx) {
  auto* noun = app.add_subcommand("community", "manage communities (list, show, add, set, remove)");
  noun->require_subcommand(1);

  auto* list = noun->add_subcommand("list", "list every community with its member/entity counts");
  list->callback([&ctx] {
    auto rows = ctx.read([](pqxx::work& tx) {
      return rows_to_json(
          tx.exec(std::string("select ") + kColumns + " from communities c order by c.name"));
    });
    print_rows(ctx.out(), ctx.format(), rows,
               {"id", "name", "display_name", "is_global", "is_active", "members", "entities"},
               "name");
  });

  auto* show = noun->add_subcommand("show", "show one community");
  auto show_name = std::make_shared<std::string>();
  show->add_option("name", *show_name, "community name or numeric id")->required();
  show->callback([&ctx, show_name] {
    auto row = ctx.read([&](pqxx::work& tx) {
      return load(tx, find_community(tx, *show_name)["id"].get<long long>());
    });
    print_object(ctx.out(), ctx.format(), row, "name");
  });

  struct AddArgs {
    std::string name, display_name, description;
  };
  auto add_args = std::make_shared<AddArgs>();
  auto* add = noun->add_subcommand("add", "create a community");
  add->add_option("name", add_args->name,
                  "community name: lower-case letters, digits, '_' and '-', at most 63")
      ->required();
  add->add_option("--display-name", add_args->display_name,
                  "human-readable name (default: the name)");
  add->add_option("--description", add_args->description, "free text");
  add->callback([&ctx, add_args] {
    check_name(add_args->name);
    const auto& a = *add_args;
    auto row = ctx.write(
        "community.add", a.name,
        [&](pqxx::work& tx) {
          if (!tx.exec_params("select 1 from communities where name = $1", a.name).empty()) {
            throw Error(Errc::invalid_argument, "community '" + a.name + "' already exists");
          }
          auto id = tx.exec_params1(
                          "insert into communities (name, display_name, description, created_by) "
                          "values ($1, $2, $3, $4) returning id",
                          a.name, a.display_name.empty() ? a.name : a.display_name, a.description,
                          Context::actor())[0]
                        .as<long long>();
          return load(tx, id);
        },
        {{"display_name", a.display_name}, {"description", a.description}});
    print_object(ctx.out(), ctx.format(), row, "name");
  });

  struct SetArgs {
    std::string name, display_name, description, active, prefixes, timezone;
  };
  auto set_args = std::make_shared<SetArgs>();
  auto* set =
      noun->add_subcommand("set", "change a community's display name, description or state");
  set->add_option("name", set_args->name, "community name or numeric id")->required();
  auto* display_opt =
      set->add_option("--display-name", set_args->display_name, "new human-readable name");
  auto* description_opt =
      set->add_option("--description", set_args->description, "new description");
  auto* active_opt =
      set->add_option("--active", set_args->active, "enable or disable the community")
          ->check(CLI::IsMember({"true", "false"}));
  auto* prefixes_opt = set->add_option(
      "--prefixes", set_args->prefixes,
      "characters that start a local command in this community, e.g. '!?' (default '!'; '#' "
      "always starts a marketplace command)");
  auto* timezone_opt = set->add_option(
      "--timezone", set_args->timezone,
      "the community's time zone (IANA name, e.g. Europe/Berlin; default UTC): !remind at 18:00 "
      "and calendar events are read and shown in it");
  set->callback([&ctx, set_args, display_opt, description_opt, active_opt, prefixes_opt,
                 timezone_opt] {
    const auto& a = *set_args;
    nlohmann::json changes = nlohmann::json::object();
    if (display_opt->count()) changes["display_name"] = a.display_name;
    if (description_opt->count()) changes["description"] = a.description;
    if (active_opt->count()) changes["is_active"] = parse_bool_text(a.active);
    if (prefixes_opt->count()) {
      const bool valid = !a.prefixes.empty() && a.prefixes.size() <= 8 &&
                         std::all_of(a.prefixes.begin(), a.prefixes.end(), [&](char c) {
                           return c != '#' && std::ispunct(static_cast<unsigned char>(c)) &&
                                  std::count(a.prefixes.begin(), a.prefixes.end(), c) == 1;
                         });
      if (!valid) {
        throw Error(Errc::invalid_argument,
                    "--prefixes: expected 1 to 8 different punctuation characters other than '#', "
                    "got '" +
                        a.prefixes + "'");
      }
      changes["prefixes"] = a.prefixes;
    }
    if (timezone_opt->count()) {
      // The calendar reads the system's tzdata files: a zone it cannot load would fall back to
      // UTC silently, so it is refused here.
      if (!actions::is_time_zone_name(a.timezone) || !actions::TimeZone::load(a.timezone)) {
        throw Error(Errc::invalid_argument,
                    "--timezone: '" + a.timezone +
                        "' is not a time zone of this system (an IANA name such as Europe/Berlin "
                        "or America/New_York; see /usr/share/zoneinfo)");
      }
      changes["timezone"] = a.timezone;
    }
    if (changes.empty()) {
      throw Error(Errc::invalid_argument,
                  "nothing to change: give --display-name, --description, --active, --prefixes or "
                  "--timezone");
    }
    auto row = ctx.write(
        "community.set", a.name,
        [&](pqxx::work& tx) {
          auto id = find_community(tx, a.name)["id"].get<long long>();
          // Each column keeps its value when its option was not given (NULL parameter).
          auto text_or_null = [&](const char* key) -> std::optional<std::string> {
            if (!changes.contains(key)) return std::nullopt;
            return changes[key].get<std::string>();
          };
          std::optional<bool> active;
          if (changes.contains("is_active")) active = changes["is_active"].get<bool>();
          tx.exec_params(
              "update communities set display_name = coalesce($2, display_name), "
              "description = coalesce($3, description), is_active = coalesce($4, is_active), "
              "config = case when $5::text is null then config "
              "  else jsonb_set(config, '{command_prefixes}', to_jsonb($5::text)) end "
              "where id = $1",
              id, text_or_null("display_name"), text_or_null("description"), active,
              text_or_null("prefixes"));
          if (auto zone = text_or_null("timezone")) {
            tx.exec_params(
                "update communities set config = jsonb_set(config, '{timezone}', "
                "to_jsonb($2::text)) "
                "where id = $1",
                id, *zone);
          }
          return load(tx, id);
        },
        changes);
    print_object(ctx.out(), ctx.format(), row, "name");
  });

  auto remove_name = std::make_shared<std::string>();
  auto remove_force = std::make_shared<bool>(false);
  auto* remove = noun->add_subcommand(
      "remove", "delete a community with its members, labels, aliases and reputation");
  remove->add_option("name", *remove_name, "community name or numeric id")->required();
  remove->add_flag("--force", *remove_force,
                   "also remove its entities (channels linked to the community)");
  remove->callback([&ctx, remove_name, remove_force] {
    auto row = ctx.write(
        "community.remove", *remove_name,
        [&](pqxx::work& tx) {
          auto community = find_community(tx, *remove_name);
          auto name = community["name"].get<std::string>();
          if (community["is_global"].get<bool>()) {
            throw Error(Errc::invalid_argument, "community '" + name +
                                                    "' is the global community and can never be "
                                                    "removed");
          }
          auto id = community["id"].get<long long>();
          auto row = load(tx, id);
          auto entities = row["entities"].get<long long>();
          if (entities > 0 && !*remove_force) {
            throw Error(Errc::invalid_argument,
                        "community '" + name + "' still has " + std::to_string(entities) +
                            " entit" + (entities == 1 ? "y" : "ies") +
                            "; pass --force to remove it together with them");
          }
          tx.exec_params("delete from communities where id = $1", id);
          return row;
        },
        {{"force", *remove_force}});
    if (ctx.format() == Format::table) {
      ctx.out() << "removed community " << row["name"].get<std::string>() << '\n';
    } else {
      print_object(ctx.out(), ctx.format(), row, "name");
    }
  });
}

}  // namespace waddle::cli
