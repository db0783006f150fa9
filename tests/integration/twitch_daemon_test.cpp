// waddle-twitchd end to end: the real daemon and the real waddle-routerd (PostgreSQL, Redis, the
// fake module host) as child processes, with the fake Twitch IRC server (TLS on 127.0.0.1) and
// EventSub requests signed like Twitch's, all over loopback.
#include <sys/wait.h>

#include <algorithm>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "ctl/client.hpp"
#include "fakes/twitch_irc_server.hpp"
#include "model/event.hpp"
#include "router_support.hpp"
#include "twitch/eventsub.hpp"

#ifndef WADDLE_TWITCHD
#error "WADDLE_TWITCHD must name the waddle-twitchd binary"
#endif

using json = nlohmann::json;
using waddle::fakes::ModuleBehaviour;
using waddle::fakes::ModuleScenario;
using namespace waddle::test;
using namespace std::chrono_literals;

namespace {

constexpr const char* kChannel = "waddlechan";
constexpr const char* kEventSubSecret = "s3cr3t-eventsub-secret-for-tests";
constexpr const char* kCallbackToken = "callback-token-0123456789";

// Polls `probe` every 20 ms for at most 20 s.
template <class Probe>
bool eventually(Probe probe) {
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (probe()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return probe();
}

// The real router with a twitch entity, the fake IRC server on its own thread, and
// waddle-twitchd pointed at both.
class TwitchFixture {
 public:
  TwitchFixture() : guard_(irc_io_.get_executor()), irc_(irc_io_) {
    h.sql(
        "insert into entities (entity_id, platform, server_id, channel_id, community_id) values "
        "('twitch:channel:" +
        std::string(kChannel) + "', 'twitch', 'channel', '" + kChannel + "', " +
        std::to_string(h.community_id()) + ")");
    irc_port_ = irc_.start();
    irc_thread_ = std::thread([this] { irc_io_.run(); });
    http_ = std::make_unique<waddle::net::HttpClient>(client_io_.get_executor());
  }

  ~TwitchFixture() {
    twitchd_.reset();
    http_.reset();
    on_irc([this] {
      irc_.stop();
      return 0;
    });
    guard_.reset();
    irc_io_.stop();
    if (irc_thread_.joinable()) irc_thread_.join();
  }

  // Starts the router, then waddle-twitchd; returns once twitchd serves HTTP, is logged in to
  // the fake server and has joined kChannel.
  void start() {
    h.start();
    const std::string ca =
        h.dir().write("irc-ca.pem", on_irc([this] { return irc_.certificate_pem(); }));
    port_ = free_port();
    socket_ = h.dir().file("twitch.sock");
    const std::string config =
        "log:\n  level: debug\ntwitch:\n  threads: 2\n  admin_socket: " + socket_ +
        "\n  port: " + std::to_string(port_) +
        "\n  irc_host: 127.0.0.1\n  irc_port: " + std::to_string(irc_port_) +
        "\n  irc_ca_file: " + ca +
        "\n  nick: waddlebot\n  oauth_token: oauth:test-token-0123\n  eventsub_secret: " +
        kEventSubSecret + "\n  channels: [" + kChannel +
        "]\n  router_url: http://127.0.0.1:" + std::to_string(h.port()) +
        "\n  router_api_key: " + kCollectorKey + "\n  callback_token: " + kCallbackToken +
        "\n  heartbeat_interval: 1s\n" + extra_config;
    const std::string path = h.dir().write("twitch.yaml", config);
    twitchd_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{WADDLE_TWITCHD, "--config", path},
        std::vector<std::pair<std::string, std::string>>{}, h.dir().file("twitch.log"));
    const bool up = eventually([&] {
      if (!twitchd_->alive()) return true;
      try {
        return get("/healthz").status == 200;
      } catch (const std::exception&) {
        return false;
      }
    });
    INFO(log());
    REQUIRE(twitchd_->alive());
    REQUIRE(up);
    REQUIRE(eventually([&] { return irc_lines("JOIN #" + std::string(kChannel)).size() == 1; }));
    REQUIRE(eventually([&] { return registered(); }));
  }

  // Runs `f` on the fake server's thread (it is single-threaded) and returns its result.
  template <class F>
  decltype(std::declval<F&>()()) on_irc(F f) {
    using T = decltype(f());
    std::promise<T> promise;
    auto result = promise.get_future();
    boost::asio::post(irc_io_, [&] { promise.set_value(f()); });
    return result.get();
  }

  std::vector<std::string> irc_lines(const std::string& prefix) {
    return on_irc([&] { return irc_.lines_of(1, prefix); });
  }
  // Lines of every connection that start with `prefix`, in arrival order.
  std::vector<waddle::fakes::FakeTwitchIrcServer::Line> irc_lines_all(const std::string& prefix) {
    return on_irc([&] {
      std::vector<waddle::fakes::FakeTwitchIrcServer::Line> out;
      for (const auto& line : irc_.lines()) {
        if (line.text.rfind(prefix, 0) == 0) out.push_back(line);
      }
      return out;
    });
  }
  std::size_t irc_logged_in() {
    return on_irc([&] { return irc_.logged_in(); });
  }
  std::size_t irc_accepted() {
    return on_irc([&] { return irc_.accepted(); });
  }
  void irc_send(const std::string& line) {
    on_irc([&] {
      irc_.send_to_all(line);
      return 0;
    });
  }

  waddle::net::ClientResponse request(const std::string& path, std::string body,
                                      waddle::net::HeaderList headers,
                                      std::string method = "POST") {
    waddle::net::ClientRequest request;
    request.method = std::move(method);
    request.url = "http://127.0.0.1:" + std::to_string(port_) + path;
    request.headers = std::move(headers);
    request.body = std::move(body);
    request.timeout = 10s;
    waddle::net::ClientResponse response;
    run_bounded(
        client_io_,
        [&]() -> boost::asio::awaitable<void> {
          response = co_await http_->request(std::move(request));
        }(),
        std::chrono::seconds(20));
    return response;
  }
  waddle::net::ClientResponse get(const std::string& path) { return request(path, "", {}, "GET"); }

  // A Twitch-signed EventSub request.
  waddle::net::ClientResponse eventsub(const std::string& message_id, const std::string& type,
                                       const std::string& body,
                                       const std::string& subscription = "channel.follow",
                                       const std::string& secret = kEventSubSecret) {
    const std::string timestamp = waddle::model::now_rfc3339();
    return request("/twitch/eventsub", body,
                   {{"Content-Type", "application/json"},
                    {"Twitch-Eventsub-Message-Id", message_id},
                    {"Twitch-Eventsub-Message-Timestamp", timestamp},
                    {"Twitch-Eventsub-Message-Signature",
                     waddle::twitch::eventsub_signature(secret, message_id, timestamp, body)},
                    {"Twitch-Eventsub-Message-Type", type},
                    {"Twitch-Eventsub-Subscription-Type", subscription},
                    {"Twitch-Eventsub-Subscription-Version", "2"}});
  }

  waddle::ctl::Reply admin(const std::string& command, json arguments = json::object()) {
    return waddle::ctl::call(socket_, command, std::move(arguments));
  }
  bool registered() {
    try {
      auto reply = admin("status");
      return reply.arguments.value("router", json::object()).value("registered", false);
    } catch (const std::exception&) {
      return false;
    }
  }
  std::size_t module_requests(const std::string& key) {
    auto all = h.modules().requests();
    return static_cast<std::size_t>(
        std::count_if(all.begin(), all.end(), [&](const auto& r) { return r.key == key; }));
  }
  json router_metrics() { return h.get("/router/metrics").json(); }

  int stop() { return twitchd_->stop(); }
  std::string log() const {
    return (twitchd_ ? "--- waddle-twitchd ---\n" + twitchd_->log() : std::string()) +
           "\n--- waddle-routerd ---\n" + h.log();
  }

  RouterHarness h;
  std::string extra_config;  // more "  key: value" lines for the twitch section, before start()

 private:
  boost::asio::io_context irc_io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  waddle::fakes::FakeTwitchIrcServer irc_;
  std::thread irc_thread_;
  std::uint16_t irc_port_ = 0;
  boost::asio::io_context client_io_;
  std::unique_ptr<waddle::net::HttpClient> http_;
  std::uint16_t port_ = 0;
  std::string socket_;
  std::unique_ptr<ChildProcess> twitchd_;
};

std::string privmsg(const std::string& id, const std::string& user, const std::string& text) {
  return "@badge-info=;badges=;color=#FF0000;display-name=" + user + ";emotes=;id=" + id +
         ";mod=0;room-id=1337;subscriber=0;tmi-sent-ts=1700000000000;turbo=0;user-id=42;"
         "user-type= :" +
         user + "!" + user + "@" + user + ".tmi.twitch.tv PRIVMSG #" + kChannel + " :" + text;
}

json follow_body(const std::string& user) {
  return {{"subscription",
           {{"id", "f1a2b3c4-0000-0000-0000-000000000001"},
            {"type", "channel.follow"},
            {"version", "2"},
            {"status", "enabled"},
            {"cost", 0},
            {"condition", {{"broadcaster_user_id", "1337"}, {"moderator_user_id", "1337"}}},
            {"transport", {{"method", "webhook"}, {"callback", "https://example.com/twitch"}}},
            {"created_at", "2026-01-01T00:00:00Z"}}},
          {"event",
           {{"user_id", "9001"},
            {"user_login", user},
            {"user_name", user},
            {"broadcaster_user_id", "1337"},
            {"broadcaster_user_login", kChannel},
            {"broadcaster_user_name", "WaddleChan"},
            {"followed_at", "2026-01-01T00:00:01Z"}}}};
}

}  // namespace

