#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include "model/event.hpp"
#include "net/http.hpp"
#include "twitch/eventsub.hpp"

using namespace std::chrono_literals;
using waddle::model::Event;
using waddle::twitch::eventsub_signature;
using waddle::twitch::EventSubHandler;
using waddle::twitch::EventSubOptions;
using waddle::twitch::normalize_eventsub;
using waddle::twitch::parse_rfc3339;
using waddle::twitch::SeenMessageIds;
using waddle::twitch::verify_eventsub_signature;

namespace {

// TV-T1 (shared/reference/platforms.md): a real signature from twitch-cli output.
constexpr std::string_view kT1Secret = "secretabcd";
constexpr std::string_view kT1Id = "ae2ff348-e102-16be-a3eb-6830c1bf38d2";
constexpr std::string_view kT1Timestamp = "2021-02-19T23:47:00.8091512Z";
constexpr std::string_view kT1Body =
    R"({"subscription":{"id":"ae2ff348-e102-16be-a3eb-6830c1bf38d2","status":"enabled","type":"channel.follow","version":"1","condition":{"broadcaster_user_id":"44429626"},"transport":{"method":"webhook","callback":"null"},"created_at":"2021-02-19T23:47:00.7621315Z"},"event":{"user_id":"28408015","user_login":"testFromUser","user_name":"testFromUser","broadcaster_user_id":"44429626","broadcaster_user_login":"44429626","broadcaster_user_name":"testBroadcaster"}})";
constexpr std::string_view kT1Signature =
    "sha256=d10f5bd9474b7ac7bd7105eb79c2d52768b4d0cd2a135982c3bf5a1d59a78823";

// TV-T2: the docs' challenge body.
constexpr std::string_view kT2Secret =
    "5f1a6e7cd2e7137ccf9e15b2f43fe63949eb84b1db83c1d5a867dc93429de4e4";
constexpr std::string_view kT2Id = "e76c6bd4-55c9-4987-8304-da1588d8988b";
constexpr std::string_view kT2Timestamp = "2019-11-16T10:11:12.634234626Z";
constexpr std::string_view kT2Body =
    R"({"challenge":"pogchamp-kappa-360noscope-vohiyo","subscription":{"id":"f1c2a387-161a-49f9-a165-0f21d7a4e1c4","status":"webhook_callback_verification_pending","type":"channel.follow","version":"1","cost":1,"condition":{"broadcaster_user_id":"12826"},"transport":{"method":"webhook","callback":"https://example.com/webhooks/callback"},"created_at":"2019-11-16T10:11:12.634234626Z"}})";
constexpr std::string_view kT2Signature =
    "sha256=c1bb40d45eb35828216b99478658f8414e0c6fcbfb9f0d01160cb7822567fef2";

waddle::net::Request signed_request(std::string_view secret, std::string_view id,
                                    std::string_view timestamp, std::string_view type,
                                    std::string body) {
  auto request = waddle::net::make_request("POST", "/twitch/eventsub", std::move(body));
  request.headers = {
      {"Twitch-Eventsub-Message-Id", std::string(id)},
      {"Twitch-Eventsub-Message-Timestamp", std::string(timestamp)},
      {"Twitch-Eventsub-Message-Signature",
       eventsub_signature(secret, id, timestamp, request.body)},
      {"twitch-eventsub-message-type", std::string(type)},  // header names are case-insensitive
      {"Twitch-Eventsub-Message-Retry", "0"},
  };
  return request;
}

struct Clocks {
  std::chrono::system_clock::time_point system;
  std::chrono::steady_clock::time_point steady{};
};

EventSubHandler handler_at(Clocks& clocks, std::string secret) {
  EventSubOptions options;
  options.secret = std::move(secret);
  return EventSubHandler(
      options, [&clocks] { return clocks.system; }, [&clocks] { return clocks.steady; });
}

std::string notification(std::string_view type, std::string_view event) {
  return R"({"subscription":{"id":"s1","status":"enabled","type":")" + std::string(type) +
         R"(","version":"1","cost":0,"condition":{},"transport":{"method":"webhook","callback":"https://x/cb"},"created_at":"2019-11-16T10:11:12.634234626Z"},"event":)" +
         std::string(event) + "}";
}

Event only_event(std::string_view type, std::string_view event_json) {
  auto events =
      normalize_eventsub(type, nlohmann::json::parse(event_json), "m-1", "2026-01-01T12:00:00.5Z");
  REQUIRE(events.size() == 1);
  Event round_trip = waddle::model::parse_event(waddle::model::to_json(events[0]));
  CHECK(round_trip == events[0]);
  return events[0];
}

}  // namespace

