// The schema's own guarantees, checked against a database built by the shipped migrations: every
// test case gets a freshly created database (dropped at the end).
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "crypto/hash.hpp"
#include "migrate/migrate.hpp"
#include "support/cluster.hpp"
#include "support/database.hpp"

namespace {

// A fresh database with every shipped migration applied, dropped at the end.
struct SchemaDatabase : waddle::test::FreshDatabase {
  SchemaDatabase() : FreshDatabase(/*migrated=*/true) {}
};

struct Outcome {
  std::string sqlstate;  // empty: the statement succeeded (and was committed)
  std::string message;
};

// Runs sql in its own transaction and reports how Postgres answered.
Outcome run(pqxx::connection& conn, const std::string& sql) {
  try {
    pqxx::work tx(conn);
    tx.exec(sql);
    tx.commit();
    return {};
  } catch (const pqxx::sql_error& e) {
    return {e.sqlstate(), e.what()};
  }
}

std::string one(pqxx::connection& conn, const std::string& sql) {
  pqxx::work tx(conn);
  auto value = tx.exec1(sql)[0].as<std::string>();
  tx.commit();
  return value;
}

constexpr const char* kCheckViolation = "23514";
constexpr const char* kUniqueViolation = "23505";
constexpr const char* kForeignKeyViolation = "23503";
constexpr const char* kLimitReached = "WD001";
constexpr const char* kProtected = "WD002";

// Two communities ("alpha", "beta") and two users ("alice", "bob"), referred to by name.
void seed(pqxx::connection& conn) {
  REQUIRE(run(conn,
              "insert into communities (name) values ('alpha'), ('beta');"
              "insert into users (display_name) values ('alice'), ('bob');")
              .sqlstate.empty());
}

std::string community(const std::string& name) {
  return "(select id from communities where name = '" + name + "')";
}
std::string user(const std::string& name) {
  return "(select id from users where display_name = '" + name + "')";
}

class Collector : public pqxx::notification_receiver {
 public:
  Collector(pqxx::connection_base& conn, const std::string& channel)
      : pqxx::notification_receiver(conn, channel) {}
  void operator()(const std::string& payload, int) override {
    payloads.push_back(nlohmann::json::parse(payload));
  }
  std::vector<nlohmann::json> payloads;
};

// Waits (at most 10 s) until `count` notifications arrived.
void await(pqxx::connection& conn, Collector& collector, std::size_t count) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (collector.payloads.size() < count && std::chrono::steady_clock::now() < deadline) {
    conn.await_notification(1, 0);
  }
}

}  // namespace

TEST_CASE("the global community exists, is permanent, and every user joins it") {
  SchemaDatabase db;
  pqxx::connection conn(db.url());
  CHECK(one(conn, "select count(*) from communities where is_global") == "1");
  CHECK(one(conn, "select name from communities where is_global") == "waddlebot-global");
  CHECK(run(conn, "delete from communities where name = 'waddlebot-global'").sqlstate ==
        kProtected);
  CHECK(run(conn, "update communities set name = 'other' where is_global").sqlstate == kProtected);
  CHECK(run(conn, "insert into communities (name, is_global) values ('second', true)").sqlstate ==
        kUniqueViolation);

  seed(conn);
  CHECK(one(conn,
            "select count(*) from community_members m join communities c "
            "on c.id = m.community_id where c.is_global") == "2");
}

