#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "router/command_line.hpp"

using waddle::router::CommandLine;
using waddle::router::kMaxCommandArgs;
using waddle::router::parse_command_line;
using waddle::router::trim_whitespace;
using waddle::router::whitespace_length;
using Args = std::vector<std::string>;

namespace {

CommandLine parsed(std::string_view message, std::string_view prefixes = "!#") {
  auto line = parse_command_line(message, prefixes);
  INFO("message: " << message);
  REQUIRE(line.has_value());
  return *line;
}

}  // namespace

TEST_CASE("a command splits into prefix, lower-cased name and arguments") {
  auto line = parsed("!SO Bob  extra\targ ");
  CHECK(line.prefix == '!');
  CHECK(line.name == "so");
  CHECK(line.args == Args{"Bob", "extra", "arg"});
  CHECK(line.raw_args == "Bob  extra\targ");

  auto community = parsed("#weather  ");
  CHECK(community.prefix == '#');
  CHECK(community.name == "weather");
  CHECK(community.args.empty());
  CHECK(community.raw_args.empty());
}

TEST_CASE("plain chat is not a command") {
  for (std::string_view message :
       {"", "!", "#", "! hi", "!!!", "#!", "!\"quoted\"", "hello !so bob", " !so bob", "!\t", "!?",
        "!-x", "!\xE3\x80\x80so"}) {
    INFO("message: " << message);
    CHECK_FALSE(parse_command_line(message).has_value());
  }
}

TEST_CASE("double quotes group words, escapes and unclosed quotes") {
  CHECK(parsed(R"(!say "hello world" bye)").args == Args{"hello world", "bye"});
  CHECK(parsed(R"(!say "" x)").args == Args{"", "x"});
  CHECK(parsed(R"(!say a"b c"d)").args == Args{"ab cd"});
  CHECK(parsed(R"(!say "she said \"hi\"" ok)").args == Args{R"(she said "hi")", "ok"});
  CHECK(parsed(R"(!say "back\\slash")").args == Args{R"(back\slash)"});
  // Outside quotes a backslash is an ordinary character (\o/ is a cheer, not an escape).
  CHECK(parsed(R"(!say \o/ \"x)").args == Args{R"(\o/)", R"(\x)"});
  CHECK(parsed(R"(!say "\n stays")").args == Args{R"(\n stays)"});
  CHECK(parsed(R"(!say "unclosed takes   the rest)").args == Args{"unclosed takes   the rest"});
  CHECK(parsed(R"(!say "ends in backslash\)").args == Args{R"(ends in backslash\)"});
  CHECK(parsed(R"(!say "a b" c)").raw_args == R"("a b" c)");
}

TEST_CASE("typographic quotes from phone keyboards group words too") {
  CHECK(parsed("!say \xE2\x80\x9Chello world\xE2\x80\x9D bye").args == Args{"hello world", "bye"});
  CHECK(parsed("!say \"mixed close\xE2\x80\x9D x").args == Args{"mixed close", "x"});
}

TEST_CASE("unicode names, arguments and whitespace") {
  auto line = parsed("!caf\xC3\xA9 \xE3\x81\x93\xE3\x82\x93\xE3\x80\x80\xF0\x9F\x90\xA7");
  CHECK(line.name == "caf\xC3\xA9");
  // U+3000 IDEOGRAPHIC SPACE separates; the 3- and 4-byte characters stay whole.
  CHECK(line.args == Args{"\xE3\x81\x93\xE3\x82\x93", "\xF0\x9F\x90\xA7"});

  auto nbsp = parsed(
      "!so\xC2\xA0"
      "bob\xE2\x80\x83"
      "carol");
  CHECK(nbsp.name == "so");
  CHECK(nbsp.args == Args{"bob", "carol"});

  // Only ASCII is lower-cased; other letters are kept as typed.
  CHECK(parsed("!\xC3\x89T\xC3\x89").name == "\xC3\x89t\xC3\x89");
}

TEST_CASE("invalid UTF-8 is carried through byte for byte") {
  auto line = parsed("!x \xFF\xC3 \xE3\x80");
  CHECK(line.args == Args{"\xFF\xC3", "\xE3\x80"});
}

TEST_CASE("other and per-community prefixes") {
  CHECK_FALSE(parse_command_line("?help").has_value());
  auto line = parsed("?Help me", "?");
  CHECK(line.prefix == '?');
  CHECK(line.name == "help");
  CHECK(line.args == Args{"me"});
  CHECK_FALSE(parse_command_line("!help", "?").has_value());
  CHECK(parsed("~dice 2", "!~").prefix == '~');
  CHECK_FALSE(parse_command_line("!help", "").has_value());
}

TEST_CASE("names and argument counts are bounded") {
  std::string name(64, 'a');
  CHECK(parsed("!" + name).name == name);
  CHECK_FALSE(parse_command_line("!" + name + "a").has_value());

  std::string message = "!many";
  for (int i = 0; i < 100; ++i) message += " a" + std::to_string(i);
  auto line = parsed(message);
  REQUIRE(line.args.size() == kMaxCommandArgs);
  CHECK(line.args.back() == "a63");
  CHECK(line.raw_args.ends_with("a99"));
}

TEST_CASE("whitespace helpers know ASCII and Unicode spaces") {
  CHECK(whitespace_length(" ", 0) == 1);
  CHECK(whitespace_length("\xC2\xA0", 0) == 2);
  CHECK(whitespace_length("\xE3\x80\x80", 0) == 3);
  CHECK(whitespace_length("\xE2\x80\x8B", 0) == 0);  // zero-width space is not a separator
  CHECK(whitespace_length("\xE3\x80", 0) == 0);      // truncated
  CHECK(whitespace_length("a", 0) == 0);
  CHECK(whitespace_length("a", 5) == 0);
  CHECK(trim_whitespace(" \xE3\x80\x80 hi there\xC2\xA0\n") == "hi there");
  CHECK(trim_whitespace("\xE3\x80\x80").empty());
  CHECK(trim_whitespace("") == "");
}
