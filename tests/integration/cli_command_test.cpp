// `waddle command …` and `waddle module …` against a fresh migrated database.
#include "support/cli_checks.hpp"

using namespace waddle::test;

TEST_CASE("command add, list, show, set, enable/disable, remove") {
  FreshDatabase db(true);
  auto added = json_of(
      run_waddle(db, {"--json", "command", "add", "!so", "--url", "http://127.0.0.1:8010/shoutout",
                      "--description", "shout someone out", "--timeout", "10"}));
  CHECK(added["name"] == "!so");
  CHECK(added["location"] == "internal");
  CHECK(added["type"] == "container");
  CHECK(added["module_name"] == "so");
  CHECK(added["timeout"] == 10);
  CHECK(added["event_types"] == nlohmann::json::array());

  auto hash = run_waddle(db, {"-q",
                              "command",
                              "add",
                              "#weather",
                              "--url",
                              "https://example.com/weather",
                              "--trigger",
                              "both",
                              "--event-types",
                              "follow,raid",
                              "--event-types",
                              "cheer",
                              "--priority",
                              "5",
                              "--mode",
                              "parallel",
                              "--rate-limit",
                              "3",
                              "--module",
                              "wx",
                              "--version",
                              "2.1.0"});
  REQUIRE(hash.status == 0);
  CHECK(hash.out == "#weather\n");
  auto row = sql(db,
                 "select location, type, event_types::text, priority, execution_mode, "
                 "rate_limit, module_name, version from commands where command = 'weather'");
  REQUIRE(row.size() == 1);
  CHECK(row[0][0].as<std::string>() == "community");
  CHECK(row[0][1].as<std::string>() == "webhook");
  CHECK(row[0][2].as<std::string>() == R"(["follow", "raid", "cheer"])");
  CHECK(row[0][3].as<int>() == 5);
  CHECK(row[0][4].as<std::string>() == "parallel");
  CHECK(row[0][5].as<int>() == 3);
  CHECK(row[0][6].as<std::string>() == "wx");
  CHECK(row[0][7].as<std::string>() == "2.1.0");

  auto list = run_waddle(db, {"command", "list"});
  REQUIRE(list.status == 0);
  CHECK(list.out.rfind("NAME", 0) == 0);
  CHECK(list.out.find("!so") != std::string::npos);
  CHECK(list.out.find("#weather") != std::string::npos);
  auto only_hash = json_of(run_waddle(db, {"--json", "command", "list", "--prefix", "#"}));
  REQUIRE(only_hash.size() == 1);
  CHECK(only_hash[0]["name"] == "#weather");
  CHECK(json_of(run_waddle(db, {"--json", "command", "list", "--trigger", "both"})).size() == 1);
  CHECK(json_of(run_waddle(db, {"--json", "command", "list", "--module", "so"})).size() == 1);

  auto show = run_waddle(db, {"command", "show", "!so"});
  REQUIRE(show.status == 0);
  CHECK(show.out.find("shout someone out") != std::string::npos);

  auto set = json_of(run_waddle(db, {"--json", "command", "set", "!so", "--trigger", "event",
                                     "--event-types", "raid", "--timeout", "60"}));
  CHECK(set["trigger_type"] == "event");
  CHECK(set["event_types"] == nlohmann::json::array({"raid"}));
  CHECK(set["timeout"] == 60);
  CHECK(set["description"] == "shout someone out");  // untouched

  CHECK(run_waddle(db, {"command", "disable", "!so"}).status == 0);
  CHECK(scalar(db, "select count(*) from commands where command = 'so' and not is_active") == 1);
  CHECK(run_waddle(db, {"command", "enable", "!so"}).status == 0);
  CHECK(scalar(db, "select count(*) from commands where command = 'so' and is_active") == 1);

  auto removed = run_waddle(db, {"command", "remove", "!so"});
  CHECK(removed.status == 0);
  CHECK(removed.out == "removed command !so\n");
  CHECK(scalar(db, "select count(*) from commands") == 1);
  CHECK(scalar(db, "select count(*) from admin_audit_log where action like 'command.%'") == 6);
  CHECK(scalar(db,
               "select count(*) from admin_audit_log where action = 'command.set' and "
               "target = '!so' and details->'changed' ? 'timeout'") == 1);
}

TEST_CASE("command refuses bad input and writes nothing") {
  FreshDatabase db(true);
  REQUIRE(run_waddle(db, {"command", "add", "!so", "--url", "http://x/so"}).status == 0);
  const std::vector<std::string> t = {"commands"};
  refused(db, {"command", "add", "so", "--url", "http://x"}, 2, "must start with !", t);
  refused(db, {"command", "add", "!So", "--url", "http://x"}, 2, "not a valid command name", t);
  refused(db, {"command", "add", "!hi", "--url", "ftp://x"}, 2,
          "--url: must be an http(s) URL, got 'ftp://x'", t);
  refused(db,
          {"command", "add", "!hi", "--url", "arn:aws:lambda:eu-west-1:1:function:f", "--type",
           "lambda"},
          2, "not an ARN", t);
  refused(db, {"command", "add", "#hi", "--url", "http://x", "--type", "container"}, 2,
          "never as container", t);
  refused(db, {"command", "add", "!hi", "--url", "http://x", "--type", "docker"}, 2, "--type", t);
  refused(db, {"command", "add", "!hi", "--url", "http://x", "--timeout", "500"}, 2, "--timeout",
          t);
  refused(db,
          {"command", "add", "!hi", "--url", "http://x", "--trigger", "event", "--event-types",
           "follow,nope"},
          2, "unknown message type 'nope'", t);
  refused(db, {"command", "add", "!hi", "--url", "http://x", "--trigger", "event"}, 2,
          "--event-types: required with --trigger event", t);
  refused(db, {"command", "add", "!hi", "--url", "http://x", "--event-types", "follow"}, 2,
          "only used with --trigger event or both", t);
  refused(db, {"command", "add", "!so", "--url", "http://x"}, 2, "command !so already exists", t);
  refused(db, {"command", "set", "!so"}, 2, "nothing to change", t);
  refused(db, {"command", "set", "!so", "--url", "not a url"}, 2, "--url", t);
  refused(db, {"command", "set", "!nope", "--timeout", "5"}, 3, "command !nope not found", t);
  refused(db, {"command", "remove", "!nope"}, 3, "not found", t);
  refused(db, {"command", "show", "#nope"}, 3, "not found", t);
  refused(db, {"command", "enable", "nope"}, 2, "must start with", t);
}

