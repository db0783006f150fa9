// waddle label list COMMUNITY | show COMMUNITY LABEL | add COMMUNITY NAME [--color] [--description]
//              | remove COMMUNITY NAME | assign COMMUNITY LABEL USER | unassign COMMUNITY LABEL
//              USER | role COMMUNITY LABEL [PLATFORM ROLE|none]
#include <cctype>
#include <optional>
#include <regex>

#include "error/error.hpp"
#include "nouns.hpp"
#include "users.hpp"

namespace waddle::cli {
namespace {

constexpr int kLabelLimit = 5;  // per community, and per user per community (the DB triggers)

constexpr const char* kSelect =
    "select l.id, c.name as community, l.name, l.color, l.description, "
    "(select count(*) from label_assignments a where a.label_id = l.id) as users, "
    "l.created_by, l.created_at from labels l join communities c on c.id = l.community_id ";

void check_label_name(const std::string& what, const std::string& name) {
  bool ok = !name.empty() && !std::isspace(static_cast<unsigned char>(name[0])) &&
            display_width(name) <= 63 && name.find('\n') == std::string::npos;
  if (!ok) {
    throw Error(Errc::invalid_argument, what + ": '" + name +
                                            "' is not a valid label name (1 to 63 characters, "
                                            "not starting with a space)");
  }
}

// The label's row (case-insensitive name or numeric id); Error(not_found) otherwise.
nlohmann::json find_label(pqxx::work& tx, long long community_id, const std::string& community,
                          const std::string& name) {
  auto r = tx.exec_params(std::string(kSelect) +
                              "where l.community_id = $1 and (lower(l.name) = lower($2) or "
                              "($2 ~ '^[0-9]{1,18}$' and l.id = $2::bigint)) "
                              "order by (lower(l.name) = lower($2)) desc limit 1",
                          community_id, name);
  if (r.empty()) {
    throw Error(Errc::not_found, "label '" + name + "' not found in community " + community);
  }
  return row_to_json(r[0]);
}

}  // namespace

void add_label_commands(CLI::App& app, Context& ctx) {
  auto* noun = app.add_subcommand(
      "label",
      "user labels per community, at most 5 per community and 5 per user (list, show, "
      "add, remove, assign, unassign, role)");
  noun->require_subcommand(1);
  const std::string community_doc = "community name or numeric id";
  const std::string user_doc = "user: <platform>:<username> (e.g. twitch:alice) or #<user id>";

  struct Args {
    std::string community, label, user, color, description;
  };

  auto list_args = std::make_shared<Args>();
  auto* list = noun->add_subcommand("list", "list a community's labels with their user counts");
  list->add_option("community", list_args->community, community_doc)->required();
  list->callback([&ctx, list_args] {
    auto rows = ctx.read([&](pqxx::work& tx) {
      auto id = find_community(tx, list_args->community)["id"].get<long long>();
      return rows_to_json(tx.exec_params(
          std::string(kSelect) + "where l.community_id = $1 order by lower(l.name)", id));
    });
    print_rows(ctx.out(), ctx.format(), rows, {"id", "name", "color", "users", "description"},
               "name");
  });

  auto show_args = std::make_shared<Args>();
  auto* show = noun->add_subcommand("show", "show a label and the users who carry it");
  show->add_option("community", show_args->community, community_doc)->required();
  show->add_option("label", show_args->label, "label name (case-insensitive) or id")->required();
  show->callback([&ctx, show_args] {
    const auto& a = *show_args;
    auto label = ctx.read([&](pqxx::work& tx) {
      auto community = find_community(tx, a.community);
      auto label = find_label(tx, community["id"].get<long long>(),
                              community["name"].get<std::string>(), a.label);
      label["assigned"] = rows_to_json(tx.exec_params(
          "select u.id as user_id, " + user_label_sql("u") +
              " as \"user\", u.display_name, a.assigned_by, a.created_at as assigned_at "
              "from label_assignments a join users u on u.id = a.user_id where a.label_id = $1 "
              "order by u.id",
          label["id"].get<long long>()));
      return label;
    });
    switch (ctx.format()) {
      case Format::json: ctx.out() << label.dump(2) << '\n'; break;
      case Format::quiet:
        for (const auto& u : label["assigned"]) ctx.out() << u["user_id"].get<long long>() << '\n';
        break;
      case Format::table: {
        auto users = label["assigned"];
        label.erase("assigned");
        print_object(ctx.out(), ctx.format(), label);
        if (!users.empty()) {
          ctx.out() << '\n';
          print_rows(ctx.out(), ctx.format(), users,
                     {"user_id", "user", "display_name", "assigned_by", "assigned_at"}, "user_id");
        }
        break;
      }
    }
  });

  auto add_args = std::make_shared<Args>();
  auto* add = noun->add_subcommand("add", "create a label (at most 5 per community)");
  add->add_option("community", add_args->community, community_doc)->required();
  add->add_option("name", add_args->label, "label name: 1 to 63 characters")->required();
  add->add_option("--color", add_args->color, "colour as #rrggbb");
  add->add_option("--description", add_args->description, "free text");
  add->callback([&ctx, add_args] {
    const auto& a = *add_args;
    check_label_name("NAME", a.label);
    static const std::regex color_shape("^#[0-9a-fA-F]{6}$");
    if (!a.color.empty() && !std::regex_match(a.color, color_shape)) {
      throw Error(Errc::invalid_argument, "--color: expected #rrggbb, got '" + a.color + "'");
    }
    auto row = ctx.write(
        "label.add", a.community + "/" + a.label,
        [&](pqxx::work& tx) {
          auto community = find_community(tx, a.community);
          auto name = community["name"].get<std::string>();
          const auto limit_message = "community " + name + " already has " +
                                     std::to_string(kLabelLimit) +
                                     " labels, the limit; remove one first";
          auto same = tx.exec_params(
              "select name from labels where community_id = $1 and lower(name) = lower($2)",
              community["id"].get<long long>(), a.label);
          if (!same.empty()) {
            throw Error(Errc::invalid_argument, "label '" + same[0][0].as<std::string>() +
                                                    "' already exists in community " + name);
          }
          std::optional<std::string> color;
          if (!a.color.empty()) color = a.color;
          auto id = translate_sqlstate(
                        "WD001", limit_message,
                        [&] {
                          return tx.exec_params1(
                              "insert into labels (community_id, name, color, description, "
                              "created_by) values ($1, $2, $3, $4, $5) returning id",
                              community["id"].get<long long>(), a.label, color, a.description,
                              Context::actor());
                        })[0]
                        .as<long long>();
          return row_to_json(tx.exec_params1(std::string(kSelect) + "where l.id = $1", id));
        },
        {{"color", a.color}, {"description", a.description}});
    print_object(ctx.out(), ctx.format(), row, "name");
  });

  auto remove_args = std::make_shared<Args>();
  auto* remove = noun->add_subcommand("remove", "delete a label and all its assignments");
  remove->add_option("community", remove_args->community, community_doc)->required();
  remove->add_option("name", remove_args->label, "label name (case-insensitive) or id")->required();
  remove->callback([&ctx, remove_args] {
    const auto& a = *remove_args;
    auto row = ctx.write("label.remove", a.community + "/" + a.label, [&](pqxx::work& tx) {
      auto community = find_community(tx, a.community);
      auto label = find_label(tx, community["id"].get<long long>(),
                              community["name"].get<std::string>(), a.label);
      tx.exec_params("delete from labels where id = $1", label["id"].get<long long>());
      return label;
    });
    if (ctx.format() == Format::table) {
      ctx.out() << "removed label " << row["name"].get<std::string>() << " from "
                << row["community"].get<std::string>() << '\n';
    } else {
      print_object(ctx.out(), ctx.format(), row, "name");
    }
  });

  auto role_args = std::make_shared<Args>();
  auto role_platform = std::make_shared<std::string>();
  auto role_value = std::make_shared<std::string>();
  auto* role = noun->add_subcommand(
      "role",
      "the platform roles a label grants (a Twitch vip, a Discord role id): list them, set one "
      "per platform, or remove one with ROLE none");
  role->add_option("community", role_args->community, community_doc)->required();
  role->add_option("label", role_args->label, "label name (case-insensitive) or id")->required();
  role->add_option("platform", *role_platform, "twitch, discord, slack or console")
      ->check(CLI::IsMember({"twitch", "discord", "slack", "console"}));
  role->add_option("role", *role_value,
                   "the platform's role name or id (1 to 100 characters, no spaces), or none");
  role->callback([&ctx, role_args, role_platform, role_value] {
    const auto& a = *role_args;
    if (!role_platform->empty() && role_value->empty()) {
      throw Error(Errc::invalid_argument, "ROLE: required with PLATFORM (none removes the role)");
    }
    static const std::regex role_shape("^[^\\s[:cntrl:]]{1,100}$");
    const bool clear = *role_value == "none";
    if (!role_platform->empty() && !clear && !std::regex_match(*role_value, role_shape)) {
      throw Error(Errc::invalid_argument, "ROLE: '" + *role_value +
                                              "' is not a platform role (1 to 100 characters "
                                              "without spaces or control characters)");
    }
    auto body = [&](pqxx::work& tx) {
      auto community = find_community(tx, a.community);
      auto community_id = community["id"].get<long long>();
      auto label = find_label(tx, community_id, community["name"].get<std::string>(), a.label);
      auto label_id = label["id"].get<long long>();
      if (clear) {
        if (tx.exec_params("delete from label_roles where label_id = $1 and platform = $2 "
                           "returning id",
                           label_id, *role_platform)
                .empty()) {
          throw Error(Errc::not_found, "label '" + label["name"].get<std::string>() +
                                           "' grants no " + *role_platform + " role");
        }
      } else if (!role_platform->empty()) {
        tx.exec_params(
            "insert into label_roles (community_id, label_id, platform, role, created_by) "
            "values ($1, $2, $3, $4, $5) on conflict (label_id, platform) do update set role = "
            "excluded.role, created_by = excluded.created_by, created_at = now()",
            community_id, label_id, *role_platform, *role_value, Context::actor());
      }
      return rows_to_json(tx.exec_params(
          "select l.name as label, r.platform, r.role, r.created_by, r.created_at from "
          "label_roles r join labels l on l.id = r.label_id where r.label_id = $1 order by "
          "r.platform",
          label_id));
    };
    auto rows = role_platform->empty()
                    ? ctx.read(body)
                    : ctx.write(clear ? "label.role.remove" : "label.role",
                                a.community + "/" + a.label + "/" + *role_platform, body,
                                nlohmann::json{{"role", *role_value}});
    print_rows(ctx.out(), ctx.format(), rows, {"label", "platform", "role", "created_by"},
               "platform");
  });

  // assign and unassign share their arguments and lookup.
  for (bool assign : {true, false}) {
    auto args = std::make_shared<Args>();
    auto* verb = noun->add_subcommand(
        assign ? "assign" : "unassign",
        assign ? "give a user a label (at most 5 per user per community; creates the user if "
                 "needed)"
               : "take a label away from a user");
    verb->add_option("community", args->community, community_doc)->required();
    verb->add_option("label", args->label, "label name (case-insensitive) or id")->required();
    verb->add_option("user", args->user, user_doc)->required();
    verb->callback([&ctx, args, assign] {
      const auto& a = *args;
      auto ref = parse_user_ref("USER", a.user);
      auto action = std::string(assign ? "label.assign" : "label.unassign");
      auto row = ctx.write(action, a.community + "/" + a.label + "/" + a.user, [&](pqxx::work& tx) {
        auto community = find_community(tx, a.community);
        auto name = community["name"].get<std::string>();
        auto community_id = community["id"].get<long long>();
        auto label = find_label(tx, community_id, name, a.label);
        auto label_id = label["id"].get<long long>();
        auto label_name = label["name"].get<std::string>();
        auto user_id = assign ? find_or_create_user(tx, ref) : find_user(tx, ref);
        if (assign) {
          auto limit_message = "user '" + a.user + "' already has " + std::to_string(kLabelLimit) +
                               " labels in " + name + ", the limit; unassign one first";
          auto r = translate_sqlstate("WD001", limit_message, [&] {
            return tx.exec_params(
                "insert into label_assignments (community_id, label_id, "
                "user_id, assigned_by) values ($1, $2, $3, $4) "
                "on conflict (label_id, user_id) do nothing returning id",
                community_id, label_id, user_id, Context::actor());
          });
          if (r.empty()) {
            throw Error(Errc::invalid_argument,
                        "user '" + a.user + "' already has label '" + label_name + "'");
          }
        } else {
          auto r = tx.exec_params(
              "delete from label_assignments where label_id = $1 and "
              "user_id = $2 returning id",
              label_id, user_id);
          if (r.empty()) {
            throw Error(Errc::not_found,
                        "user '" + a.user + "' does not have label '" + label_name + "'");
          }
        }
        auto user = describe_user(tx, user_id);
        user["community"] = name;
        user["label"] = label_name;
        user["label_id"] = label_id;
        return user;
      });
      if (ctx.format() == Format::table) {
        ctx.out() << (assign ? "assigned label " : "unassigned label ")
                  << row["label"].get<std::string>() << (assign ? " to " : " from ")
                  << row["user"].get<std::string>() << " in " << row["community"].get<std::string>()
                  << '\n';
      } else {
        print_object(ctx.out(), ctx.format(), row, "user_id");
      }
    });
  }
}

}  // namespace waddle::cli
