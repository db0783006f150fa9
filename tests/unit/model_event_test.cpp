#include <catch2/catch.hpp>

#include <string>

#include "model/event.hpp"

using nlohmann::json;
using waddle::model::Event;
using waddle::model::FieldError;
using waddle::model::parse_event;

namespace {

// The example from DESIGN.md §2.1, comments removed and the elided id filled in.
const char* kDesignExample = R"({
  "event_id": "twitch:9c2b7e",
  "platform": "twitch",
  "message_type": "chatMessage",
  "entity_id": "twitch:channel:waddlebot",
  "server_id": "channel", "channel_id": "waddlebot",
  "user": {"id": "123", "name": "alice", "display_name": "Alice",
           "roles": ["broadcaster", "moderator", "vip", "subscriber"]},
  "message": "!so bob",
  "amount": 0,
  "metadata": {},
  "timestamp": "2026-01-01T12:00:00Z"
})";

json minimal() {
  return json{{"event_id", "e1"},
              {"platform", "discord"},
              {"message_type", "chatMessage"},
              {"entity_id", "discord:111:222"},
              {"user", {{"id", "u1"}, {"name", "bob"}}}};
}

struct Failure {
  std::string field;
  std::string message;
  waddle::Errc code = waddle::Errc::ok;
};

Failure fail(const json& j) {
  try {
    parse_event(j);
  } catch (const FieldError& e) {
    return {e.field(), e.what(), e.code()};
  }
  return {"<parsed>", "<parsed>"};
}

Failure with(const std::string& key, const json& value) {
  json j = minimal();
  j[key] = value;
  return fail(j);
}

Failure with_user(const std::string& key, const json& value) {
  json j = minimal();
  j["user"][key] = value;
  return fail(j);
}

}  // namespace

TEST_CASE("the DESIGN.md example event parses") {
  Event e = parse_event(json::parse(kDesignExample));
  CHECK(e.event_id == "twitch:9c2b7e");
  CHECK(e.platform == "twitch");
  CHECK(e.message_type == "chatMessage");
  CHECK(e.entity_id == "twitch:channel:waddlebot");
  CHECK(e.server_id == "channel");
  CHECK(e.channel_id == "waddlebot");
  CHECK(e.user.id == "123");
  CHECK(e.user.name == "alice");
  CHECK(e.user.display_name == "Alice");
  CHECK(e.user.roles == std::vector<std::string>{"broadcaster", "moderator", "vip", "subscriber"});
  CHECK(e.message == "!so bob");
  CHECK(e.amount == 0);
  CHECK(e.metadata == json::object());
  CHECK(e.timestamp == "2026-01-01T12:00:00Z");
}

TEST_CASE("optional fields get their defaults") {
  Event e = parse_event(minimal());
  CHECK(e.server_id == "111");
  CHECK(e.channel_id == "222");
  CHECK(e.user.display_name == "bob");
  CHECK(e.user.roles.empty());
  CHECK(e.message.empty());
  CHECK(e.amount == 0);
  CHECK(e.metadata == json::object());
  CHECK(waddle::model::is_rfc3339(e.timestamp));
  CHECK(e.timestamp.size() == 20);
  CHECK(e.timestamp.back() == 'Z');
  // null is the same as absent for optional fields.
  json j = minimal();
  j["metadata"] = nullptr;
  j["message"] = nullptr;
  CHECK(parse_event(j).metadata == json::object());
}

TEST_CASE("an event of every message type round trips through to_json") {
  for (std::string_view type : waddle::model::kMessageTypes) {
    INFO(type);
    json j = json::parse(kDesignExample);
    j["message_type"] = type;
    j["amount"] = 500;
    j["metadata"] = {{"badges", {"sub/12"}}, {"reply", {{"id", "m1"}, {"depth", 2}}}};
    j["message"] = "héllo 👋\nsecond line";
    Event first = parse_event(j);
    CHECK(first.message_type == type);
    Event second = parse_event(to_json(first));
    CHECK(second == first);
    CHECK(to_json(second) == to_json(first));
  }
}

