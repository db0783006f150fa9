// EventSub subscription management and chat over Helix against the fake Twitch REST server (HTTPS
// on 127.0.0.1): which subscriptions a channel needs, creating only the missing ones, revocations
// (marked, or re-created once), and Send Chat Message with is_sent.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include "fakes/twitch_helix_server.hpp"
#include "support/async.hpp"
#include "twitch/helix.hpp"
#include "twitch/helix_chat.hpp"
#include "twitch/subscriptions.hpp"

using namespace waddle::twitch;
using waddle::Errc;
using waddle::fakes::FakeTwitchHelixServer;
using waddle::test::error_of;
using waddle::test::run_bounded;
using json = nlohmann::json;
namespace asio = boost::asio;

namespace {

constexpr const char* kCallback = "https://bot.example.com/twitch/eventsub";
constexpr const char* kSecret = "s3cr3t-eventsub-secret-for-tests";
const std::vector<std::string> kChan = {"chan"};

// A user token that never changes: these tests are about the app token's calls.
class FixedToken final : public TokenProvider {
 public:
  explicit FixedToken(std::string token) : token_(std::move(token)) {}
  asio::awaitable<std::string> current() override { co_return token_; }
  asio::awaitable<std::string> renew(std::string) override {
    throw waddle::Error(Errc::unauthenticated, "fixed token refused");
    co_return std::string();
  }

 private:
  std::string token_;
};

struct Fixture {
  asio::io_context io;
  FakeTwitchHelixServer fake{io};
  std::uint16_t port = fake.start();
  std::string ca_path = write_ca();
  waddle::net::HttpClient http{io.get_executor(), client_options()};
  HelixOptions options = helix_options();
  OAuthClient oauth{http, options};
  AppTokens app{oauth};
  FixedToken user{issue()};
  HelixClient helix{http, options, &app, &user};

  ~Fixture() { std::filesystem::remove(ca_path); }

  std::string write_ca() {
    auto path = std::filesystem::temp_directory_path() /
                ("waddle-subs-ca-" + std::to_string(getpid()) + ".pem");
    std::ofstream(path) << fake.certificate_pem();
    return path.string();
  }
  waddle::net::ClientOptions client_options() {
    waddle::net::ClientOptions o;
    o.ca_file = ca_path;
    return o;
  }
  HelixOptions helix_options() {
    HelixOptions o;
    o.helix_url = fake.helix_url();
    o.auth_url = fake.auth_url();
    o.client_id = "fake-client-id";
    o.client_secret = "fake-client-secret";
    return o;
  }
  std::string issue() {
    fake.add_user("waddlebot", "100");
    fake.add_user("chan", "200");
    fake.add_user("alice", "300");
    return fake.issue_user_token("waddlebot").first;
  }
  SubscriberOptions subscriber_options(bool chat = false) {
    return {.callback_url = kCallback,
            .secret = kSecret,
            .bot_login = "waddlebot",
            .chat_over_eventsub = chat};
  }
};

std::multiset<std::string> types_of(const json& subscriptions) {
  std::multiset<std::string> out;
  for (const auto& s : subscriptions) out.insert(s["type"].get<std::string>());
  return out;
}

EventSubSubscription existing(std::string type, std::string version, json condition,
                              std::string status = "enabled", std::string callback = kCallback) {
  EventSubSubscription s;
  s.id = "x";
  s.type = std::move(type);
  s.version = std::move(version);
  s.condition = std::move(condition);
  s.status = std::move(status);
  s.callback = std::move(callback);
  return s;
}

}  // namespace

