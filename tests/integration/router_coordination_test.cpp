// The coordination API (/router/coordination/*) against the real waddle-routerd and PostgreSQL:
// concurrent claims never give one channel to two instances, capacities hold, expired claims are
// taken over, only the holder reports status, bad bodies name the field, and late answers go to
// the instance that holds the channel.
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "router_support.hpp"

using json = nlohmann::json;
using namespace waddle::test;

namespace {

std::string channel_entity(int i) {
  return "twitch:channel:chan" + std::to_string(i);
}

// `count` twitch channels owned by the demo community, and their coordination rows.
void add_channels(RouterHarness& h, int count) {
  for (int i = 1; i <= count; ++i) {
    h.sql(
        "insert into entities (entity_id, platform, server_id, channel_id, community_id) values "
        "('" +
        channel_entity(i) + "', 'twitch', 'channel', 'chan" + std::to_string(i) + "', " +
        std::to_string(h.community_id()) + ")");
  }
  auto populated = h.post("/router/coordination/populate", {{"platform", "twitch"}}, kAdminKey);
  INFO(populated.body);
  REQUIRE(populated.status == 200);
  CHECK(populated.json()["added"] == count);
}

json ok(RouterHarness& h, const std::string& path, const json& body) {
  auto response = h.post("/router/coordination/" + path, body);
  INFO(path << " " << body.dump() << " -> " << response.status << " " << response.body);
  REQUIRE(response.status == 200);
  return response.json();
}

std::set<std::string> id_set(const json& ids) {
  std::set<std::string> out;
  for (const auto& id : ids) out.insert(id.get<std::string>());
  return out;
}

std::set<std::string> held_ids(const json& reply) {
  std::set<std::string> out;
  for (const auto& row : reply["entities"]) out.insert(row["entity_id"].get<std::string>());
  return out;
}

std::string field_of(const waddle::net::ClientResponse& r) {
  return json::parse(r.body, nullptr, false).value("error", json::object()).value("field", "");
}

// One POST from a test thread: its own io_context and client, so threads run truly in parallel.
json post_from_thread(std::uint16_t port, const std::string& path, const json& body) {
  boost::asio::io_context io;
  waddle::net::HttpClient http(io.get_executor());
  waddle::net::ClientRequest request;
  request.method = "POST";
  request.url = "http://127.0.0.1:" + std::to_string(port) + path;
  request.headers = {{"X-API-Key", kCollectorKey}, {"Content-Type", "application/json"}};
  request.body = body.dump();
  request.timeout = std::chrono::seconds(20);
  waddle::net::ClientResponse response;
  run_bounded(
      io,
      [&]() -> boost::asio::awaitable<void> {
        response = co_await http.request(std::move(request));
      }(),
      std::chrono::seconds(30));
  if (response.status != 200) {
    throw std::runtime_error(path + " answered " + std::to_string(response.status) + ": " +
                             response.body);
  }
  return response.json();
}

}  // namespace

