// `waddle module install NAME|--all` and `module list-builtin` (built-in modules of
// waddle-actiond) and `waddle label role`, running the real waddle binary on a fresh database.
#include <fstream>
#include <regex>

#include "support/cli_checks.hpp"

using namespace waddle::test;

namespace {

const std::vector<std::string> kTables = {"commands", "module_secrets"};

std::string commands_of(const FreshDatabase& db, const std::string& module) {
  return sql(db,
             "select coalesce(string_agg(prefix || command || '@' || location_url, ' ' order by "
             "command), '') from commands where module_name = '" +
                 module + "'")[0][0]
      .as<std::string>();
}

}  // namespace

TEST_CASE("module install registers a built-in module's commands and secret, idempotently") {
  FreshDatabase db(true);
  auto first = run_waddle(
      db, {"--json", "module", "install", "identity", "--url", "http://127.0.0.1:8010/"});
  const auto rows = json_of(first);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0]["name"] == "!identity");
  CHECK(rows[0]["module_name"] == "identity");
  CHECK(rows[0]["type"] == "container");
  CHECK(rows[0]["location_url"] == "http://127.0.0.1:8010/modules/identity");
  CHECK(rows[1]["name"] == "!verify");
  const auto secret =
      sql(db, "select secret from module_secrets where module_name = 'identity'")[0][0]
          .as<std::string>();
  CHECK(std::regex_match(secret, std::regex("^[0-9a-f]{64}$")));
  CHECK(commands_of(db, "identity") ==
        "!identity@http://127.0.0.1:8010/modules/identity "
        "!verify@http://127.0.0.1:8010/modules/identity");

  // Again, with another URL: the same rows move, the secret is kept.
  auto again = run_waddle(db, {"module", "install", "identity", "--url", "https://bot.example"});
  INFO(again.err);
  REQUIRE(again.status == 0);
  CHECK(scalar(db, "select count(*) from commands where module_name = 'identity'") == 2);
  CHECK(commands_of(db, "identity") ==
        "!identity@https://bot.example/modules/identity "
        "!verify@https://bot.example/modules/identity");
  CHECK(sql(db, "select secret from module_secrets where module_name = 'identity'")[0][0]
            .as<std::string>() == secret);
  CHECK(scalar(db, "select count(*) from admin_audit_log where action = 'module.install'") == 2);

  // --all, twice: every built-in module, the same count both times.
  REQUIRE(
      run_waddle(db, {"-q", "module", "install", "--all", "--url", "http://[::1]:9000"}).status ==
      0);
  const auto total = scalar(db, "select count(*) from commands");
  const auto secrets = scalar(db, "select count(*) from module_secrets");
  auto twice = run_waddle(db, {"-q", "module", "install", "--all", "--url", "http://[::1]:9000"});
  REQUIRE(twice.status == 0);
  CHECK(twice.out.find("!quote\n") != std::string::npos);
  CHECK(scalar(db, "select count(*) from commands") == total);
  CHECK(scalar(db, "select count(*) from module_secrets") == secrets);
  CHECK(secrets >= 8);
  CHECK(scalar(db,
               "select count(*) from commands where location_url not like "
               "'http://[::1]:9000/modules/%'") == 0);

  auto builtin = json_of(run_waddle(db, {"--json", "module", "list-builtin"}));
  bool found = false;
  for (const auto& row : builtin) {
    if (row["module"] == "identity") found = row["commands"] == "!identity, !verify";
  }
  CHECK(found);
}

TEST_CASE("module install takes the URL from the config file") {
  FreshDatabase db(true);
  TempDir dir;
  const auto path = dir.write("waddle.yaml", "actions:\n  listen: ::1\n  port: 8123\n");
  REQUIRE(run_waddle(db, {"-c", path, "module", "install", "ping"}).status == 0);
  CHECK(commands_of(db, "ping") == "!ping@http://[::1]:8123/modules/ping");
  const auto with_public =
      dir.write("public.yaml", "actions:\n  public_url: https://actions.example/base/\n");
  REQUIRE(run_waddle(db, {"-c", with_public, "module", "install", "ping"}).status == 0);
  CHECK(commands_of(db, "ping") == "!ping@https://actions.example/base/modules/ping");
  // Without a config file: the daemon's defaults.
  REQUIRE(run_waddle(db, {"module", "install", "ping"}).status == 0);
  CHECK(commands_of(db, "ping") == "!ping@http://127.0.0.1:8010/modules/ping");
  const auto broken = dir.write("broken.yaml", "actions:\n  port: 0\n");
  refused(db, {"-c", broken, "module", "install", "ping"}, 2, "actions.port", kTables);
}

