// waddle member list COMMUNITY [--role] | add COMMUNITY USER [--role] | set COMMUNITY USER --role
//               | remove COMMUNITY USER
#include "error/error.hpp"
#include "nouns.hpp"
#include "users.hpp"

namespace waddle::cli {
namespace {

const std::vector<std::string> kRoles{"member", "moderator", "admin", "owner"};

std::string member_select() {
  return "select c.name as community, u.id as user_id, " + user_label_sql("u") +
         " as \"user\", u.display_name, m.role, coalesce(t.points, 0) as reputation, "
         "m.joined_at from community_members m join users u on u.id = m.user_id "
         "join communities c on c.id = m.community_id "
         "left join reputation_totals t on t.community_id = m.community_id and t.user_id = "
         "m.user_id ";
}

nlohmann::json load(pqxx::work& tx, long long community_id, long long user_id) {
  auto r = tx.exec_params(member_select() + "where m.community_id = $1 and m.user_id = $2",
                          community_id, user_id);
  return r.empty() ? nlohmann::json() : row_to_json(r[0]);
}

}  // namespace

void add_member_commands(CLI::App& app, Context& ctx) {
  auto* noun = app.add_subcommand(
      "member", "manage community members and their roles (list, add, set, remove)");
  noun->require_subcommand(1);
  const std::string user_doc = "user: <platform>:<username> (e.g. twitch:alice) or #<user id>";

  struct Args {
    std::string community, user, role;
  };

  auto list_args = std::make_shared<Args>();
  auto* list = noun->add_subcommand("list", "list a community's members with role and reputation");
  list->add_option("community", list_args->community, "community name or numeric id")->required();
  list->add_option("--role", list_args->role, "only members with this role")
      ->check(CLI::IsMember(kRoles));
  list->callback([&ctx, list_args] {
    auto rows = ctx.read([&](pqxx::work& tx) {
      auto id = find_community(tx, list_args->community)["id"].get<long long>();
      return rows_to_json(tx.exec_params(member_select() +
                                             "where m.community_id = $1 and ($2 = '' or m.role = "
                                             "$2) order by u.id",
                                         id, list_args->role));
    });
    print_rows(ctx.out(), ctx.format(), rows,
               {"user_id", "user", "display_name", "role", "reputation", "joined_at"}, "user_id");
  });

  auto add_args = std::make_shared<Args>();
  add_args->role = "member";
  auto* add = noun->add_subcommand(
      "add", "make a user a member of a community (creates the user if it does not exist yet)");
  add->add_option("community", add_args->community, "community name or numeric id")->required();
  add->add_option("user", add_args->user, user_doc)->required();
  add->add_option("--role", add_args->role, "the member's role")
      ->check(CLI::IsMember(kRoles))
      ->capture_default_str();
  add->callback([&ctx, add_args] {
    const auto& a = *add_args;
    auto ref = parse_user_ref("USER", a.user);
    auto row = ctx.write(
        "member.add", a.community + "/" + a.user,
        [&](pqxx::work& tx) {
          auto community = find_community(tx, a.community);
          auto community_id = community["id"].get<long long>();
          bool created = false;
          auto user_id = find_or_create_user(tx, ref, &created);
          auto inserted = tx.exec_params(
              "insert into community_members (community_id, user_id, role) values ($1, $2, $3) "
              "on conflict (community_id, user_id) do nothing returning id",
              community_id, user_id, a.role);
          if (inserted.empty()) {
            // A user created just now is already in the global community (trigger): set its role.
            if (!created) {
              auto existing = load(tx, community_id, user_id);
              throw Error(Errc::invalid_argument,
                          "user '" + a.user + "' is already a member of " +
                              community["name"].get<std::string>() + " (role " +
                              existing["role"].get<std::string>() +
                              "); use `waddle member set` to change the role");
            }
            tx.exec_params(
                "update community_members set role = $3 where community_id = $1 and user_id = $2",
                community_id, user_id, a.role);
          }
          auto row = load(tx, community_id, user_id);
          row["user_created"] = created;
          return row;
        },
        {{"role", a.role}});
    print_object(ctx.out(), ctx.format(), row, "user_id");
  });

  auto set_args = std::make_shared<Args>();
  auto* set = noun->add_subcommand("set", "change a member's role");
  set->add_option("community", set_args->community, "community name or numeric id")->required();
  set->add_option("user", set_args->user, user_doc)->required();
  set->add_option("--role", set_args->role, "the new role")
      ->check(CLI::IsMember(kRoles))
      ->required();
  set->callback([&ctx, set_args] {
    const auto& a = *set_args;
    auto ref = parse_user_ref("USER", a.user);
    auto row = ctx.write(
        "member.set", a.community + "/" + a.user,
        [&](pqxx::work& tx) {
          auto community = find_community(tx, a.community);
          auto community_id = community["id"].get<long long>();
          auto user_id = find_user(tx, ref);
          auto r = tx.exec_params(
              "update community_members set role = $3 where community_id = $1 and user_id = $2 "
              "returning id",
              community_id, user_id, a.role);
          if (r.empty()) {
            throw Error(Errc::not_found, "user '" + a.user + "' is not a member of " +
                                             community["name"].get<std::string>());
          }
          return load(tx, community_id, user_id);
        },
        {{"role", a.role}});
    print_object(ctx.out(), ctx.format(), row, "user_id");
  });

  auto remove_args = std::make_shared<Args>();
  auto* remove = noun->add_subcommand(
      "remove", "remove a member from a community (never from waddlebot-global)");
  remove->add_option("community", remove_args->community, "community name or numeric id")
      ->required();
  remove->add_option("user", remove_args->user, user_doc)->required();
  remove->callback([&ctx, remove_args] {
    const auto& a = *remove_args;
    auto ref = parse_user_ref("USER", a.user);
    auto row = ctx.write("member.remove", a.community + "/" + a.user, [&](pqxx::work& tx) {
      auto community = find_community(tx, a.community);
      auto name = community["name"].get<std::string>();
      if (community["is_global"].get<bool>()) {
        throw Error(Errc::invalid_argument,
                    "members of " + name + " can never be removed (every user belongs to it)");
      }
      auto community_id = community["id"].get<long long>();
      auto user_id = find_user(tx, ref);
      auto row = load(tx, community_id, user_id);
      if (row.is_null()) {
        throw Error(Errc::not_found, "user '" + a.user + "' is not a member of " + name);
      }
      translate_sqlstate("WD002", "members of the global community can never be removed", [&] {
        return tx.exec_params(
            "delete from community_members where community_id = $1 and "
            "user_id = $2",
            community_id, user_id);
      });
      return row;
    });
    if (ctx.format() == Format::table) {
      ctx.out() << "removed " << row["user"].get<std::string>() << " from "
                << row["community"].get<std::string>() << '\n';
    } else {
      print_object(ctx.out(), ctx.format(), row, "user_id");
    }
  });
}

}  // namespace waddle::cli