TEST_CASE("a chat command goes through the router and the reply comes back as a PRIVMSG",
          "[twitch]") {
  TwitchFixture f;
  ModuleBehaviour hello;
  hello.actions = json::array({{{"type", "chat"},
                                {"text", "Hi Alice!"},
                                {"reply_to", "aaaaaaaa-1111-2222-3333-444444444444"}}});
  f.h.modules().set("hello", hello);
  f.h.add_command("!", "hello", "hello");
  ModuleBehaviour accepted;
  accepted.scenario = ModuleScenario::accepted;
  f.h.modules().set("slow", accepted);
  f.h.add_command("!", "later", "slow");
  f.start();
  INFO(f.log());

  // The bot is a moderator here: its messages take the 100-per-30 s bucket.
  f.irc_send(
      "@badge-info=;badges=moderator/1;color=;display-name=WaddleBot;emote-sets=0;mod=1;"
      "subscriber=0;user-type=mod :tmi.twitch.tv USERSTATE #" +
      std::string(kChannel));
  f.irc_send(privmsg("aaaaaaaa-1111-2222-3333-444444444444", "alice", "!hello"));
  REQUIRE(eventually([&] { return !f.irc_lines("@reply-parent-msg-id").empty(); }));
  CHECK(f.irc_lines("@reply-parent-msg-id") ==
        std::vector<std::string>{
            "@reply-parent-msg-id=aaaaaaaa-1111-2222-3333-444444444444 PRIVMSG #waddlechan :Hi "
            "Alice!"});
  auto request = f.h.modules().request_for("hello");
  REQUIRE(request);
  json sent = json::parse(request->body);
  CHECK(sent["event"]["event_id"] == "twitch:aaaaaaaa-1111-2222-3333-444444444444");
  CHECK(sent["event"]["entity_id"] == "twitch:channel:waddlechan");
  CHECK(sent["user"]["name"] == "alice");

  // Plain chat reaches the router too but gets no answer.
  f.irc_send(privmsg("bbbbbbbb-1111-2222-3333-444444444444", "bob", "nice stream"));

  // A module that answers later: the router delivers to the registered callback, then chat.
  f.irc_send(privmsg("cccccccc-1111-2222-3333-444444444444", "carol", "!later"));
  REQUIRE(eventually([&] { return f.module_requests("slow") == 1; }));
  json slow = json::parse(f.h.modules().request_for("slow")->body);
  json answer = {{"session_id", slow["session_id"]},
                 {"execution_id", slow["execution_id"]},
                 {"entity_id", "twitch:channel:waddlechan"},
                 {"module_name", "slow"},
                 {"actions", {{{"type", "chat"}, {"text", "done later, carol"}}}}};
  auto delivered = f.h.post("/router/responses", answer, kModuleKey);
  INFO(delivered.body);
  REQUIRE(delivered.status == 200);
  CHECK(delivered.json()["delivered"] == true);
  CHECK(delivered.json()["collector"] == "twitch");
  REQUIRE(eventually([&] { return !f.irc_lines("PRIVMSG #waddlechan :done later").empty(); }));
  CHECK(f.irc_lines("PRIVMSG #waddlechan :done later") ==
        std::vector<std::string>{"PRIVMSG #waddlechan :done later, carol"});

  // The callback refuses a wrong token and a body that is not a late answer.
  json late = {{"entity_id", "twitch:channel:waddlechan"},
               {"actions", {{{"type", "chat"}, {"text", "forged"}}}}};
  auto forged =
      f.request("/twitch/callback", late.dump(), {{"Authorization", "Bearer not-the-token"}});
  CHECK(forged.status == 401);
  auto missing = f.request("/twitch/callback", late.dump(), {});
  CHECK(missing.status == 401);
  auto bad_entity = f.request("/twitch/callback",
                              json{{"entity_id", "discord:1:2"}, {"actions", json::array()}}.dump(),
                              {{"Authorization", std::string("Bearer ") + kCallbackToken}});
  CHECK(bad_entity.status == 400);
  CHECK(bad_entity.json()["error"]["field"] == "entity_id");
  auto not_json =
      f.request("/twitch/callback",
                "{\"entity_id\": ", {{"Authorization", std::string("Bearer ") + kCallbackToken}});
  CHECK(not_json.status == 400);

  auto status = f.admin("status");
  CHECK(status.result == 0);
  CHECK(status.arguments["irc"]["state"] == "ready");
  CHECK(status.arguments["irc"]["joined"] == json::array({kChannel}));
  CHECK(status.arguments["send_queue"].is_number());
  // Three chat lines reached the router (the plain one needs no answer, so wait for its count).
  REQUIRE(eventually([&] { return f.admin("stats").arguments["events_posted"] == 3; }));
  auto stats = f.admin("stats").arguments;
  CHECK(stats["callbacks"] == 1);
  CHECK(stats["callbacks_refused"] == 2);
  CHECK(stats["chat_sent"] == 2);
  auto all = f.irc_lines("");
  CHECK(std::count_if(all.begin(), all.end(), [](const std::string& line) {
          return line.find("PRIVMSG #") != std::string::npos;
        }) == 2);  // the reply and the late answer; nothing forged got through

  // join / part through the admin socket.
  auto joined = f.admin("join", {{"channel", "#OtherChan"}});
  CHECK(joined.result == 0);
  REQUIRE(eventually([&] { return f.irc_lines("JOIN #otherchan").size() == 1; }));
  auto parted = f.admin("part", {{"channel", "otherchan"}});
  CHECK(parted.result == 0);
  REQUIRE(eventually([&] { return f.irc_lines("PART #otherchan").size() == 1; }));
  CHECK(f.admin("part", {{"channel", "otherchan"}}).result == 3);
  CHECK(f.admin("join", {{"channel", "not a login"}}).result == 1);
  CHECK(f.admin("join", json::object()).result == 1);

  CHECK(f.stop() == 0);
}