TEST_CASE("members of waddlebot-global can never be removed") {
  SchemaDatabase db;
  pqxx::connection conn(db.url());
  seed(conn);
  auto global_member =
      "community_id = " + community("waddlebot-global") + " and user_id = " + user("alice");

  auto removed = run(conn, "delete from community_members where " + global_member);
  CHECK(removed.sqlstate == kProtected);
  CHECK_THAT(removed.message, Catch::Contains("global community"));
  CHECK(run(conn, "update community_members set community_id = " + community("alpha") + " where " +
                      global_member)
            .sqlstate == kProtected);
  CHECK(run(conn,
            "delete from community_members where community_id = " + community("waddlebot-global"))
            .sqlstate == kProtected);
  CHECK(one(conn, "select count(*) from community_members where " + global_member) == "1");

  // Role changes are fine, and so is a membership elsewhere coming and going.
  CHECK(run(conn, "update community_members set role = 'moderator' where " + global_member)
            .sqlstate.empty());
  CHECK(run(conn, "insert into community_members (community_id, user_id) values (" +
                      community("alpha") + ", " + user("alice") + ")")
            .sqlstate.empty());
  CHECK(run(conn, "delete from community_members where community_id = " + community("alpha"))
            .sqlstate.empty());

  // Deleting the user itself takes its memberships with it.
  CHECK(run(conn, "delete from users where display_name = 'alice'").sqlstate.empty());
  CHECK(one(conn, "select count(*) from community_members") == "1");
}

TEST_CASE("a community has at most 5 labels") {
  SchemaDatabase db;
  pqxx::connection conn(db.url());
  seed(conn);
  for (int i = 1; i <= 5; ++i) {
    REQUIRE(run(conn, "insert into labels (community_id, name) values (" + community("alpha") +
                          ", 'label" + std::to_string(i) + "')")
                .sqlstate.empty());
  }
  auto sixth =
      run(conn, "insert into labels (community_id, name) values (" + community("alpha") + ", 'x')");
  CHECK(sixth.sqlstate == kLimitReached);
  CHECK_THAT(sixth.message, Catch::Contains("5 labels"));
  CHECK(one(conn, "select count(*) from labels") == "5");
  // The limit is per community; names are unique per community, case-insensitively.
  CHECK(run(conn,
            "insert into labels (community_id, name) values (" + community("beta") + ", 'label1')")
            .sqlstate.empty());
  CHECK(run(conn,
            "insert into labels (community_id, name) values (" + community("beta") + ", 'LABEL1')")
            .sqlstate == kUniqueViolation);
}

TEST_CASE("label assignments stay within the label's community and are not duplicated") {
  SchemaDatabase db;
  pqxx::connection conn(db.url());
  seed(conn);
  for (const auto* c : {"alpha", "beta"}) {
    REQUIRE(
        run(conn, "insert into labels (community_id, name) values (" + community(c) + ", 'vip')")
            .sqlstate.empty());
  }
  auto assign = [&](const std::string& c, const std::string& label_community,
                    const std::string& u) {
    return run(conn, "insert into label_assignments (community_id, label_id, user_id) values (" +
                         community(c) + ", (select id from labels where community_id = " +
                         community(label_community) + "), " + user(u) + ")");
  };
  CHECK(assign("beta", "alpha", "alice").sqlstate == kForeignKeyViolation);
  CHECK(assign("alpha", "alpha", "alice").sqlstate.empty());
  CHECK(assign("alpha", "alpha", "alice").sqlstate == kUniqueViolation);
  CHECK(assign("alpha", "alpha", "bob").sqlstate.empty());
  CHECK(assign("beta", "beta", "alice").sqlstate.empty());
  // Deleting a label removes its assignments.
  REQUIRE(
      run(conn, "delete from labels where community_id = " + community("alpha")).sqlstate.empty());
  CHECK(one(conn, "select count(*) from label_assignments") == "1");
}

