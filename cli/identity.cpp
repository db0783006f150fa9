// waddle identity list [USER] [--platform P] | link USER PLATFORM PLATFORM_USER_ID [--username]
//                 | unlink PLATFORM PLATFORM_USER_ID
#include <cctype>
#include <optional>

#include "error/error.hpp"
#include "nouns.hpp"
#include "users.hpp"

namespace waddle::cli {
namespace {

constexpr const char* kSelect =
    "select pi.id, pi.user_id, pi.platform, pi.platform_user_id, pi.username, pi.display_name, "
    "pi.verified_at, pi.created_at from platform_identities pi ";

void check_text(const std::string& what, const std::string& value) {
  if (value.empty()) throw Error(Errc::invalid_argument, what + ": must not be empty");
  if (value.size() > 255) throw Error(Errc::invalid_argument, what + ": longer than 255 bytes");
  for (unsigned char c : value) {
    if (std::isspace(c) || std::iscntrl(c)) {
      throw Error(Errc::invalid_argument,
                  what + ": '" + value + "' contains whitespace or control bytes");
    }
  }
}

}  // namespace

void add_identity_commands(CLI::App& app, Context& ctx) {
  auto* noun = app.add_subcommand("identity", "a user's platform identities (list, link, unlink)");
  noun->require_subcommand(1);

  struct Args {
    std::string user, platform, platform_user_id, username, display_name;
  };

  auto list_args = std::make_shared<Args>();
  auto* list =
      noun->add_subcommand("list", "list platform identities (all, one user's, or one platform's)");
  list->add_option("user", list_args->user,
                   "only this user's: <platform>:<username> or #<user id>");
  list->add_option("--platform", list_args->platform, "only identities on this platform")
      ->check(CLI::IsMember(platform_names()));
  list->callback([&ctx, list_args] {
    std::optional<UserRef> ref;
    if (!list_args->user.empty()) ref = parse_user_ref("USER", list_args->user);
    auto rows = ctx.read([&](pqxx::work& tx) {
      long long user_id = ref ? find_user(tx, *ref) : 0;
      return rows_to_json(tx.exec_params(std::string(kSelect) +
                                             "where ($1 = 0 or pi.user_id = $1) and "
                                             "($2 = '' or pi.platform = $2) order by pi.user_id, "
                                             "pi.id",
                                         user_id, list_args->platform));
    });
    print_rows(ctx.out(), ctx.format(), rows,
               {"id", "user_id", "platform", "platform_user_id", "username", "verified_at"});
  });

  auto link_args = std::make_shared<Args>();
  auto* link = noun->add_subcommand(
      "link", "link another platform identity to an existing user (marked verified)");
  link->add_option("user", link_args->user,
                   "the existing user: <platform>:<username> or #<user id>")
      ->required();
  link->add_option("platform", link_args->platform, "platform of the new identity")
      ->check(CLI::IsMember(platform_names()))
      ->required();
  link->add_option("platform_user_id", link_args->platform_user_id,
                   "the user's id on that platform")
      ->required();
  link->add_option("--username", link_args->username,
                   "the user's name on that platform (default: PLATFORM_USER_ID)");
  link->add_option("--display-name", link_args->display_name, "display name on that platform");
  link->callback([&ctx, link_args] {
    const auto& a = *link_args;
    auto ref = parse_user_ref("USER", a.user);
    check_text("PLATFORM_USER_ID", a.platform_user_id);
    auto username = a.username.empty() ? a.platform_user_id : a.username;
    check_text("--username", username);
    auto target = a.platform + ":" + a.platform_user_id;
    auto row = ctx.write(
        "identity.link", target,
        [&](pqxx::work& tx) {
          auto user_id = find_user(tx, ref);
          auto existing = tx.exec_params(
              "select user_id from platform_identities where platform = $1 and "
              "platform_user_id = $2",
              a.platform, a.platform_user_id);
          if (!existing.empty()) {
            auto owner = existing[0][0].as<long long>();
            throw Error(Errc::invalid_argument,
                        a.platform + " identity '" + a.platform_user_id +
                            "' is already linked to " +
                            (owner == user_id ? std::string("this user")
                                              : "user #" + std::to_string(owner)) +
                            (owner == user_id ? "" : "; unlink it first"));
          }
          std::optional<std::string> display;
          if (!a.display_name.empty()) display = a.display_name;
          auto id = tx.exec_params1(
                          "insert into platform_identities (user_id, platform, platform_user_id, "
                          "username, display_name, verified_at) values ($1, $2, $3, $4, $5, now()) "
                          "returning id",
                          user_id, a.platform, a.platform_user_id, username, display)[0]
                        .as<long long>();
          return row_to_json(tx.exec_params1(std::string(kSelect) + "where pi.id = $1", id));
        },
        {{"user", a.user}, {"username", username}});
    print_object(ctx.out(), ctx.format(), row);
  });

  auto unlink_args = std::make_shared<Args>();
  auto* unlink = noun->add_subcommand("unlink", "remove a platform identity from its user");
  unlink->add_option("platform", unlink_args->platform, "platform of the identity")
      ->check(CLI::IsMember(platform_names()))
      ->required();
  unlink
      ->add_option("platform_user_id", unlink_args->platform_user_id,
                   "the user's id on that platform")
      ->required();
  unlink->callback([&ctx, unlink_args] {
    const auto& a = *unlink_args;
    auto target = a.platform + ":" + a.platform_user_id;
    auto row = ctx.write("identity.unlink", target, [&](pqxx::work& tx) {
      auto r = tx.exec_params(
          std::string(kSelect) + "where pi.platform = $1 and pi.platform_user_id = $2", a.platform,
          a.platform_user_id);
      if (r.empty()) {
        throw Error(Errc::not_found,
                    a.platform + " identity '" + a.platform_user_id + "' not found");
      }
      auto row = row_to_json(r[0]);
      tx.exec_params("delete from platform_identities where id = $1", row["id"].get<long long>());
      return row;
    });
    if (ctx.format() == Format::table) {
      ctx.out() << "unlinked " << target << " from user #" << row["user_id"].get<long long>()
                << '\n';
    } else {
      print_object(ctx.out(), ctx.format(), row);
    }
  });
}

}  // namespace waddle::cli
