// waddle-routerd end to end: the real daemon, PostgreSQL and Redis, the fake module host, and
// HTTP over loopback. Each TEST_CASE starts its own router on a fresh database.
#include <algorithm>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "crypto/module_signature.hpp"
#include "overlay/feed.hpp"
#include "redis/subscriber.hpp"
#include "router_support.hpp"
#include "support/cli.hpp"

using json = nlohmann::json;
using waddle::fakes::ModuleBehaviour;
using waddle::fakes::ModuleScenario;
using namespace waddle::test;

namespace {

std::size_t requests_for(RouterHarness& h, const std::string& key) {
  auto all = h.modules().requests();
  return static_cast<std::size_t>(
      std::count_if(all.begin(), all.end(), [&](const auto& r) { return r.key == key; }));
}

std::string first_chat(const json& reply) {
  for (const auto& action : reply.at("actions")) {
    if (action.at("type") == "chat") return action.at("text").get<std::string>();
  }
  return {};
}

}  // namespace

TEST_CASE("a command runs through an alias to a signed module call and back", "[router]") {
  RouterHarness h;
  h.add_command("!", "hello", "greeter");
  h.sql("insert into aliases (community_id, alias, expansion) values (" +
        std::to_string(h.community_id()) + ", 'hi', '!hello {user} {args}')");
  h.start();

  json reply = h.send(h.chat_event("!hi \"big world\"", "alice"));
  INFO(reply.dump());
  CHECK(reply["outcome"] == "command");
  CHECK(first_chat(reply) == "hello from greeter");
  REQUIRE(reply["executions"].size() == 1);
  CHECK(reply["executions"][0]["status"] == "success");
  CHECK(reply["executions"][0]["command"] == "!hello");
  CHECK(reply["session_id"].is_string());

  auto request = h.modules().request_for("greeter");
  REQUIRE(request);
  json body = json::parse(request->body);
  CHECK(body["command"] == "hello");
  CHECK(body["prefix"] == "!");
  CHECK(body["args"] == json::array({"alice", "big world"}));
  CHECK(body["community"]["name"] == "demo");
  CHECK(body["user"]["community_role"] == "member");
  CHECK(body["trigger"] == "command");
  CHECK(body["session_id"] == reply["session_id"]);
  auto timestamp = request->header("X-Waddle-Timestamp");
  auto signature = request->header("X-Waddle-Signature");
  REQUIRE(timestamp);
  REQUIRE(signature);
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  CHECK(waddle::crypto::verify_module_signature(kSecret, *timestamp, *signature, request->body,
                                                now) == waddle::crypto::SignatureCheck::ok);

  // Audit rows arrive in a batch shortly after the reply.
  CHECK(h.wait_count("select count(*) from command_executions where status = 'success'", 1) == 1);
  CHECK(h.wait_count("select count(*) from module_responses where chat_message = 'hello from "
                     "greeter'",
                     1) == 1);
  // Reputation: 5 points per chat message, in the community and in waddlebot-global.
  CHECK(h.wait_count("select coalesce(sum(t.points), 0) from reputation_totals t join "
                     "communities c on c.id = t.community_id where c.name = 'demo'",
                     5) == 5);
  CHECK(h.wait_count("select coalesce(sum(t.points), 0) from reputation_totals t join "
                     "communities c on c.id = t.community_id where c.is_global",
                     5) == 5);
}

TEST_CASE("a community's own command prefixes take effect at once", "[router]") {
  RouterHarness h;
  h.add_command("!", "ping", "pinger");
  h.start();
  CHECK(h.send(h.chat_event("?ping"))["outcome"] == "chat");
  auto set = run_process({waddle_binary(), "--database-url", h.db().url(), "community", "set",
                          "demo", "--prefixes", "!?"});
  INFO(set.err);
  REQUIRE(set.status == 0);
  // communities changes are NOTIFYed (0011): no restart, no TTL wait.
  CHECK(h.eventually([&] { return h.send(h.chat_event("?ping"))["outcome"] == "command"; }));
  CHECK(h.send(h.chat_event("!ping"))["outcome"] == "command");
  CHECK(h.send(h.chat_event("#ping"))["outcome"] == "unknown_command");
  auto bad = run_process({waddle_binary(), "--database-url", h.db().url(), "community", "set",
                          "demo", "--prefixes", "a#"});
  CHECK(bad.status == 2);
}