TEST_CASE("a sixth label on one user in one community is refused by the database") {
  SchemaDatabase db;
  pqxx::connection conn(db.url());
  seed(conn);
  // With at most 5 labels per community the per-user limit is defence in depth; to reach it, a
  // sixth label is created with the community limit switched off for that one statement.
  for (int i = 1; i <= 5; ++i) {
    REQUIRE(run(conn, "insert into labels (community_id, name) values (" + community("alpha") +
                          ", 'l" + std::to_string(i) + "')")
                .sqlstate.empty());
    REQUIRE(run(conn,
                "insert into label_assignments (community_id, label_id, user_id) "
                "select community_id, id, " +
                    user("alice") + " from labels where name = 'l" + std::to_string(i) + "'")
                .sqlstate.empty());
  }
  REQUIRE(run(conn,
              "alter table labels disable trigger labels_limit;"
              "insert into labels (community_id, name) values (" +
                  community("alpha") +
                  ", 'l6');"
                  "alter table labels enable trigger labels_limit")
              .sqlstate.empty());
  auto sixth = run(conn,
                   "insert into label_assignments (community_id, label_id, user_id) "
                   "select community_id, id, " +
                       user("alice") + " from labels where name = 'l6'");
  CHECK(sixth.sqlstate == kLimitReached);
  CHECK_THAT(sixth.message, Catch::Contains("5 labels in community"));
  CHECK(run(conn,
            "insert into label_assignments (community_id, label_id, user_id) "
            "select community_id, id, " +
                user("bob") + " from labels where name = 'l6'")
            .sqlstate.empty());
}

TEST_CASE("entity ids and platforms are checked") {
  SchemaDatabase db;
  pqxx::connection conn(db.url());
  seed(conn);
  auto entity = [&](const std::string& id, const std::string& platform, const std::string& server,
                    const std::string& channel) {
    return run(conn,
               "insert into entities (entity_id, platform, server_id, channel_id, community_id) "
               "values ('" +
                   id + "', '" + platform + "', '" + server + "', '" + channel + "', " +
                   community("alpha") + ")");
  };
  CHECK(entity("twitch:channel:waddlebot", "twitch", "channel", "waddlebot").sqlstate.empty());
  CHECK(entity("discord:123:456", "discord", "123", "456").sqlstate.empty());
  CHECK(entity("twitch:waddlebot", "twitch", "waddlebot", "").sqlstate == kCheckViolation);
  CHECK(entity("twitch+channel+x", "twitch", "channel", "x").sqlstate == kCheckViolation);
  CHECK(entity("slack:a:b:c", "slack", "a", "b:c").sqlstate == kCheckViolation);
  CHECK(entity("irc:server:chan", "irc", "server", "chan").sqlstate == kCheckViolation);
  // The parts must agree with the id.
  CHECK(entity("slack:T1:C1", "slack", "T1", "C2").sqlstate == kCheckViolation);
  CHECK(entity("discord:123:456", "discord", "123", "456").sqlstate == kUniqueViolation);

  CHECK(run(conn,
            "insert into platform_identities (user_id, platform, platform_user_id, username) "
            "values (" +
                user("alice") + ", 'myspace', '1', 'alice')")
            .sqlstate == kCheckViolation);
  CHECK(run(conn,
            "insert into platform_identities (user_id, platform, platform_user_id, username) "
            "values (" +
                user("alice") + ", 'twitch', '1', 'alice')")
            .sqlstate.empty());
  CHECK(run(conn,
            "insert into platform_identities (user_id, platform, platform_user_id, username) "
            "values (" +
                user("bob") + ", 'twitch', '1', 'bob')")
            .sqlstate == kUniqueViolation);
  CHECK(run(conn, "insert into servers (platform, channel, server_id) values ('kick', 'a', 'b')")
            .sqlstate == kCheckViolation);
}