TEST_CASE("a channel needs eight subscriptions, nine with chat over EventSub") {
  auto specs = wanted_subscriptions("200", "100", false);
  std::set<std::string> types;
  for (const auto& spec : specs) types.insert(spec.type);
  CHECK(types == std::set<std::string>{"channel.follow", "channel.subscribe",
                                       "channel.subscription.gift", "channel.subscription.message",
                                       "channel.cheer", "channel.raid", "stream.online",
                                       "stream.offline"});
  for (const auto& spec : specs) {
    INFO(spec.type);
    if (spec.type == "channel.follow") {
      CHECK(spec.version == "2");
      CHECK(spec.condition == json{{"broadcaster_user_id", "200"}, {"moderator_user_id", "100"}});
    } else if (spec.type == "channel.raid") {
      CHECK(spec.condition == json{{"to_broadcaster_user_id", "200"}});
    } else {
      CHECK(spec.version == "1");
      CHECK(spec.condition == json{{"broadcaster_user_id", "200"}});
    }
  }
  auto with_chat = wanted_subscriptions("200", "100", true);
  REQUIRE(with_chat.size() == 9);
  CHECK(with_chat.back().type == "channel.chat.message");
  CHECK(with_chat.back().condition == json{{"broadcaster_user_id", "200"}, {"user_id", "100"}});
  // Without the bot's id the broadcaster moderates its own follows.
  CHECK(wanted_subscriptions("200", "", false).front().condition["moderator_user_id"] == "200");
}

TEST_CASE("serves: same type, version, condition and callback, still delivering") {
  const SubscriptionSpec raid{"channel.raid", "1", {{"to_broadcaster_user_id", "200"}}};
  // Twitch lists every condition key, the unused ones empty.
  CHECK(serves(existing("channel.raid", "1",
                        {{"to_broadcaster_user_id", "200"}, {"from_broadcaster_user_id", ""}}),
               raid, kCallback));
  CHECK(serves(existing("channel.raid", "1", {{"to_broadcaster_user_id", "200"}},
                        "webhook_callback_verification_pending"),
               raid, kCallback));
  CHECK_FALSE(
      serves(existing("channel.raid", "1",
                      {{"to_broadcaster_user_id", "200"}, {"from_broadcaster_user_id", "7"}}),
             raid, kCallback));
  CHECK_FALSE(
      serves(existing("channel.raid", "1", {{"to_broadcaster_user_id", "201"}}), raid, kCallback));
  CHECK_FALSE(
      serves(existing("channel.raid", "2", {{"to_broadcaster_user_id", "200"}}), raid, kCallback));
  CHECK_FALSE(
      serves(existing("channel.cheer", "1", {{"to_broadcaster_user_id", "200"}}), raid, kCallback));
  CHECK_FALSE(serves(existing("channel.raid", "1", {{"to_broadcaster_user_id", "200"}}, "enabled",
                              "https://elsewhere.example.com/"),
                     raid, kCallback));
  CHECK_FALSE(serves(existing("channel.raid", "1", {{"to_broadcaster_user_id", "200"}},
                              "notification_failures_exceeded"),
                     raid, kCallback));
  CHECK_FALSE(serves(existing("channel.raid", "1", json("garbage")), raid, kCallback));
}

TEST_CASE("revocations: resubscribe only where Twitch stopped on its own side") {
  CHECK(revocation_action("notification_failures_exceeded") == RevocationAction::resubscribe);
  CHECK(revocation_action("version_removed") == RevocationAction::resubscribe);
  CHECK(revocation_action("authorization_revoked") == RevocationAction::mark);
  CHECK(revocation_action("user_removed") == RevocationAction::mark);
  CHECK(revocation_action("") == RevocationAction::mark);
  CHECK(revocation_action("something_new") == RevocationAction::mark);
}