TEST_CASE("the published EventSub vectors verify") {
  CHECK(eventsub_signature(kT1Secret, kT1Id, kT1Timestamp, kT1Body) == kT1Signature);
  CHECK(verify_eventsub_signature(kT1Secret, kT1Id, kT1Timestamp, kT1Body, kT1Signature));
  CHECK(eventsub_signature(kT2Secret, kT2Id, kT2Timestamp, kT2Body) == kT2Signature);
  CHECK(verify_eventsub_signature(kT2Secret, kT2Id, kT2Timestamp, kT2Body, kT2Signature));
}

TEST_CASE("a re-formatted timestamp, a re-serialised body or a wrong secret fail") {
  // TV-T2 negative controls: both give the other signatures the reference lists.
  std::string_view reformatted = "2019-11-16T10:11:12.63423462Z";
  CHECK(eventsub_signature(kT2Secret, kT2Id, reformatted, kT2Body) ==
        "sha256=789b0786a38a227d44cfe9e6037bd54b4d716b83f26ed30b87e7cc512d64b934");
  CHECK_FALSE(verify_eventsub_signature(kT2Secret, kT2Id, reformatted, kT2Body, kT2Signature));
  std::string reserialised = nlohmann::json::parse(kT2Body).dump();  // sorted keys
  CHECK(reserialised != kT2Body);
  CHECK_FALSE(
      verify_eventsub_signature(kT2Secret, kT2Id, kT2Timestamp, reserialised, kT2Signature));
  CHECK_FALSE(verify_eventsub_signature("secretabce", kT1Id, kT1Timestamp, kT1Body, kT1Signature));
  CHECK_FALSE(
      verify_eventsub_signature(kT1Secret, "other-id", kT1Timestamp, kT1Body, kT1Signature));
}

TEST_CASE("malformed signature headers are rejected before comparing") {
  std::string hex(kT1Signature.substr(7));
  CHECK(verify_eventsub_signature(kT1Secret, kT1Id, kT1Timestamp, kT1Body, "sha256=" + hex));
  std::string upper = hex;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  CHECK(verify_eventsub_signature(kT1Secret, kT1Id, kT1Timestamp, kT1Body, "sha256=" + upper));
  for (std::string bad :
       {std::string(), hex, "sha1=" + hex, "SHA256=" + hex, "sha256=" + hex + "0",
        "sha256=" + hex.substr(1), "sha256=" + hex.substr(0, 63) + "g", " sha256=" + hex}) {
    INFO("header: " << bad);
    CHECK_FALSE(verify_eventsub_signature(kT1Secret, kT1Id, kT1Timestamp, kT1Body, bad));
  }
}

TEST_CASE("RFC 3339 times parse with 0 to 9 fractional digits and offsets") {
  using std::chrono::system_clock;
  auto at = [](std::string_view s) {
    auto t = parse_rfc3339(s);
    REQUIRE(t.has_value());
    return std::chrono::duration_cast<std::chrono::microseconds>(t->time_since_epoch()).count();
  };
  CHECK(at("1970-01-01T00:00:00Z") == 0);
  CHECK(at("2021-01-23T23:03:27Z") == 1611443007000000);
  CHECK(at("2021-04-11T09:49:55.813Z") == 1618134595813000);
  CHECK(at("2021-02-19T23:47:00.8091512Z") == 1613778420809151);
  CHECK(at("2019-11-16T10:11:12.634234626Z") == 1573899072634234);
  CHECK(at("2019-11-16T12:11:12+02:00") == 1573899072000000);
  for (std::string_view bad :
       {"", "2019-11-16", "2019-11-16T10:11:12", "2019-11-16T10:11:12.Z", "2019-13-16T10:11:12Z",
        "2019-11-16T10:11:12Zx", "2019-11-16 10:11:12Z", "2019-11-16T10:11:12+2:00"}) {
    INFO(bad);
    CHECK_FALSE(parse_rfc3339(bad).has_value());
  }
}

TEST_CASE("the seen-id set forgets after its ttl and never grows past its capacity") {
  SeenMessageIds seen(3, std::chrono::seconds(10));
  std::chrono::steady_clock::time_point t{};
  CHECK(seen.insert("a", t));
  CHECK_FALSE(seen.insert("a", t + 9s));
  CHECK(seen.insert("a", t + 10s));  // expired, new again
  CHECK(seen.insert("b", t + 10s));
  CHECK(seen.insert("c", t + 10s));
  CHECK(seen.insert("d", t + 10s));  // full: "a" goes
  CHECK(seen.size() == 3);
  CHECK_FALSE(seen.contains("a", t + 10s));
  CHECK(seen.contains("d", t + 10s));
  CHECK(seen.size() == 3);
}