TEST_CASE("commands need an http(s) location_url and valid enums") {
  SchemaDatabase db;
  pqxx::connection conn(db.url());
  auto command = [&](const std::string& name, const std::string& prefix, const std::string& url,
                     const std::string& location, const std::string& type) {
    return run(conn,
               "insert into commands (command, prefix, location_url, location, type, module_name) "
               "values ('" +
                   name + "', '" + prefix + "', '" + url + "', '" + location + "', '" + type +
                   "', 'm')");
  };
  CHECK(command("so", "!", "http://127.0.0.1:8010/so", "internal", "container").sqlstate.empty());
  CHECK(command("weather", "#", "https://example.com/w", "community", "webhook").sqlstate.empty());
  CHECK(command("a", "!", "ftp://127.0.0.1/x", "internal", "container").sqlstate ==
        kCheckViolation);
  CHECK(command("b", "!", "127.0.0.1:8010/x", "internal", "container").sqlstate == kCheckViolation);
  CHECK(command("c", "!", "javascript:alert(1)", "internal", "container").sqlstate ==
        kCheckViolation);
  CHECK(command("d", "!", "http://", "internal", "container").sqlstate == kCheckViolation);
  CHECK(command("e", "?", "http://x/", "internal", "container").sqlstate == kCheckViolation);
  CHECK(command("f", "!", "http://x/", "internal", "ftp").sqlstate == kCheckViolation);
  CHECK(command("g", "#", "http://x/", "community", "container").sqlstate == kCheckViolation);
  CHECK(command("h", "#", "http://x/", "internal", "webhook").sqlstate == kCheckViolation);
  CHECK(command("Upper", "!", "http://x/", "internal", "container").sqlstate == kCheckViolation);
  CHECK(command("so", "!", "http://x/", "internal", "container").sqlstate == kUniqueViolation);
  // The same name under the other prefix is a different command.
  CHECK(command("so", "#", "https://x/", "community", "lambda").sqlstate.empty());
}

TEST_CASE("aliases are unique per community and rules need their targets") {
  SchemaDatabase db;
  pqxx::connection conn(db.url());
  seed(conn);
  auto alias = [&](const std::string& c, const std::string& name) {
    return run(conn, "insert into aliases (community_id, alias, expansion) values (" +
                         community(c) + ", '" + name + "', '!so {arg1}')");
  };
  CHECK(alias("alpha", "hi").sqlstate.empty());
  CHECK(alias("alpha", "hi").sqlstate == kUniqueViolation);
  CHECK(alias("beta", "hi").sqlstate.empty());
  CHECK(run(conn, "insert into aliases (community_id, alias, expansion) values (" +
                      community("alpha") + ", 'x', 'no prefix')")
            .sqlstate == kCheckViolation);

  auto rule = [&](const std::string& columns, const std::string& values) {
    return run(conn, "insert into string_rules (community_id, string, " + columns + ") values (" +
                         community("alpha") + ", 'bad', " + values + ")");
  };
  CHECK(rule("action", "'warn'").sqlstate.empty());
  CHECK(rule("action", "'explode'").sqlstate == kCheckViolation);
  CHECK(rule("action, match_type", "'warn', 'fuzzy'").sqlstate == kCheckViolation);
  CHECK(rule("action", "'command'").sqlstate == kCheckViolation);
  CHECK(rule("action, command_to_execute", "'command', 'so'").sqlstate.empty());
  CHECK(rule("action", "'webhook'").sqlstate == kCheckViolation);
  CHECK(rule("action, webhook_url", "'webhook', 'gopher://x'").sqlstate == kCheckViolation);
  CHECK(rule("action, webhook_url", "'webhook', 'https://hooks.example/x'").sqlstate.empty());
}