TEST_CASE("duplicates are dropped and plain chat runs nothing", "[router]") {
  RouterHarness h;
  h.add_command("!", "ping", "pinger");
  h.start();
  json event = h.chat_event("!ping");
  json first = h.send(event);
  CHECK(first["duplicate"] == false);
  json second = h.send(event);
  CHECK(second["duplicate"] == true);
  CHECK(second["actions"].empty());
  CHECK(requests_for(h, "pinger") == 1);
  // Another router (this one restarted, its memory empty) drops it too: Redis remembers the id.
  h.restart();
  // The router connects to Redis before READY: the very first event after the restart is checked
  // against the shared claim.
  json third = h.send(event);
  CHECK(third["duplicate"] == true);
  CHECK(requests_for(h, "pinger") == 1);

  json chat = h.send(h.chat_event("just chatting"));
  CHECK(chat["outcome"] == "chat");
  CHECK(chat["actions"].empty());
  CHECK(chat["session_id"].is_null());
}

TEST_CASE("module enablement, minimum roles and rate limits", "[router]") {
  RouterHarness h;
  h.add_command("#", "trivia", "trivia");
  const auto ban = h.add_command("!", "ban", "moderation");
  h.add_command("!", "roll", "dice", ", rate_limit", ", 3");
  h.sql("insert into command_permissions (community_id, command_id, min_role) values (" +
        std::to_string(h.community_id()) + ", " + std::to_string(ban) + ", 'moderator')");
  h.start();

  SECTION("a marketplace command is off until the community enables it") {
    json off = h.send(h.chat_event("#trivia"));
    CHECK(off["outcome"] == "disabled");
    CHECK(off["executions"].empty());
    CHECK(requests_for(h, "trivia") == 0);
    h.sql("insert into command_permissions (community_id, module_name, is_enabled) values (" +
          std::to_string(h.community_id()) + ", 'trivia', true)");
    // The NOTIFY reloads the community at once; no restart, no TTL wait.
    CHECK(h.eventually([&] { return h.send(h.chat_event("#trivia"))["outcome"] == "command"; }));
    CHECK(requests_for(h, "trivia") >= 1);
    h.sql("update command_permissions set is_enabled = false where module_name = 'trivia'");
    CHECK(h.eventually([&] { return h.send(h.chat_event("#trivia"))["outcome"] == "disabled"; }));
  }
  SECTION("a user under the minimum role is refused") {
    json refused = h.send(h.chat_event("!ban carol", "alice"));
    CHECK(refused["outcome"] == "denied");
    CHECK(first_chat(refused).find("needs the moderator role") != std::string::npos);
    CHECK(requests_for(h, "moderation") == 0);
    json allowed = h.send(h.chat_event("!ban carol", "bob", {"moderator"}));
    CHECK(allowed["outcome"] == "command");
    CHECK(requests_for(h, "moderation") == 1);
    // A community role from the database counts as well.
    h.sql("insert into users (display_name) values ('dave')");
    h.sql(
        "insert into platform_identities (user_id, platform, platform_user_id, username) "
        "select id, 'console', 'id-dave', 'dave' from users where display_name = 'dave'");
    h.sql("insert into community_members (community_id, user_id, role) select " +
          std::to_string(h.community_id()) +
          ", id, 'admin' from users where display_name = 'dave'");
    json admin = h.send(h.chat_event("!ban carol", "dave"));
    CHECK(admin["outcome"] == "command");
  }
  SECTION("the 4th call in a 3-per-window limit is refused, and answered only once") {
    for (int i = 0; i < 3; ++i) CHECK(h.send(h.chat_event("!roll"))["outcome"] == "command");
    json fourth = h.send(h.chat_event("!roll"));
    CHECK(fourth["outcome"] == "rate_limited");
    CHECK(first_chat(fourth).find("cooling down") != std::string::npos);
    json fifth = h.send(h.chat_event("!roll"));
    CHECK(fifth["outcome"] == "rate_limited");
    CHECK(fifth["actions"].empty());
    CHECK(requests_for(h, "dice") == 3);
    // Another user has their own window.
    CHECK(h.send(h.chat_event("!roll", "bob"))["outcome"] == "command");
  }
}

