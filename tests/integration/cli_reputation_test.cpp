// `waddle reputation …` and `waddle audit recent` end to end against a fresh migrated database.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "support/cli_checks.hpp"

using waddle::test::check_refused;
using waddle::test::FreshDatabase;
using waddle::test::run_waddle;
using waddle::test::scalar;

TEST_CASE("reputation adjust writes the ledger, show, top and history read it") {
  FreshDatabase db(true);
  REQUIRE(run_waddle(db, {"community", "add", "demo"}).status == 0);

  auto adjust = run_waddle(db, {"--json", "reputation", "adjust", "demo", "twitch:alice", "50",
                                "--reason", "ran the raffle"});
  REQUIRE(adjust.status == 0);
  auto row = nlohmann::json::parse(adjust.out);
  CHECK(row["community"] == "demo");
  CHECK(row["user"] == "twitch:alice");
  CHECK(row["points"] == 50);
  CHECK(row["reputation"] == 50);
  CHECK(row["reason"] == "ran the raffle");
  CHECK(row["rank"] == 1);
  CHECK(row["role"] == "member");  // earning reputation made alice a member
  CHECK(row["event_id"].is_number_integer());

  REQUIRE(run_waddle(db, {"reputation", "adjust", "demo", "twitch:alice", "-8", "--reason", "spam"})
              .status == 0);
  REQUIRE(run_waddle(db, {"reputation", "adjust", "demo", "twitch:bob", "100", "--reason", "mvp"})
              .status == 0);
  REQUIRE(run_waddle(db, {"reputation", "adjust", "demo", "twitch:carol", "1", "--reason", "hi"})
              .status == 0);

  auto show = run_waddle(db, {"--json", "reputation", "show", "demo", "TWITCH:alice"});
  check_refused(show, 2, "unknown platform 'TWITCH'");
  show = run_waddle(db, {"--json", "reputation", "show", "demo", "twitch:ALICE"});
  REQUIRE(show.status == 0);
  auto shown = nlohmann::json::parse(show.out);
  CHECK(shown["reputation"] == 42);
  CHECK(shown["event_count"] == 2);
  CHECK(shown["rank"] == 2);
  CHECK(run_waddle(db, {"-q", "reputation", "show", "demo", "twitch:alice"}).out == "42\n");
  CHECK(run_waddle(db, {"reputation", "show", "demo", "twitch:alice"}).out.find("reputation:") !=
        std::string::npos);

  auto top = run_waddle(db, {"--json", "reputation", "top", "demo", "--limit", "2"});
  REQUIRE(top.status == 0);
  auto leaders = nlohmann::json::parse(top.out);
  REQUIRE(leaders.size() == 2);
  CHECK(leaders[0]["user"] == "twitch:bob");
  CHECK(leaders[0]["rank"] == 1);
  CHECK(leaders[1]["user"] == "twitch:alice");
  CHECK(leaders[1]["reputation"] == 42);
  auto top_table = run_waddle(db, {"reputation", "top", "demo"});
  CHECK(top_table.out.rfind("RANK", 0) == 0);
  CHECK(top_table.out.find("twitch:carol") != std::string::npos);

  auto history = run_waddle(db, {"--json", "reputation", "history", "demo", "twitch:alice"});
  REQUIRE(history.status == 0);
  auto entries = nlohmann::json::parse(history.out);
  REQUIRE(entries.size() == 2);
  CHECK(entries[0]["points"] == -8);  // newest first
  CHECK(entries[0]["reason"] == "spam");
  CHECK(entries[0]["event_type"] == "admin_adjustment");
  CHECK(entries[1]["points"] == 50);
  CHECK(nlohmann::json::parse(run_waddle(db, {"--json", "reputation", "history", "demo",
                                              "twitch:alice", "--limit", "1"})
                                  .out)
            .size() == 1);

  CHECK(scalar(db, "select count(*) from reputation_events") == 4);
  CHECK(scalar(db, "select count(*) from admin_audit_log where action = 'reputation.adjust'") == 4);
}

