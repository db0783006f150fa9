// `waddle rule …` and `waddle alias …` against a fresh migrated database.
#include "support/cli_checks.hpp"

using namespace waddle::test;

namespace {

void add_entity(const FreshDatabase& db, long long community, const std::string& server,
                const std::string& channel) {
  sql(db,
      "insert into entities (entity_id, platform, server_id, channel_id, community_id) "
      "values ('twitch:" +
          server + ":" + channel + "', 'twitch', '" + server + "', '" + channel + "', " +
          std::to_string(community) + ")");
}

}  // namespace

TEST_CASE("alias add, list, show, remove") {
  FreshDatabase db(true);
  add_community(db, "demo");
  auto added = json_of(run_waddle(
      db, {"--json", "alias", "add", "demo", "hi", "!so {arg1}", "--description", "greet"}));
  CHECK(added["alias"] == "hi");
  CHECK(added["expansion"] == "!so {arg1}");
  CHECK(added["description"] == "greet");
  auto q = run_waddle(db, {"-q", "alias", "add", "demo", "!w", "#weather {all_args}"});
  CHECK(q.status == 0);
  CHECK(q.out == "w\n");  // the leading ! is dropped

  auto list = json_of(run_waddle(db, {"--json", "alias", "list", "demo"}));
  REQUIRE(list.size() == 2);
  CHECK(list[0]["alias"] == "hi");
  CHECK(list[1]["alias"] == "w");
  auto table = run_waddle(db, {"alias", "list", "demo"});
  CHECK(table.out.rfind("ALIAS", 0) == 0);
  auto show = run_waddle(db, {"alias", "show", "demo", "hi"});
  CHECK(show.status == 0);
  CHECK(show.out.find("!so {arg1}") != std::string::npos);

  const std::vector<std::string> t = {"aliases"};
  refused(db, {"alias", "add", "demo", "hi", "!other"}, 2,
          "alias 'hi' already exists in community 'demo'", t);
  refused(db, {"alias", "add", "demo", "loop", "!loop now"}, 2, "would expand to itself", t);
  refused(db, {"alias", "add", "demo", "x", "so"}, 2, "EXPANSION", t);
  refused(db, {"alias", "add", "demo", "x", "! so"}, 2, "EXPANSION", t);
  refused(db, {"alias", "add", "demo", "Bad Alias", "!so"}, 2, "not a valid alias", t);
  refused(db, {"alias", "add", "nowhere", "x", "!so"}, 3, "community 'nowhere' not found", t);
  refused(db, {"alias", "show", "demo", "zzz"}, 3, "alias 'zzz' not found", t);
  refused(db, {"alias", "remove", "demo", "zzz"}, 3, "not found", t);

  auto removed = run_waddle(db, {"alias", "remove", "demo", "hi"});
  CHECK(removed.status == 0);
  CHECK(scalar(db, "select count(*) from aliases") == 1);
  CHECK(scalar(db, "select count(*) from admin_audit_log where action like 'alias.%'") == 3);
}

TEST_CASE("rule add, list, show, set, enable/disable, remove") {
  FreshDatabase db(true);
  auto demo = add_community(db, "demo");
  add_entity(db, demo, "channel", "demo");
  REQUIRE(run_waddle(db, {"command", "add", "!timeout", "--url", "http://x/t"}).status == 0);

  auto warn = json_of(
      run_waddle(db, {"--json", "rule", "add", "demo", "badword", "--match", "word", "--action",
                      "warn", "--message", "be nice", "--entity", "twitch:channel:demo"}));
  CHECK(warn["pattern"] == "badword");
  CHECK(warn["match_type"] == "word");
  CHECK(warn["case_sensitive"] == false);
  CHECK(warn["warning_message"] == "be nice");
  CHECK(warn["enabled_entity_ids"] == nlohmann::json::array({"twitch:channel:demo"}));
  auto id = std::to_string(warn["id"].get<long long>());

  auto cmd = run_waddle(db, {"-q", "rule", "add", "demo", "^spam\\d+$", "--match", "regex",
                             "--case-sensitive", "--action", "command", "--command", "!timeout",
                             "--parameters", "{user}", "60", "--priority", "5"});
  REQUIRE(cmd.status == 0);
  auto cmd_id = cmd.out.substr(0, cmd.out.size() - 1);
  auto row = sql(db,
                 "select command_to_execute, command_parameters::text, case_sensitive, "
                 "priority from string_rules where id = " +
                     cmd_id);
  CHECK(row[0][0].as<std::string>() == "!timeout");
  CHECK(row[0][1].as<std::string>() == R"(["{user}", "60"])");
  CHECK(row[0][2].as<bool>());
  CHECK(row[0][3].as<int>() == 5);

  REQUIRE(run_waddle(db, {"rule", "add", "demo", "*", "--match", "*", "--action", "webhook",
                          "--webhook", "https://hooks.example/all"})
              .status == 0);

  auto list = json_of(run_waddle(db, {"--json", "rule", "list", "demo"}));
  REQUIRE(list.size() == 3);
  CHECK(list[0]["id"].get<long long>() == std::stoll(cmd_id));  // priority 5 first
  auto table = run_waddle(db, {"rule", "list", "demo"});
  CHECK(table.out.rfind("ID", 0) == 0);
  auto show = run_waddle(db, {"rule", "show", id});
  CHECK(show.status == 0);
  CHECK(show.out.find("be nice") != std::string::npos);

  auto set = json_of(run_waddle(db, {"--json", "rule", "set", id, "--action", "block", "--message",
                                     "blocked", "--entity", "", "--pattern", "worse"}));
  CHECK(set["action"] == "block");
  CHECK(set["block_message"] == "blocked");
  CHECK(set["warning_message"].is_null());
  CHECK(set["pattern"] == "worse");
  CHECK(set["enabled_entity_ids"] == nlohmann::json::array());

  CHECK(run_waddle(db, {"rule", "disable", id}).status == 0);
  CHECK(scalar(db, "select count(*) from string_rules where not is_active") == 1);
  CHECK(run_waddle(db, {"rule", "enable", id}).status == 0);
  CHECK(scalar(db, "select count(*) from string_rules where not is_active") == 0);
  CHECK(run_waddle(db, {"rule", "remove", id}).status == 0);
  CHECK(scalar(db, "select count(*) from string_rules") == 2);
  CHECK(scalar(db, "select count(*) from admin_audit_log where action like 'rule.%'") == 7);
}