TEST_CASE("changes to cached tables are announced on waddle_changes") {
  SchemaDatabase db;
  pqxx::connection writer(db.url());
  seed(writer);
  pqxx::connection listener(db.url());
  Collector collector(listener, "waddle_changes");
  // The LISTEN is in place once a round trip has been made on the listener.
  listener.await_notification(0, 1000);

  REQUIRE(run(writer,
              "insert into commands (command, prefix, location_url, location, module_name) "
              "values ('so', '!', 'http://127.0.0.1:8010/so', 'internal', 'shoutout');"
              "update commands set command = 'shout' where command = 'so';"
              "insert into aliases (community_id, alias, expansion) values (" +
                  community("alpha") +
                  ", 'hi', '!shout');"
                  "insert into entities (entity_id, platform, server_id, channel_id, community_id) "
                  "values ('twitch:channel:w', 'twitch', 'channel', 'w', " +
                  community("alpha") + ");")
              .sqlstate.empty());
  REQUIRE(run(writer, "delete from aliases; delete from commands; delete from entities")
              .sqlstate.empty());
  await(listener, collector, 7);
  REQUIRE(collector.payloads.size() == 7);

  const auto& p = collector.payloads;
  CHECK(p[0]["table"] == "commands");
  CHECK(p[0]["op"] == "INSERT");
  CHECK(p[0]["key"] == "!so");
  CHECK_FALSE(p[0].contains("community_id"));
  CHECK(p[1]["table"] == "commands");
  CHECK(p[1]["op"] == "UPDATE");
  CHECK(p[1]["id"] == p[0]["id"]);
  CHECK(p[1]["key"] == "!shout");
  CHECK(p[1]["old_key"] == "!so");
  CHECK(p[2]["table"] == "aliases");
  CHECK(p[2]["op"] == "INSERT");
  CHECK(p[2]["key"] == "hi");
  CHECK(p[2]["community_id"].is_number_integer());
  CHECK(p[3]["table"] == "entities");
  CHECK(p[3]["op"] == "INSERT");
  CHECK(p[3]["key"] == "twitch:channel:w");
  CHECK(p[3]["community_id"] == p[2]["community_id"]);
  CHECK(p[4]["table"] == "aliases");
  CHECK(p[4]["op"] == "DELETE");
  CHECK(p[4]["id"] == p[2]["id"]);
  CHECK(p[5]["table"] == "commands");
  CHECK(p[5]["op"] == "DELETE");
  CHECK(p[5]["id"] == p[0]["id"]);
  CHECK(p[6]["table"] == "entities");
  CHECK(p[6]["op"] == "DELETE");
  CHECK(p[6]["key"] == "twitch:channel:w");
}

TEST_CASE("usage counters and rolled-back changes are not announced") {
  SchemaDatabase db;
  pqxx::connection writer(db.url());
  seed(writer);
  REQUIRE(run(writer,
              "insert into commands (command, prefix, location_url, location, module_name) "
              "values ('so', '!', 'http://127.0.0.1:8010/so', 'internal', 'shoutout');"
              "insert into command_permissions (community_id, command_id) values (" +
                  community("alpha") + ", (select id from commands));")
              .sqlstate.empty());
  pqxx::connection listener(db.url());
  Collector collector(listener, "waddle_changes");
  listener.await_notification(0, 1000);

  REQUIRE(run(writer,
              "update command_permissions set usage_count = usage_count + 1, "
              "last_used = now()")
              .sqlstate.empty());
  {
    pqxx::work tx(writer);
    tx.exec("update commands set description = 'rolled back'");
    tx.abort();
  }
  // A marker change: notifications arrive in commit order, so it must be the first one heard.
  REQUIRE(run(writer, "insert into aliases (community_id, alias, expansion) values (" +
                          community("alpha") + ", 'marker', '!so')")
              .sqlstate.empty());
  await(listener, collector, 1);
  REQUIRE(collector.payloads.size() == 1);
  CHECK(collector.payloads[0]["table"] == "aliases");
  CHECK(collector.payloads[0]["op"] == "INSERT");
}

