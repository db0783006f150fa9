// `waddle community …` and `waddle entity …` end to end against a fresh migrated database.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "support/cli_checks.hpp"

using waddle::test::check_refused;
using waddle::test::FreshDatabase;
using waddle::test::run_waddle;
using waddle::test::scalar;

TEST_CASE("community add, list, show, set and remove") {
  FreshDatabase db(true);
  auto add = run_waddle(db, {"--json", "community", "add", "demo", "--display-name", "Demo Stream",
                             "--description", "a test"});
  REQUIRE(add.status == 0);
  auto row = nlohmann::json::parse(add.out);
  CHECK(row["name"] == "demo");
  CHECK(row["display_name"] == "Demo Stream");
  CHECK(row["description"] == "a test");
  CHECK(row["is_active"] == true);
  CHECK(row["is_global"] == false);
  CHECK(row["members"] == 0);
  CHECK(row["entities"] == 0);
  CHECK(row["id"].is_number_integer());

  auto list = run_waddle(db, {"community", "list"});
  REQUIRE(list.status == 0);
  CHECK(list.out.rfind("ID", 0) == 0);
  CHECK(list.out.find("Demo Stream") != std::string::npos);
  CHECK(list.out.find("waddlebot-global") != std::string::npos);
  CHECK(run_waddle(db, {"-q", "community", "list"}).out == "demo\nwaddlebot-global\n");

  auto json_list = nlohmann::json::parse(run_waddle(db, {"--json", "community", "list"}).out);
  REQUIRE(json_list.size() == 2);
  CHECK(json_list[1]["is_global"] == true);

  auto show = run_waddle(db, {"community", "show", "demo"});
  CHECK(show.status == 0);
  CHECK(show.out.find("display_name: Demo Stream") != std::string::npos);
  CHECK(
      run_waddle(db, {"-q", "community", "show", std::to_string(row["id"].get<long long>())}).out ==
      "demo\n");

  auto set = run_waddle(
      db, {"--json", "community", "set", "demo", "--active", "false", "--description", "changed"});
  REQUIRE(set.status == 0);
  auto changed = nlohmann::json::parse(set.out);
  CHECK(changed["is_active"] == false);
  CHECK(changed["description"] == "changed");
  CHECK(changed["display_name"] == "Demo Stream");
  CHECK(changed["timezone"] == "UTC");

  // The time zone reminders and calendar events are read in; kept beside the other config.
  auto zoned = run_waddle(db, {"--json", "community", "set", "demo", "--timezone", "Europe/Berlin",
                               "--prefixes", "!?"});
  REQUIRE(zoned.status == 0);
  CHECK(nlohmann::json::parse(zoned.out)["timezone"] == "Europe/Berlin");
  CHECK(scalar(db,
               "select count(*) from communities where name = 'demo' and "
               "config->>'timezone' = 'Europe/Berlin' and config->>'command_prefixes' = '!?'") ==
        1);

  auto remove = run_waddle(db, {"community", "remove", "demo"});
  CHECK(remove.status == 0);
  CHECK(remove.out == "removed community demo\n");
  CHECK(scalar(db, "select count(*) from communities where name = 'demo'") == 0);

  auto audit = scalar(db,
                      "select count(*) from admin_audit_log where action in ('community.add', "
                      "'community.set', 'community.remove') and target = 'demo' and actor <> ''");
  CHECK(audit == 4);
}

TEST_CASE("community refusals write nothing") {
  FreshDatabase db(true);
  REQUIRE(run_waddle(db, {"community", "add", "demo"}).status == 0);
  auto audit_before = scalar(db, "select count(*) from admin_audit_log");

  check_refused(run_waddle(db, {"community", "add", "Bad Name"}), 2, "NAME: 'Bad Name'");
  check_refused(run_waddle(db, {"community", "add", "demo"}), 2, "community 'demo' already exists");
  check_refused(run_waddle(db, {"community", "remove", "waddlebot-global"}), 2,
                "can never be removed");
  check_refused(run_waddle(db, {"community", "show", "nope"}), 3, "community 'nope' not found");
  check_refused(run_waddle(db, {"community", "set", "demo"}), 2, "nothing to change");
  check_refused(run_waddle(db, {"community", "set", "demo", "--active", "maybe"}), 2, "--active");
  for (const char* zone : {"Mars/Olympus_Mons", "../../etc/passwd", "", "Europe/Berlin; drop"}) {
    check_refused(run_waddle(db, {"community", "set", "demo", "--timezone", zone}), 2,
                  "--timezone");
  }
  check_refused(run_waddle(db, {"community", "remove", "nope"}), 3, "not found");

  // Entities keep a community alive unless --force.
  REQUIRE(run_waddle(db, {"entity", "add", "twitch:channel:demo", "--community", "demo"}).status ==
          0);
  auto audit_with_entity = scalar(db, "select count(*) from admin_audit_log");
  CHECK(audit_with_entity == audit_before + 1);
  check_refused(run_waddle(db, {"community", "remove", "demo"}), 2, "--force");
  CHECK(scalar(db, "select count(*) from communities") == 2);
  CHECK(scalar(db, "select count(*) from admin_audit_log") == audit_with_entity);
  CHECK(scalar(db, "select count(*) from communities where is_global and is_active") == 1);

  auto forced = run_waddle(db, {"community", "remove", "demo", "--force"});
  CHECK(forced.status == 0);
  CHECK(scalar(db, "select count(*) from entities") == 0);
  CHECK(scalar(db, "select count(*) from communities") == 1);
}