TEST_CASE("subscribe creates what is missing with the app token, once") {
  Fixture f;
  EventSubSubscriber subscriber(&f.helix, f.subscriber_options());
  json first, second, unknown;
  run_bounded(f.io, [&]() -> asio::awaitable<void> {
    const std::vector<std::string> both = {"chan", "alice"};
    const std::vector<std::string> nobody = {"nobody_here"};
    first = co_await subscriber.subscribe(both);
    second = co_await subscriber.subscribe(both);
    unknown = co_await subscriber.subscribe(nobody);
  }());
  INFO(first.dump(2));
  CHECK(first["created"] == 16);
  CHECK(first["existing"] == 0);
  CHECK(first["failed"] == 0);
  CHECK(first["channels"]["chan"]["broadcaster_id"] == "200");
  CHECK(first["channels"]["alice"]["created"].size() == 8);
  CHECK(second["created"] == 0);
  CHECK(second["existing"] == 16);
  CHECK(unknown["failed"] == 1);
  CHECK(unknown["channels"]["nobody_here"]["failed"][0]["error"] == "no Twitch user 'nobody_here'");

  json made = f.fake.subscriptions();
  REQUIRE(made.size() == 16);
  for (const auto& s : made) {
    CHECK(s["transport"]["callback"] == kCallback);
    if (s["type"] == "channel.follow") CHECK(s["condition"]["moderator_user_id"] == "100");
  }
  CHECK(f.fake.count("POST", "/helix/eventsub/subscriptions") == 16);
  // Every subscription call used the app token (the fake refuses user tokens there).
  for (const auto& r : f.fake.requests()) {
    if (r.path == "/helix/eventsub/subscriptions" || r.path == "/helix/users") {
      CHECK(r.headers.at("authorization").rfind("Bearer app-", 0) == 0);
    }
  }
  auto snapshot = subscriber.snapshot();
  CHECK(snapshot["created"] == 16);
  CHECK(snapshot["existing"] == 16);
  CHECK(snapshot["failed"] == 1);

  SECTION("chat over EventSub adds channel.chat.message for the bot") {
    EventSubSubscriber chat(&f.helix, f.subscriber_options(true));
    json report;
    run_bounded(f.io,
                [&]() -> asio::awaitable<void> { report = co_await chat.subscribe(kChan); }());
    CHECK(report["created"] == 1);
    CHECK(report["existing"] == 8);
    CHECK(report["channels"]["chan"]["created"] == json::array({"channel.chat.message"}));
    CHECK(types_of(f.fake.subscriptions()).count("channel.chat.message") == 1);
  }
  SECTION("a subscription Twitch marked failed is created again") {
    for (const auto& s : made) {
      if (s["type"] == "stream.online" && s["condition"]["broadcaster_user_id"] == "200") {
        REQUIRE(f.fake.set_subscription_status(s["id"], "notification_failures_exceeded"));
      }
    }
    json report;
    run_bounded(
        f.io, [&]() -> asio::awaitable<void> { report = co_await subscriber.subscribe(kChan); }());
    // The stale one is deleted first: Twitch refuses a second one with the same condition.
    CHECK(report["failed"] == 0);
    CHECK(report["created"] == 1);
    CHECK(report["channels"]["chan"]["created"] == json::array({"stream.online"}));
    CHECK(f.fake.count("DELETE", "/helix/eventsub/subscriptions") == 1);
    CHECK(f.fake.subscriptions().size() == 16);
  }
}

TEST_CASE("subscribe without Helix, callback or secret is a clear error") {
  Fixture f;
  EventSubSubscriber no_helix(nullptr, f.subscriber_options());
  SubscriberOptions no_callback = f.subscriber_options();
  no_callback.callback_url.clear();
  EventSubSubscriber without_callback(&f.helix, no_callback);
  run_bounded(f.io, [&]() -> asio::awaitable<void> {
    auto e = co_await error_of(no_helix.subscribe(kChan));
    REQUIRE(e);
    CHECK(e->code() == Errc::unavailable);
    CHECK(std::string(e->what()).find("twitch.client_id") != std::string::npos);
    e = co_await error_of(without_callback.subscribe(kChan));
    REQUIRE(e);
    CHECK(e->code() == Errc::invalid_argument);
    CHECK(std::string(e->what()).find("twitch.eventsub_callback_url") != std::string::npos);
  }());
  CHECK(f.fake.count("POST", "/helix/eventsub/subscriptions") == 0);
}