TEST_CASE("the reputation router's event types are all accepted") {
  for (const char* type :
       {"follow", "subscription", "raid", "subgift", "ban", "chatMessage", "reaction",
        "member_join", "voice_join", "voice_time", "boost", "file_share", "app_mention", "cheer",
        "slashCommand", "resub", "member_leave", "voice_leave", "donation"}) {
    INFO(type);
    CHECK(waddle::model::is_message_type(type));
    CHECK(with("message_type", type).field == "<parsed>");
  }
}

TEST_CASE("missing required fields are named") {
  for (const char* key : {"event_id", "platform", "message_type", "entity_id", "user"}) {
    json j = minimal();
    j.erase(key);
    Failure f = fail(j);
    CHECK(f.field == key);
    CHECK(f.message == std::string(key) + ": is required");
    CHECK(f.code == waddle::Errc::invalid_argument);
  }
  json j = minimal();
  j["user"].erase("name");
  CHECK(fail(j).message == "user.name: is required");
  j = minimal();
  j["user"].erase("id");
  CHECK(fail(j).field == "user.id");
}

TEST_CASE("unknown fields are rejected with their name") {
  Failure f = with("message_content", "hi");
  CHECK(f.field == "message_content");
  CHECK(f.message == "message_content: unknown field");
  CHECK(with_user("is_mod", true).message == "user.is_mod: unknown field");
}

TEST_CASE("wrong types are named") {
  CHECK(with("event_id", 5).message == "event_id: expected a string, got an integer");
  CHECK(with_user("name", 12).message == "user.name: expected a string, got an integer");
  CHECK(with_user("name", nullptr).message == "user.name: is required");
  CHECK(with("amount", "100").message == "amount: expected an integer, got a string");
  CHECK(with("amount", 1.5).message == "amount: expected an integer, got a float");
  CHECK(with("amount", 100.0).field == "amount");
  CHECK(with("amount", true).field == "amount");
  CHECK(with("amount", -1).message == "amount: must be at least 0, got -1");
  CHECK(with("amount", 18446744073709551615ull).field == "amount");
  CHECK(with("metadata", json::array()).message == "metadata: expected an object, got an array");
  CHECK(with("metadata", "x").field == "metadata");
  CHECK(with("user", "alice").message == "user: expected an object, got a string");
  CHECK(with_user("roles", "mod").message == "user.roles: expected an array, got a string");
  CHECK(with_user("roles", json::array({"mod", 3})).message ==
        "user.roles[1]: expected a string, got an integer");
  CHECK(with("message", json::object()).field == "message");
  CHECK(fail(json::array()).message == "(root): expected an object, got an array");
}

TEST_CASE("values outside the lists are named with the allowed values") {
  Failure f = with("message_type", "foo");
  CHECK(f.field == "message_type");
  CHECK(f.message.rfind("message_type: unknown value 'foo' (expected one of chatMessage, ", 0) ==
        0);
  CHECK(with("platform", "kick").message ==
        "platform: unknown value 'kick' (expected one of twitch, discord, slack, console)");
  CHECK(with("message_type", "ChatMessage").field == "message_type");
}

TEST_CASE("oversize strings and collections are rejected") {
  CHECK(with("message", std::string(4000, 'a')).field == "<parsed>");
  CHECK(with("message", std::string(4001, 'a')).message == "message: longer than 4000 bytes");
  // The limit is in bytes: 1334 three-byte characters are 4002 bytes.
  std::string wide;
  for (int i = 0; i < 1334; ++i) wide += "€";
  CHECK(with("message", wide).message == "message: longer than 4000 bytes");
  CHECK(with("event_id", std::string(257, 'e')).message == "event_id: longer than 256 bytes");
  CHECK(with_user("name", std::string(257, 'n')).field == "user.name");
  CHECK(with_user("display_name", std::string(257, 'n')).field == "user.display_name");
  CHECK(with_user("roles", json(std::vector<std::string>(33, "r"))).message ==
        "user.roles: more than 32 entries");
  CHECK(with_user("roles", json(std::vector<std::string>(32, "r"))).field == "<parsed>");
  CHECK(with("metadata", {{"blob", std::string(17000, 'x')}}).message ==
        "metadata: longer than 16384 bytes when serialized");
  CHECK(with("metadata", {{"blob", std::string(16000, 'x')}}).field == "<parsed>");
  json deep = json::object();
  for (int i = 0; i < 40; ++i) deep = json{{"d", deep}};
  CHECK(with("metadata", deep).message.find("nested deeper than 32 levels") != std::string::npos);
}