TEST_CASE("EventSub notifications are verified, answered, deduplicated and reach the router",
          "[twitch]") {
  TwitchFixture f;
  ModuleBehaviour thanks;
  thanks.actions = json::array({{{"type", "chat"}, {"text", "Thanks for the follow!"}}});
  f.h.modules().set("follows", thanks);
  f.h.add_command("!", "followthanks", "follows", ", trigger_type, event_types",
                  ", 'event', '[\"follow\"]'::jsonb");
  f.start();
  INFO(f.log());
  const json before = f.router_metrics();

  // The challenge comes back raw, as text/plain.
  json challenge = follow_body("nobody");
  challenge.erase("event");
  challenge["challenge"] = "pogchamp-kappa-360noscope-vohiyo";
  auto verification = f.eventsub("e0000000-0000-0000-0000-000000000001",
                                 "webhook_callback_verification", challenge.dump());
  CHECK(verification.status == 200);
  CHECK(verification.body == "pogchamp-kappa-360noscope-vohiyo");

  // A wrong signature is refused before anything is parsed.
  const std::string body = follow_body("cool_user").dump();
  auto forged = f.eventsub("e0000000-0000-0000-0000-000000000002", "notification", body,
                           "channel.follow", "some-other-secret-entirely");
  CHECK(forged.status == 403);

  // A real follow: answered at once, then the router runs the follow trigger and its chat
  // answer goes out on IRC.
  auto follow = f.eventsub("e0000000-0000-0000-0000-000000000003", "notification", body);
  CHECK(follow.status == 204);
  REQUIRE(eventually([&] { return f.module_requests("follows") == 1; }));
  json sent = json::parse(f.h.modules().request_for("follows")->body);
  CHECK(sent["event"]["event_id"] == "twitch:eventsub:e0000000-0000-0000-0000-000000000003");
  CHECK(sent["event"]["message_type"] == "follow");
  CHECK(sent["event"]["user"]["name"] == "cool_user");
  REQUIRE(eventually([&] { return !f.irc_lines("PRIVMSG #waddlechan :Thanks").empty(); }));
  // The follow is worth reputation points (reputation_event_points), credited to the follower.
  CHECK(f.h.wait_count("select coalesce(sum(e.points), 0) from reputation_events e join "
                       "platform_identities i on i.user_id = e.user_id where i.platform = "
                       "'twitch' and i.platform_user_id = '9001' and e.event_type = 'follow' and "
                       "e.community_id = " +
                           std::to_string(f.h.community_id()),
                       10) == 10);

  // Twitch redelivers the same message id: 2xx, and nothing reaches the router again.
  auto again = f.eventsub("e0000000-0000-0000-0000-000000000003", "notification", body);
  CHECK(again.status / 100 == 2);
  // A second, different follow goes through; once it has reached the module the router has seen
  // every event twitchd sent it.
  auto second = f.eventsub("e0000000-0000-0000-0000-000000000004", "notification",
                           follow_body("other_user").dump());
  CHECK(second.status == 204);
  REQUIRE(eventually([&] { return f.module_requests("follows") == 2; }));
  const json after = f.router_metrics();
  CHECK(after["events"].get<int>() - before["events"].get<int>() == 2);
  CHECK(after["duplicates"].get<int>() - before["duplicates"].get<int>() == 0);
  auto stats = f.admin("stats").arguments;
  CHECK(stats["eventsub_duplicates"] == 1);
  CHECK(stats["eventsub_rejected"] == 1);
  CHECK(stats["eventsub_notifications"] == 2);

  // The same text twice within 30 s is altered, not dropped by Twitch.
  REQUIRE(eventually([&] { return f.irc_lines("PRIVMSG #waddlechan :Thanks").size() == 2; }));
  auto thanks_lines = f.irc_lines("PRIVMSG #waddlechan :Thanks");
  CHECK(thanks_lines[0] == "PRIVMSG #waddlechan :Thanks for the follow!");
  CHECK(thanks_lines[1] != thanks_lines[0]);

  // Bad input: no signature headers at all, a body that is not JSON.
  auto unsigned_request = f.request("/twitch/eventsub", body, {});
  CHECK(unsigned_request.status == 403);
  auto garbage = f.eventsub("e0000000-0000-0000-0000-000000000005", "notification", "{not json");
  CHECK(garbage.status == 400);

  CHECK(f.stop() == 0);
}

