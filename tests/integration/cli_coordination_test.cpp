// `waddle coordination …` against a fresh migrated database.
#include "support/cli_checks.hpp"

using namespace waddle::test;

TEST_CASE("coordination populate, list, release, stats") {
  FreshDatabase db(true);
  sql(db,
      "insert into servers (platform, server_id, channel, is_active) values "
      "('twitch', 'channel', 'alice', true), ('twitch', 'channel', 'bob', true), "
      "('discord', '123', '456', true), ('slack', 'T1', 'C1', false), "
      "('discord', 'a:b', 'c', true)");

  auto first = run_waddle(db, {"coordination", "populate"});
  REQUIRE(first.status == 0);
  CHECK(first.out ==
        "added 3 coordination row(s); skipped 1 server(s) whose server_id or channel contains "
        "':'\n");
  auto again = json_of(run_waddle(db, {"--json", "coordination", "populate"}));
  CHECK(again["added"] == 0);
  CHECK(scalar(db, "select count(*) from coordination") == 3);
  sql(db,
      "insert into servers (platform, server_id, channel) values ('twitch', 'channel', 'carol')");
  auto only_discord = run_waddle(db, {"-q", "coordination", "populate", "--platform", "discord"});
  CHECK(only_discord.status == 0);
  CHECK(only_discord.out.empty());
  auto twitch = run_waddle(db, {"-q", "coordination", "populate", "--platform", "twitch"});
  CHECK(twitch.out == "twitch:channel:carol\n");

  sql(db,
      "update coordination set claimed_by = 'twitch-1', claimed_at = now(), "
      "status = 'claimed', claim_expires = now() - interval '1 minute' "
      "where entity_id = 'twitch:channel:alice'");
  sql(db,
      "update coordination set claimed_by = 'twitch-2', claimed_at = now(), status = 'live', "
      "is_live = true, claim_expires = now() + interval '5 minutes' "
      "where entity_id = 'twitch:channel:bob'");

  auto all = json_of(run_waddle(db, {"--json", "coordination", "list"}));
  CHECK(all.size() == 4);
  auto claimed =
      json_of(run_waddle(db, {"--json", "coordination", "list", "--claimed-by", "twitch-1"}));
  REQUIRE(claimed.size() == 1);
  CHECK(claimed[0]["entity_id"] == "twitch:channel:alice");
  CHECK(claimed[0]["claim_expired"] == true);
  CHECK(json_of(run_waddle(db, {"--json", "coordination", "list", "--status", "live"})).size() ==
        1);
  CHECK(
      json_of(run_waddle(db, {"--json", "coordination", "list", "--platform", "discord"})).size() ==
      1);
  CHECK(run_waddle(db, {"coordination", "list"}).out.rfind("ID", 0) == 0);

  auto stats = json_of(run_waddle(db, {"--json", "coordination", "stats"}));
  REQUIRE(stats["platforms"].size() == 4);
  CHECK(stats["platforms"][0]["platform"] == "twitch");
  CHECK(stats["platforms"][0]["total"] == 3);
  CHECK(stats["platforms"][0]["claimed"] == 1);
  CHECK(stats["platforms"][0]["live"] == 1);
  CHECK(stats["platforms"][0]["is_live"] == 1);
  CHECK(stats["platforms"][0]["expired_claims"] == 1);
  CHECK(stats["platforms"][2]["platform"] == "slack");
  CHECK(stats["platforms"][2]["total"] == 0);
  CHECK(stats["total"]["total"] == 4);
  CHECK(stats["total"]["available"] == 2);
  auto stats_table = run_waddle(db, {"coordination", "stats"});
  CHECK(stats_table.out.rfind("PLATFORM", 0) == 0);
  CHECK(stats_table.out.find("total") != std::string::npos);

  auto released = run_waddle(db, {"coordination", "release", "twitch:channel:alice"});
  CHECK(released.status == 0);
  CHECK(released.out == "released twitch:channel:alice\n");
  auto row = sql(db,
                 "select claimed_by is null, claim_expires is null, status from coordination "
                 "where entity_id = 'twitch:channel:alice'");
  CHECK(row[0][0].as<bool>());
  CHECK(row[0][1].as<bool>());
  CHECK(row[0][2].as<std::string>() == "available");
  auto bob_id = std::to_string(
      scalar(db, "select id from coordination where entity_id = 'twitch:channel:bob'"));
  auto by_id = json_of(run_waddle(db, {"--json", "coordination", "release", bob_id}));
  CHECK(by_id["claimed_by"].is_null());
  CHECK(by_id["status"] == "live");  // the stream is still live; only the claim is gone
  auto noop = run_waddle(db, {"coordination", "release", bob_id});
  CHECK(noop.status == 0);
  CHECK(noop.out.find("not claimed") != std::string::npos);
  CHECK(scalar(db,
               "select count(*) from admin_audit_log where action = "
               "'coordination.release'") == 2);
  CHECK(scalar(db,
               "select count(*) from admin_audit_log where action = "
               "'coordination.populate'") == 4);

  const std::vector<std::string> t = {"coordination"};
  refused(db, {"coordination", "release", "myspace:a:b"}, 2, "is not an entity id", t);
  refused(db, {"coordination", "release", "twitch:channel"}, 2, "is not an entity id", t);
  refused(db, {"coordination", "release", "abc"}, 2, "not a numeric id", t);
  refused(db, {"coordination", "release", "twitch:channel:nobody"}, 3, "no coordination row", t);
  refused(db, {"coordination", "release", "9999"}, 3, "no coordination row", t);
  refused(db, {"coordination", "list", "--platform", "myspace"}, 2, "--platform", t);
  refused(db, {"coordination", "populate", "--platform", "myspace"}, 2, "--platform", t);
}