TEST_CASE("event triggers run in priority order or in parallel", "[router]") {
  RouterHarness h;
  const std::string follow = ", trigger_type, event_types, priority, execution_mode";
  h.add_command("!", "welcome-a", "welcome-a", follow,
                ", 'event', '[\"follow\"]', 10, 'sequential'");
  h.add_command("!", "welcome-b", "welcome-b", follow,
                ", 'event', '[\"follow\"]', 20, 'sequential'");
  h.add_command("!", "raid-a", "raid-a", follow, ", 'event', '[\"raid\"]', 10, 'parallel'");
  h.add_command("!", "raid-b", "raid-b", follow, ", 'event', '[\"raid\"]', 20, 'parallel'");
  ModuleBehaviour slow;
  slow.delay = std::chrono::milliseconds(150);
  h.modules().set("welcome-a", slow);
  ModuleBehaviour meet;
  meet.scenario = ModuleScenario::rendezvous;
  meet.rendezvous_count = 2;
  h.modules().set("raid-a", meet);
  h.modules().set("raid-b", meet);
  h.start();

  json follow_event = h.chat_event("");
  follow_event["message_type"] = "follow";
  follow_event["message"] = "";
  json reply = h.send(follow_event);
  INFO(reply.dump());
  CHECK(reply["outcome"] == "event");
  REQUIRE(reply["executions"].size() == 2);
  CHECK(reply["executions"][0]["module"] == "welcome-a");
  CHECK(reply["executions"][1]["module"] == "welcome-b");
  auto a = h.modules().request_for("welcome-a");
  auto b = h.modules().request_for("welcome-b");
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a->end_mark < b->start_mark);  // b started only after a had answered
  CHECK(json::parse(a->body)["trigger"] == "event");

  json raid = h.chat_event("");
  raid["message_type"] = "raid";
  raid["amount"] = 42;
  json raided = h.send(raid);
  INFO(raided.dump());
  REQUIRE(raided["executions"].size() == 2);
  // Each waits for the other to arrive: both succeed only if they overlapped.
  CHECK(raided["executions"][0]["status"] == "success");
  CHECK(raided["executions"][1]["status"] == "success");
  // Follow (10) and raid (30) points, beside the follow's chat-free event.
  CHECK(
      h.wait_count("select coalesce(sum(points), 0) from reputation_totals where community_id = " +
                       std::to_string(h.community_id()),
                   40) == 40);
}