TEST_CASE("concurrent claims from two instances give every channel to exactly one", "[router]") {
  RouterHarness h;
  h.start();
  add_channels(h, 10);
  // populate adds only what is missing.
  CHECK(h.post("/router/coordination/populate", {{"platform", "twitch"}}, kAdminKey)
            .json()["added"] == 0);

  // Two threads per instance, each raising its capacity step by step to 6, all at once.
  constexpr int kCapacity = 6;
  struct Result {
    std::string instance;
    std::vector<json> replies;
    std::string error;
  };
  std::vector<Result> results = {
      {"inst-a", {}, {}}, {"inst-a", {}, {}}, {"inst-b", {}, {}}, {"inst-b", {}, {}}};
  std::vector<std::thread> threads;
  const std::uint16_t port = h.port();
  for (auto& result : results) {
    threads.emplace_back([&result, port] {
      try {
        for (int capacity = 1; capacity <= kCapacity; ++capacity) {
          result.replies.push_back(post_from_thread(
              port, "/router/coordination/claim",
              {{"instance", result.instance}, {"platform", "twitch"}, {"capacity", capacity}}));
        }
      } catch (const std::exception& e) {
        result.error = e.what();
      }
    });
  }
  for (auto& t : threads) t.join();
  INFO(h.log());
  std::map<std::string, int> claimed_times;  // entity -> how many replies said "claimed"
  for (const auto& result : results) {
    REQUIRE(result.error.empty());
    for (const auto& reply : result.replies) {
      CHECK(reply["held"].get<int>() <= kCapacity);
      for (const auto& id : reply["claimed"]) ++claimed_times[id.get<std::string>()];
    }
  }
  CHECK(claimed_times.size() == 10);
  for (const auto& [entity, times] : claimed_times) {
    INFO(entity);
    CHECK(times == 1);
  }
  auto rows = h.query(
      "select claimed_by, count(*) from coordination where claim_expires > now() "
      "group by claimed_by order by claimed_by");
  REQUIRE(rows.size() == 2);
  int total = 0;
  for (const auto& row : rows) {
    CHECK(row[1].as<int>() <= kCapacity);
    total += row[1].as<int>();
  }
  CHECK(total == 10);

  // A checkin returns what the instance holds, the same the table says.
  json a = ok(h, "checkin", {{"instance", "inst-a"}});
  json b = ok(h, "heartbeat", {{"instance", "inst-b"}});
  std::set<std::string> both = held_ids(a);
  for (const auto& id : held_ids(b)) CHECK(both.insert(id).second);
  CHECK(both.size() == 10);
  CHECK(a["claim_expires"].is_string());

  // Listing and statistics.
  auto listed =
      h.get("/router/coordination/entities?platform=twitch&claimed_by=inst-a", kCollectorKey);
  REQUIRE(listed.status == 200);
  CHECK(listed.json()["entities"].size() == a["entities"].size());
  auto stats = h.get("/router/coordination/stats", kCollectorKey);
  INFO(stats.body);
  REQUIRE(stats.status == 200);
  REQUIRE(stats.json()["platforms"].size() == 1);
  CHECK(stats.json()["platforms"][0]["claimed"] == 10);
  CHECK(stats.json()["platforms"][0]["unclaimed"] == 0);
  CHECK(stats.json()["instances"].size() == 2);
}

TEST_CASE("expired claims are taken over, checkins keep claims, release frees them", "[router]") {
  RouterHarness h;
  h.start();
  add_channels(h, 3);

  json a = ok(h, "claim", {{"instance", "inst-a"}, {"platform", "twitch"}, {"capacity", 5}});
  CHECK(a["claimed"].size() == 3);
  CHECK(a["held"] == 3);
  json b = ok(h, "claim", {{"instance", "inst-b"}, {"platform", "twitch"}, {"capacity", 5}});
  CHECK(b["claimed"].empty());
  CHECK(b["held"] == 0);
  CHECK(b["claim_expires"].is_null());
  // Claiming again takes nothing more: the instance already holds them.
  CHECK(ok(h, "claim", {{"instance", "inst-a"}, {"platform", "twitch"}, {"capacity", 5}})["claimed"]
            .empty());

  // inst-a stops checking in: its claims run out (made to, rather than waited for).
  h.sql("update coordination set claim_expires = now() - interval '1 second'");
  CHECK(ok(h, "checkin", {{"instance", "inst-b"}})["held"] == 0);
  b = ok(h, "claim", {{"instance", "inst-b"}, {"platform", "twitch"}, {"capacity", 2}});
  CHECK(b["claimed"].size() == 2);
  CHECK(b["held"] == 2);
  // The late inst-a checks in: it still holds the one nobody took, not the two inst-b took.
  a = ok(h, "checkin", {{"instance", "inst-a"}});
  CHECK(a["held"] == 1);
  std::set<std::string> all = held_ids(a);
  for (const auto& id : held_ids(b)) CHECK(all.insert(id).second);
  CHECK(all.size() == 3);
  CHECK(h.query("select count(*) from coordination where claimed_by = 'inst-b' and "
                "last_checkin is not null")[0][0]
            .as<int>() == 2);

  // Release one, then the rest; released rows are available again.
  const std::string first = *held_ids(b).begin();
  json released = ok(h, "release", {{"instance", "inst-b"}, {"entity_ids", {first}}});
  CHECK(released["released"] == json::array({first}));
  CHECK(released["held"] == 1);
  released = ok(h, "release", {{"instance", "inst-b"}});
  CHECK(released["released"].size() == 1);
  CHECK(released["held"] == 0);
  CHECK(h.query("select count(*) from coordination where claimed_by is null and status = "
                "'available'")[0][0]
            .as<int>() == 2);
  // Releasing what one does not hold changes nothing.
  CHECK(ok(h, "release", {{"instance", "inst-b"}})["released"].empty());
  json taken = ok(h, "claim", {{"instance", "inst-c"}, {"platform", "twitch"}, {"capacity", 5}});
  CHECK(taken["claimed"].size() == 2);
}