TEST_CASE("settings the schema cannot check stop waddle-twitchd at start, naming the key",
          "[twitch]") {
  TempDir dir;
  struct Case {
    std::string lines;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"  channels: [\"Bad Chan\"]\n", "twitch.channels: 'Bad Chan' is not a channel login"},
      {"  eventsub_secret: short\n", "twitch.eventsub_secret"},
      {"  router_url: ftp://127.0.0.1/\n", "twitch.router_url: expected an http"},
      {"  nick: waddlebot\n  oauth_token: token\n  irc_ca_file: " + dir.file("missing.pem") + "\n",
       "twitch.irc_ca_file: cannot read"}};
  int n = 0;
  for (const Case& c : cases) {
    // A file per case: a reused log could still hold the previous case's failure.
    const std::string name = "bad-" + std::to_string(++n);
    const std::string path =
        dir.write(name + ".yaml", "twitch:\n  admin_socket: " + dir.file("twitch.sock") +
                                      "\n  port: " + std::to_string(free_port()) + "\n" + c.lines);
    ChildProcess daemon({WADDLE_TWITCHD, "--config", path}, {}, dir.file(name + ".log"));
    REQUIRE(eventually([&] { return daemon.log().find("failed to start") != std::string::npos; }));
    INFO(daemon.log());
    CHECK(daemon.log().find(c.message) != std::string::npos);
    // It exits by itself (a signal now could race its exit): reap it, for at most 20 s.
    int status = 0;
    REQUIRE(eventually([&] { return waitpid(daemon.pid(), &status, WNOHANG) == daemon.pid(); }));
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 2);
  }
}

