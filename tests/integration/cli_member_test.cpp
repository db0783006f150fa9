// `waddle member …` and `waddle identity …` end to end against a fresh migrated database.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "support/cli_checks.hpp"

using waddle::test::check_refused;
using waddle::test::FreshDatabase;
using waddle::test::run_waddle;
using waddle::test::scalar;

TEST_CASE("member add creates the user, list/set/remove manage the role") {
  FreshDatabase db(true);
  REQUIRE(run_waddle(db, {"community", "add", "demo"}).status == 0);

  auto add =
      run_waddle(db, {"--json", "member", "add", "demo", "twitch:Alice", "--role", "moderator"});
  REQUIRE(add.status == 0);
  auto row = nlohmann::json::parse(add.out);
  CHECK(row["community"] == "demo");
  CHECK(row["user"] == "twitch:Alice");
  CHECK(row["role"] == "moderator");
  CHECK(row["reputation"] == 0);
  CHECK(row["user_created"] == true);
  auto alice = row["user_id"].get<long long>();
  // The new user has its identity (id = username) and is in the global community too.
  CHECK(scalar(db,
               "select count(*) from platform_identities where platform = 'twitch' and "
               "platform_user_id = 'Alice' and username = 'Alice'") == 1);
  CHECK(scalar(db,
               "select count(*) from community_members m join communities c on c.id = "
               "m.community_id where c.is_global") == 1);

  // A second add resolves the same user case-insensitively, by name or by #id.
  auto bob = run_waddle(db, {"-q", "member", "add", "demo", "discord:bob"});
  REQUIRE(bob.status == 0);
  auto bob_id = std::stoll(bob.out);
  CHECK(bob_id != alice);

  auto list = run_waddle(db, {"member", "list", "demo"});
  REQUIRE(list.status == 0);
  CHECK(list.out.rfind("USER_ID", 0) == 0);
  CHECK(list.out.find("moderator") != std::string::npos);
  CHECK(run_waddle(db, {"-q", "member", "list", "demo", "--role", "moderator"}).out ==
        std::to_string(alice) + "\n");
  auto members = nlohmann::json::parse(run_waddle(db, {"--json", "member", "list", "demo"}).out);
  REQUIRE(members.size() == 2);
  CHECK(members[1]["user"] == "discord:bob");
  CHECK(members[1]["role"] == "member");

  auto set = run_waddle(db, {"--json", "member", "set", "demo", "twitch:alice", "--role", "owner"});
  REQUIRE(set.status == 0);
  CHECK(nlohmann::json::parse(set.out)["role"] == "owner");
  auto set_by_id =
      run_waddle(db, {"member", "set", "demo", "#" + std::to_string(bob_id), "--role", "admin"});
  CHECK(set_by_id.status == 0);

  auto remove = run_waddle(db, {"member", "remove", "demo", "discord:bob"});
  CHECK(remove.status == 0);
  CHECK(remove.out == "removed discord:bob from demo\n");
  CHECK(scalar(db,
               "select count(*) from community_members m join communities c on c.id = "
               "m.community_id where c.name = 'demo'") == 1);
  CHECK(scalar(db, "select count(*) from admin_audit_log where action like 'member.%'") == 5);
}

TEST_CASE("member refusals: global members stay, bad users and roles, nothing written") {
  FreshDatabase db(true);
  REQUIRE(run_waddle(db, {"community", "add", "demo"}).status == 0);
  REQUIRE(run_waddle(db, {"member", "add", "demo", "twitch:alice"}).status == 0);
  auto audit = scalar(db, "select count(*) from admin_audit_log");
  auto members = scalar(db, "select count(*) from community_members");

  check_refused(run_waddle(db, {"member", "remove", "waddlebot-global", "twitch:alice"}), 2,
                "members of waddlebot-global can never be removed");
  check_refused(run_waddle(db, {"member", "add", "demo", "twitch:alice"}), 2, "already a member");
  check_refused(run_waddle(db, {"member", "add", "demo", "irc:alice"}), 2,
                "unknown platform 'irc'");
  check_refused(run_waddle(db, {"member", "add", "demo", "alice"}), 2, "malformed user 'alice'");
  check_refused(run_waddle(db, {"member", "add", "demo", "#abc"}), 2, "is not a user id");
  check_refused(run_waddle(db, {"member", "add", "demo", "#999"}), 3, "user '#999' not found");
  check_refused(run_waddle(db, {"member", "add", "demo", "twitch:bob", "--role", "king"}), 2,
                "--role");
  check_refused(run_waddle(db, {"member", "add", "nope", "twitch:bob"}), 3, "not found");
  check_refused(run_waddle(db, {"member", "set", "demo", "twitch:bob", "--role", "admin"}), 3,
                "user 'twitch:bob' not found");
  check_refused(run_waddle(db, {"member", "set", "demo", "twitch:alice"}), 2, "--role");
  check_refused(run_waddle(db, {"member", "remove", "demo", "twitch:nobody"}), 3, "not found");

  CHECK(scalar(db, "select count(*) from admin_audit_log") == audit);
  CHECK(scalar(db, "select count(*) from community_members") == members);
  CHECK(scalar(db, "select count(*) from users") == 1);
}

