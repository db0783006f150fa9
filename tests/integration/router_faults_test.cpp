// waddle-routerd under bad input and failing dependencies: every malformed request gets a 4xx
// naming the problem and changes nothing; Redis and PostgreSQL going away degrade the router
// instead of stopping it.
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "router_support.hpp"
#include "support/tcp_proxy.hpp"

using json = nlohmann::json;
using namespace waddle::test;

namespace {

std::string error_field(const waddle::net::ClientResponse& response) {
  auto body = json::parse(response.body, nullptr, false);
  if (!body.is_object() || !body.contains("error")) return "<no error object>";
  return body["error"].value("field", "");
}

std::int64_t count(RouterHarness& h, const std::string& table) {
  return h.query("select count(*) from " + table)[0][0].as<std::int64_t>();
}

}  // namespace

TEST_CASE("bad input gets a clear 4xx and changes nothing", "[router]") {
  RouterHarness h;
  h.add_command("!", "ping", "pinger");
  h.start();
  const json good = h.chat_event("!ping");

  // Credentials.
  CHECK(h.request("POST", "/router/events", good.dump(), nullptr).status == 401);
  CHECK(h.request("POST", "/router/events", good.dump(), "wdl_nope_not-a-key").status == 401);
  CHECK(h.post("/router/events", good, kModuleKey).status == 403);  // modules do not post events
  CHECK(h.get("/router/commands").status == 401);

  // Malformed bodies.
  auto not_json = h.request("POST", "/router/events", "{\"event_id\": ", kCollectorKey);
  CHECK(not_json.status == 400);
  CHECK(not_json.body.find("invalid JSON") != std::string::npos);
  struct Case {
    const char* what;
    std::function<void(json&)> mutate;
    std::string field;
  };
  const std::vector<Case> cases = {
      {"no event_id", [](json& e) { e.erase("event_id"); }, "event_id"},
      {"empty event_id", [](json& e) { e["event_id"] = ""; }, "event_id"},
      {"unknown platform", [](json& e) { e["platform"] = "myspace"; }, "platform"},
      {"unknown message type", [](json& e) { e["message_type"] = "teleport"; }, "message_type"},
      {"malformed entity", [](json& e) { e["entity_id"] = "console-local-demo"; }, "entity_id"},
      {"entity of another platform", [](json& e) { e["entity_id"] = "twitch:channel:demo"; },
       "entity_id"},
      {"user not an object", [](json& e) { e["user"] = "alice"; }, "user"},
      {"user without a name", [](json& e) { e["user"].erase("name"); }, "user.name"},
      {"roles not an array", [](json& e) { e["user"]["roles"] = "moderator"; }, "user.roles"},
      {"message not a string", [](json& e) { e["message"] = 42; }, "message"},
      {"message too long", [](json& e) { e["message"] = std::string(5000, 'x'); }, "message"},
      {"amount not an integer", [](json& e) { e["amount"] = "lots"; }, "amount"},
      {"metadata an array", [](json& e) { e["metadata"] = json::array(); }, "metadata"},
      {"bad timestamp", [](json& e) { e["timestamp"] = "yesterday"; }, "timestamp"},
      {"unknown field", [](json& e) { e["extra"] = true; }, "extra"},
  };
  for (const Case& c : cases) {
    json event = good;
    event["event_id"] = "console:bad-" + std::to_string(&c - cases.data());
    c.mutate(event);
    auto response = h.post("/router/events", event);
    INFO(c.what << ": " << response.body);
    CHECK(response.status == 400);
    CHECK(error_field(response).rfind(c.field, 0) == 0);
  }

  // Batches: at most 100, and one bad event does not sink the others.
  json batch = json::array();
  for (int i = 0; i < 101; ++i) {
    json event = good;
    event["event_id"] = "console:batch-" + std::to_string(i);
    batch.push_back(event);
  }
  auto too_many = h.post("/router/events/batch", batch);
  CHECK(too_many.status == 400);
  CHECK(error_field(too_many) == "events");
  json mixed = json::array({h.chat_event("hello"), h.chat_event("hi")});
  mixed[1]["platform"] = "myspace";
  auto partial = h.post("/router/events/batch", json{{"events", mixed}});
  REQUIRE(partial.status == 200);
  CHECK(partial.json()["accepted"] == 1);
  CHECK(partial.json()["results"][1]["error"]["field"] == "events[1].platform");

  // A body over 64 KiB is refused before it is read.
  json big = good;
  big["metadata"] = {{"padding", std::string(70 * 1024, 'p')}};
  CHECK(h.post("/router/events", big).status == 413);

  // An entity no community owns.
  json stranger = h.chat_event("!ping");
  stranger["entity_id"] = "console:local:nobody";
  auto unknown = h.post("/router/events", stranger);
  CHECK(unknown.status == 404);
  CHECK(unknown.body.find("waddle entity add") != std::string::npos);
  // A key limited to another community.
  CHECK(h.post("/router/events", h.chat_event("!ping"), kOtherKey).status == 403);

  // Nothing above reached a module or the audit tables.
  CHECK(h.modules().requests().empty());
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  CHECK(count(h, "command_executions") == 0);

  // The refusals are counted.
  auto metrics = h.get("/router/metrics");
  REQUIRE(metrics.status == 200);
  CHECK(metrics.json()["auth_failures"].get<int>() >= 3);
  CHECK(metrics.json()["unknown_entity"].get<int>() == 1);
  auto text = h.get("/metrics");
  REQUIRE(text.status == 200);
  CHECK(text.body.find("waddle_router_auth_failures_total") != std::string::npos);
  CHECK(h.get("/healthz").status == 200);
  CHECK(h.get("/router/health").json()["status"] == "healthy");

  // And the router still works.
  CHECK(h.send(good)["executions"][0]["status"] == "success");
}