TEST_CASE("a RECONNECT mid-stream: channels rejoined on one new socket, no reply twice",
          "[twitch]") {
  TwitchFixture f;
  ModuleBehaviour pong;
  pong.actions = json::array({{{"type", "chat"}, {"text", "pong"}}});
  f.h.modules().set("ping", pong);
  f.h.add_command("!", "ping", "ping");
  f.extra_config = "  channel_interval: 0ms\n";
  f.start();
  INFO(f.log());
  auto pongs = [&] { return f.irc_lines_all("PRIVMSG #waddlechan :pong").size(); };

  const std::string first = privmsg("dddddddd-1111-2222-3333-444444444444", "alice", "!ping");
  f.irc_send(first);
  REQUIRE(eventually([&] { return pongs() == 1; }));

  // Twitch is about to restart the server: the client reconnects at once on a new socket.
  f.irc_send(":tmi.twitch.tv RECONNECT");
  REQUIRE(eventually([&] {
    return f.irc_accepted() == 2 && f.irc_logged_in() == 1 &&
           f.irc_lines_all("JOIN #waddlechan").size() == 2;
  }));
  const auto joins = f.irc_lines_all("JOIN #waddlechan");
  CHECK(joins[0].connection == 1);
  CHECK(joins[1].connection == 2);

  // The same message again (a replay across the reconnect), then a new one: one more reply.
  f.irc_send(first);
  f.irc_send(privmsg("eeeeeeee-1111-2222-3333-444444444444", "bob", "!ping"));
  REQUIRE(eventually([&] { return pongs() == 2; }));
  REQUIRE(eventually([&] {
    auto stats = f.admin("stats").arguments;
    return stats.value("events_posted", 0) == 3 && stats.value("router_duplicates", 0) == 1;
  }));
  CHECK(pongs() == 2);
  CHECK(f.module_requests("ping") == 2);
  const auto replies = f.irc_lines_all("PRIVMSG #waddlechan :pong");
  CHECK(replies[0].connection == 1);
  CHECK(replies[1].connection == 2);
  CHECK(f.admin("status").arguments["irc"]["joined"] == json::array({kChannel}));
  CHECK(f.stop() == 0);
}