TEST_CASE("string rules: each match type and each action, managed over the API", "[router]") {
  RouterHarness h;
  h.add_command("!", "promo", "promo");
  h.start();
  auto add_rule = [&](json rule) {
    rule["community"] = "demo";
    auto response = h.post("/router/string-rules", rule, kAdminKey);
    INFO(response.body);
    REQUIRE(response.status == 201);
    return response.json()["id"].get<std::int64_t>();
  };
  const auto exact = add_rule({{"string", "hello there"},
                               {"match_type", "exact"},
                               {"action", "warn"},
                               {"warning_message", "no greetings"},
                               {"priority", 1}});
  add_rule({{"string", "badword"},
            {"match_type", "contains"},
            {"action", "block"},
            {"block_message", "message removed"},
            {"priority", 2}});
  add_rule({{"string", "spam"}, {"match_type", "word"}, {"action", "warn"}, {"priority", 3}});
  add_rule({{"string", "^buy\\s+now"},
            {"match_type", "regex"},
            {"action", "command"},
            {"command_to_execute", "!promo"},
            {"command_parameters", {"spring"}},
            {"priority", 4}});
  add_rule({{"string", "report"},
            {"match_type", "contains"},
            {"action", "webhook"},
            {"webhook_url", h.modules().module_url("hook")},
            {"priority", 5}});
  add_rule({{"string", "(a+)+$"}, {"match_type", "regex"}, {"action", "warn"}, {"priority", 6}});

  // Rules created over the API reach the router through NOTIFY. Wait for the last one (the regex
  // matches "aaa"): a reload reads the community's whole rule set, so the others are in too.
  REQUIRE(h.eventually([&] { return h.send(h.chat_event("aaa"))["outcome"] == "rule"; }));
  CHECK(h.send(h.chat_event("Hello There"))["outcome"] == "rule");
  json warned = h.send(h.chat_event("hello there"));
  CHECK(first_chat(warned) == "@alice, no greetings");
  CHECK(h.send(h.chat_event("hello there you"))["outcome"] == "chat");  // exact: whole message

  json blocked = h.send(h.chat_event("what a BADWORD!"));
  REQUIRE(blocked["actions"].size() == 2);
  CHECK(blocked["actions"][0]["type"] == "block");
  CHECK(blocked["actions"][0]["user_name"] == "alice");
  CHECK(blocked["actions"][1]["text"] == "@alice, message removed");

  CHECK(h.send(h.chat_event("no spam please"))["outcome"] == "rule");
  CHECK(h.send(h.chat_event("spammer here"))["outcome"] == "chat");  // word boundaries

  json command = h.send(h.chat_event("buy   now!"));
  CHECK(command["outcome"] == "rule");
  REQUIRE(command["executions"].size() == 1);
  auto promo = h.modules().request_for("promo");
  REQUIRE(promo);
  CHECK(json::parse(promo->body)["args"] == json::array({"spring"}));
  CHECK(json::parse(promo->body)["trigger"] == "rule");

  CHECK(h.send(h.chat_event("I report this"))["outcome"] == "rule");
  CHECK(h.eventually([&] { return requests_for(h, "hook") == 1; }));
  auto hook = h.modules().request_for("hook");
  REQUIRE(hook);
  CHECK(json::parse(hook->body)["message"] == "I report this");

  // A catastrophic backtracking pattern stops at PCRE2's limits: the reply still comes.
  json evil = h.send(h.chat_event(std::string(40, 'a') + "!"));
  CHECK(evil["outcome"] == "chat");

  // The match counters are written back in batches.
  CHECK(h.wait_count("select match_count from string_rules where id = " + std::to_string(exact),
                     2) == 2);

  // The catch-all rule, added last with the lowest priority, matches whatever is left.
  add_rule({{"string", "*"}, {"action", "warn"}, {"warning_message", "star"}, {"priority", 100}});
  CHECK(
      h.eventually([&] { return first_chat(h.send(h.chat_event("anything"))) == "@alice, star"; }));

  // CRUD and validation.
  auto listed = h.get("/router/string-rules?community=demo", kAdminKey);
  REQUIRE(listed.status == 200);
  CHECK(listed.json()["rules"].size() == 7);
  auto one = h.get("/router/string-rules/" + std::to_string(exact), kCollectorKey);
  REQUIRE(one.status == 200);
  CHECK(one.json()["string"] == "hello there");
  auto updated = h.request("PUT", "/router/string-rules/" + std::to_string(exact),
                           json{{"warning_message", "hi yourself"}}.dump(), kAdminKey);
  REQUIRE(updated.status == 200);
  CHECK(updated.json()["warning_message"] == "hi yourself");
  CHECK(h.eventually(
      [&] { return first_chat(h.send(h.chat_event("hello there"))) == "@alice, hi yourself"; }));
  auto bad_regex = h.post(
      "/router/string-rules",
      {{"community", "demo"}, {"string", "(unclosed"}, {"match_type", "regex"}, {"action", "warn"}},
      kAdminKey);
  CHECK(bad_regex.status == 400);
  CHECK(bad_regex.json()["error"]["field"] == "string");
  auto no_action =
      h.post("/router/string-rules", {{"community", "demo"}, {"string", "x"}}, kAdminKey);
  CHECK(no_action.status == 400);
  CHECK(no_action.json()["error"]["field"] == "action");
  auto not_admin =
      h.post("/router/string-rules", {{"community", "demo"}, {"string", "x"}, {"action", "warn"}},
             kCollectorKey);
  CHECK(not_admin.status == 403);
  auto moved = h.request("PUT", "/router/string-rules/" + std::to_string(exact),
                         json{{"community", "other"}}.dump(), kAdminKey);
  CHECK(moved.status == 400);
  CHECK(moved.json()["error"]["field"] == "community");
  auto bad_id = h.request("DELETE", "/router/string-rules/abc", "", kAdminKey);
  CHECK(bad_id.status == 400);
  CHECK(bad_id.json()["error"]["field"] == "id");
  auto removed =
      h.request("DELETE", "/router/string-rules/" + std::to_string(exact), "", kAdminKey);
  CHECK(removed.status == 200);
  CHECK(
      h.request("DELETE", "/router/string-rules/" + std::to_string(exact), "", kAdminKey).status ==
      404);
}

