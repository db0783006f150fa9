// waddle-actiond's module server against the real PostgreSQL of the test cluster: each test case
// gets a migrated database of its own, starts the server in-process on 127.0.0.1, and sends
// requests over loopback signed exactly as the router signs them.
#include <catch2/catch.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <string>
#include <thread>
#include <vector>

#include "actions/server.hpp"
#include "actions_chat_harness.hpp"
#include "crypto/module_signature.hpp"
#include "net/http_client.hpp"
#include "pg/pool.hpp"
#include "support/database.hpp"

namespace asio = boost::asio;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

using Harness = waddle::test::actions::ChatHarness;
using User = waddle::test::actions::ChatUser;
using waddle::test::actions::contains;
using waddle::test::actions::kAlice;
using waddle::test::actions::kMod;
using waddle::test::actions::kOwner;

}  // namespace

TEST_CASE("start registers every module's commands and secrets, and ping answers pong") {
  Harness h;
  auto commands = h.query(
      "select command, module_name, location, type, location_url from commands where module_name "
      "in ('custom_commands', 'memories', 'ping') order by command");
  REQUIRE(commands.size() == 5);
  CHECK(commands[0][0] == "command");
  CHECK(commands[0][1] == "custom_commands");
  CHECK(commands[1][0] == "link");
  CHECK(commands[2][0] == "ping");
  CHECK(commands[3][0] == "quote");
  CHECK(commands[3][1] == "memories");
  CHECK(commands[3][2] == "internal");
  CHECK(commands[3][3] == "container");
  CHECK(contains(commands[3][4], "/modules/memories"));
  CHECK(commands[4][0] == "remind");
  auto secrets = h.query("select module_name, secret from module_secrets order by module_name");
  REQUIRE(secrets.size() == waddle::actions::known_modules().size());
  CHECK(std::string(secrets[0][1]).size() == 64);
  CHECK(secrets[0][1] != secrets[1][1]);
  CHECK(h.chat("ping", kAlice, "!ping") == "pong");
}

TEST_CASE("requests that are unsigned, mis-signed, stale, malformed or misaddressed are refused") {
  Harness h;
  const std::string body = h.body_for(kAlice, "!ping", h.community()).dump();

  auto unsigned_response = h.post("ping", body, {});
  CHECK(unsigned_response.status == 401);
  CHECK(json::parse(unsigned_response.body)["error"]["code"] == "unauthenticated");

  const std::string ts = std::to_string(std::time(nullptr));
  auto wrong_key = h.post(
      "ping", body,
      {{"X-Waddle-Timestamp", ts},
       {"X-Waddle-Signature", waddle::crypto::module_signature(std::string(64, '0'), ts, body)}});
  CHECK(wrong_key.status == 401);

  // Another module's secret does not open this one.
  auto other_module = h.post(
      "ping", body,
      {{"X-Waddle-Timestamp", ts},
       {"X-Waddle-Signature", waddle::crypto::module_signature(h.secret("memories"), ts, body)}});
  CHECK(other_module.status == 401);

  auto stale = h.post_signed("ping", body, std::time(nullptr) - 301);
  CHECK(stale.status == 401);
  CHECK(contains(stale.body, "300 seconds"));

  auto bad_json = h.post_signed("ping", "{\"command\": ");
  CHECK(bad_json.status == 400);
  CHECK(contains(bad_json.body, "invalid JSON"));

  json missing = json::parse(body);
  missing.erase("community");
  auto missing_field = h.post_signed("ping", missing.dump());
  CHECK(missing_field.status == 400);
  CHECK(json::parse(missing_field.body)["error"]["field"] == "community");

  auto signed_ok = h.post_signed("ping", body);
  CHECK(signed_ok.status == 200);
  auto nowhere = h.post("nosuchmodule", body, {});
  CHECK(nowhere.status == 404);

  // A community the database does not know cannot store anything.
  auto ghost =
      h.post_signed("memories", h.body_for(kAlice, "!quote add words from nowhere", 999999).dump());
  CHECK(ghost.status == 404);
  CHECK(contains(ghost.body, "999999"));
}