TEST_CASE("identity link, list and unlink") {
  FreshDatabase db(true);
  REQUIRE(run_waddle(db, {"community", "add", "demo"}).status == 0);
  REQUIRE(run_waddle(db, {"member", "add", "demo", "twitch:alice"}).status == 0);

  auto link = run_waddle(db, {"--json", "identity", "link", "twitch:alice", "discord", "8675309",
                              "--username", "Alice#1"});
  REQUIRE(link.status == 0);
  auto row = nlohmann::json::parse(link.out);
  CHECK(row["platform"] == "discord");
  CHECK(row["platform_user_id"] == "8675309");
  CHECK(row["username"] == "Alice#1");
  CHECK(row["verified_at"].is_string());
  auto user_id = row["user_id"].get<long long>();

  // The new identity resolves the same user, by username or by platform id.
  auto list = run_waddle(db, {"--json", "identity", "list", "discord:alice#1"});
  REQUIRE(list.status == 0);
  auto rows = nlohmann::json::parse(list.out);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0]["user_id"] == user_id);
  CHECK(rows[1]["user_id"] == user_id);
  CHECK(run_waddle(db, {"-q", "identity", "list", "--platform", "discord"}).out ==
        std::to_string(row["id"].get<long long>()) + "\n");
  auto table = run_waddle(db, {"identity", "list", "discord:8675309"});
  CHECK(table.status == 0);
  CHECK(table.out.rfind("ID", 0) == 0);
  CHECK(table.out.find("twitch") != std::string::npos);

  auto unlink = run_waddle(db, {"identity", "unlink", "discord", "8675309"});
  CHECK(unlink.status == 0);
  CHECK(unlink.out == "unlinked discord:8675309 from user #" + std::to_string(user_id) + "\n");
  CHECK(scalar(db, "select count(*) from platform_identities") == 1);
  CHECK(scalar(db, "select count(*) from admin_audit_log where action like 'identity.%'") == 2);
}

TEST_CASE("identity refusals write nothing") {
  FreshDatabase db(true);
  REQUIRE(run_waddle(db, {"member", "add", "waddlebot-global", "twitch:alice"}).status == 0);
  REQUIRE(run_waddle(db, {"member", "add", "waddlebot-global", "twitch:bob"}).status == 0);
  auto audit = scalar(db, "select count(*) from admin_audit_log");

  check_refused(run_waddle(db, {"identity", "link", "twitch:nobody", "discord", "1"}), 3,
                "user 'twitch:nobody' not found");
  check_refused(run_waddle(db, {"identity", "link", "twitch:alice", "irc", "1"}), 2, "irc");
  check_refused(run_waddle(db, {"identity", "link", "twitch:alice", "twitch", "bob"}), 2,
                "already linked to user #");
  check_refused(run_waddle(db, {"identity", "link", "twitch:alice", "discord", "a b"}), 2,
                "PLATFORM_USER_ID");
  check_refused(run_waddle(db, {"identity", "unlink", "discord", "42"}), 3, "not found");
  check_refused(run_waddle(db, {"identity", "list", "bogus"}), 2, "malformed user");

  CHECK(scalar(db, "select count(*) from platform_identities") == 2);
  CHECK(scalar(db, "select count(*) from admin_audit_log") == audit);
}
