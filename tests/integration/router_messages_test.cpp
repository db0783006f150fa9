// POST /router/messages (a module's message outside any request) and the per-channel chat line
// counts the router adds up for timers.
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "router_support.hpp"

using json = nlohmann::json;
using namespace waddle::test;

namespace {

std::string field_of(const waddle::net::ClientResponse& r) {
  return json::parse(r.body, nullptr, false).value("error", json::object()).value("field", "");
}

json reminder() {
  return {{"entity_id", kEntity},
          {"module_name", "memories"},
          {"actions",
           {{{"type", "chat"}, {"text", "@alice, reminder: stretch 🧘"}},
            {{"type", "whisper"}, {"user_name", "alice"}, {"text", "psst"}},
            {{"type", "ticker"}, {"text", "Stretch break"}}}}};
}

}  // namespace

TEST_CASE("a module message goes to the collector serving the entity", "[router]") {
  RouterHarness h;
  h.start();

  // No collector has registered for the console platform yet: nothing delivered, and said so.
  auto early = h.post("/router/messages", reminder(), kModuleKey);
  INFO(early.body);
  REQUIRE(early.status == 200);
  CHECK(early.json()["delivered"] == false);
  CHECK(early.json()["collector"].is_null());
  CHECK(early.json()["published"] == 1);
  CHECK(early.json()["community"]["name"] == "demo");

  REQUIRE(h.post("/router/modules/register", {{"name", "console-collector"},
                                              {"kind", "collector"},
                                              {"platform", "console"},
                                              {"callback_url", h.modules().module_url("callback")},
                                              {"callback_token", "cb-token"}})
              .status == 200);
  auto sent = h.post("/router/messages", reminder(), kModuleKey);
  INFO(sent.body);
  REQUIRE(sent.status == 200);
  CHECK(sent.json()["delivered"] == true);
  CHECK(sent.json()["collector"] == "console-collector");
  auto callback = h.modules().request_for("callback");
  REQUIRE(callback);
  CHECK(callback->header("Authorization") == "Bearer cb-token");
  json body = json::parse(callback->body);
  CHECK(body["entity_id"] == kEntity);
  CHECK(body["module_name"] == "memories");
  CHECK(body["community"]["id"] == h.community_id());
  CHECK_FALSE(body.contains("session_id"));
  // The overlay's ticker is published, not handed to the collector.
  REQUIRE(body["actions"].size() == 2);
  CHECK(body["actions"][0]["text"] == "@alice, reminder: stretch 🧘");
  CHECK(body["actions"][1]["type"] == "whisper");

  // Only overlay actions: nothing for the collector, so nothing undelivered.
  json overlay_only = reminder();
  overlay_only["actions"] = {{{"type", "ticker"}, {"text", "Stretch break"}}};
  auto published = h.post("/router/messages", overlay_only, kModuleKey);
  CHECK(published.json()["delivered"] == true);
  CHECK(published.json()["collector"].is_null());

  // A collector whose callback fails: delivered false, so the module retries later.
  h.modules().set("callback", {.scenario = waddle::fakes::ModuleScenario::server_error});
  CHECK(h.post("/router/messages", reminder(), kModuleKey).json()["delivered"] == false);

  auto metrics = h.get("/router/metrics");
  CHECK(metrics.json().dump().find("\"module_messages\":4") != std::string::npos);
}

TEST_CASE("bad module messages are refused naming the field", "[router]") {
  RouterHarness h;
  h.start();
  CHECK(h.post("/router/messages", reminder(), kCollectorKey).status == 403);  // not a module
  CHECK(h.post("/router/messages", reminder(), kOtherKey).status == 403);      // other community
  json unknown = reminder();
  unknown["entity_id"] = "console:local:nowhere";
  CHECK(h.post("/router/messages", unknown, kModuleKey).status == 404);
  json missing = reminder();
  missing.erase("actions");
  auto no_actions = h.post("/router/messages", missing, kModuleKey);
  CHECK(no_actions.status == 400);
  CHECK(field_of(no_actions) == "actions");
  json empty = reminder();
  empty["actions"] = json::array();
  CHECK(field_of(h.post("/router/messages", empty, kModuleKey)) == "actions");
  json bad_action = reminder();
  bad_action["actions"][1].erase("text");
  CHECK(field_of(h.post("/router/messages", bad_action, kModuleKey)) == "actions[1].text");
  json no_module = reminder();
  no_module.erase("module_name");
  CHECK(field_of(h.post("/router/messages", no_module, kModuleKey)) == "module_name");
  json extra = reminder();
  extra["session_id"] = "ses_x";
  CHECK(field_of(h.post("/router/messages", extra, kModuleKey)) == "session_id");
  CHECK(h.request("POST", "/router/messages", "[1,2", kModuleKey).status == 400);
}

TEST_CASE("the router adds up chat lines per channel", "[router]") {
  RouterHarness h;
  h.start();
  for (int i = 0; i < 5; ++i) h.send(h.chat_event("line " + std::to_string(i)));
  h.send(h.chat_event("!nosuchcommand"));
  CHECK(
      h.wait_count("select coalesce(sum(chat_lines), 0) from entity_activity where entity_id = '" +
                       std::string(kEntity) + "' and last_chat_at is not null",
                   6) == 6);
}

TEST_CASE("an identity linked to another user takes its next credits along", "[router]") {
  RouterHarness h;
  h.start();
  h.send(h.chat_event("first line", "alice"));
  const std::string owner =
      "select i.user_id from platform_identities i where i.platform = 'console' and "
      "i.platform_user_id = 'id-alice'";
  REQUIRE(h.wait_count("select count(*) from platform_identities where platform = 'console' "
                       "and platform_user_id = 'id-alice'",
                       1) == 1);
  REQUIRE(h.wait_count("select count(*) from reputation_events e join platform_identities i on "
                       "i.user_id = e.user_id where i.platform_user_id = 'id-alice'",
                       1) >= 1);
  // What !verify does: the console account now belongs to another user.
  const auto other =
      h.query("insert into users (display_name) values ('Alice Linked') returning id")[0][0]
          .as<std::int64_t>();
  h.sql("update platform_identities set user_id = " + std::to_string(other) +
        " where platform = 'console' and platform_user_id = 'id-alice'");
  // The router hears of it (NOTIFY) and credits the new owner, without a restart.
  const bool moved = h.eventually([&] {
    h.send(h.chat_event("another line", "alice"));
    return h.query("select count(*) from reputation_events where user_id = " +
                   std::to_string(other))[0][0]
               .as<int>() > 0;
  });
  CHECK(moved);
  CHECK(h.query(owner)[0][0].as<std::int64_t>() == other);
}
