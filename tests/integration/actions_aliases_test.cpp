// The alias module against the real PostgreSQL: it writes the router's `aliases` table.
#include "actions_chat_harness.hpp"

using namespace waddle::test::actions;

TEST_CASE("aliases: add, list, remove, with roles, the router's shape rules and bad input") {
  ChatHarness h;
  const std::string m = "aliases";
  CHECK(h.chat(m, kAlice, "!alias list") ==
        "No aliases yet. Moderators add them with !alias add <alias> <command…>.");
  CHECK(h.chat(m, kAlice, "!alias add p !ping") ==
        "Sorry alice, only moderators and above can manage aliases.");
  CHECK(h.chat(m, kAlice, "!alias remove p") ==
        "Sorry alice, only moderators and above can manage aliases.");
  CHECK(h.chat(m, kAlice, "!alias") ==
        "Usage: !alias add <alias> <command…> | !alias remove <alias> | !alias list");
  CHECK(contains(h.chat(m, kAlice, "!alias sing"), "Usage: !alias add"));

  const std::string add_usage =
      "Usage: !alias add <alias> <command…> (e.g. !alias add so !shoutout {arg1})";
  CHECK(h.chat(m, kMod, "!alias add") == add_usage);
  CHECK(h.chat(m, kMod, "!alias add p") == add_usage);
  CHECK(contains(h.chat(m, kMod, "!alias add p$ !ping"), "is not an alias name"));
  CHECK(contains(h.chat(m, kMod, "!alias add p ping"), "An alias must run a command"));
  CHECK(contains(h.chat(m, kMod, "!alias add p ! ping"), "An alias must run a command"));
  CHECK(contains(h.chat(m, kMod, "!alias add p !pi;ng"), "'!pi;ng' is not a command name"));
  CHECK(contains(h.chat(m, kMod, "!alias add p !ping " + std::string(500, 'x')),
                 "too long (506 characters; at most 500)"));
  CHECK(h.chat(m, kMod, "!alias add p !nosuch") ==
        "There is no command !nosuch for the alias to run.");
  CHECK(h.chat(m, kMod, "!alias add p #ping") == "There is no command #ping for the alias to run.");
  // A registered command cannot be hidden by an alias, !alias itself least of all.
  CHECK(h.chat(m, kMod, "!alias add quote !ping") ==
        "!quote is already a command (module memories); pick another name.");
  CHECK(h.chat(m, kMod, "!alias add alias !ping") ==
        "!alias is already a command (module aliases); pick another name.");
  CHECK(h.chat(m, kMod, "!alias add p !P x") == "!p cannot be an alias of itself.");
  CHECK(h.query("select 1 from aliases").empty());

  CHECK(h.chat(m, kMod, "!alias add !P !ping {arg1} 🐧 'x'; --") ==
        "Added the alias !p → !ping {arg1} 🐧 'x'; --.");
  CHECK(h.chat(m, kMod, "!alias add p !quote") ==
        "The alias !p already exists; remove it first to change it.");
  // An alias may run another alias of the community (the router follows chains and stops loops).
  CHECK(h.chat(m, kMod, "!alias add pp !p twice") == "Added the alias !pp → !p twice.");
  CHECK(h.chat(m, kMod, "!alias add pp2 !PP") == "Added the alias !pp2 → !PP.");
  CHECK(h.query("select alias, expansion, created_by, is_active from aliases order by alias") ==
        json::array({json::array({"p", "!ping {arg1} 🐧 'x'; --", "modbob", "t"}),
                     json::array({"pp", "!p twice", "modbob", "t"}),
                     json::array({"pp2", "!PP", "modbob", "t"})}));
  CHECK(h.chat(m, kAlice, "!alias list") ==
        "Aliases: !p → !ping {arg1} 🐧 'x'; --, !pp → !p twice, !pp2 → !PP");

  // Another community has its own aliases, and cannot point at this one's.
  const auto other = h.add_community("other");
  CHECK(contains(h.chat(m, kAlice, "!alias list", other), "No aliases yet"));
  CHECK(h.chat(m, kMod, "!alias add x !pp", other) ==
        "There is no command !pp for the alias to run.");
  CHECK(h.chat(m, kMod, "!alias add p !quote", other) == "Added the alias !p → !quote.");

  CHECK(h.chat(m, kMod, "!alias remove") == "Usage: !alias remove <alias>");
  CHECK(h.chat(m, kMod, "!alias remove a b") == "Usage: !alias remove <alias>");
  CHECK(contains(h.chat(m, kMod, "!alias remove p;"), "is not an alias name"));
  CHECK(h.chat(m, kMod, "!alias remove !PP2") == "Removed the alias !pp2.");
  CHECK(h.chat(m, kMod, "!alias remove pp2") == "There is no alias !pp2.");
  CHECK(h.query("select count(*) from aliases")[0][0] == "3");
}

TEST_CASE("aliases: at most 100 per community, and the answer says so") {
  ChatHarness h;
  h.exec("insert into aliases (community_id, alias, expansion) select " +
         std::to_string(h.community()) + ", 'a' || n, '!ping' from generate_series(1, 99) n");
  CHECK(h.chat("aliases", kMod, "!alias add last !ping") == "Added the alias !last → !ping.");
  CHECK(h.chat("aliases", kMod, "!alias add onemore !ping") ==
        "This community already has 100 aliases, the limit.");
  // The list is cut to one chat message.
  const std::string list = h.chat("aliases", kAlice, "!alias list");
  CHECK(list.substr(list.size() - 3) == "…");
}