TEST_CASE("status and errors come only from the holder, and live channels are claimed first",
          "[router]") {
  RouterHarness h;
  h.start();
  add_channels(h, 4);
  const std::string e1 = channel_entity(1), e2 = channel_entity(2);

  json a = ok(
      h, "claim",
      {{"instance", "inst-a"}, {"platform", "twitch"}, {"capacity", 2}, {"entity_ids", {e1, e2}}});
  CHECK(id_set(a["claimed"]) == std::set<std::string>{e1, e2});

  json live =
      ok(h, "status",
         {{"instance", "inst-a"}, {"entity_id", e1}, {"is_live", true}, {"viewer_count", 42}});
  CHECK(live["status"] == "live");
  CHECK(live["is_live"] == true);
  CHECK(live["viewer_count"] == 42);
  REQUIRE(live["live_since"].is_string());
  // Still live: live_since stays the moment it went live.
  json still =
      ok(h, "status",
         {{"instance", "inst-a"}, {"entity_id", e1}, {"is_live", true}, {"viewer_count", 50}});
  CHECK(still["live_since"] == live["live_since"]);
  CHECK(still["viewer_count"] == 50);

  // Someone else's channel: 409; a channel without a row: 404.
  auto foreign = h.post("/router/coordination/status",
                        {{"instance", "inst-b"}, {"entity_id", e1}, {"is_live", false}});
  CHECK(foreign.status == 409);
  CHECK(foreign.body.find("inst-a") != std::string::npos);
  auto foreign_error = h.post("/router/coordination/error",
                              {{"instance", "inst-b"}, {"entity_id", e2}, {"message", "boom"}});
  CHECK(foreign_error.status == 409);
  auto unknown =
      h.post("/router/coordination/status",
             {{"instance", "inst-a"}, {"entity_id", "twitch:channel:nobody"}, {"is_live", false}});
  CHECK(unknown.status == 404);

  // Three errors mark the channel.
  json error;
  for (int i = 0; i < 3; ++i) {
    error = ok(h, "error", {{"instance", "inst-a"}, {"entity_id", e2}, {"message", "join failed"}});
  }
  CHECK(error["error_count"] == 3);
  CHECK(error["status"] == "error");
  CHECK(error["metadata"]["last_error"] == "join failed");

  // An offline channel is swapped for another on release-offline.
  json offline = ok(h, "status", {{"instance", "inst-a"}, {"entity_id", e2}, {"is_live", false}});
  CHECK(offline["status"] == "offline");
  CHECK(offline["live_since"].is_null());
  json swapped = ok(h, "release-offline", {{"instance", "inst-a"}, {"platform", "twitch"}});
  CHECK(swapped["released"] == json::array({e2}));
  CHECK(swapped["claimed"].size() == 1);
  CHECK(swapped["claimed"][0] != e2);
  CHECK(swapped["held"] == 2);

  // Everything released: the live channel goes first.
  ok(h, "release", {{"instance", "inst-a"}});
  json first = ok(h, "claim", {{"instance", "inst-b"}, {"platform", "twitch"}, {"capacity", 1}});
  CHECK(first["claimed"] == json::array({e1}));
}