TEST_CASE("rule refuses bad input and writes nothing") {
  FreshDatabase db(true);
  auto demo = add_community(db, "demo");
  auto other = add_community(db, "other");
  add_entity(db, demo, "channel", "demo");
  add_entity(db, other, "channel", "other");
  REQUIRE(
      run_waddle(db, {"rule", "add", "demo", "x", "--match", "exact", "--action", "warn"}).status ==
      0);
  auto id = std::to_string(scalar(db, "select id from string_rules"));
  const std::vector<std::string> t = {"string_rules"};

  SECTION("an invalid regex names PCRE2's message and the offset") {
    refused(db, {"rule", "add", "demo", "a(b", "--match", "regex", "--action", "warn"}, 2,
            "PATTERN: invalid regex 'a(b': missing closing parenthesis at offset 3", t);
    refused(db, {"rule", "set", id, "--match", "regex", "--pattern", "[z-a]"}, 2, "invalid regex",
            t);
  }
  SECTION("an action's companion option is required") {
    refused(db, {"rule", "add", "demo", "x", "--match", "exact", "--action", "command"}, 2,
            "--command: required with --action command", t);
    refused(db, {"rule", "add", "demo", "x", "--match", "exact", "--action", "webhook"}, 2,
            "--webhook: required with --action webhook", t);
    refused(db,
            {"rule", "add", "demo", "x", "--match", "exact", "--action", "webhook", "--webhook",
             "ftp://x"},
            2, "--webhook: must be an http(s) URL, got 'ftp://x'", t);
    refused(db,
            {"rule", "add", "demo", "x", "--match", "exact", "--action", "command", "--command",
             "!nothing"},
            2, "no command or alias !nothing", t);
    refused(db,
            {"rule", "add", "demo", "x", "--match", "exact", "--action", "warn", "--webhook",
             "https://x"},
            2, "--webhook: only used with --action webhook", t);
    refused(db, {"rule", "set", id, "--action", "command"}, 2, "--command: required", t);
  }
  SECTION("entities must be well-formed and belong to the community") {
    refused(db,
            {"rule", "add", "demo", "x", "--match", "exact", "--action", "warn", "--entity",
             "twitch:channel:other"},
            2, "not an entity of community 'demo'", t);
    refused(db,
            {"rule", "add", "demo", "x", "--match", "exact", "--action", "warn", "--entity",
             "myspace:a:b"},
            2, "'myspace:a:b' is not an entity id", t);
  }
  SECTION("enums, ids and missing things") {
    refused(db, {"rule", "add", "demo", "x", "--match", "fuzzy", "--action", "warn"}, 2, "--match",
            t);
    refused(db, {"rule", "add", "demo", "x", "--match", "exact", "--action", "ban"}, 2, "--action",
            t);
    refused(db, {"rule", "add", "demo", "x", "--action", "warn"}, 2, "--match", t);
    refused(db, {"rule", "show", "abc"}, 2, "ID: 'abc' is not a numeric id", t);
    refused(db, {"rule", "show", "999"}, 3, "rule 999 not found", t);
    refused(db, {"rule", "remove", "999"}, 3, "not found", t);
    refused(db, {"rule", "set", id}, 2, "nothing to change", t);
    refused(db, {"rule", "list", "nowhere"}, 3, "community 'nowhere' not found", t);
  }
}
