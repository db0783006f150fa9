// waddle-twitchd's EventSub side and metrics end to end: the real daemon (and, for chat over
// EventSub, the real router) as child processes, the fake Twitch REST server (HTTPS) and IRC server
// (TLS) on 127.0.0.1, and EventSub requests signed like Twitch's. `subscribe` creates the
// webhook subscriptions once, revocations are marked or re-created once, chat travels in through
// channel.chat.message and out through Helix Send Chat Message, and GET /metrics follows the
// traffic.
#include <sys/wait.h>

#include <future>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "ctl/client.hpp"
#include "fakes/twitch_helix_server.hpp"
#include "fakes/twitch_irc_server.hpp"
#include "model/event.hpp"
#include "router_support.hpp"
#include "twitch/eventsub.hpp"

#ifndef WADDLE_TWITCHD
#error "WADDLE_TWITCHD must name the waddle-twitchd binary"
#endif

using json = nlohmann::json;
using waddle::fakes::FakeTwitchHelixServer;
using waddle::fakes::FakeTwitchIrcServer;
using waddle::fakes::ModuleBehaviour;
using namespace waddle::test;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

constexpr const char* kEventSubSecret = "s3cr3t-eventsub-secret-for-tests";
constexpr const char* kCallback = "https://bot.example.com/twitch/eventsub";