TEST_CASE("a burst of 100 replies never goes over the send limit", "[twitch]") {
  TwitchFixture f;
  // 20 per 2 s window (Twitch's 20 per 30 s, scaled down so the test takes seconds), no
  // per-channel interval and no margin (the margin also spaces every message by itself).
  f.extra_config =
      "  send_limit: 20\n  send_window: 2s\n  send_margin: 0ms\n  channel_interval: 0ms\n";
  f.start();
  INFO(f.log());
  // The router hands a module's messages to the collector: 4 × 25 chat actions at once.
  for (int batch = 0; batch < 4; ++batch) {
    json actions = json::array();
    for (int i = 0; i < 25; ++i) {
      actions.push_back({{"type", "chat"}, {"text", "burst " + std::to_string(batch * 25 + i)}});
    }
    auto sent = f.h.post("/router/messages",
                         {{"entity_id", "twitch:channel:waddlechan"},
                          {"module_name", "timers"},
                          {"actions", actions}},
                         kModuleKey);
    INFO(sent.body);
    REQUIRE(sent.status == 200);
    REQUIRE(sent.json()["delivered"] == true);
  }
  auto burst = [&] { return f.irc_lines_all("PRIVMSG #waddlechan :burst "); };
  const bool all = eventually([&] { return burst().size() == 100; });
  INFO(f.log() << "\n" << f.admin("stats").arguments.dump());
  INFO(burst().size() << " of 100 arrived");
  REQUIRE(all);
  const auto lines = burst();
  for (std::size_t i = 0; i < lines.size(); ++i) {
    CHECK(lines[i].text == "PRIVMSG #waddlechan :burst " + std::to_string(i));  // in order, once
  }
  // Any 21 consecutive messages span the window: never 21 within 2 s as sent. The server sees
  // them after loopback and TLS; 500 ms of that jitter is allowed, a wrong limiter (a fixed
  // 20 per window boundary, or no limit) would show 21 within milliseconds.
  for (std::size_t i = 0; i + 20 < lines.size(); ++i) {
    INFO("messages " << i << " to " << i + 20);
    CHECK(lines[i + 20].at - lines[i].at >= 1500ms);
  }
  CHECK(f.stop() == 0);
}