TEST_CASE("custom commands: add, use, edit, remove, with variables, roles and bad input") {
  Harness h;
  const std::string cc = "custom_commands";

  // Members may list but not manage.
  CHECK(h.chat(cc, kAlice, "!command list") ==
        "No custom commands yet. Add one with !command add "
        "!name <text>.");
  CHECK(contains(h.chat(cc, kAlice, "!command add !hug hugs"), "only moderators and above"));
  CHECK(h.query("select 1 from custom_commands").empty());

  // Bad input answers with usage lines.
  CHECK(contains(h.chat(cc, kMod, "!command"), "Usage: !command add"));
  CHECK(contains(h.chat(cc, kMod, "!command frobnicate !x"), "Usage: !command add"));
  CHECK(contains(h.chat(cc, kMod, "!command add"), "Usage: !command add !name"));
  CHECK(contains(h.chat(cc, kMod, "!command add !hug"), "Usage: !command add !name"));
  CHECK(contains(h.chat(cc, kMod, "!command add !bad$name text"), "is not a command name"));
  CHECK(contains(h.chat(cc, kMod, "!command add !quote text"),
                 "already a command (module memories)"));
  CHECK(contains(h.chat(cc, kMod, "!command add !x " + std::string(501, 'y')), "too long (501"));
  CHECK(contains(h.chat(cc, kMod, "!command add !x -cd=soon text"), "cooldown must be"));

  CHECK(h.chat(cc, kMod, "!command add !Hug $(user) hugs $(touser) ($(count)) 'quoted'; --") ==
        "Added !hug.");
  CHECK(contains(h.chat(cc, kMod, "!command add !hug again"), "already exists"));
  auto row = h.query("select module_name, location_url from commands where command = 'hug'");
  REQUIRE(row.size() == 1);
  CHECK(row[0][0] == cc);
  CHECK(contains(row[0][1], "/modules/custom_commands"));

  CHECK(h.chat(cc, kAlice, "!hug @bob") == "alice hugs bob (1) 'quoted'; --");
  CHECK(h.chat(cc, kAlice, "!hug") == "alice hugs alice (2) 'quoted'; --");
  CHECK(h.chat(cc, kAlice, "!command list") == "Custom commands: !hug");

  // Edit the text (Unicode and an unknown variable stay intact), then its options.
  CHECK(h.chat(cc, kMod, "!command edit !hug 🐧 שלום $(unknown) {arg1}") == "Updated !hug.");
  CHECK(h.chat(cc, kAlice, "!hug x") == "🐧 שלום $(unknown) x");
  CHECK(h.chat(cc, kMod, "!command edit !hug -ul=moderator") == "Updated !hug.");
  CHECK(h.chat(cc, kAlice, "!hug") == "Sorry alice, only moderators and above can use !hug.");
  CHECK(h.chat(cc, kMod, "!hug") == "🐧 שלום $(unknown)");
  CHECK(h.chat(cc, kOwner, "!command edit !hug -ul=member -cd=3600") == "Updated !hug.");
  // The moderator used it moments ago: within the cooldown a use is ignored silently.
  CHECK(h.chat(cc, kAlice, "!hug").empty());
  CHECK(h.query("select use_count, cooldown_seconds, min_role from custom_commands")[0] ==
        json::array({"4", "3600", "member"}));
  CHECK(contains(h.chat(cc, kMod, "!command edit !hug"), "Usage: !command edit"));
  CHECK(contains(h.chat(cc, kMod, "!command edit !nothere text"), "no custom command !nothere"));

  // Another community with the same name shares the router's row; removing one keeps it.
  const auto other = h.add_community("other");
  CHECK(h.chat(cc, kMod, "!command add !hug other hug", other) == "Added !hug.");
  CHECK(h.chat(cc, kAlice, "!hug", other) == "other hug");
  CHECK(h.chat(cc, kMod, "!command remove !hug") == "Removed !hug.");
  CHECK(h.chat(cc, kAlice, "!hug").empty());
  CHECK(h.query("select 1 from commands where command = 'hug'").size() == 1);
  CHECK(h.chat(cc, kMod, "!command remove !hug", other) == "Removed !hug.");
  CHECK(h.query("select 1 from commands where command = 'hug'").empty());
  CHECK(contains(h.chat(cc, kMod, "!command remove !hug"), "no custom command !hug"));
  CHECK(contains(h.chat(cc, kMod, "!command remove"), "Usage: !command remove"));
}