TEST_CASE("a verification request gets the raw challenge as text/plain") {
  Clocks clocks{*parse_rfc3339("2019-11-16T10:12:00Z")};
  auto handler = handler_at(clocks, std::string(kT2Secret));
  auto request = signed_request(kT2Secret, kT2Id, kT2Timestamp, "webhook_callback_verification",
                                std::string(kT2Body));
  CHECK(request.header("Twitch-Eventsub-Message-Signature") == kT2Signature);
  auto outcome = handler.handle(request);
  CHECK(outcome.rejected.empty());
  CHECK(outcome.response.status == 200);
  CHECK(outcome.response.content_type == "text/plain");
  CHECK(outcome.response.body == "pogchamp-kappa-360noscope-vohiyo");
  CHECK(outcome.events.empty());
}

TEST_CASE("a stale message is refused even with a valid signature (TV-T1 at today's time)") {
  Clocks clocks{*parse_rfc3339("2026-01-01T00:00:00Z")};
  auto handler = handler_at(clocks, std::string(kT1Secret));
  auto request =
      signed_request(kT1Secret, kT1Id, kT1Timestamp, "notification", std::string(kT1Body));
  CHECK(request.header("Twitch-Eventsub-Message-Signature") == kT1Signature);
  auto outcome = handler.handle(request);
  CHECK(outcome.response.status == 403);
  CHECK(outcome.rejected.find("older than 600 s") != std::string::npos);
  CHECK(outcome.events.empty());

  // 9 minutes old is fine; 11 minutes in the future is not.
  clocks.system = *parse_rfc3339(kT1Timestamp) + 9min;
  CHECK(handler.handle(request).response.status == 204);
  clocks.system = *parse_rfc3339(kT1Timestamp) - 11min;
  auto future =
      signed_request(kT1Secret, "id-2", kT1Timestamp, "notification", std::string(kT1Body));
  CHECK(handler.handle(future).response.status == 403);
}

TEST_CASE("notifications give events; a redelivery is answered 2xx without events") {
  Clocks clocks{*parse_rfc3339("2026-01-01T12:00:01Z")};
  auto handler = handler_at(clocks, "0123456789abcdef");
  auto request = signed_request(
      "0123456789abcdef", "msg-1", "2026-01-01T12:00:00.123456789Z", "notification",
      notification(
          "channel.follow",
          R"({"user_id":"1234","user_login":"cool_user","user_name":"Cool_User","broadcaster_user_id":"1337","broadcaster_user_login":"cooler_user","broadcaster_user_name":"Cooler_User","followed_at":"2020-07-15T18:16:11.17106713Z"})"));
  auto first = handler.handle(request);
  CHECK(first.response.status == 204);
  CHECK_FALSE(first.duplicate);
  REQUIRE(first.events.size() == 1);
  const Event& follow = first.events[0];
  CHECK(follow.message_type == "follow");
  CHECK(follow.event_id == "twitch:eventsub:msg-1");
  CHECK(follow.entity_id == "twitch:channel:cooler_user");
  CHECK(follow.user.id == "1234");
  CHECK(follow.user.name == "cool_user");
  CHECK(follow.user.display_name == "Cool_User");
  CHECK(follow.timestamp == "2026-01-01T12:00:00.123456789Z");
  CHECK(follow.metadata["followed_at"] == "2020-07-15T18:16:11.17106713Z");

  clocks.steady += 5min;
  auto again = handler.handle(request);
  CHECK(again.response.status == 204);
  CHECK(again.duplicate);
  CHECK(again.events.empty());
  CHECK(handler.seen_ids() == 1);
}

