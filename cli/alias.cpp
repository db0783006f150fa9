// waddle alias list COMMUNITY | show COMMUNITY ALIAS | add COMMUNITY ALIAS EXPANSION |
// remove COMMUNITY ALIAS. `!hi` in a community runs the alias `hi`'s expansion.
#include <cctype>

#include "checks.hpp"
#include "error/error.hpp"
#include "nouns.hpp"

namespace waddle::cli {
namespace {

using checks::refuse;

constexpr const char* kColumns =
    "a.id, a.alias, a.expansion, a.description, a.is_active, a.usage_count, a.last_used, "
    "a.created_by, a.created_at, a.updated_at";

// The alias as stored: a leading `!` is accepted (that is how people type it) and dropped.
std::string alias_word(const std::string& text) {
  std::string word = !text.empty() && text[0] == '!' ? text.substr(1) : text;
  if (!checks::is_command_word(word)) {
    refuse("ALIAS: '" + text +
           "' is not a valid alias (lower-case letters, digits, '_' and '-', starting with a "
           "letter or digit, at most 64 characters; no prefix)");
  }
  return word;
}

void check_expansion(const std::string& alias, const std::string& expansion) {
  if (expansion.size() < 2 || (expansion[0] != '!' && expansion[0] != '#') ||
      std::isspace(static_cast<unsigned char>(expansion[1]))) {
    refuse("EXPANSION: '" + expansion + "' must start with a command: ! or # then its name");
  }
  auto first_word = expansion.substr(0, expansion.find_first_of(" \t"));
  if (first_word == "!" + alias) refuse("EXPANSION: alias '" + alias + "' would expand to itself");
}

nlohmann::json load(pqxx::work& tx, long long community_id, const std::string& community,
                    const std::string& alias) {
  auto r = tx.exec_params(std::string("select ") + kColumns +
                              " from aliases a where a.community_id = $1 and a.alias = $2",
                          community_id, alias);
  if (r.empty()) {
    throw Error(Errc::not_found,
                "alias '" + alias + "' not found in community '" + community + "'");
  }
  return row_to_json(r[0]);
}

}  // namespace

void add_alias_commands(CLI::App& app, Context& ctx) {
  auto* noun =
      app.add_subcommand("alias", "per-community command aliases (list, show, add, remove)");
  noun->require_subcommand(1);

  {
    auto* list = noun->add_subcommand("list", "list a community's aliases");
    auto community = std::make_shared<std::string>();
    list->add_option("community", *community, "community name or id")->required();
    list->callback([&ctx, community] {
      auto rows = ctx.read([&](pqxx::work& tx) {
        auto c = find_community(tx, *community);
        return rows_to_json(
            tx.exec_params(std::string("select ") + kColumns +
                               " from aliases a where a.community_id = $1 order by a.alias",
                           c["id"].get<long long>()));
      });
      print_rows(ctx.out(), ctx.format(), rows,
                 {"alias", "expansion", "description", "usage_count", "last_used"}, "alias");
    });
  }

  {
    auto* show = noun->add_subcommand("show", "show one alias");
    auto community = std::make_shared<std::string>();
    auto alias = std::make_shared<std::string>();
    show->add_option("community", *community, "community name or id")->required();
    show->add_option("alias", *alias, "the alias, without or with its leading !")->required();
    show->callback([&ctx, community, alias] {
      auto word = alias_word(*alias);
      auto row = ctx.read([&](pqxx::work& tx) {
        auto c = find_community(tx, *community);
        return load(tx, c["id"].get<long long>(), *community, word);
      });
      print_object(ctx.out(), ctx.format(), row, "alias");
    });
  }

  {
    auto* add = noun->add_subcommand("add", "add an alias: !ALIAS runs EXPANSION");
    auto community = std::make_shared<std::string>();
    auto alias = std::make_shared<std::string>();
    auto expansion = std::make_shared<std::string>();
    auto description = std::make_shared<std::string>();
    add->add_option("community", *community, "community name or id")->required();
    add->add_option("alias", *alias, "the alias word (a leading ! is dropped)")->required();
    add->add_option("expansion", *expansion,
                    "what it runs, starting with ! or #; may use {user}, {arg1}…, {all_args}")
        ->required();
    add->add_option("--description", *description, "one-line description");
    add->callback([&ctx, community, alias, expansion, description] {
      auto word = alias_word(*alias);
      check_expansion(word, *expansion);
      auto row = ctx.write(
          "alias.add", *community + ":" + word,
          [&](pqxx::work& tx) {
            auto c = find_community(tx, *community);
            auto id = c["id"].get<long long>();
            if (!tx.exec_params("select 1 from aliases where community_id = $1 and alias = $2", id,
                                word)
                     .empty()) {
              refuse("alias '" + word + "' already exists in community '" + *community +
                     "' (remove it first to change it)");
            }
            tx.exec_params(
                "insert into aliases (community_id, alias, expansion, description, created_by) "
                "values ($1, $2, $3, $4, $5)",
                id, word, *expansion, *description, Context::actor());
            return load(tx, id, *community, word);
          },
          nlohmann::json{{"expansion", *expansion}});
      print_object(ctx.out(), ctx.format(), row, "alias");
    });
  }

  {
    auto* remove = noun->add_subcommand("remove", "delete an alias");
    auto community = std::make_shared<std::string>();
    auto alias = std::make_shared<std::string>();
    remove->add_option("community", *community, "community name or id")->required();
    remove->add_option("alias", *alias, "the alias, without or with its leading !")->required();
    remove->callback([&ctx, community, alias] {
      auto word = alias_word(*alias);
      auto row = ctx.write("alias.remove", *community + ":" + word, [&](pqxx::work& tx) {
        auto c = find_community(tx, *community);
        auto id = c["id"].get<long long>();
        auto row = load(tx, id, *community, word);
        tx.exec_params("delete from aliases where community_id = $1 and alias = $2", id, word);
        return row;
      });
      if (ctx.format() == Format::table) {
        ctx.out() << "removed alias " << word << " from " << *community << '\n';
      } else {
        print_object(ctx.out(), ctx.format(), row, "alias");
      }
    });
  }
}

}  // namespace waddle::cli