TEST_CASE("revocations are marked, or re-created once when Twitch gave up delivering") {
  Fixture f;
  EventSubSubscriber subscriber(&f.helix, f.subscriber_options());
  run_bounded(f.io, [&]() -> asio::awaitable<void> { co_await subscriber.subscribe(kChan); }());
  auto id_of = [&](const std::string& type) {
    for (const auto& s : f.fake.subscriptions()) {
      if (s["type"] == type) return s["id"].get<std::string>();
    }
    return std::string();
  };
  const std::size_t posts = f.fake.count("POST", "/helix/eventsub/subscriptions");

  Revocation revoked{id_of("channel.cheer"),
                     "channel.cheer",
                     "1",
                     "authorization_revoked",
                     {{"broadcaster_user_id", "200"}}};
  Revocation failing{id_of("channel.raid"),
                     "channel.raid",
                     "1",
                     "notification_failures_exceeded",
                     {{"to_broadcaster_user_id", "200"}, {"from_broadcaster_user_id", ""}}};
  run_bounded(f.io, [&]() -> asio::awaitable<void> {
    co_await subscriber.on_revocation(revoked);
    co_await subscriber.on_revocation(failing);
  }());
  CHECK(f.fake.count("POST", "/helix/eventsub/subscriptions") == posts + 1);
  CHECK(f.fake.count("DELETE", "/helix/eventsub/subscriptions") == 1);
  CHECK(id_of("channel.raid") != failing.subscription_id);   // a new one
  CHECK(id_of("channel.cheer") == revoked.subscription_id);  // left alone

  // The re-created one fails again: bounded, no second attempt.
  failing.subscription_id = id_of("channel.raid");
  run_bounded(f.io,
              [&]() -> asio::awaitable<void> { co_await subscriber.on_revocation(failing); }());
  CHECK(f.fake.count("POST", "/helix/eventsub/subscriptions") == posts + 1);

  auto snapshot = subscriber.snapshot();
  CHECK(snapshot["resubscribed"] == 1);
  REQUIRE(snapshot["revoked"].size() == 3);
  CHECK(snapshot["revoked"][0]["status"] == "authorization_revoked");
  CHECK(snapshot["revoked"][0]["action"] == "marked");
  CHECK(snapshot["revoked"][1]["action"] == "resubscribe");
  CHECK(snapshot["revoked"][2]["action"] == "marked");

  json listed;
  run_bounded(f.io, [&]() -> asio::awaitable<void> { listed = co_await subscriber.list(); }());
  CHECK(listed["total"] == 8);
  CHECK(listed["revoked"].size() == 3);
}

TEST_CASE("HelixChat sends as the bot, as a reply, and reports is_sent false as a drop") {
  Fixture f;
  HelixChat chat(f.io.get_executor(), f.helix, "waddlebot");
  std::vector<ChatOutcome> outcomes;
  auto done = [&](const ChatOutcome& o) { outcomes.push_back(o); };
  chat.send("chan", "hello there", "parent-1", done);
  run_bounded(f.io, [&]() -> asio::awaitable<void> {
    while (outcomes.size() < 1) co_await waddle::test::sleep_for(std::chrono::milliseconds(5));
    f.fake.drop_chat_messages("msg_duplicate");
    chat.send("chan", "hello there", "", done);
    while (outcomes.size() < 2) co_await waddle::test::sleep_for(std::chrono::milliseconds(5));
    chat.send("nobody_here", "hi", "", done);
    while (outcomes.size() < 3) co_await waddle::test::sleep_for(std::chrono::milliseconds(5));
  }());
  REQUIRE(outcomes.size() == 3);
  CHECK(outcomes[0].sent);
  CHECK_FALSE(outcomes[0].message_id.empty());
  CHECK_FALSE(outcomes[1].sent);
  CHECK(outcomes[1].reason.find("msg_duplicate") != std::string::npos);
  CHECK_FALSE(outcomes[2].sent);
  CHECK(outcomes[2].reason.find("no Twitch user 'nobody_here'") != std::string::npos);
  CHECK(chat.in_flight() == 0);
  std::vector<json> bodies;
  for (const auto& r : f.fake.requests()) {
    if (r.path == "/helix/chat/messages") bodies.push_back(r.json());
  }
  REQUIRE(bodies.size() == 2);
  CHECK(bodies[0] == json{{"broadcaster_id", "200"},
                          {"sender_id", "100"},
                          {"message", "hello there"},
                          {"reply_parent_message_id", "parent-1"}});
  CHECK_FALSE(bodies[1].contains("reply_parent_message_id"));
}