template <class Probe>
bool eventually(Probe probe) {
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (probe()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return probe();
}

// Metric samples by name (labels included) from an exposition, checking as it goes that every
// sample follows the # TYPE of its family.
std::map<std::string, double> parse_metrics(const std::string& text) {
  std::map<std::string, double> out;
  std::istringstream in(text);
  std::string line, typed;
  while (std::getline(in, line)) {
    INFO(line);
    if (line.rfind("# HELP ", 0) == 0) continue;
    if (line.rfind("# TYPE ", 0) == 0) {
      typed = line.substr(7, line.find(' ', 7) - 7);
      continue;
    }
    const auto space = line.rfind(' ');
    REQUIRE(space != std::string::npos);
    const std::string sample = line.substr(0, space);
    REQUIRE(sample.substr(0, sample.find('{')) == typed);
    out[sample] = std::stod(line.substr(space + 1));
  }
  return out;
}

// The fake Twitch (REST and IRC) on its own thread and waddle-twitchd pointed at it; the router
// is optional (without it events fail to post, which the counters show).
class Fixture {
 public:
  explicit Fixture(bool with_router) {
    if (with_router) router = std::make_unique<RouterHarness>();
    helix_.add_user("waddlebot", "100");
    helix_.add_user("chan", "200");
    helix_.add_user("other", "300");
    token_ = helix_.issue_user_token("waddlebot").first;
    helix_.start();
    irc_port_ = irc_.start();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~Fixture() {
    twitchd_.reset();
    on_fake([this] {
      helix_.stop();
      irc_.stop();
      return 0;
    });
    guard_.reset();
    io_.stop();
    thread_.join();
  }

  const TempDir& dir() const { return router ? router->dir() : dir_; }

  void start(const std::string& extra = "") {
    if (router) {
      router->sql(
          "insert into entities (entity_id, platform, server_id, channel_id, community_id) "
          "values ('twitch:channel:chan', 'twitch', 'channel', 'chan', " +
          std::to_string(router->community_id()) + ")");
      router->start();
    }
    port_ = free_port();
    socket_ = dir().file("twitch.sock");
    const std::string router_url =
        router ? "http://127.0.0.1:" + std::to_string(router->port()) : "http://127.0.0.1:1";
    const std::string config =
        "log:\n  level: debug\ntwitch:\n  admin_socket: " + socket_ +
        "\n  port: " + std::to_string(port_) +
        "\n  irc_host: 127.0.0.1\n  irc_port: " + std::to_string(irc_port_) + "\n  irc_ca_file: " +
        dir().write("irc-ca.pem", on_fake([this] { return irc_.certificate_pem(); })) +
        "\n  nick: waddlebot\n  oauth_token: " + token_ +
        "\n  eventsub_secret: " + kEventSubSecret + "\n  eventsub_callback_url: " + kCallback +
        "\n  channels: [chan]\n  router_url: " + router_url +
        "\n  router_api_key: " + kCollectorKey +
        "\n  client_id: fake-client-id\n  client_secret: fake-client-secret\n  helix_url: " +
        helix_.helix_url() + "\n  auth_url: " + helix_.auth_url() +
        "\n  api_ca_file: " + dir().write("helix-ca.pem", helix_.certificate_pem()) + "\n" + extra;
    twitchd_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{WADDLE_TWITCHD, "--config", dir().write("twitch.yaml", config)},
        std::vector<std::pair<std::string, std::string>>{}, dir().file("twitch.log"));
    const bool up = eventually([&] {
      if (!twitchd_->alive()) return true;
      try {
        return get("/healthz").status == 200 && admin("status").result == 0;
      } catch (const std::exception&) {
        return false;
      }
    });
    INFO(log());
    REQUIRE(twitchd_->alive());
    REQUIRE(up);
  }

  template <class F>
  decltype(std::declval<F&>()()) on_fake(F f) {
    std::promise<decltype(f())> promise;
    auto result = promise.get_future();
    asio::post(io_, [&] { promise.set_value(f()); });
    return result.get();
  }
  std::vector<std::string> irc_lines(const std::string& prefix) {
    return on_fake([&] { return irc_.lines_of(1, prefix); });
  }
  std::size_t irc_accepted() {
    return on_fake([&] { return irc_.accepted(); });
  }
  void irc_send(const std::string& line) {
    on_fake([&] {
      irc_.send_to_all(line);
      return 0;
    });
  }

  waddle::net::ClientResponse request(const std::string& path, std::string body,
                                      waddle::net::HeaderList headers, std::string method) {
    waddle::net::ClientRequest request;
    request.method = std::move(method);
    request.url = "http://127.0.0.1:" + std::to_string(port_) + path;
    request.headers = std::move(headers);
    request.body = std::move(body);
    request.timeout = 10s;
    waddle::net::ClientResponse response;
    run_bounded(
        client_io_,
        [&]() -> asio::awaitable<void> { response = co_await http_.request(std::move(request)); }(),
        20s);
    return response;
  }
  waddle::net::ClientResponse get(const std::string& path) { return request(path, "", {}, "GET"); }

  // A Twitch-signed EventSub request.
  waddle::net::ClientResponse eventsub(const std::string& message_id, const std::string& type,
                                       const json& body) {
    const std::string timestamp = waddle::model::now_rfc3339();
    const std::string text = body.dump();
    const std::string subscription = body["subscription"]["type"];
    const std::string version = body["subscription"]["version"];
    return request(
        "/twitch/eventsub", text,
        {{"Content-Type", "application/json"},
         {"Twitch-Eventsub-Message-Id", message_id},
         {"Twitch-Eventsub-Message-Timestamp", timestamp},
         {"Twitch-Eventsub-Message-Signature",
          waddle::twitch::eventsub_signature(kEventSubSecret, message_id, timestamp, text)},
         {"Twitch-Eventsub-Message-Type", type},
         {"Twitch-Eventsub-Subscription-Type", subscription},
         {"Twitch-Eventsub-Subscription-Version", version}},
        "POST");
  }

  waddle::ctl::Reply admin(const std::string& command, json arguments = json::object()) {
    return waddle::ctl::call(socket_, command, std::move(arguments));
  }
  std::map<std::string, double> metrics() {
    auto response = get("/metrics");
    REQUIRE(response.status == 200);
    CHECK(response.header("Content-Type").value_or("") ==
          "text/plain; version=0.0.4; charset=utf-8");
    return parse_metrics(response.body);
  }
  // The subscription of `type` for `broadcaster` in the fake, or null.
  json subscription(const std::string& type, const std::string& broadcaster = "200") {
    for (const auto& s : helix_.subscriptions()) {
      const json& c = s["condition"];
      if (s["type"] == type && (c.value("broadcaster_user_id", "") == broadcaster ||
                                c.value("to_broadcaster_user_id", "") == broadcaster)) {
        return s;
      }
    }
    return nullptr;
  }
  std::string log() const {
    return (twitchd_ ? "--- waddle-twitchd ---\n" + twitchd_->log() : std::string()) +
           (router ? "\n--- waddle-routerd ---\n" + router->log() : std::string());
  }
  int stop() { return twitchd_->stop(); }

  std::unique_ptr<RouterHarness> router;
  FakeTwitchHelixServer& helix() { return helix_; }

 private:
  TempDir dir_;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_{io_.get_executor()};
  FakeTwitchHelixServer helix_{io_};
  FakeTwitchIrcServer irc_{io_};
  std::uint16_t irc_port_ = 0;
  std::thread thread_;
  std::string token_;
  asio::io_context client_io_;
  waddle::net::HttpClient http_{client_io_.get_executor()};
  std::uint16_t port_ = 0;
  std::string socket_;
  std::unique_ptr<ChildProcess> twitchd_;
};

json revocation_body(const json& subscription, const std::string& status) {
  json s = subscription;
  s["status"] = status;
  return {{"subscription", s}};
}

json chat_body(const std::string& message_id, const std::string& login, const std::string& id,
               const std::string& text) {
  return {{"subscription",
           {{"id", "sub-chat"},
            {"type", "channel.chat.message"},
            {"version", "1"},
            {"status", "enabled"},
            {"cost", 0},
            {"condition", {{"broadcaster_user_id", "200"}, {"user_id", "100"}}},
            {"transport", {{"method", "webhook"}, {"callback", kCallback}}},
            {"created_at", "2026-01-01T00:00:00Z"}}},
          {"event",
           {{"broadcaster_user_id", "200"},
            {"broadcaster_user_login", "chan"},
            {"broadcaster_user_name", "Chan"},
            {"chatter_user_id", id},
            {"chatter_user_login", login},
            {"chatter_user_name", login},
            {"message_id", message_id},
            {"message",
             {{"text", text}, {"fragments", json::array({{{"type", "text"}, {"text", text}}})}}},
            {"color", ""},
            {"badges", json::array()},
            {"message_type", "text"}}}};
}

}  // namespace

