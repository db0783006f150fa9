// How !alias reads an alias name and the command its expansion runs.
#include <catch2/catch.hpp>

#include "actions/modules/aliases/aliases.hpp"

using namespace waddle::actions;

TEST_CASE("alias_name_arg drops a leading ! and lower-cases, refusing what the table refuses") {
  CHECK(alias_name_arg("so") == "so");
  CHECK(alias_name_arg("!So") == "so");
  CHECK(alias_name_arg("hi-there_2") == "hi-there_2");
  CHECK(alias_name_arg("").empty());
  CHECK(alias_name_arg("!").empty());
  CHECK(alias_name_arg("!!so").empty());
  CHECK(alias_name_arg("-so").empty());
  CHECK(alias_name_arg("so;drop").empty());
  CHECK(alias_name_arg("🐧").empty());
  CHECK(alias_name_arg(std::string(64, 'a')) == std::string(64, 'a'));
  CHECK(alias_name_arg(std::string(65, 'a')).empty());
}

TEST_CASE("parse_expansion finds the command an expansion runs") {
  auto t = parse_expansion("!shoutout {arg1}");
  CHECK(t.error.empty());
  CHECK(t.prefix == '!');
  CHECK(t.command == "shoutout");
  t = parse_expansion("  #Weather london ");
  CHECK(t.prefix == '#');
  CHECK(t.command == "weather");
  CHECK(parse_expansion("!so").command == "so");
  CHECK_FALSE(parse_expansion("").error.empty());
  CHECK_FALSE(parse_expansion("!").error.empty());
  CHECK_FALSE(parse_expansion("! so").error.empty());
  CHECK_FALSE(parse_expansion("shoutout").error.empty());
  CHECK_FALSE(parse_expansion("/so").error.empty());
  CHECK_FALSE(parse_expansion("!so$(x)").error.empty());
  CHECK(parse_expansion("!so$(x)").command.empty());
}