TEST_CASE("bad requests are refused with a reason, never thrown") {
  Clocks clocks{*parse_rfc3339("2026-01-01T12:00:01Z")};
  auto handler = handler_at(clocks, "0123456789abcdef");
  auto good = signed_request("0123456789abcdef", "m", "2026-01-01T12:00:00Z", "notification", "{}");

  auto unsigned_request = good;
  unsigned_request.headers.erase(unsigned_request.headers.begin() + 2);
  CHECK(handler.handle(unsigned_request).response.status == 403);

  auto tampered = good;
  tampered.body = "{ }";
  CHECK(handler.handle(tampered).response.status == 403);
  CHECK(handler.seen_ids() == 0);  // an unverified id is never remembered

  auto not_json =
      signed_request("0123456789abcdef", "m2", "2026-01-01T12:00:00Z", "notification", "{not json");
  CHECK(handler.handle(not_json).response.status == 400);
  auto bad_time = signed_request("0123456789abcdef", "m3", "yesterday", "notification", "{}");
  CHECK(handler.handle(bad_time).response.status == 403);
  auto unknown_type =
      signed_request("0123456789abcdef", "m4", "2026-01-01T12:00:00Z", "other", "{}");
  CHECK(handler.handle(unknown_type).response.status == 400);
  auto no_challenge = signed_request("0123456789abcdef", "m5", "2026-01-01T12:00:00Z",
                                     "webhook_callback_verification", R"({"challenge":5})");
  CHECK(handler.handle(no_challenge).response.status == 400);
  auto odd_event =
      signed_request("0123456789abcdef", "m6", "2026-01-01T12:00:00Z", "notification",
                     notification("channel.follow", R"({"broadcaster_user_login":7})"));
  auto outcome = handler.handle(odd_event);
  CHECK(outcome.response.status == 204);
  CHECK(outcome.events.empty());

  CHECK_THROWS_AS(handler_at(clocks, "short"), waddle::Error);
  CHECK_THROWS_AS(handler_at(clocks, std::string(101, 'x')), waddle::Error);
}