TEST_CASE("entity add, list, show, set and remove") {
  FreshDatabase db(true);
  REQUIRE(run_waddle(db, {"community", "add", "demo"}).status == 0);
  REQUIRE(run_waddle(db, {"community", "add", "other"}).status == 0);

  auto add = run_waddle(db, {"--json", "entity", "add", "discord:1234:5678", "--community", "demo",
                             "--owner", "alice"});
  REQUIRE(add.status == 0);
  auto row = nlohmann::json::parse(add.out);
  CHECK(row["entity_id"] == "discord:1234:5678");
  CHECK(row["platform"] == "discord");
  CHECK(row["server_id"] == "1234");
  CHECK(row["channel_id"] == "5678");
  CHECK(row["community"] == "demo");
  CHECK(row["owner"] == "alice");
  CHECK(row["is_active"] == true);
  REQUIRE(
      run_waddle(db, {"entity", "add", "twitch:channel:other", "--community", "other"}).status ==
      0);

  CHECK(run_waddle(db, {"-q", "entity", "list"}).out ==
        "discord:1234:5678\ntwitch:channel:other\n");
  CHECK(run_waddle(db, {"-q", "entity", "list", "--community", "other"}).out ==
        "twitch:channel:other\n");
  CHECK(run_waddle(db, {"-q", "entity", "list", "--platform", "discord"}).out ==
        "discord:1234:5678\n");
  auto table = run_waddle(db, {"entity", "list"});
  CHECK(table.out.rfind("ENTITY_ID", 0) == 0);

  auto show = run_waddle(db, {"entity", "show", "discord:1234:5678"});
  CHECK(show.status == 0);
  CHECK(show.out.find("owner:") != std::string::npos);

  auto set = run_waddle(db, {"--json", "entity", "set", "discord:1234:5678", "--community", "other",
                             "--active", "false", "--owner", ""});
  REQUIRE(set.status == 0);
  auto changed = nlohmann::json::parse(set.out);
  CHECK(changed["community"] == "other");
  CHECK(changed["is_active"] == false);
  CHECK(changed["owner"].is_null());

  CHECK(run_waddle(db, {"entity", "remove", "discord:1234:5678"}).status == 0);
  CHECK(scalar(db, "select count(*) from entities") == 1);
  CHECK(scalar(db, "select count(*) from admin_audit_log where action like 'entity.%'") == 4);
}

TEST_CASE("entity refusals name the problem and write nothing") {
  FreshDatabase db(true);
  REQUIRE(run_waddle(db, {"community", "add", "demo"}).status == 0);
  REQUIRE(run_waddle(db, {"entity", "add", "slack:T1:C1", "--community", "demo"}).status == 0);
  auto audit = scalar(db, "select count(*) from admin_audit_log");

  check_refused(run_waddle(db, {"entity", "add", "irc:server:chan", "--community", "demo"}), 2,
                "unknown platform 'irc'");
  check_refused(run_waddle(db, {"entity", "add", "twitch:alice", "--community", "demo"}), 2,
                "malformed entity id 'twitch:alice'");
  check_refused(run_waddle(db, {"entity", "add", "twitch:a:b:c", "--community", "demo"}), 2,
                "malformed entity id");
  check_refused(run_waddle(db, {"entity", "add", "twitch::b", "--community", "demo"}), 2,
                "empty platform, server or channel");
  check_refused(run_waddle(db, {"entity", "add", "twitch:a b:c", "--community", "demo"}), 2,
                "whitespace");
  check_refused(run_waddle(db, {"entity", "add", "slack:T1:C1", "--community", "demo"}), 2,
                "entity 'slack:T1:C1' already exists (in community demo)");
  check_refused(run_waddle(db, {"entity", "add", "slack:T1:C2", "--community", "nope"}), 3,
                "community 'nope' not found");
  check_refused(run_waddle(db, {"entity", "add", "slack:T1:C2"}), 2, "--community");
  check_refused(run_waddle(db, {"entity", "show", "slack:T1:C9"}), 3, "not found");
  check_refused(run_waddle(db, {"entity", "set", "slack:T1:C1"}), 2, "nothing to change");
  check_refused(run_waddle(db, {"entity", "set", "slack:T1:C1", "--community", "nope"}), 3,
                "not found");
  check_refused(run_waddle(db, {"entity", "remove", "slack:T1:C9"}), 3, "not found");

  CHECK(scalar(db, "select count(*) from entities") == 1);
  CHECK(scalar(db, "select count(*) from entities where is_active") == 1);
  CHECK(scalar(db, "select count(*) from admin_audit_log") == audit);
}

TEST_CASE("every community and entity verb documents itself") {
  FreshDatabase db(true);
  for (const char* noun : {"community", "entity"}) {
    auto help = run_waddle(db, {noun, "--help"});
    CHECK(help.status == 0);
    for (const char* verb : {"list", "show", "add", "set", "remove"}) {
      CHECK(help.out.find(verb) != std::string::npos);
      auto verb_help = run_waddle(db, {noun, verb, "--help"});
      CHECK(verb_help.status == 0);
    }
  }
  auto missing = run_waddle(db, {"community"});
  CHECK(missing.status == 2);
}
