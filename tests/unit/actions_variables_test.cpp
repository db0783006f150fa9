// Custom command variables: every documented one, the seeds' brace spellings, and what stays
// literal.
#include <catch2/catch.hpp>

#include <string>

#include "actions/variables.hpp"

using waddle::actions::expand_variables;
using waddle::actions::random_between;
using waddle::actions::VariableValues;

namespace {

VariableValues values(std::vector<std::string> args = {"@bob", "loud"}) {
  std::string raw;
  for (const auto& a : args) raw += (raw.empty() ? "" : " ") + a;
  return VariableValues{.user = "Alice",
                        .args = std::move(args),
                        .raw_args = raw,
                        .channel = "waddlebot",
                        .count = 7,
                        // The lower bound, so that the text is predictable.
                        .random = [](std::int64_t low, std::int64_t) { return low; }};
}

}  // namespace

TEST_CASE("the streamer variables expand") {
  const auto v = values();
  CHECK(expand_variables("Hi $(user)!", v) == "Hi Alice!");
  CHECK(expand_variables("$(touser) gets a hug", v) == "bob gets a hug");
  CHECK(expand_variables("[$(args)]", v) == "[@bob loud]");
  CHECK(expand_variables("$(arg1)/$(arg2)/$(arg3)", v) == "@bob/loud/");
  CHECK(expand_variables("used $(count) times", v) == "used 7 times");
  CHECK(expand_variables("roll: $(random 5-10)", v) == "roll: 5");
  CHECK(expand_variables("roll: $(random 20)", v) == "roll: 1");
  CHECK(expand_variables("roll: $(random -5--1)", v) == "roll: -5");
  CHECK(expand_variables("in #$(channel)", v) == "in #waddlebot");
  CHECK(expand_variables("$(USER)", v) == "Alice");
}

TEST_CASE("the seeds' brace variables expand") {
  const auto v = values();
  CHECK(expand_variables("{user} says {args}", v) == "Alice says @bob loud");
  CHECK(expand_variables("{arg1} and {all_args}", v) == "@bob and @bob loud");
  CHECK(expand_variables("{count} {channel} {touser}", v) == "{count} {channel} {touser}");
}

TEST_CASE("$(touser) falls back to the caller without arguments") {
  CHECK(expand_variables("$(touser)", values({})) == "Alice");
  CHECK(expand_variables("[$(args)][$(arg1)]", values({})) == "[][]");
}

TEST_CASE("unknown and malformed variables stay literal") {
  const auto v = values();
  CHECK(expand_variables("$(nope) $(random) $(random 10-1) $(random a-b)", v) ==
        "$(nope) $(random) $(random 10-1) $(random a-b)");
  CHECK(expand_variables("$(random 1-99999999999)", v) == "$(random 1-99999999999)");
  CHECK(expand_variables("$(user", v) == "$(user");
  CHECK(expand_variables("{unknown} {", v) == "{unknown} {");
  CHECK(expand_variables("$ (user) $$(user)", v) == "$ (user) $Alice");
  CHECK(expand_variables("$(arg0) $(arg100)", v) == "$(arg0) $(arg100)");
}

TEST_CASE("expansion is one pass: values are never expanded again") {
  auto v = values({"$(count)", "{user}"});
  CHECK(expand_variables("$(arg1) {arg2} $(args)", v) == "$(count) {user} $(count) {user}");
}

TEST_CASE("SQL metacharacters and Unicode pass through untouched") {
  auto v = values({"'; drop table x; --", "\xD7\xA9\xD7\x9C\xD7\x95\xD7\x9D\xF0\x9F\x90\xA7"});
  CHECK(expand_variables("$(arg1)|$(arg2)", v) ==
        "'; drop table x; --|\xD7\xA9\xD7\x9C\xD7\x95\xD7\x9D\xF0\x9F\x90\xA7");
}

TEST_CASE("random_between stays within its bounds") {
  for (int i = 0; i < 200; ++i) {
    const auto n = random_between(1, 6);
    CHECK(n >= 1);
    CHECK(n <= 6);
  }
  CHECK(random_between(3, 3) == 3);
}