TEST_CASE("a revocation is answered 204 and handed back") {
  Clocks clocks{*parse_rfc3339("2019-11-16T10:11:13Z")};
  auto handler = handler_at(clocks, "0123456789abcdef");
  auto outcome = handler.handle(signed_request(
      "0123456789abcdef", "r1", "2019-11-16T10:11:12.634234626Z", "revocation",
      R"({"subscription":{"id":"f1c2a387-161a-49f9-a165-0f21d7a4e1c4","status":"authorization_revoked","type":"channel.follow","cost":1,"version":"1","condition":{"broadcaster_user_id":"12826"},"transport":{"method":"webhook","callback":"https://example.com/webhooks/callback"},"created_at":"2019-11-16T10:11:12.634234626Z"}})"));
  CHECK(outcome.response.status == 204);
  REQUIRE(outcome.revocation.has_value());
  CHECK(outcome.revocation->subscription_id == "f1c2a387-161a-49f9-a165-0f21d7a4e1c4");
  CHECK(outcome.revocation->status == "authorization_revoked");
  CHECK(outcome.revocation->type == "channel.follow");
  CHECK(outcome.revocation->version == "1");
  CHECK(outcome.revocation->condition == nlohmann::json{{"broadcaster_user_id", "12826"}});
}

TEST_CASE("each subscription type maps to the seeds' message type and amount") {
  constexpr std::string_view kBroadcaster =
      R"("broadcaster_user_id":"1337","broadcaster_user_login":"cooler_user","broadcaster_user_name":"Cooler_User")";
  constexpr std::string_view kUser =
      R"("user_id":"1234","user_login":"cool_user","user_name":"Cool_User")";
  auto body = [&](std::string_view rest) {
    return "{" + std::string(kBroadcaster) + "," + std::string(kUser) + "," + std::string(rest) +
           "}";
  };

  Event sub = only_event("channel.subscribe", body(R"("tier":"1000","is_gift":false)"));
  CHECK(sub.message_type == "subscription");
  CHECK(sub.amount == 1);
  CHECK(sub.metadata["tier"] == "1000");
  CHECK(sub.metadata["is_gift"] == false);
  CHECK(sub.event_id == "twitch:eventsub:m-1");

  Event gift =
      only_event("channel.subscription.gift",
                 body(R"("total":2,"tier":"1000","cumulative_total":284,"is_anonymous":false)"));
  CHECK(gift.message_type == "subgift");
  CHECK(gift.amount == 2);
  CHECK(gift.user.id == "1234");
  CHECK(gift.metadata["cumulative_total"] == 284);

  Event anonymous = only_event(
      "channel.subscription.gift",
      "{" + std::string(kBroadcaster) +
          R"(,"user_id":null,"user_login":null,"user_name":null,"total":5,"tier":"1000","cumulative_total":null,"is_anonymous":true})");
  CHECK(anonymous.user.id == "anonymous");
  CHECK(anonymous.metadata["anonymous"] == true);
  CHECK(anonymous.amount == 5);

  Event resub = only_event(
      "channel.subscription.message",
      body(
          R"("tier":"1000","message":{"text":"Love the stream! FevziGG","emotes":[{"begin":23,"end":30,"id":"302976485"}]},"cumulative_months":15,"streak_months":1,"duration_months":6)"));
  CHECK(resub.message_type == "resub");
  CHECK(resub.amount == 15);
  CHECK(resub.message == "Love the stream! FevziGG");
  CHECK(resub.metadata["emotes"][0]["id"] == "302976485");

  Event cheer =
      only_event("channel.cheer", body(R"("is_anonymous":false,"message":"pogchamp","bits":1000)"));
  CHECK(cheer.message_type == "cheer");
  CHECK(cheer.amount == 1000);
  CHECK(cheer.message == "pogchamp");

  Event raid = only_event(
      "channel.raid",
      R"({"from_broadcaster_user_id":"1234","from_broadcaster_user_login":"cool_user","from_broadcaster_user_name":"Cool_User","to_broadcaster_user_id":"1337","to_broadcaster_user_login":"cooler_user","to_broadcaster_user_name":"Cooler_User","viewers":9001})");
  CHECK(raid.message_type == "raid");
  CHECK(raid.amount == 9001);
  CHECK(raid.entity_id == "twitch:channel:cooler_user");
  CHECK(raid.user.name == "cool_user");

  Event online =
      only_event("stream.online",
                 "{" + std::string(kBroadcaster) +
                     R"(,"id":"9001","type":"live","started_at":"2020-10-11T10:11:12.123Z"})");
  CHECK(online.message_type == "stream_online");
  CHECK(online.user.id == "1337");
  CHECK(online.metadata["stream_id"] == "9001");
  CHECK(online.metadata["type"] == "live");

  Event offline = only_event("stream.offline", "{" + std::string(kBroadcaster) + "}");
  CHECK(offline.message_type == "stream_offline");
  CHECK(offline.entity_id == "twitch:channel:cooler_user");

  CHECK(normalize_eventsub("channel.unknown", nlohmann::json::parse(body(R"("x":1)")), "m", "")
            .empty());
  CHECK(normalize_eventsub("channel.follow", nlohmann::json::array(), "m", "").empty());
  CHECK(normalize_eventsub("channel.follow", nlohmann::json(), "m", "").empty());
}

TEST_CASE("channel.chat.message gives the chat event IRC would, with emotes by code point") {
  Event chat = only_event("channel.chat.message", R"({
    "broadcaster_user_id":"1971641","broadcaster_user_login":"streamer","broadcaster_user_name":"streamer",
    "chatter_user_id":"4145994","chatter_user_login":"viewer32","chatter_user_name":"viewer32",
    "message_id":"cc106a89-1814-919d-454c-f4f2f970aae7",
    "message":{"text":"👉 Kappa hi","fragments":[
      {"type":"text","text":"👉 ","cheermote":null,"emote":null,"mention":null},
      {"type":"emote","text":"Kappa","cheermote":null,"emote":{"id":"25","emote_set_id":"0"},"mention":null},
      {"type":"text","text":" hi","cheermote":null,"emote":null,"mention":null}]},
    "color":"#00FF7F",
    "badges":[{"set_id":"moderator","id":"1","info":""},{"set_id":"subscriber","id":"12","info":"16"}],
    "message_type":"text","cheer":null,
    "reply":{"parent_message_id":"p1","parent_message_body":"hello","parent_user_id":"9","parent_user_name":"Retoon","parent_user_login":"retoon","thread_message_id":"p1","thread_user_id":"9","thread_user_name":"Retoon","thread_user_login":"retoon"},
    "channel_points_custom_reward_id":null})");
  CHECK(chat.message_type == "chatMessage");
  CHECK(chat.event_id == "twitch:cc106a89-1814-919d-454c-f4f2f970aae7");
  CHECK(chat.user.id == "4145994");
  CHECK(chat.user.roles == std::vector<std::string>{"moderator", "subscriber"});
  CHECK(chat.message == "👉 Kappa hi");
  CHECK(chat.metadata["emotes"][0] ==
        nlohmann::json{{"id", "25"}, {"start", 2}, {"end", 6}, {"code", "Kappa"}});
  CHECK(chat.metadata["reply"]["parent_msg_id"] == "p1");
  CHECK(chat.metadata["reply"]["parent_user_login"] == "retoon");
  CHECK(chat.metadata["badges"]["subscriber"] == "12");

  Event cheer = only_event("channel.chat.message", R"({
    "broadcaster_user_id":"1","broadcaster_user_login":"streamer","chatter_user_id":"2","chatter_user_login":"v",
    "message_id":"x","message":{"text":"cheer100"},"cheer":{"bits":100}})");
  CHECK(cheer.message_type == "cheer");
  CHECK(cheer.amount == 100);
}
