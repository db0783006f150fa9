// `waddle label …` end to end against a fresh migrated database, including the 5-label limits.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "support/cli_checks.hpp"

using waddle::test::check_refused;
using waddle::test::FreshDatabase;
using waddle::test::run_waddle;
using waddle::test::scalar;

TEST_CASE("label add, list, assign, show, unassign and remove") {
  FreshDatabase db(true);
  REQUIRE(run_waddle(db, {"community", "add", "demo"}).status == 0);

  auto add = run_waddle(db, {"--json", "label", "add", "demo", "VIP", "--color", "#FFaa00",
                             "--description", "very important"});
  REQUIRE(add.status == 0);
  auto label = nlohmann::json::parse(add.out);
  CHECK(label["name"] == "VIP");
  CHECK(label["color"] == "#FFaa00");
  CHECK(label["description"] == "very important");
  CHECK(label["community"] == "demo");
  CHECK(label["users"] == 0);
  CHECK(run_waddle(db, {"-q", "label", "add", "demo", "regular"}).out == "regular\n");

  auto assign = run_waddle(db, {"label", "assign", "demo", "vip", "twitch:alice"});
  REQUIRE(assign.status == 0);
  CHECK(assign.out == "assigned label VIP to twitch:alice in demo\n");
  auto assigned_json =
      run_waddle(db, {"--json", "label", "assign", "demo", "regular", "twitch:alice"});
  REQUIRE(assigned_json.status == 0);
  auto assigned = nlohmann::json::parse(assigned_json.out);
  CHECK(assigned["label"] == "regular");
  CHECK(assigned["user"] == "twitch:alice");
  REQUIRE(run_waddle(db, {"label", "assign", "demo", "VIP", "discord:bob"}).status == 0);

  auto list = run_waddle(db, {"--json", "label", "list", "demo"});
  REQUIRE(list.status == 0);
  auto labels = nlohmann::json::parse(list.out);
  REQUIRE(labels.size() == 2);
  CHECK(labels[0]["name"] == "regular");
  CHECK(labels[0]["users"] == 1);
  CHECK(labels[1]["name"] == "VIP");
  CHECK(labels[1]["users"] == 2);
  CHECK(run_waddle(db, {"label", "list", "demo"}).out.rfind("ID", 0) == 0);

  auto show = run_waddle(db, {"--json", "label", "show", "demo", "vip"});
  REQUIRE(show.status == 0);
  auto shown = nlohmann::json::parse(show.out);
  REQUIRE(shown["assigned"].size() == 2);
  CHECK(shown["assigned"][0]["user"] == "twitch:alice");
  CHECK(shown["assigned"][1]["user"] == "discord:bob");
  auto show_table = run_waddle(db, {"label", "show", "demo", "VIP"});
  CHECK(show_table.out.find("discord:bob") != std::string::npos);
  auto show_ids = run_waddle(db, {"-q", "label", "show", "demo", "VIP"});
  CHECK(show_ids.out == std::to_string(shown["assigned"][0]["user_id"].get<long long>()) + "\n" +
                            std::to_string(shown["assigned"][1]["user_id"].get<long long>()) +
                            "\n");

  auto unassign = run_waddle(db, {"label", "unassign", "demo", "VIP", "discord:bob"});
  CHECK(unassign.status == 0);
  CHECK(scalar(db, "select count(*) from label_assignments") == 2);

  auto remove = run_waddle(db, {"label", "remove", "demo", "vip"});
  CHECK(remove.status == 0);
  CHECK(remove.out == "removed label VIP from demo\n");
  CHECK(scalar(db, "select count(*) from labels") == 1);
  CHECK(scalar(db, "select count(*) from label_assignments") == 1);
  CHECK(scalar(db, "select count(*) from admin_audit_log where action like 'label.%'") == 7);
}

TEST_CASE("a sixth label in a community or on a user is refused and nothing is written") {
  FreshDatabase db(true);
  REQUIRE(run_waddle(db, {"community", "add", "demo"}).status == 0);
  for (int i = 1; i <= 5; ++i) {
    auto name = "l" + std::to_string(i);
    REQUIRE(run_waddle(db, {"label", "add", "demo", name}).status == 0);
    REQUIRE(run_waddle(db, {"label", "assign", "demo", name, "twitch:alice"}).status == 0);
  }
  auto audit = scalar(db, "select count(*) from admin_audit_log");

  check_refused(run_waddle(db, {"label", "add", "demo", "l6"}), 2,
                "community demo already has 5 labels, the limit");
  CHECK(scalar(db, "select count(*) from labels") == 5);

  CHECK(scalar(db, "select count(*) from admin_audit_log") == audit);

  // With 5 labels per community a user can never reach 6 through the CLI; lift the community
  // limit for one row (as a later migration raising it would) to reach the per-user limit.
  {
    pqxx::connection conn(db.url());
    pqxx::work tx(conn);
    tx.exec("alter table labels disable trigger labels_limit");
    tx.exec(
        "insert into labels (community_id, name) select id, 'l6' from communities "
        "where name = 'demo'");
    tx.exec("alter table labels enable trigger labels_limit");
    tx.commit();
  }
  auto assignments = scalar(db, "select count(*) from label_assignments");
  REQUIRE(assignments == 5);
  check_refused(run_waddle(db, {"label", "assign", "demo", "l6", "twitch:alice"}), 2,
                "user 'twitch:alice' already has 5 labels in demo, the limit");
  CHECK(scalar(db, "select count(*) from label_assignments") == assignments);
  CHECK(scalar(db, "select count(*) from admin_audit_log") == audit);
}

TEST_CASE("label refusals name the problem and write nothing") {
  FreshDatabase db(true);
  REQUIRE(run_waddle(db, {"community", "add", "demo"}).status == 0);
  REQUIRE(run_waddle(db, {"label", "add", "demo", "vip"}).status == 0);
  REQUIRE(run_waddle(db, {"label", "assign", "demo", "vip", "twitch:alice"}).status == 0);
  auto audit = scalar(db, "select count(*) from admin_audit_log");
  auto users = scalar(db, "select count(*) from users");

  check_refused(run_waddle(db, {"label", "add", "demo", "new", "--color", "red"}), 2,
                "--color: expected #rrggbb, got 'red'");
  check_refused(run_waddle(db, {"label", "add", "demo", " padded"}), 2, "not a valid label name");
  check_refused(run_waddle(db, {"label", "add", "demo", "VIP"}), 2,
                "label 'vip' already exists in community demo");
  check_refused(run_waddle(db, {"label", "add", "nope", "x"}), 3, "community 'nope' not found");
  check_refused(run_waddle(db, {"label", "assign", "demo", "vip", "twitch:alice"}), 2,
                "already has label 'vip'");
  check_refused(run_waddle(db, {"label", "assign", "demo", "gold", "twitch:carol"}), 3,
                "label 'gold' not found");
  check_refused(run_waddle(db, {"label", "assign", "demo", "vip", "mastodon:carol"}), 2,
                "unknown platform 'mastodon'");
  check_refused(run_waddle(db, {"label", "unassign", "demo", "vip", "twitch:zed"}), 3, "not found");
  check_refused(run_waddle(db, {"label", "show", "demo", "gold"}), 3, "not found");
  check_refused(run_waddle(db, {"label", "remove", "demo", "gold"}), 3, "not found");

  CHECK(scalar(db, "select count(*) from labels") == 1);
  CHECK(scalar(db, "select count(*) from label_assignments") == 1);
  CHECK(scalar(db, "select count(*) from users") == users);
  CHECK(scalar(db, "select count(*) from admin_audit_log") == audit);
}