TEST_CASE("reputation refusals write nothing") {
  FreshDatabase db(true);
  REQUIRE(run_waddle(db, {"community", "add", "demo"}).status == 0);
  REQUIRE(run_waddle(db, {"reputation", "adjust", "demo", "twitch:alice", "5", "--reason", "ok"})
              .status == 0);
  auto audit = scalar(db, "select count(*) from admin_audit_log");

  check_refused(run_waddle(db, {"reputation", "adjust", "demo", "twitch:alice", "5"}), 2,
                "--reason");
  check_refused(
      run_waddle(db, {"reputation", "adjust", "demo", "twitch:alice", "5", "--reason", "  "}), 2,
      "--reason: must not be empty");
  check_refused(
      run_waddle(db, {"reputation", "adjust", "demo", "twitch:alice", "0", "--reason", "x"}), 2,
      "POINTS: must not be 0");
  check_refused(run_waddle(db, {"reputation", "adjust", "demo", "twitch:alice", "5000000000",
                                "--reason", "x"}),
                2, "POINTS");
  check_refused(
      run_waddle(db, {"reputation", "adjust", "demo", "twitch:alice", "lots", "--reason", "x"}), 2,
      "points");
  check_refused(
      run_waddle(db, {"reputation", "adjust", "nope", "twitch:alice", "5", "--reason", "x"}), 3,
      "community 'nope' not found");
  check_refused(run_waddle(db, {"reputation", "adjust", "demo", "#77", "5", "--reason", "x"}), 3,
                "user '#77' not found");
  check_refused(run_waddle(db, {"reputation", "top", "demo", "--limit", "0"}), 2, "--limit");
  check_refused(run_waddle(db, {"reputation", "top", "demo", "--limit", "1001"}), 2, "--limit");
  check_refused(run_waddle(db, {"reputation", "show", "demo", "twitch:nobody"}), 3,
                "user 'twitch:nobody' not found");

  CHECK(scalar(db, "select count(*) from reputation_events") == 1);
  CHECK(scalar(db, "select count(*) from users") == 1);
  CHECK(scalar(db, "select count(*) from admin_audit_log") == audit);
}

TEST_CASE("audit recent lists admin actions newest first, filtered") {
  FreshDatabase db(true);
  REQUIRE(run_waddle(db, {"community", "add", "demo"}).status == 0);
  REQUIRE(run_waddle(db, {"label", "add", "demo", "vip"}).status == 0);
  REQUIRE(run_waddle(db, {"label", "assign", "demo", "vip", "twitch:alice"}).status == 0);
  {
    // An older entry by somebody else, to filter on.
    pqxx::connection conn(db.url());
    pqxx::work tx(conn);
    tx.exec(
        "insert into admin_audit_log (actor, action, target, created_at) values "
        "('mallory', 'community.add', 'old', '2020-01-01T00:00:00Z')");
    tx.commit();
  }

  auto recent = run_waddle(db, {"--json", "audit", "recent"});
  REQUIRE(recent.status == 0);
  auto rows = nlohmann::json::parse(recent.out);
  REQUIRE(rows.size() == 4);
  CHECK(rows[0]["action"] == "label.assign");
  CHECK(rows[0]["target"] == "demo/vip/twitch:alice");
  CHECK(rows[1]["action"] == "label.add");
  CHECK(rows[2]["action"] == "community.add");
  CHECK(rows[3]["actor"] == "mallory");
  CHECK(rows[0]["details"].is_object());
  CHECK(rows[0]["actor"] != "mallory");

  CHECK(nlohmann::json::parse(run_waddle(db, {"--json", "audit", "recent", "--limit", "1"}).out)
            .size() == 1);
  auto labels = nlohmann::json::parse(
      run_waddle(db, {"--json", "audit", "recent", "--action", "label."}).out);
  CHECK(labels.size() == 2);
  auto by_actor = nlohmann::json::parse(
      run_waddle(db, {"--json", "audit", "recent", "--actor", "mallory"}).out);
  REQUIRE(by_actor.size() == 1);
  CHECK(by_actor[0]["target"] == "old");
  auto since = nlohmann::json::parse(
      run_waddle(db, {"--json", "audit", "recent", "--since", "2021-06-01T00:00:00Z"}).out);
  CHECK(since.size() == 3);
  auto since_date = nlohmann::json::parse(
      run_waddle(db, {"--json", "audit", "recent", "--since", "2019-12-31"}).out);
  CHECK(since_date.size() == 4);

  auto ids = run_waddle(db, {"-q", "audit", "recent", "--actor", "mallory"});
  CHECK(ids.out == std::to_string(by_actor[0]["id"].get<long long>()) + "\n");
  auto table = run_waddle(db, {"audit", "recent"});
  CHECK(table.out.rfind("ID", 0) == 0);
  CHECK(table.out.find("label.assign") != std::string::npos);

  check_refused(run_waddle(db, {"audit", "recent", "--since", "yesterday"}), 2,
                "--since: expected an ISO 8601");
  check_refused(run_waddle(db, {"audit", "recent", "--since", "2026-02-30"}), 2,
                "not a valid date");
  check_refused(run_waddle(db, {"audit", "recent", "--limit", "0"}), 2, "--limit");
  // Reading the log writes nothing to it.
  CHECK(scalar(db, "select count(*) from admin_audit_log") == 4);
}
