// The identity module and label roles through the real waddle-routerd: console chat events go
// to POST /router/events, the router calls waddle-actiond's server (in-process, same database),
// whose Outbox sends whispers and role actions back through the router's POST /router/messages
// to a fake Twitch collector registered with the router.
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <regex>
#include <thread>

#include "actions/server.hpp"
#include "fakes/collector_server.hpp"
#include "router_support.hpp"

using nlohmann::json;
using waddle::test::RouterHarness;
using waddle::test::RouterOptions;

namespace {

constexpr auto kWait = std::chrono::seconds(10);

// The fake Twitch collector and waddle-actiond (with its Outbox pointed at the router), both on
// one io_context thread.
class Beside {
 public:
  Beside(RouterHarness& h)
      : guard_(boost::asio::make_work_guard(io_)), runner_([this] { io_.run(); }) {
    const std::string router = "http://127.0.0.1:" + std::to_string(h.port());
    collector_ = std::make_unique<waddle::fakes::CollectorServer>(io_, "twitch", "twitch-test");
    collector_->register_with(router, waddle::test::kCollectorKey);
    waddle::actions::Settings settings{
        .listen_address = "127.0.0.1", .port = 0, .database_url = h.db().url(), .pool_size = 2};
    settings.router_url = router;
    settings.router_api_key = waddle::test::kModuleKey;
    server_ = std::make_unique<waddle::actions::ActionServer>(io_, settings);
    server_->start();
  }
  ~Beside() {
    server_->stop(std::chrono::seconds(2));
    server_.reset();
    collector_.reset();
    guard_.reset();
    runner_.join();
  }
  waddle::fakes::CollectorServer& collector() { return *collector_; }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  std::thread runner_;
  std::unique_ptr<waddle::fakes::CollectorServer> collector_;
  std::unique_ptr<waddle::actions::ActionServer> server_;
};

std::string chat_of(const json& reply) {
  std::string out;
  for (const auto& action : reply.at("actions")) {
    if (action.at("type") != "chat") continue;
    out += (out.empty() ? "" : " | ") + action.at("text").get<std::string>();
  }
  return out;
}

// Every action of type `type` the collector received, in arrival order.
std::vector<json> received(const waddle::fakes::CollectorServer& collector,
                           const std::string& type) {
  std::vector<json> out;
  for (const auto& call : collector.calls()) {
    for (const auto& action : call.at("actions")) {
      if (action.at("type") == type) out.push_back(action);
    }
  }
  return out;
}

const std::regex kCode("[A-HJKMNP-Z2-9]{6}");

std::string code_in(const std::string& text) {
  std::smatch m;
  if (!std::regex_search(text, m, std::regex("code: ([A-Z0-9]{6})\\."))) return "";
  return m[1];
}

}  // namespace