TEST_CASE("api_keys and overlay_tokens keep only hashes") {
  SchemaDatabase db;
  pqxx::connection conn(db.url());
  seed(conn);
  // No column could hold a plain secret: the only text columns are names, prefixes and hashes.
  auto columns = one(conn,
                     "select string_agg(column_name, ',' order by column_name) "
                     "from information_schema.columns where table_name = 'api_keys'");
  CHECK_THAT(columns, Catch::Contains("key_hash") && Catch::Contains("key_prefix"));
  CHECK_THAT(columns,
             !Catch::Contains("key,") && !Catch::Contains("secret") && !Catch::Contains("token"));

  auto hash = waddle::crypto::sha256_hex("wdl_abcd1234_the-secret-part");
  CHECK(run(conn,
            "insert into api_keys (name, key_prefix, key_hash, roles) values "
            "('collector', 'wdl_abcd', '" +
                hash + "', array['collector'])")
            .sqlstate.empty());
  CHECK(run(conn,
            "insert into api_keys (name, key_prefix, key_hash, roles) values "
            "('raw', 'wdl_efgh', 'wdl_efgh1234_the-secret-part', array['admin'])")
            .sqlstate == kCheckViolation);
  CHECK(run(conn,
            "insert into api_keys (name, key_prefix, key_hash, roles) values ('role', "
            "'wdl_ijkl', '" +
                std::string(64, 'a') + "', array['superuser'])")
            .sqlstate == kCheckViolation);
  CHECK(run(conn,
            "insert into api_keys (name, key_prefix, key_hash, roles) values ('none', "
            "'wdl_mnop', '" +
                std::string(64, 'b') + "', array[]::text[])")
            .sqlstate == kCheckViolation);
  CHECK(one(conn, "select key_hash from api_keys where name = 'collector'") == hash);

  CHECK(run(conn, "insert into overlay_tokens (community_id, token_prefix, token_hash) values (" +
                      community("alpha") + ", 'ovl_abcd', 'plain-token-value')")
            .sqlstate == kCheckViolation);
  CHECK(run(conn, "insert into overlay_tokens (community_id, token_prefix, token_hash) values (" +
                      community("alpha") + ", 'ovl_abcd', '" + hash + "')")
            .sqlstate.empty());
}

TEST_CASE("reputation events feed the totals and the member view") {
  SchemaDatabase db;
  pqxx::connection conn(db.url());
  seed(conn);
  CHECK(one(conn,
            "select points from reputation_event_points "
            "where event_type = 'follow' and community_id is null") == "10");
  CHECK(one(conn,
            "select points || '/' || per_amount from reputation_event_points "
            "where event_type = 'cheer'") == "1/100");
  CHECK(one(conn,
            "select points from reputation_event_points "
            "where event_type = 'reaction' and platform = 'slack'") == "3");

  REQUIRE(run(conn,
              "insert into reputation_events (community_id, user_id, event_type, points) "
              "values (" +
                  community("alpha") + ", " + user("alice") + ", 'follow', 10), (" +
                  community("alpha") + ", " + user("alice") + ", 'ban', -10), (" +
                  community("alpha") + ", " + user("alice") + ", 'subscription', 50)")
              .sqlstate.empty());
  REQUIRE(run(conn,
              "insert into reputation_events (community_id, user_id, event_type, points) "
              "values (" +
                  community("alpha") + ", " + user("alice") + ", 'chatMessage', 5)")
              .sqlstate.empty());
  CHECK(one(conn, "select points || '/' || event_count from reputation_totals") == "55/4");
  CHECK(one(conn, "select reputation from community_member_reputation where community_id = " +
                      community("alpha") + " and user_id = " + user("alice")) == "55");
  CHECK(one(conn, "select role from community_members where community_id = " + community("alpha") +
                      " and user_id = " + user("alice")) == "member");
  CHECK(run(conn, "update reputation_events set points = 1000").sqlstate == "WD003");
}

TEST_CASE("the admin audit log is append-only") {
  SchemaDatabase db;
  pqxx::connection conn(db.url());
  REQUIRE(run(conn,
              "insert into admin_audit_log (actor, action, target, details) values "
              "('root', 'community.create', 'alpha', '{\"by\": \"cli\"}')")
              .sqlstate.empty());
  CHECK(run(conn, "update admin_audit_log set actor = 'nobody'").sqlstate == "WD003");
  CHECK(run(conn, "insert into admin_audit_log (actor, action) values ('', 'x')").sqlstate ==
        kCheckViolation);
}