TEST_CASE("without Redis the router keeps serving in process and says so", "[router]") {
  RouterHarness h;
  h.add_command("!", "ping", "pinger", ", rate_limit", ", 2");
  h.start();
  CHECK(h.send(h.chat_event("!ping"))["outcome"] == "command");
  stop_redis();
  struct Restart {
    ~Restart() { restart_redis(); }
  } restart;
  // Rate limits, duplicates and sessions fall back to memory.
  CHECK(h.send(h.chat_event("!ping"))["outcome"] == "command");
  CHECK(h.send(h.chat_event("!ping", "bob"))["outcome"] == "command");
  json health = h.get("/router/health").json();
  CHECK(health["redis"] == "unreachable");
  CHECK(health["status"] == "degraded");
  restart_redis();
  CHECK(h.eventually([&] { return h.get("/router/health").json()["redis"] == "ok"; }, 300));
  CHECK(h.send(h.chat_event("!ping", "carol"))["outcome"] == "command");
}

TEST_CASE("without PostgreSQL events are answered from the caches and audit rows wait",
          "[router]") {
  RouterHarness setup;  // the database and seed rows; the router connects through a proxy
  TcpProxy proxy(static_cast<std::uint16_t>(pg_port()));
  std::string url = setup.db().url();
  const std::string from = ":" + std::to_string(pg_port()) + "/";
  REQUIRE(url.find(from) != std::string::npos);
  url.replace(url.find(from), from.size(), ":" + std::to_string(proxy.port()) + "/");
  setup.add_command("!", "ping", "pinger");
  // A second harness object would make a second database; reuse this one's by URL instead.
  RouterHarness h(RouterOptions{
      .redis = true, .extra_router_config = "  member_ttl: 0s\n", .database_url = url});
  // h seeded its own database too, but its router uses `setup`'s through the proxy; commands and
  // keys are the same rows (same fixed keys), so requests authenticate against `setup`'s.
  h.start();
  CHECK(h.send(h.chat_event("!ping"))["executions"][0]["status"] == "success");

  proxy.cut();
  // Cached command, cached keys: still answered while the database is away.
  for (int i = 0; i < 3; ++i) {
    json reply = h.send(h.chat_event("!ping"));
    CHECK(reply["executions"][0]["status"] == "success");
  }
  CHECK(h.get("/readyz").status == 503);
  CHECK(h.eventually(
      [&] {
        return h.get("/router/metrics").json()["gauges"]["audit_pending_rows"].get<double>() >= 3;
      },
      300));

  proxy.restore();
  // The waiting rows are written once it is back: 4 executions in all, none dropped.
  CHECK(setup.wait_count("select count(*) from command_executions", 4) == 4);
  CHECK(h.eventually([&] { return h.get("/readyz").status == 200; }, 300));
  CHECK(h.get("/router/metrics").json()["gauges"]["audit_dropped_rows_total"] == 0);
}