TEST_CASE("identity: link, verify, show, unlink, and label roles through the router") {
  RouterHarness h(RouterOptions{.redis = false});
  h.sql(
      "insert into entities (entity_id, platform, server_id, channel_id, community_id) values "
      "('twitch:channel:demo', 'twitch', 'channel', 'demo', " +
      std::to_string(h.community_id()) + ")");
  h.start();
  Beside beside(h);
  auto& collector = beside.collector();

  auto twitch_event = [&](const std::string& message, const std::string& name,
                          const std::string& id, std::vector<std::string> roles = {}) {
    json event = h.chat_event(message, name, std::move(roles));
    event["event_id"] = "twitch:" + event["event_id"].get<std::string>();
    event["platform"] = "twitch";
    event["entity_id"] = "twitch:channel:demo";
    event["user"]["id"] = id;
    return event;
  };
  auto send = [&](const json& event) {
    const json reply = h.send(event);
    INFO(event["message"] << " -> " << reply.dump());
    REQUIRE(reply.at("executions").size() == 1);
    CHECK(reply["executions"][0]["status"] == "success");
    return reply;
  };
  auto say = [&](const std::string& message, const std::string& user = "alice",
                 std::vector<std::string> roles = {}) {
    return chat_of(send(h.chat_event(message, user, std::move(roles))));
  };
  auto say_twitch = [&](const std::string& message, const std::string& name,
                        const std::string& id) {
    return chat_of(send(twitch_event(message, name, id)));
  };
  // The router reads the module's commands (registered by the server's start) through NOTIFY.
  REQUIRE(h.eventually([&] { return !h.send(h.chat_event("!identity"))["executions"].empty(); }));

  // alice_tv chatted on Twitch before: the router's reputation ledger made a user of her.
  h.send(twitch_event("hello chat", "alice_tv", "tw-77"));
  REQUIRE(h.wait_count("select count(*) from reputation_events e join platform_identities p on "
                       "p.user_id = e.user_id where p.platform = 'twitch' and "
                       "p.platform_user_id = 'tw-77'",
                       1) >= 1);
  // And alice on the console too.
  h.send(h.chat_event("hi"));
  REQUIRE(h.wait_count("select count(*) from platform_identities where platform = 'console' and "
                       "platform_user_id = 'id-alice'",
                       1) == 1);
  const auto alice_id = h.query(
                             "select user_id from platform_identities where platform = "
                             "'console' and platform_user_id = 'id-alice'")[0][0]
                            .as<std::int64_t>();
  const auto twitch_user = h.query(
                                "select user_id from platform_identities where platform = "
                                "'twitch' and platform_user_id = 'tw-77'")[0][0]
                               .as<std::int64_t>();
  REQUIRE(alice_id != twitch_user);
  const std::string hello_at = h.query(
                                    "select min(created_at)::text from reputation_events "
                                    "where user_id = " +
                                    std::to_string(twitch_user))[0][0]
                                   .as<std::string>();

  SECTION("link and verify merge the Twitch user into the console one") {
    const json reply = send(h.chat_event("!identity link twitch alice_tv"));
    CHECK(chat_of(reply) == "I sent a code to alice_tv on twitch; type !verify CODE there.");
    REQUIRE(collector.wait_for([](const auto& calls) { return !calls.empty(); }, kWait));
    const auto whispers = received(collector, "whisper");
    REQUIRE(whispers.size() == 1);
    CHECK(whispers[0]["user_name"] == "alice_tv");
    const std::string code = code_in(whispers[0]["text"]);
    REQUIRE(std::regex_match(code, kCode));
    CHECK(collector.calls()[0]["entity_id"] == "twitch:channel:demo");
    CHECK(collector.calls()[0]["module_name"] == "identity");
    CHECK(
        h.query("select code, platform_username, requested_platform from verification_codes")[0][0]
            .as<std::string>() == code);
    // Never in public: not in the reply, not in the router's audit rows.
    CHECK(reply.dump().find(code) == std::string::npos);

    CHECK(say_twitch("!verify AAAAAA", "alice_tv", "tw-77") == "Wrong code (4 tries left).");
    std::string lower = code;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    // How many ledger rows moved depends on the router's flushes so far.
    CHECK(say_twitch("!verify " + lower, "alice_tv", "tw-77")
              .rfind("Linked: alice_tv on twitch is now the same WaddleBot user as alice on "
                     "console. Moved ",
                     0) == 0);
    CHECK(h.query("select user_id, verified_at is not null from platform_identities where "
                  "platform = 'twitch' and platform_user_id = 'tw-77'")[0][0]
              .as<std::int64_t>() == alice_id);
    // The absorbed row stays as a tombstone without identities, reputation or labels; its
    // "hello chat" is on alice now, with its original time.
    CHECK(h.query("select merged_into from users where id = " + std::to_string(twitch_user))[0][0]
              .as<std::int64_t>() == alice_id);
    CHECK(h.query("select 1 from reputation_totals where user_id = " + std::to_string(twitch_user))
              .empty());
    CHECK(h.query("select count(*) from reputation_events where user_id = " +
                  std::to_string(alice_id) + " and created_at = '" + hello_at + "'")[0][0]
              .as<int>() >= 1);
    // A writer that still holds the old id (the router's identity cache) credits alice.
    h.sql("insert into reputation_events (community_id, user_id, event_type, points) values (" +
          std::to_string(h.community_id()) + ", " + std::to_string(twitch_user) +
          ", 'follow', 10)");
    CHECK(h.query("select user_id from reputation_events where event_type = 'follow'")[0][0]
              .as<std::int64_t>() == alice_id);
    // Single use.
    CHECK(say_twitch("!verify " + code, "alice_tv", "tw-77") ==
          "That code was used already; ask for a new one with !identity link twitch alice_tv on "
          "your other platform.");
    CHECK(say("!identity") == "alice's accounts: console alice (here), twitch alice_tv (verified)");
    CHECK(say("!identity link twitch alice_tv") ==
          "Your twitch account alice_tv is linked already; !identity unlink twitch first.");

    // The audit rows the router wrote after the replies hold no code either.
    REQUIRE(h.wait_count("select count(*) from module_responses where module_name = 'identity'",
                         5) >= 5);
    // (command_executions keeps what people typed, !verify CODE included, but not the answers.)
    CHECK(
        h.query("select count(*) from module_responses x where x::text like '%" + code + "%'")[0][0]
            .as<int>() == 0);
    CHECK(h.query("select count(*) from command_executions where response_data::text like '%" +
                  code + "%'")[0][0]
              .as<int>() == 0);

    // Label roles: the owner maps vip to roles on both platforms; giving and taking the label
    // emits role actions, the console one in the reply, the Twitch one to the collector.
    const std::vector<std::string> owner{"broadcaster"};
    CHECK(say("!label add @alice vip", "modbob", {"moderator"}) ==
          "Created the label vip and gave it to alice.");
    CHECK(say("!label role vip twitch vip", "modbob", {"moderator"}) ==
          "Sorry modbob, only admins and above can map labels to platform roles.");
    CHECK(say("!label role vip twitch vip", "carol", owner) ==
          "The label vip now grants the twitch role vip (to people who get it from now on).");
    CHECK(say("!label role vip console helper", "carol", owner) ==
          "The label vip now grants the console role helper (to people who get it from now on).");
    CHECK(say("!label role vip discord none", "carol", owner) ==
          "The label vip grants no discord role.");
    const json taken = send(h.chat_event("!label remove @alice vip", "carol", owner));
    REQUIRE(taken["actions"].size() == 2);
    CHECK(taken["actions"][0]["text"] == "Took the label vip from alice.");
    CHECK(taken["actions"][1] == json{{"type", "role"},
                                      {"user_id", "id-alice"},
                                      {"user_name", "alice"},
                                      {"role", "helper"},
                                      {"grant", false},
                                      {"reason", "label vip"}});
    REQUIRE(collector.wait_for(
        [](const auto& calls) {
          for (const auto& call : calls)
            if (call["actions"][0]["type"] == "role") return true;
          return false;
        },
        kWait));
    auto roles = received(collector, "role");
    REQUIRE(roles.size() == 1);
    CHECK(roles[0]["user_id"] == "tw-77");
    CHECK(roles[0]["role"] == "vip");
    CHECK(roles[0]["grant"] == false);
    const json given = send(h.chat_event("!label add @alice vip", "carol", owner));
    REQUIRE(given["actions"].size() == 2);
    CHECK(given["actions"][0]["text"] == "Gave alice the label vip.");
    CHECK(given["actions"][1]["grant"] == true);
    REQUIRE(collector.wait_for([](const auto& calls) { return calls.size() >= 3; }, kWait));
    roles = received(collector, "role");
    REQUIRE(roles.size() == 2);
    CHECK(roles[1]["grant"] == true);
    CHECK(roles[1]["user_name"] == "alice_tv");
    CHECK(say("!label role vip myspace x", "carol", owner) ==
          "'myspace' is not a platform (twitch, discord, slack or console). Usage: !label role "
          "<label> <platform> <role|none>");
    CHECK(say("!label role vip twitch", "carol", owner) ==
          "Usage: !label role <label> <platform> <role|none>");
    CHECK(say("!label role nothing twitch vip", "carol", owner) ==
          "There is no label nothing here.");

    // Unlink: the Twitch account becomes a user of its own again.
    CHECK(say("!identity unlink console") ==
          "You cannot unlink the account you are speaking from; say !identity unlink console on "
          "one of your other platforms.");
    CHECK(say("!identity unlink twitch") ==
          "Unlinked twitch alice_tv: it is a WaddleBot user of its own again (what it earned so "
          "far stays with you).");
    CHECK(h.query("select user_id from platform_identities where platform = 'twitch' and "
                  "platform_user_id = 'tw-77'")[0][0]
              .as<std::int64_t>() != alice_id);
    CHECK(say("!identity unlink twitch") == "You have no twitch account linked.");
    CHECK(say("!identity") ==
          "alice, you have no linked accounts. Link one with !identity link <platform> "
          "<username>.");
  }

  SECTION("five wrong codes kill the code, an expired one is refused, requests are limited") {
    CHECK(say("!identity link twitch bob_tv", "bob") ==
          "I sent a code to bob_tv on twitch; type !verify CODE there.");
    REQUIRE(collector.wait_for([](const auto& calls) { return calls.size() == 1; }, kWait));
    const std::string code = code_in(received(collector, "whisper")[0]["text"]);
    REQUIRE(!code.empty());
    const std::string wrong = code == "AAAAAA" ? "BBBBBB" : "AAAAAA";
    for (int left = 4; left >= 1; --left) {
      CHECK(say_twitch("!verify " + wrong, "bob_tv", "tw-88") ==
            "Wrong code (" + std::to_string(left) + (left == 1 ? " try" : " tries") + " left).");
    }
    CHECK(say_twitch("!verify " + wrong, "bob_tv", "tw-88") ==
          "Wrong code. That was the 5th wrong try: your code is no longer valid; ask for a new "
          "one with !identity link twitch bob_tv on your other platform.");
    CHECK(say_twitch("!verify " + code, "bob_tv", "tw-88") ==
          "That code is no longer valid after 5 wrong tries; ask for a new one with !identity "
          "link twitch bob_tv on your other platform.");
    CHECK(say_twitch("!verify " + wrong, "bob_tv", "tw-88") ==
          "You have no code waiting on twitch. Ask for one with !identity link twitch bob_tv on "
          "your other platform.");
    // Nothing was linked: bob_tv's Twitch user (made by the router's ledger) is still apart.
    CHECK(h.query("select 1 from platform_identities p join platform_identities c on c.user_id = "
                  "p.user_id where p.platform_user_id = 'tw-88' and c.platform = 'console'")
              .empty());

    CHECK(say("!identity link twitch bob_tv", "bob") ==
          "I sent a code to bob_tv on twitch; type !verify CODE there.");
    REQUIRE(collector.wait_for([](const auto& calls) { return calls.size() == 2; }, kWait));
    const std::string second = code_in(received(collector, "whisper")[1]["text"]);
    h.sql("update verification_codes set expires_at = now() - interval '1 minute'");
    CHECK(say_twitch("!verify " + second, "bob_tv", "tw-88") ==
          "That code expired; ask for a new one with !identity link twitch bob_tv on your other "
          "platform.");
    CHECK(say("!identity link twitch bob_tv", "bob") ==
          "I sent a code to bob_tv on twitch; type !verify CODE there.");
    CHECK(say("!identity link twitch bob_tv", "bob") ==
          "You asked for 3 codes in the last 10 minutes; wait a little before asking again.");
    // The rate limit is per user: dave may still ask, and Unicode names are sent intact.
    CHECK(say("!identity link twitch 🐧בוב", "dave") ==
          "I sent a code to 🐧בוב on twitch; type !verify CODE there.");
    REQUIRE(collector.wait_for([](const auto& calls) { return calls.size() == 4; }, kWait));
    CHECK(received(collector, "whisper")[3]["user_name"] == "🐧בוב");
  }

  SECTION("bad input answers with usage lines") {
    const std::string usage = "Usage: !identity link <platform> <username>";
    CHECK(say("!identity link") == usage);
    CHECK(say("!identity link twitch") == usage);
    CHECK(say("!identity link twitch a b") == usage);
    CHECK(say("!identity link twitch " + std::string(3900, 'x')) == usage);
    CHECK(say("!identity link myspace bob") ==
          "'myspace' is not a platform (twitch, discord, slack or console). " + usage);
    CHECK(say("!identity link console bob") ==
          "You are on console already: link an account on another platform, then !verify there.");
    CHECK(say("!identity link discord bob") ==
          "This community has no discord channel to send the code through.");
    CHECK(say("!identity frobnicate") ==
          "Usage: !identity | !identity link <platform> <username> | !identity unlink <platform> "
          "| !verify <CODE>");
    CHECK(say("!identity unlink") == "Usage: !identity unlink <platform>");
    const std::string verify = "Usage: !verify <CODE> (the 6-character code I whispered to you)";
    CHECK(say("!verify") == verify);
    CHECK(say("!verify ABC") == verify);
    CHECK(say("!verify AB'C;-") == verify);
    CHECK(say("!verify " + std::string(3900, 'A')) == verify);
    CHECK(say("!verify ABCDEF") ==
          "You have no code waiting on console. Ask for one with !identity link console alice on "
          "your other platform.");
    CHECK(say("!identity link twitch Robert');DROP-TABLE-users;--") ==
          "I sent a code to Robert');DROP-TABLE-users;-- on twitch; type !verify CODE there.");
    CHECK(h.query("select platform_username from verification_codes")[0][0].as<std::string>() ==
          "Robert');DROP-TABLE-users;--");
    CHECK(collector.refused() == 0);
  }
}
