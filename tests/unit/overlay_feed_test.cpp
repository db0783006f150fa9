// The router's overlay messages: what is accepted, and that every bad message names its field.
#include <catch2/catch.hpp>

#include "model/field_reader.hpp"
#include "overlay/feed.hpp"

using namespace waddle;
using overlay::parse_published;

namespace {

std::string field_of(const std::string& text) {
  try {
    parse_published(text);
  } catch (const model::FieldError& e) {
    return e.field();
  } catch (const Error& e) {
    return std::string("error:") + std::string(errc_name(e.code()));
  }
  return "accepted";
}

}  // namespace

TEST_CASE("a router message becomes a community id and an overlay action") {
  auto p =
      parse_published(R"({"community_id":7,"community":"demo","entity_id":"twitch:channel:demo",)"
                      R"("action":{"type":"ticker","text":"hello","priority":"high","duration":5},)"
                      R"("published_at":"2026-01-01T12:00:00Z"})");
  CHECK(p.community_id == 7);
  const auto& ticker = std::get<model::TickerAction>(p.action);
  CHECK(ticker.text == "hello");
  CHECK(ticker.priority == "high");
  CHECK(ticker.duration == 5);
}

TEST_CASE("bad router messages are refused, naming what is wrong") {
  CHECK(field_of("") == "error:invalid_argument");
  CHECK(field_of("{") == "error:invalid_argument");
  CHECK(field_of("[]") == "");
  CHECK(field_of(R"({"action":{"type":"ticker","text":"x"}})") == "community_id");
  CHECK(field_of(R"({"community_id":0,"action":{"type":"ticker","text":"x"}})") == "community_id");
  CHECK(field_of(R"({"community_id":"7","action":{"type":"ticker","text":"x"}})") ==
        "community_id");
  CHECK(field_of(R"({"community_id":7})") == "action");
  CHECK(field_of(R"({"community_id":7,"action":{"type":"chat","text":"x"}})") == "action.type");
  CHECK(field_of(R"({"community_id":7,"action":{"type":"nope"}})") == "action.type");
  CHECK(field_of(R"({"community_id":7,"action":{"type":"ticker"}})") == "action.text");
  CHECK(
      field_of(R"({"community_id":7,"action":{"type":"ticker","text":"x","priority":"urgent"}})") ==
      "action.priority");
  std::string huge = R"({"community_id":7,"action":{"type":"ticker","text":")" +
                     std::string(overlay::kMaxPublishedBytes, 'x') + "\"}}";
  CHECK(field_of(huge) == "error:payload_too_large");
}

TEST_CASE("only waddlebot:overlay:<positive id> channels name a community") {
  CHECK(overlay::community_of_channel("waddlebot:overlay:42") == 42);
  CHECK_FALSE(overlay::community_of_channel("waddlebot:overlay:").has_value());
  CHECK_FALSE(overlay::community_of_channel("waddlebot:overlay:0").has_value());
  CHECK_FALSE(overlay::community_of_channel("waddlebot:overlay:-1").has_value());
  CHECK_FALSE(overlay::community_of_channel("waddlebot:overlay:4x").has_value());
  CHECK_FALSE(overlay::community_of_channel("waddlebot:overlay:99999999999999999999").has_value());
  CHECK_FALSE(overlay::community_of_channel("waddlebot:router:42").has_value());
  CHECK(overlay::parse_community_id("12") == 12);
  CHECK_FALSE(overlay::parse_community_id(" 12").has_value());
}