TEST_CASE("subscribe creates the webhook subscriptions once, revocations are marked or renewed",
          "[twitch]") {
  Fixture f(false);
  f.start();
  INFO(f.log());

  auto first = f.admin("subscribe");
  INFO(first.text << " " << first.arguments.dump());
  REQUIRE(first.result == 0);
  CHECK(first.arguments["created"] == 8);
  CHECK(first.arguments["channels"]["chan"]["broadcaster_id"] == "200");
  REQUIRE(f.helix().subscriptions().size() == 8);
  for (const auto& s : f.helix().subscriptions()) {
    CHECK(s["transport"]["callback"] == kCallback);
  }
  CHECK(f.subscription("channel.follow")["condition"]["moderator_user_id"] == "100");
  CHECK(f.subscription("channel.chat.message").is_null());  // chat is over IRC here

  auto again = f.admin("subscribe");
  CHECK(again.result == 0);
  CHECK(again.arguments["created"] == 0);
  CHECK(again.arguments["existing"] == 8);
  auto other = f.admin("subscribe", {{"channel", "#Other"}});
  CHECK(other.result == 0);
  CHECK(other.arguments["created"] == 8);
  CHECK(f.helix().subscriptions().size() == 16);
  CHECK(f.admin("subscribe", {{"channel", "not a login"}}).result == 1);
  CHECK(f.admin("subscribe", {{"channel", 5}}).result == 1);
  auto unknown = f.admin("subscribe", {{"channel", "nobody_here"}});
  CHECK(unknown.result == 1);
  CHECK(unknown.arguments["failed"] == 1);
  auto listed = f.admin("subscriptions");
  CHECK(listed.result == 0);
  CHECK(listed.arguments["total"] == 16);
  const std::size_t posts = f.helix().count("POST", "/helix/eventsub/subscriptions");

  // The broadcaster took the permission back: marked, shown, not subscribed again.
  const json cheer = f.subscription("channel.cheer");
  REQUIRE(f.helix().set_subscription_status(cheer["id"], "authorization_revoked"));
  auto revoked = f.eventsub("r0000000-0000-0000-0000-000000000001", "revocation",
                            revocation_body(cheer, "authorization_revoked"));
  CHECK(revoked.status == 204);
  REQUIRE(eventually([&] {
    return f.admin("status").arguments["eventsub_subscriptions"]["revoked"].size() == 1;
  }));
  json shown = f.admin("status").arguments["eventsub_subscriptions"]["revoked"][0];
  CHECK(shown["status"] == "authorization_revoked");
  CHECK(shown["type"] == "channel.cheer");
  CHECK(shown["action"] == "marked");

  // Twitch gave up delivering: deleted and created again, once.
  const json online = f.subscription("stream.online");
  REQUIRE(f.helix().set_subscription_status(online["id"], "notification_failures_exceeded"));
  auto failing = f.eventsub("r0000000-0000-0000-0000-000000000002", "revocation",
                            revocation_body(online, "notification_failures_exceeded"));
  CHECK(failing.status == 204);
  REQUIRE(eventually(
      [&] { return f.admin("status").arguments["eventsub_subscriptions"]["resubscribed"] == 1; }));
  CHECK(f.helix().count("POST", "/helix/eventsub/subscriptions") == posts + 1);
  const json renewed = f.subscription("stream.online");
  CHECK(renewed["id"] != online["id"]);
  CHECK(renewed["status"] == "webhook_callback_verification_pending");
  // It fails again at once: no second attempt, no loop.
  REQUIRE(f.helix().set_subscription_status(renewed["id"], "notification_failures_exceeded"));
  CHECK(f.eventsub("r0000000-0000-0000-0000-000000000003", "revocation",
                   revocation_body(renewed, "notification_failures_exceeded"))
            .status == 204);
  REQUIRE(eventually([&] {
    return f.admin("status").arguments["eventsub_subscriptions"]["revoked"].size() == 3;
  }));
  CHECK(f.admin("status").arguments["eventsub_subscriptions"]["revoked"][2]["action"] == "marked");
  CHECK(f.helix().count("POST", "/helix/eventsub/subscriptions") == posts + 1);

  auto m = f.metrics();
  CHECK(m["waddle_twitch_eventsub_revocations_total"] == 3);
  CHECK(m["waddle_twitch_eventsub_resubscribed_total"] == 1);
  CHECK(m["waddle_twitch_eventsub_subscriptions_created_total"] == 16);
  CHECK(m["waddle_twitch_eventsub_subscriptions_revoked"] == 3);
  CHECK(f.stop() == 0);
}

