// waddle entity list [--community] [--platform] | show ID | add ID --community C [--owner]
//               | set ID [--community] [--owner] [--active] | remove ID
#include <cctype>
#include <optional>

#include "error/error.hpp"
#include "nouns.hpp"
#include "users.hpp"

namespace waddle::cli {
namespace {

struct EntityId {
  std::string platform, server, channel;
};

// `<platform>:<server>:<channel>`, each part non-empty, no whitespace; the platform known.
EntityId parse_entity_id(const std::string& text) {
  const std::string shape = " (expected <platform>:<server>:<channel>, e.g. twitch:channel:alice)";
  auto first = text.find(':');
  auto second = first == std::string::npos ? first : text.find(':', first + 1);
  if (second == std::string::npos || text.find(':', second + 1) != std::string::npos) {
    throw Error(Errc::invalid_argument, "ENTITY_ID: malformed entity id '" + text + "'" + shape);
  }
  EntityId id{text.substr(0, first), text.substr(first + 1, second - first - 1),
              text.substr(second + 1)};
  if (id.platform.empty() || id.server.empty() || id.channel.empty()) {
    throw Error(Errc::invalid_argument,
                "ENTITY_ID: empty platform, server or channel in '" + text + "'" + shape);
  }
  for (unsigned char c : text) {
    if (std::isspace(c) || std::iscntrl(c)) {
      throw Error(Errc::invalid_argument,
                  "ENTITY_ID: '" + text + "' contains whitespace or control bytes");
    }
  }
  require_platform("ENTITY_ID", id.platform);
  return id;
}

constexpr const char* kSelect =
    "select e.id, e.entity_id, e.platform, e.server_id, e.channel_id, c.name as community, "
    "e.owner, e.is_active, e.config, e.created_at, e.updated_at "
    "from entities e join communities c on c.id = e.community_id ";

nlohmann::json load(pqxx::work& tx, const std::string& entity_id) {
  auto r = tx.exec_params(std::string(kSelect) + "where e.entity_id = $1", entity_id);
  if (r.empty()) throw Error(Errc::not_found, "entity '" + entity_id + "' not found");
  return row_to_json(r[0]);
}

}  // namespace

void add_entity_commands(CLI::App& app, Context& ctx) {
  auto* noun = app.add_subcommand(
      "entity", "link platform channels to communities (list, show, add, set, remove)");
  noun->require_subcommand(1);
  const std::string id_doc =
      "<platform>:<server>:<channel>; platform twitch, discord, slack or console "
      "(Twitch uses the word 'channel' as server)";

  struct Args {
    std::string entity_id, community, platform, owner, active;
  };

  auto list_args = std::make_shared<Args>();
  auto* list = noun->add_subcommand("list", "list entities");
  list->add_option("--community", list_args->community, "only this community's (name or id)");
  list->add_option("--platform", list_args->platform, "only this platform's")
      ->check(CLI::IsMember(platform_names()));
  list->callback([&ctx, list_args] {
    auto rows = ctx.read([&](pqxx::work& tx) {
      long long community_id = 0;
      if (!list_args->community.empty()) {
        community_id = find_community(tx, list_args->community)["id"].get<long long>();
      }
      return rows_to_json(tx.exec_params(std::string(kSelect) +
                                             "where ($1 = 0 or e.community_id = $1) and "
                                             "($2 = '' or e.platform = $2) order by e.entity_id",
                                         community_id, list_args->platform));
    });
    print_rows(ctx.out(), ctx.format(), rows,
               {"entity_id", "community", "owner", "is_active", "created_at"}, "entity_id");
  });

  auto show_id = std::make_shared<std::string>();
  auto* show = noun->add_subcommand("show", "show one entity");
  show->add_option("entity_id", *show_id, id_doc)->required();
  show->callback([&ctx, show_id] {
    auto row = ctx.read([&](pqxx::work& tx) { return load(tx, *show_id); });
    print_object(ctx.out(), ctx.format(), row, "entity_id");
  });

  auto add_args = std::make_shared<Args>();
  auto* add = noun->add_subcommand("add", "link a platform channel to a community");
  add->add_option("entity_id", add_args->entity_id, id_doc)->required();
  add->add_option("--community", add_args->community, "the community (name or id)")->required();
  add->add_option("--owner", add_args->owner, "who owns the channel (free text)");
  add->callback([&ctx, add_args] {
    const auto& a = *add_args;
    auto id = parse_entity_id(a.entity_id);
    auto row = ctx.write(
        "entity.add", a.entity_id,
        [&](pqxx::work& tx) {
          auto community_id = find_community(tx, a.community)["id"].get<long long>();
          auto existing = tx.exec_params(
              "select c.name from entities e join communities c on c.id = e.community_id "
              "where e.entity_id = $1",
              a.entity_id);
          if (!existing.empty()) {
            throw Error(Errc::invalid_argument, "entity '" + a.entity_id +
                                                    "' already exists (in community " +
                                                    existing[0][0].as<std::string>() + ")");
          }
          std::optional<std::string> owner;
          if (!a.owner.empty()) owner = a.owner;
          tx.exec_params(
              "insert into entities (entity_id, platform, server_id, channel_id, community_id, "
              "owner) values ($1, $2, $3, $4, $5, $6)",
              a.entity_id, id.platform, id.server, id.channel, community_id, owner);
          return load(tx, a.entity_id);
        },
        {{"community", a.community}, {"owner", a.owner}});
    print_object(ctx.out(), ctx.format(), row, "entity_id");
  });

  auto set_args = std::make_shared<Args>();
  auto* set = noun->add_subcommand("set", "move an entity to another community, or change it");
  set->add_option("entity_id", set_args->entity_id, id_doc)->required();
  auto* community_opt =
      set->add_option("--community", set_args->community, "the new community (name or id)");
  auto* owner_opt = set->add_option("--owner", set_args->owner, "the new owner (free text)");
  auto* active_opt =
      set->add_option("--active", set_args->active, "whether the router serves this channel")
          ->check(CLI::IsMember({"true", "false"}));
  set->callback([&ctx, set_args, community_opt, owner_opt, active_opt] {
    const auto& a = *set_args;
    parse_entity_id(a.entity_id);
    nlohmann::json changes = nlohmann::json::object();
    if (community_opt->count()) changes["community"] = a.community;
    if (owner_opt->count()) changes["owner"] = a.owner;
    if (active_opt->count()) changes["is_active"] = parse_bool_text(a.active);
    if (changes.empty()) {
      throw Error(Errc::invalid_argument,
                  "nothing to change: give --community, --owner or --active");
    }
    auto row = ctx.write(
        "entity.set", a.entity_id,
        [&](pqxx::work& tx) {
          load(tx, a.entity_id);  // not_found first
          std::optional<long long> community_id;
          if (community_opt->count()) {
            community_id = find_community(tx, a.community)["id"].get<long long>();
          }
          std::optional<bool> active;
          if (active_opt->count()) active = parse_bool_text(a.active);
          tx.exec_params(
              "update entities set community_id = coalesce($2, community_id), "
              "owner = case when $3 then nullif($4, '') else owner end, "
              "is_active = coalesce($5, is_active) where entity_id = $1",
              a.entity_id, community_id, owner_opt->count() > 0, a.owner, active);
          return load(tx, a.entity_id);
        },
        changes);
    print_object(ctx.out(), ctx.format(), row, "entity_id");
  });

  auto remove_id = std::make_shared<std::string>();
  auto* remove = noun->add_subcommand("remove", "unlink a platform channel from its community");
  remove->add_option("entity_id", *remove_id, id_doc)->required();
  remove->callback([&ctx, remove_id] {
    auto row = ctx.write("entity.remove", *remove_id, [&](pqxx::work& tx) {
      auto row = load(tx, *remove_id);
      tx.exec_params("delete from entities where entity_id = $1", *remove_id);
      return row;
    });
    if (ctx.format() == Format::table) {
      ctx.out() << "removed entity " << *remove_id << '\n';
    } else {
      print_object(ctx.out(), ctx.format(), row, "entity_id");
    }
  });
}

}  // namespace waddle::cli