TEST_CASE("module install refuses bad input without writing anything") {
  FreshDatabase db(true);
  refused(db, {"module", "install"}, 2, "NAME: required", kTables);
  refused(db, {"module", "install", "ping", "--all"}, 2, "not both", kTables);
  refused(db, {"module", "install", "ping", "--version", "1", "--url", "https://x"}, 2,
          "--version: only for marketplace modules", kTables);
  refused(db, {"module", "install", "--all", "--command", "#x"}, 2, "--command", kTables);
  refused(db, {"module", "install", "ping", "--url", "gopher://x"}, 2, "--url", kTables);
  refused(db, {"module", "install", "ping", "--url", "http://x'; drop table commands;--"}, 2,
          "--url", kTables);
  refused(db, {"module", "install", "nosuch"}, 2, "--version: required for a marketplace module",
          kTables);
  refused(db, {"module", "install", std::string(10 * 1024, 'x')}, 2, "--version", kTables);
  // A marketplace module still installs as before.
  REQUIRE(run_waddle(
              db, {"module", "install", "trivia", "--url", "https://t.example", "--version", "1.0"})
              .status == 0);
  CHECK(commands_of(db, "trivia") == "#trivia@https://t.example");
}

TEST_CASE("label role maps a label to platform roles") {
  FreshDatabase db(true);
  REQUIRE(run_waddle(db, {"community", "add", "demo"}).status == 0);
  REQUIRE(run_waddle(db, {"label", "add", "demo", "VIP 🐧"}).status == 0);
  auto set = json_of(run_waddle(db, {"--json", "label", "role", "demo", "vip 🐧", "twitch", "vip"}));
  REQUIRE(set.size() == 1);
  CHECK(set[0]["label"] == "VIP 🐧");
  CHECK(set[0]["platform"] == "twitch");
  CHECK(set[0]["role"] == "vip");
  REQUIRE(
      run_waddle(db, {"label", "role", "demo", "VIP 🐧", "discord", "123456789012345678"}).status ==
      0);
  REQUIRE(run_waddle(db, {"label", "role", "demo", "VIP 🐧", "twitch", "moderator"}).status == 0);
  auto list = json_of(run_waddle(db, {"--json", "label", "role", "demo", "VIP 🐧"}));
  REQUIRE(list.size() == 2);
  CHECK(list[0]["platform"] == "discord");
  CHECK(list[1]["role"] == "moderator");
  CHECK(run_waddle(db, {"-q", "label", "role", "demo", "VIP 🐧", "discord", "none"}).out ==
        "twitch\n");
  const std::vector<std::string> tables = {"label_roles"};
  refused(db, {"label", "role", "demo", "VIP 🐧", "discord", "none"}, 3, "grants no discord role",
          tables);
  refused(db, {"label", "role", "demo", "VIP 🐧", "twitch"}, 2, "ROLE: required", tables);
  refused(db, {"label", "role", "demo", "VIP 🐧", "myspace", "x"}, 2, "platform", tables);
  refused(db, {"label", "role", "demo", "VIP 🐧", "twitch", "two words"}, 2,
          "is not a platform role", tables);
  refused(db, {"label", "role", "demo", "VIP 🐧", "twitch", std::string(101, 'r')}, 2,
          "is not a platform role", tables);
  refused(db, {"label", "role", "demo", "nothing", "twitch", "vip"}, 3, "not found", tables);
  CHECK(scalar(db, "select count(*) from admin_audit_log where action like 'label.role%'") == 4);
}