TEST_CASE("GET /metrics follows the stats and the IRC traffic", "[twitch]") {
  Fixture f(false);
  f.start();
  INFO(f.log());
  REQUIRE(eventually([&] { return f.irc_lines("JOIN #chan").size() == 1; }));
  REQUIRE(eventually(
      [&] { return f.admin("status").arguments["irc"]["joined"] == json::array({"chan"}); }));
  auto before = f.metrics();
  CHECK(before["waddle_twitch_irc_connected"] == 1);
  CHECK(before["waddle_twitch_joined_channels"] == 1);
  CHECK(before["waddle_twitch_send_queue_depth"] == 0);
  CHECK(before["waddle_twitch_chat_transport_info{transport=\"irc\"}"] == 1);
  CHECK(before.count("waddle_twitch_helix_calls_total") == 1);

  // Two chat lines: read, and (no router here) failed to post.
  for (const char* id :
       {"aaaaaaaa-0000-0000-0000-000000000001", "aaaaaaaa-0000-0000-0000-000000000002"}) {
    f.irc_send(std::string("@badges=;display-name=Alice;id=") + id +
               ";room-id=200;user-id=300 :alice!alice@alice.tmi.twitch.tv PRIVMSG #chan :hi");
  }
  REQUIRE(eventually([&] { return f.admin("stats").arguments["events_failed"] == 2; }));
  auto after = f.metrics();
  CHECK(after["waddle_twitch_irc_messages_total"] >=
        before["waddle_twitch_irc_messages_total"] + 2);
  CHECK(after["waddle_twitch_events_failed_total"] == 2);
  CHECK(after["waddle_twitch_irc_last_message_age_seconds"] >= 0);
  CHECK(after["waddle_twitch_irc_last_message_age_seconds"] < 600);
  // The counters are the admin socket's numbers, not a second count that could drift.
  auto stats = f.admin("stats").arguments;
  for (const auto& [name, value] : stats.items()) {
    if (name == "send_queue" || !value.is_number()) continue;
    INFO(name);
    REQUIRE(after.count("waddle_twitch_" + name + "_total") == 1);
    if (name != "irc_messages") {  // the server may PING between the two reads
      CHECK(after["waddle_twitch_" + name + "_total"] == value.get<double>());
    }
  }
  CHECK(f.stop() == 0);
}

