// The admin socket's wire format: request parsing, reply encoding and parsing.

#include <catch2/catch.hpp>
#include <string>

#include "ctl/protocol.hpp"

using nlohmann::json;
using waddle::Errc;
namespace ctl = waddle::ctl;

namespace {

std::string request_error(std::string_view line) {
  auto parsed = ctl::parse_request(line);
  REQUIRE_FALSE(parsed);
  return parsed.error;
}

}  // namespace

TEST_CASE("a request with and without arguments parses") {
  auto plain = ctl::parse_request(R"({"command": "status"})");
  REQUIRE(plain);
  CHECK(plain.value->command == "status");
  CHECK(plain.value->arguments == json::object());

  auto with = ctl::parse_request(R"({"command": "help", "arguments": {"command": "status"}})");
  REQUIRE(with);
  CHECK(with.value->command == "help");
  CHECK(with.value->arguments == json{{"command", "status"}});
}

TEST_CASE("a malformed request names what was wrong") {
  CHECK_THAT(request_error("{not json"), Catch::Contains("not valid JSON"));
  CHECK_THAT(request_error("{not json"), !Catch::Contains("json.exception"));
  CHECK_THAT(request_error("[1, 2]"), Catch::Contains("must be a JSON object, got array"));
  CHECK_THAT(request_error(R"({"arguments": {}})"), Catch::Contains("no \"command\""));
  CHECK_THAT(request_error(R"({"command": 7})"), Catch::Contains("\"command\" must be a string"));
  CHECK_THAT(request_error(R"({"command": ""})"), Catch::Contains("must not be empty"));
  CHECK_THAT(request_error(R"({"command": "x", "arguments": [1]})"),
             Catch::Contains("\"arguments\" must be a JSON object, got array"));
  CHECK_THAT(request_error(R"({"command": "x", "arguments": null})"),
             Catch::Contains("\"arguments\" must be a JSON object, got null"));
  CHECK_THAT(request_error(R"({"command": "x", "argument": {}})"),
             Catch::Contains("unknown request member \"argument\""));
  CHECK_THAT(request_error(""), Catch::Contains("empty"));
  CHECK_THAT(request_error("\xff\xfe"), Catch::Contains("not valid JSON"));
}

TEST_CASE("deep nesting is refused before parsing") {
  std::string deep = R"({"command": "x", "arguments": {"a": )" + std::string(100000, '[') +
                     std::string(100000, ']') + "}}";
  CHECK_THAT(request_error(deep), Catch::Contains("deeper than 64"));

  // Brackets inside strings do not count.
  std::string quoted = R"({"command": "x", "arguments": {"a": ")" + std::string(1000, '[') + "\"}}";
  CHECK(ctl::parse_request(quoted));
}

TEST_CASE("replies encode and parse back") {
  auto line = ctl::encode_reply(ctl::Reply::ok("fine", {{"n", 3}}));
  CHECK(json::parse(line) == json{{"result", 0}, {"text", "fine"}, {"arguments", {{"n", 3}}}});

  auto back = ctl::parse_reply(line);
  REQUIRE(back);
  CHECK(back.value->result == 0);
  CHECK(back.value->text == "fine");
  CHECK(back.value->arguments == json{{"n", 3}});

  // No arguments: the member is left out.
  CHECK(json::parse(ctl::encode_reply(ctl::Reply::ok("x"))).contains("arguments") == false);
  // Invalid UTF-8 from a handler never makes encoding throw.
  CHECK_NOTHROW(ctl::encode_reply(ctl::Reply::ok("bad \xff byte")));
}

TEST_CASE("reply constructors map error codes through ctl_result") {
  CHECK(ctl::Reply::error(Errc::conflict, "x").result == 4);
  CHECK(ctl::Reply::error(Errc::not_found, "x").result == 3);
  CHECK(ctl::Reply::error(Errc::unsupported, "x").result == 2);
  CHECK(ctl::Reply::error(Errc::invalid_argument, "x").result == 1);
  CHECK(ctl::Reply::error(Errc::ok, "x").result == 1);
  CHECK(ctl::Reply::empty("none").result == 3);
  CHECK(ctl::result_for(Errc::conflict) == ctl::Result::conflict);
  CHECK(ctl::result_name(2) == "unsupported");
  CHECK(ctl::result_name(99) == "unknown");
}

TEST_CASE("malformed replies are refused with a reason") {
  CHECK_THAT(ctl::parse_reply("garbage").error, Catch::Contains("not valid JSON"));
  CHECK_THAT(ctl::parse_reply("[]").error, Catch::Contains("must be a JSON object"));
  CHECK_THAT(ctl::parse_reply(R"({"text": "x"})").error, Catch::Contains("\"result\""));
  CHECK_THAT(ctl::parse_reply(R"({"result": "0"})").error, Catch::Contains("\"result\""));
  CHECK_THAT(ctl::parse_reply(R"({"result": 0, "text": 5})").error, Catch::Contains("\"text\""));
  CHECK_THAT(ctl::parse_reply(R"({"result": 0, "arguments": [1]})").error,
             Catch::Contains("\"arguments\""));
}

TEST_CASE("requests encode with arguments only when given") {
  CHECK(json::parse(ctl::encode_request("status")) == json{{"command", "status"}});
  CHECK(json::parse(ctl::encode_request("help", {{"command", "x"}})) ==
        json{{"command", "help"}, {"arguments", {{"command", "x"}}}});
  try {
    ctl::encode_request("x", json::array());
    FAIL("an array was accepted as arguments");
  } catch (const waddle::Error& e) {
    CHECK(e.code() == Errc::invalid_argument);
    CHECK_THAT(e.what(), Catch::Contains("'x'"));
  }
}

TEST_CASE("sizes are shown in the largest exact unit") {
  CHECK(ctl::format_size(1024 * 1024) == "1 MiB");
  CHECK(ctl::format_size(64 * 1024) == "64 KiB");
  CHECK(ctl::format_size(1024 * 1024 + 1) == "1048577 bytes");
}