TEST_CASE("a late answer reaches the collector's callback and other sessions are refused",
          "[router]") {
  RouterHarness h;
  h.add_command("!", "later", "slow");
  ModuleBehaviour accepted;
  accepted.scenario = ModuleScenario::accepted;
  h.modules().set("slow", accepted);
  h.start();

  auto registered =
      h.post("/router/modules/register", {{"name", "console-collector"},
                                          {"kind", "collector"},
                                          {"platform", "console"},
                                          {"callback_url", h.modules().module_url("callback")},
                                          {"callback_token", "cb-token"},
                                          {"version", "1.0.0"}});
  INFO(registered.body);
  REQUIRE(registered.status == 200);
  CHECK(h.post("/router/modules/heartbeat", {{"name", "console-collector"}}).status == 200);
  CHECK(h.post("/router/modules/heartbeat", {{"name", "nobody"}}).status == 404);
  // Bad registrations name the field and register nothing.
  auto field_of = [](const waddle::net::ClientResponse& r) {
    return json::parse(r.body, nullptr, false).value("error", json::object()).value("field", "");
  };
  auto robot = h.post("/router/modules/register", {{"name", "r2"}, {"kind", "robot"}});
  CHECK(robot.status == 400);
  CHECK(field_of(robot) == "kind");
  auto no_callback = h.post("/router/modules/register",
                            {{"name", "c2"}, {"kind", "collector"}, {"platform", "console"}});
  CHECK(no_callback.status == 400);
  CHECK(field_of(no_callback) == "callback_url");
  auto bad_platform =
      h.post("/router/modules/register", {{"name", "c3"},
                                          {"kind", "collector"},
                                          {"platform", "myspace"},
                                          {"callback_url", h.modules().module_url("x")}});
  CHECK(field_of(bad_platform) == "platform");
  auto ftp = h.post("/router/modules/register", {{"name", "c4"},
                                                 {"kind", "collector"},
                                                 {"platform", "console"},
                                                 {"callback_url", "ftp://example/x"}});
  CHECK(field_of(ftp) == "callback_url");
  auto module_as_collector = h.post("/router/modules/register",
                                    {{"name", "c5"},
                                     {"kind", "collector"},
                                     {"platform", "console"},
                                     {"callback_url", h.modules().module_url("x")}},
                                    kModuleKey);
  CHECK(module_as_collector.status == 403);
  CHECK(h.post("/router/modules/heartbeat", {{"name", "c5"}}).status == 404);

  json reply = h.send(h.chat_event("!later"));
  REQUIRE(reply["executions"].size() == 1);
  CHECK(reply["executions"][0]["status"] == "accepted");
  const std::string session = reply["session_id"];
  const std::string execution = reply["executions"][0]["execution_id"];
  json answer = {{"session_id", session},
                 {"execution_id", execution},
                 {"entity_id", kEntity},
                 {"module_name", "slow"},
                 {"actions", {{{"type", "chat"}, {"text", "done later"}}}}};

  CHECK(h.post("/router/responses", answer, kCollectorKey).status == 403);  // not a module key
  CHECK(h.post("/router/responses", answer, kOtherKey).status == 403);      // other community
  json wrong_entity = answer;
  wrong_entity["entity_id"] = "console:local:elsewhere";
  CHECK(h.post("/router/responses", wrong_entity, kModuleKey).status == 403);
  json wrong_execution = answer;
  wrong_execution["execution_id"] = "exe_000000000000000000000000";
  CHECK(h.post("/router/responses", wrong_execution, kModuleKey).status == 403);
  json unknown = answer;
  unknown["session_id"] = "ses_000000000000000000000000";
  CHECK(h.post("/router/responses", unknown, kModuleKey).status == 404);
  json missing = answer;
  missing.erase("entity_id");
  auto missing_response = h.post("/router/responses", missing, kModuleKey);
  CHECK(missing_response.status == 400);
  CHECK(missing_response.json()["error"]["field"] == "entity_id");

  auto delivered = h.post("/router/responses", answer, kModuleKey);
  INFO(delivered.body);
  REQUIRE(delivered.status == 200);
  CHECK(delivered.json()["delivered"] == true);
  auto callback = h.modules().request_for("callback");
  REQUIRE(callback);
  CHECK(callback->header("Authorization") == "Bearer cb-token");
  json sent = json::parse(callback->body);
  CHECK(sent["actions"][0]["text"] == "done later");
  CHECK(sent["session_id"] == session);
  CHECK(sent["entity_id"] == kEntity);

  // The execution's audit row follows the late answer.
  CHECK(h.wait_count("select count(*) from command_executions where status = 'success' and "
                     "execution_id = '" +
                         execution + "'",
                     1) == 1);
  auto stored = h.get("/router/responses/" + execution, kCollectorKey);
  REQUIRE(stored.status == 200);
  CHECK(stored.json()["responses"][0]["response_data"]["text"] == "done later");
  auto recent = h.get("/router/responses/recent?limit=5&community=demo", kCollectorKey);
  REQUIRE(recent.status == 200);
  CHECK(recent.json()["responses"][0]["execution_id"] == execution);
  CHECK(h.get("/router/responses/recent?limit=0", kCollectorKey).status == 400);
  CHECK(h.get("/router/responses/exe_nope", kCollectorKey).status == 404);
}