TEST_CASE("chat over EventSub: no IRC, channel.chat.message in, Helix Send Chat Message out",
          "[twitch]") {
  Fixture f(true);
  ModuleBehaviour hello;
  hello.actions = json::array({{{"type", "chat"},
                                {"text", "Hi Alice!"},
                                {"reply_to", "bbbbbbbb-0000-0000-0000-000000000001"}}});
  f.router->modules().set("hello", hello);
  f.router->add_command("!", "hello", "hello");
  f.start("  chat_transport: eventsub\n");
  INFO(f.log());
  auto status = f.admin("status").arguments;
  CHECK(status["chat_transport"] == "eventsub");
  CHECK(status["irc"]["state"] == "off");

  auto subscribed = f.admin("subscribe");
  REQUIRE(subscribed.result == 0);
  CHECK(subscribed.arguments["created"] == 9);
  CHECK(f.subscription("channel.chat.message")["condition"] ==
        json({{"broadcaster_user_id", "200"}, {"user_id", "100"}}));

  // The bot's own message comes back over EventSub too; it must not reach the router.
  CHECK(f.eventsub("c0000000-0000-0000-0000-000000000001", "notification",
                   chat_body("bbbbbbbb-0000-0000-0000-000000000000", "waddlebot", "100", "!hello"))
            .status == 204);
  CHECK(f.eventsub("c0000000-0000-0000-0000-000000000002", "notification",
                   chat_body("bbbbbbbb-0000-0000-0000-000000000001", "alice", "300", "!hello"))
            .status == 204);
  REQUIRE(eventually([&] { return f.helix().count("POST", "/helix/chat/messages") == 1; }));
  json sent;
  for (const auto& r : f.helix().requests()) {
    if (r.path == "/helix/chat/messages") sent = r.json();
  }
  CHECK(sent == json{{"broadcaster_id", "200"},
                     {"sender_id", "100"},
                     {"message", "Hi Alice!"},
                     {"reply_parent_message_id", "bbbbbbbb-0000-0000-0000-000000000001"}});
  REQUIRE(eventually([&] { return f.admin("stats").arguments["chat_sent"] == 1; }));
  auto request = f.router->modules().request_for("hello");
  REQUIRE(request);
  CHECK(json::parse(request->body)["event"]["event_id"] ==
        "twitch:bbbbbbbb-0000-0000-0000-000000000001");
  auto stats = f.admin("stats").arguments;
  CHECK(stats["events_posted"] == 1);  // only alice's

  // Twitch answers 200 but does not post it: a drop, counted and logged with the reason.
  f.helix().drop_chat_messages("msg_rejected");
  CHECK(f.eventsub("c0000000-0000-0000-0000-000000000003", "notification",
                   chat_body("bbbbbbbb-0000-0000-0000-000000000003", "alice", "300", "!hello"))
            .status == 204);
  REQUIRE(eventually([&] { return f.admin("stats").arguments["chat_dropped"] == 1; }));
  CHECK(f.log().find("msg_rejected") != std::string::npos);
  CHECK(f.admin("stats").arguments["chat_sent"] == 1);
  auto m = f.metrics();
  CHECK(m["waddle_twitch_chat_dropped_total"] == 1);
  CHECK(m["waddle_twitch_chat_sent_total"] == 1);
  CHECK(m["waddle_twitch_irc_connected"] == 0);
  CHECK(m["waddle_twitch_chat_transport_info{transport=\"eventsub\"}"] == 1);
  CHECK(f.irc_accepted() == 0);  // never connected to IRC
  CHECK(f.stop() == 0);
}

TEST_CASE("eventsub settings the schema cannot check stop waddle-twitchd, naming the key",
          "[twitch]") {
  TempDir dir;
  struct Case {
    std::string lines;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"  eventsub_callback_url: http://bot.example.com/twitch/eventsub\n",
       "twitch.eventsub_callback_url: Twitch calls only https://"},
      {"  chat_transport: eventsub\n  nick: waddlebot\n  eventsub_secret: " +
           std::string(kEventSubSecret) + "\n",
       "twitch.chat_transport: eventsub sends chat through Helix"},
      {"  chat_transport: eventsub\n  nick: waddlebot\n  client_id: c\n  client_secret: s\n",
       "twitch.chat_transport: eventsub reads chat from EventSub notifications"},
      {"  chat_transport: telepathy\n", "chat_transport"}};
  int n = 0;
  for (const Case& c : cases) {
    const std::string name = "bad-" + std::to_string(++n);
    const std::string path =
        dir.write(name + ".yaml", "twitch:\n  admin_socket: " + dir.file("twitch.sock") +
                                      "\n  port: " + std::to_string(free_port()) + "\n" + c.lines);
    ChildProcess daemon({WADDLE_TWITCHD, "--config", path}, {}, dir.file(name + ".log"));
    int status = 0;
    REQUIRE(eventually([&] { return waitpid(daemon.pid(), &status, WNOHANG) == daemon.pid(); }));
    INFO(daemon.log());
    CHECK(daemon.log().find(c.message) != std::string::npos);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 2);
  }
}