TEST_CASE("invalid UTF-8, NUL and control characters are rejected") {
  CHECK(with("message", "bad \xff byte").message == "message: not valid UTF-8");
  CHECK(with("message", "overlong \xc0\xaf").field == "message");
  CHECK(with("message", "surrogate \xed\xa0\x80").field == "message");
  CHECK(with("message", "truncated \xe2\x82").field == "message");
  CHECK(with("message", "beyond \xf4\x90\x80\x80").field == "message");
  CHECK(with_user("name", "al\xfe").message == "user.name: not valid UTF-8");
  CHECK(with("message", std::string("nul\0byte", 8)).message ==
        "message: contains a NUL character");
  CHECK(with_user("name", "two\nlines").message == "user.name: contains a control character");
  CHECK(with("event_id", "has space").message == "event_id: contains a space");
  CHECK(with("event_id", "").message == "event_id: must not be empty");
  CHECK(with("metadata", {{"k", "bad \xff"}}).message == "metadata.k: not valid UTF-8");
  CHECK(with("metadata", {{"k", {1, std::string("\0", 1)}}}).message ==
        "metadata.k[1]: contains a NUL character");
  // Multi-line chat is fine.
  CHECK(with("message", "line one\nline two\ttab").field == "<parsed>");
  // An unknown field whose name is not UTF-8 is still reported readably.
  Failure f = with("bad\xff", 1);
  CHECK(f.message == "bad?: unknown field");
}

TEST_CASE("entity_id must have the shape and agree with platform, server_id and channel_id") {
  CHECK(with("entity_id", "discord:111").message ==
        "entity_id: expected '<platform>:<server>:<channel>', got 'discord:111'");
  CHECK(with("entity_id", "discord:1:2:3").field == "entity_id");
  CHECK(with("entity_id", "discord::222").field == "entity_id");
  CHECK(with("entity_id", "discord:111:").field == "entity_id");
  CHECK(with("entity_id", "twitch:111:222").message ==
        "entity_id: starts with 'twitch' but platform is 'discord'");

  json j = minimal();
  j["server_id"] = "999";
  Failure f = fail(j);
  CHECK(f.field == "entity_id");
  CHECK(f.message ==
        "entity_id: expected 'discord:999:222' from platform, server_id and channel_id, got "
        "'discord:111:222'");

  j = minimal();
  j["channel_id"] = "333";
  CHECK(fail(j).field == "entity_id");

  j = minimal();
  j["server_id"] = "111";
  j["channel_id"] = "222";
  CHECK(fail(j).field == "<parsed>");
}

TEST_CASE("timestamps must be RFC 3339") {
  for (const char* good : {"2026-01-01T12:00:00Z", "2026-01-01t12:00:00z", "2024-02-29T23:59:60Z",
                           "2026-01-01T12:00:00.123456Z", "2026-01-01T12:00:00+02:00",
                           "2026-01-01T12:00:00.5-05:30"}) {
    INFO(good);
    CHECK(waddle::model::is_rfc3339(good));
    CHECK(with("timestamp", good).field == "<parsed>");
  }
  for (const char* bad :
       {"2026-01-01", "2026-01-01 12:00:00Z", "2026-01-01T12:00:00", "2026-13-01T12:00:00Z",
        "2025-02-29T12:00:00Z", "2026-01-01T24:00:00Z", "2026-01-01T12:00:00.Z",
        "2026-01-01T12:00:00+0200", "1767268800", "2026-01-01T12:00:00Zjunk"}) {
    INFO(bad);
    CHECK_FALSE(waddle::model::is_rfc3339(bad));
    CHECK(with("timestamp", bad).field == "timestamp");
  }
  CHECK(with("timestamp", 1767268800).message == "timestamp: expected a string, got an integer");
}

TEST_CASE("FieldError is a waddle::Error with code invalid_argument") {
  try {
    parse_event(json::object());
    FAIL("parsed an empty object");
  } catch (const waddle::Error& e) {
    CHECK(e.code() == waddle::Errc::invalid_argument);
    CHECK(std::string(e.what()) == "event_id: is required");
  }
}