TEST_CASE("lambda and openwhisk modules are called in their wire form", "[router]") {
  RouterHarness h;
  h.sql(
      "insert into commands (command, prefix, location_url, location, type, module_name) values "
      "('lam', '#', "
      "'https://lambda.eu-west-1.amazonaws.com/2015-03-31/functions/lam-fn/invocations', "
      "'community', 'lambda', 'lam-fn'), "
      "('whisk', '#', '" +
      h.modules().base_url() + "', 'community', 'openwhisk', 'whisk-fn')");
  h.sql("insert into command_permissions (community_id, module_name, is_enabled) select " +
        std::to_string(h.community_id()) + ", m, true from unnest(array['lam-fn', 'whisk-fn']) m");
  h.start();
  json lam = h.send(h.chat_event("#lam"));
  INFO(lam.dump());
  CHECK(lam["executions"][0]["status"] == "success");
  auto invoke = h.modules().request_for("lam-fn");
  REQUIRE(invoke);
  CHECK(invoke->path == "/2015-03-31/functions/lam-fn/invocations");
  auto authorization = invoke->header("Authorization");
  REQUIRE(authorization);
  CHECK(authorization->rfind("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/", 0) == 0);
  CHECK(authorization->find("/eu-west-1/lambda/aws4_request") != std::string::npos);
  CHECK(invoke->header("X-Amz-Date"));

  json whisk = h.send(h.chat_event("#whisk"));
  INFO(whisk.dump());
  CHECK(whisk["executions"][0]["status"] == "success");
  auto call = h.modules().request_for("whisk-fn");
  REQUIRE(call);
  CHECK(call->path == "/api/v1/namespaces/_/actions/whisk-fn");
  CHECK(call->target.find("blocking=true") != std::string::npos);
  CHECK(call->header("Authorization") == "Basic b3d1c2VyOm93cGFzcw==");
}