TEST_CASE(
    "module list shows defaults (local on, marketplace off) and enable, disable, set override "
    "them") {
  FreshDatabase db(true);
  add_community(db, "demo");
  REQUIRE(run_waddle(db, {"command", "add", "!so", "--url", "http://x/so", "--module", "social"})
              .status == 0);
  REQUIRE(run_waddle(db, {"command", "add", "!hug", "--url", "http://x/hug", "--module", "social"})
              .status == 0);
  auto installed = run_waddle(
      db, {"--json", "module", "install", "trivia", "--url", "https://trivia.example/run",
           "--version", "1.2.3", "--command", "#trivia,#answer"});
  auto inst = json_of(installed);
  REQUIRE(inst.size() == 2);
  CHECK(scalar(db,
               "select count(*) from commands where module_name = 'trivia' and prefix = '#' "
               "and location = 'community' and type = 'webhook' and version = '1.2.3'") == 2);

  auto state = [&] {
    auto rows = json_of(run_waddle(db, {"--json", "module", "list", "demo"}));
    std::map<std::string, bool> m;
    for (const auto& r : rows)
      m[r["kind"].get<std::string>() + ":" + r["name"].get<std::string>()] = r["enabled"];
    return m;
  };
  auto s = state();
  CHECK(s["module:social"]);
  CHECK(s["command:!so"]);
  CHECK_FALSE(s["module:trivia"]);
  CHECK_FALSE(s["command:#trivia"]);

  CHECK(run_waddle(db, {"module", "enable", "demo", "trivia"}).status == 0);
  CHECK(run_waddle(db, {"module", "disable", "demo", "!so"}).status == 0);
  s = state();
  CHECK(s["module:trivia"]);
  CHECK(s["command:#trivia"]);
  CHECK(s["command:#answer"]);
  CHECK_FALSE(s["command:!so"]);
  CHECK(s["command:!hug"]);

  auto set = json_of(run_waddle(db, {"--json", "module", "set", "demo", "#answer", "--config",
                                     R"({"rounds": 3})", "--min-role", "moderator"}));
  REQUIRE(set.size() == 1);
  CHECK(set[0]["min_role"] == "moderator");
  CHECK(set[0]["config"]["rounds"] == 3);
  CHECK(set[0]["enabled"] == true);  // inherited from the module when the row was made
  auto table = run_waddle(db, {"module", "list", "demo"});
  CHECK(table.out.rfind("KIND", 0) == 0);

  const std::vector<std::string> t = {"command_permissions", "commands"};
  refused(db, {"module", "set", "demo", "trivia", "--config", "[1]"}, 2,
          "--config: must be a JSON object", t);
  refused(db, {"module", "set", "demo", "trivia", "--config", "{nope"}, 2, "invalid JSON", t);
  refused(db, {"module", "set", "demo", "trivia"}, 2, "nothing to change", t);
  refused(db, {"module", "set", "demo", "trivia", "--min-role", "boss"}, 2, "--min-role", t);
  refused(db, {"module", "enable", "demo", "nomodule"}, 3, "no module 'nomodule'", t);
  refused(db, {"module", "enable", "nocommunity", "trivia"}, 3, "community 'nocommunity'", t);
  refused(db, {"module", "install", "trivia", "--url", "https://x", "--version", "2"}, 2,
          "already installed (version 1.2.3)", t);
  refused(
      db,
      {"module", "install", "quiz", "--url", "https://x", "--version", "1", "--command", "!quiz"},
      2, "marketplace modules provide # commands", t);
  refused(db, {"module", "install", "quiz", "--url", "gopher://x", "--version", "1"}, 2,
          "--url: must be an http(s) URL", t);
  refused(
      db,
      {"module", "install", "quiz", "--url", "https://x", "--version", "1", "--command", "#trivia"},
      2, "#trivia already exists (module trivia)", t);
  refused(db, {"module", "uninstall", "social"}, 2, "not a marketplace module", t);
  refused(db, {"module", "uninstall", "nothing"}, 3, "not installed", t);

  auto un = run_waddle(db, {"module", "uninstall", "trivia"});
  CHECK(un.status == 0);
  CHECK(un.out == "uninstalled module trivia (2 command(s))\n");
  CHECK(scalar(db, "select count(*) from commands where module_name = 'trivia'") == 0);
  CHECK(scalar(db, "select count(*) from command_permissions where module_name = 'trivia'") == 0);
  CHECK(scalar(db, "select count(*) from admin_audit_log where action like 'module.%'") == 5);

  auto defaulted =
      run_waddle(db, {"-q", "module", "install", "dice", "--url", "https://d", "--version", "0.1"});
  CHECK(defaulted.status == 0);
  CHECK(defaulted.out == "#dice\n");
}