TEST_CASE("bad coordination requests are refused naming the field", "[router]") {
  RouterHarness h;
  h.start();
  add_channels(h, 1);
  struct Case {
    std::string path;
    json body;
    std::string field;
  };
  const json claim = {{"instance", "i"}, {"platform", "twitch"}, {"capacity", 1}};
  auto with = [](json body, const std::string& key, json value) {
    if (value.is_null()) {
      body.erase(key);
    } else {
      body[key] = std::move(value);
    }
    return body;
  };
  const std::vector<Case> cases = {
      {"claim", with(claim, "instance", nullptr), "instance"},
      {"claim", with(claim, "instance", "two words"), "instance"},
      {"claim", with(claim, "instance", std::string(200, 'x')), "instance"},
      {"claim", with(claim, "platform", "myspace"), "platform"},
      {"claim", with(claim, "capacity", nullptr), "capacity"},
      {"claim", with(claim, "capacity", 0), "capacity"},
      {"claim", with(claim, "capacity", "5"), "capacity"},
      {"claim", with(claim, "entity_ids", "twitch:channel:chan1"), "entity_ids"},
      {"claim", with(claim, "entity_ids", json::array({1})), "entity_ids[0]"},
      {"claim", with(claim, "bogus", true), "bogus"},
      {"checkin", json::object(), "instance"},
      {"heartbeat", {{"instance", 7}}, "instance"},
      {"release", {{"instance", "i"}, {"entity_ids", {{"x", 1}}}}, "entity_ids"},
      {"release-offline", {{"instance", "i"}}, "platform"},
      {"release-offline",
       {{"instance", "i"}, {"platform", "twitch"}, {"capacity", -1}},
       "capacity"},
      {"status", {{"instance", "i"}, {"entity_id", "twitch:channel:chan1"}}, "is_live"},
      {"status",
       {{"instance", "i"}, {"entity_id", "twitch:channel:chan1"}, {"is_live", "yes"}},
       "is_live"},
      {"status",
       {{"instance", "i"},
        {"entity_id", "twitch:channel:chan1"},
        {"is_live", true},
        {"viewer_count", -3}},
       "viewer_count"},
      {"status", {{"instance", "i"}, {"is_live", true}}, "entity_id"},
      {"error", {{"instance", "i"}, {"entity_id", "twitch:channel:chan1"}}, "message"},
      {"populate", {{"platform", "irc"}}, "platform"},
  };
  for (const Case& c : cases) {
    auto response = h.post("/router/coordination/" + c.path, c.body);
    INFO(c.path << " " << c.body.dump() << " -> " << response.body);
    CHECK(response.status == 400);
    CHECK(field_of(response) == c.field);
  }
  auto not_json = h.request("POST", "/router/coordination/claim", "{\"instance\":", kCollectorKey);
  CHECK(not_json.status == 400);
  auto array = h.request("POST", "/router/coordination/checkin", "[]", kCollectorKey);
  CHECK(array.status == 400);
  auto bad_status = h.get("/router/coordination/entities?status=sleeping", kCollectorKey);
  CHECK(bad_status.status == 400);
  CHECK(field_of(bad_status) == "status");
  CHECK(field_of(h.get("/router/coordination/entities?platform=x", kCollectorKey)) == "platform");

  // Keys: none, the wrong role, one limited to a community.
  CHECK(h.post("/router/coordination/claim", claim, nullptr).status == 401);
  CHECK(h.post("/router/coordination/claim", claim, kModuleKey).status == 403);
  CHECK(h.post("/router/coordination/claim", claim, kOtherKey).status == 403);
  CHECK(h.get("/router/coordination/stats").status == 401);
  // Nothing of the above claimed anything.
  CHECK(h.query("select count(*) from coordination where claimed_by is not null")[0][0].as<int>() ==
        0);
}

TEST_CASE("a module message goes to the instance that holds the channel's claim", "[router]") {
  RouterHarness h;
  h.start();
  add_channels(h, 2);
  const std::string e1 = channel_entity(1), e2 = channel_entity(2);
  auto register_collector = [&](const std::string& name) {
    auto r = h.post("/router/modules/register", {{"name", name},
                                                 {"kind", "collector"},
                                                 {"platform", "twitch"},
                                                 {"callback_url", h.modules().module_url(name)},
                                                 {"callback_token", "cb-" + name}});
    INFO(r.body);
    REQUIRE(r.status == 200);
  };
  register_collector("twitch-a");
  register_collector("twitch-b");  // heard from last: the default for unclaimed channels
  auto message = [&](const std::string& entity) {
    auto r = h.post("/router/messages",
                    {{"entity_id", entity},
                     {"module_name", "timers"},
                     {"actions", {{{"type", "chat"}, {"text", "hello " + entity}}}}},
                    kModuleKey);
    INFO(r.body);
    REQUIRE(r.status == 200);
    return r.json();
  };
  CHECK(message(e1)["collector"] == "twitch-b");

  ok(h, "claim",
     {{"instance", "twitch-a"}, {"platform", "twitch"}, {"capacity", 1}, {"entity_ids", {e1}}});
  ok(h, "claim", {{"instance", "twitch-b"}, {"platform", "twitch"}, {"capacity", 1}});
  json to_a = message(e1);
  CHECK(to_a["collector"] == "twitch-a");
  CHECK(to_a["delivered"] == true);
  CHECK(message(e2)["collector"] == "twitch-b");
  auto delivered = h.modules().request_for("twitch-a");
  REQUIRE(delivered);
  CHECK(json::parse(delivered->body)["entity_id"] == e1);

  // Released: back to the collector heard from last.
  ok(h, "release", {{"instance", "twitch-a"}});
  CHECK(message(e1)["collector"] == "twitch-b");
}