TEST_CASE("quotes: add, show, random, search, remove, with roles and limits") {
  Harness h;
  const std::string m = "memories";
  CHECK(h.chat(m, kAlice, "!quote") == "No quotes yet. Add one with !quote add <text>.");
  CHECK(contains(h.chat(m, kAlice, "!quote add"), "Usage: !quote add"));
  CHECK(contains(h.chat(m, kAlice, "!quote add " + std::string(10 * 1024, 'q')),
                 "too long (10240 characters; at most 500)"));
  CHECK(h.chat(m, kAlice, "!quote add I never lose at Mario Kart") == "Added quote #1.");
  CHECK(h.chat(m, kMod, "!quote add -c=funny Robert'); DROP TABLE memories;-- 🐧") ==
        "Added quote #2.");
  CHECK(h.chat(m, kAlice, "!quote add the penguin waddles") == "Added quote #3.");

  const std::string today = h.query("select to_char(now() at time zone 'UTC', 'YYYY-MM-DD')")[0][0];
  CHECK(h.chat(m, kAlice, "!quote 1") ==
        "#1: \"I never lose at Mario Kart\" (alice, " + today + ")");
  CHECK(h.chat(m, kAlice, "!quote #2") ==
        "#2 [funny]: \"Robert'); DROP TABLE memories;-- 🐧\" (modbob, " + today + ")");
  CHECK(h.chat(m, kAlice, "!quote 9") == "There is no quote #9.");
  CHECK(h.chat(m, kAlice, "!quote random").substr(0, 1) == "#");
  CHECK(contains(h.chat(m, kAlice, "!quote sing"), "Usage: !quote"));

  CHECK(contains(h.chat(m, kAlice, "!quote search mario KART"), "#1: "));
  CHECK(contains(h.chat(m, kAlice, "!quote search e"),
                 "#1: \"I never lose at Mario Kart\" (alice, " + today + ") (also #2, #3)"));
  CHECK(h.chat(m, kAlice, "!quote search 100%") == "No quote matches that.");
  CHECK(contains(h.chat(m, kAlice, "!quote search"), "Usage: !quote search"));

  CHECK(contains(h.chat(m, kAlice, "!quote remove 1"), "only moderators and above"));
  CHECK(contains(h.chat(m, kMod, "!quote remove"), "Usage: !quote remove"));
  CHECK(h.chat(m, kMod, "!quote remove 1") == "Removed quote #1.");
  CHECK(h.chat(m, kMod, "!quote remove 1") == "There is no quote #1.");
  // Numbers are never handed out again.
  CHECK(h.chat(m, kAlice, "!quote add fresh one") == "Added quote #4.");
  // Other communities have their own numbering.
  const auto other = h.add_community("other");
  CHECK(h.chat(m, kAlice, "!quote 2", other) == "There is no quote #2.");
  CHECK(h.chat(m, kAlice, "!quote add elsewhere", other) == "Added quote #1.");
  auto who =
      h.query("select created_by_id, created_by_name, platform from memories where number = 4");
  REQUIRE(who.size() == 1);
  CHECK(who[0] == json::array({"1", "alice", "console"}));
}

TEST_CASE("links: add, show, list, remove, with roles and bad input") {
  Harness h;
  const std::string m = "memories";
  CHECK(contains(h.chat(m, kAlice, "!link"), "Usage: !link"));
  CHECK(contains(h.chat(m, kAlice, "!link list"), "No links yet"));
  CHECK(contains(h.chat(m, kAlice, "!link add discord https://discord.gg/x"),
                 "only moderators and above"));
  CHECK(contains(h.chat(m, kMod, "!link add discord"), "Usage: !link add"));
  CHECK(contains(h.chat(m, kMod, "!link add discord javascript:alert(1)"), "not an http(s) URL"));
  CHECK(contains(h.chat(m, kMod, "!link add dis/cord https://x.org"), "not a link name"));
  CHECK(h.chat(m, kMod, "!link add Discord https://discord.gg/waddle?x=1&y='2'") ==
        "Added link discord.");
  CHECK(contains(h.chat(m, kMod, "!link add discord https://other.org"), "already exists"));
  CHECK(h.chat(m, kMod, "!link add merch https://shop.example.org") == "Added link merch.");
  CHECK(h.chat(m, kAlice, "!link DISCORD") == "discord: https://discord.gg/waddle?x=1&y='2'");
  CHECK(h.chat(m, kAlice, "!link list") == "Links: discord, merch");
  CHECK(contains(h.chat(m, kAlice, "!link nothere"), "There is no link nothere"));
  CHECK(contains(h.chat(m, kAlice, "!link remove merch"), "only moderators"));
  CHECK(h.chat(m, kOwner, "!link remove merch") == "Removed link merch.");
  CHECK(h.chat(m, kOwner, "!link remove merch") == "There is no link merch.");
  CHECK(h.chat(m, kAlice, "!link list") == "Links: discord");
}

TEST_CASE("a second start on the same database changes nothing and keeps the secrets") {
  waddle::test::FreshDatabase db(true);
  auto snapshot = [&] {
    pqxx::connection conn(db.url());
    pqxx::nontransaction tx(conn);
    std::string out;
    for (const auto& row :
         tx.exec("select module_name, secret from module_secrets order by module_name")) {
      out += row[0].as<std::string>() + "=" + row[1].as<std::string>() + ";";
    }
    out += std::to_string(tx.exec1("select count(*) from commands")[0].as<int>());
    return out;
  };
  std::string first;
  for (int round = 0; round < 2; ++round) {
    asio::io_context io;
    waddle::actions::ActionServer server(io, {.listen_address = "127.0.0.1",
                                              .port = 0,
                                              .public_url = "http://actions.local:8010",
                                              .database_url = db.url(),
                                              .pool_size = 1});
    server.start();
    CHECK(server.base_url() == "http://actions.local:8010");
    server.stop(0ms);
    io.run_for(2s);
    if (round == 0) {
      first = snapshot();
    } else {
      CHECK(snapshot() == first);
    }
  }
  // Every command each module declares, once.
  waddle::pg::Pool pool({.primary_url = db.url(), .size = 1});
  std::size_t declared = 0;
  for (const auto& name : waddle::actions::known_modules()) {
    declared +=
        waddle::actions::make_module(name, {pool, "http://x/modules/" + name})->commands().size();
  }
  CHECK(contains(first, ";" + std::to_string(declared)));
}