TEST_CASE("failing modules: a hang times out, invalid JSON fails, the others still run",
          "[router]") {
  RouterHarness h;
  const std::string cols = ", trigger_type, event_types, priority, timeout";
  h.add_command("!", "hangs", "hangs", cols, ", 'event', '[\"subscription\"]', 1, 1");
  h.add_command("!", "garbage", "garbage", cols, ", 'event', '[\"subscription\"]', 2, 5");
  h.add_command("!", "fine", "fine", cols, ", 'event', '[\"subscription\"]', 3, 5");
  ModuleBehaviour hang;
  hang.scenario = ModuleScenario::hang;
  h.modules().set("hangs", hang);
  ModuleBehaviour garbage;
  garbage.scenario = ModuleScenario::invalid_json;
  h.modules().set("garbage", garbage);
  h.start();
  json sub = h.chat_event("");
  sub["message_type"] = "subscription";
  json reply = h.send(sub);
  INFO(reply.dump());
  REQUIRE(reply["executions"].size() == 3);
  CHECK(reply["executions"][0]["status"] == "timeout");
  CHECK(reply["executions"][1]["status"] == "failed");
  CHECK(reply["executions"][2]["status"] == "success");
  CHECK(first_chat(reply) == "hello from fine");
  CHECK(h.wait_count("select count(*) from command_executions", 3) == 3);
  CHECK(
      h.query("select count(*) from command_executions where status = 'timeout'")[0][0].as<int>() ==
      1);
}

TEST_CASE("overlay actions are published in the form waddle-overlayd reads", "[router]") {
  RouterHarness h;
  h.add_command("!", "np", "nowplaying");
  ModuleBehaviour playing;
  playing.actions = json::array({{{"type", "ticker"}, {"text", "Now playing: Waddle"}},
                                 {{"type", "chat"}, {"text", "queued"}}});
  h.modules().set("nowplaying", playing);
  h.start();

  boost::asio::io_context io;
  waddle::redis::Options options;
  options.url = redis_url();
  waddle::redis::Subscriber subscriber(io.get_executor(), options);
  std::vector<std::pair<std::string, std::string>> received;
  subscriber.on_message([&](std::string channel, std::string message) {
    received.emplace_back(std::move(channel), std::move(message));
  });
  const std::string channel = "waddlebot:overlay:" + std::to_string(h.community_id());
  run_bounded(
      io,
      [&]() -> boost::asio::awaitable<void> {
        co_await subscriber.connect();
        std::vector<std::string> channels{channel};
        co_await subscriber.subscribe(std::move(channels));
      }(),
      std::chrono::seconds(10));

  json reply = h.send(h.chat_event("!np"));
  CHECK(first_chat(reply) == "queued");
  run_bounded(
      io,
      [&]() -> boost::asio::awaitable<void> {
        for (int i = 0; i < 250 && received.empty(); ++i)
          co_await sleep_for(std::chrono::milliseconds(20));
      }(),
      std::chrono::seconds(10));
  REQUIRE(received.size() == 1);  // the ticker only: chat goes back to the collector
  CHECK(received[0].first == channel);
  // The overlay daemon's own parser accepts it.
  auto published = waddle::overlay::parse_published(received[0].second);
  CHECK(published.community_id == h.community_id());
  REQUIRE(std::holds_alternative<waddle::model::TickerAction>(published.action));
  CHECK(std::get<waddle::model::TickerAction>(published.action).text == "Now playing: Waddle");
  subscriber.close();
}
