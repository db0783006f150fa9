#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "router/alias.hpp"

using namespace waddle::router;
using Args = std::vector<std::string>;

namespace {

CommandLine line(std::string_view message) {
  auto parsed = parse_command_line(message);
  REQUIRE(parsed.has_value());
  return *parsed;
}

Expansion expanded(const AliasTable& table, std::string_view message,
                   std::string_view user = "alice") {
  auto result = expand(table, line(message), user);
  if (auto* error = std::get_if<AliasError>(&result)) FAIL("unexpected error: " << error->message);
  return std::get<Expansion>(result);
}

AliasError refused(const AliasTable& table, std::string_view message) {
  auto result = expand(table, line(message), "alice");
  REQUIRE(std::holds_alternative<AliasError>(result));
  return std::get<AliasError>(result);
}

AliasTable table_of(std::vector<Alias> aliases) {
  AliasTable table;
  table.set(std::move(aliases));
  return table;
}

}  // namespace

TEST_CASE("a name that is no alias passes through unchanged") {
  auto table = table_of({{"hi", "!greet {user}"}});
  auto result = expanded(table, "!so bob");
  CHECK(result.chain.empty());
  CHECK(result.command == line("!so bob"));
}

TEST_CASE("placeholders take the user and the arguments") {
  auto table = table_of({
      {"hi", "!greet {user} to {arg1}"},
      {"all", "#relay {args} | {all_args}"},
      {"inword", "!say [{args}]"},
      {"nb", "!so $(user) $(arg2) $(1) $(query)"},
      {"missing", "!so {arg3} x{arg3}y"},
  });

  auto hi = expanded(table, "!hi bob carol");
  CHECK(hi.chain == Args{"hi"});
  CHECK(hi.command.prefix == '!');
  CHECK(hi.command.name == "greet");
  CHECK(hi.command.args == Args{"alice", "to", "bob"});
  CHECK(hi.command.raw_args == "alice to bob");

  auto all = expanded(table, "!all one two");
  CHECK(all.command.prefix == '#');
  CHECK(all.command.name == "relay");
  CHECK(all.command.args == Args{"one", "two", "|", "one", "two"});
  CHECK(all.command.raw_args == "one two | one two");

  // Inside a longer word the arguments are joined with single spaces.
  CHECK(expanded(table, "!inword one  two").command.args == Args{"[one two]"});

  auto nb = expanded(table, "!nb x y");
  CHECK(nb.command.args == Args{"alice", "y", "x", "x", "y"});

  // A missing argument is empty: alone it is no argument at all, inside a word it is nothing.
  auto missing = expanded(table, "!missing a");
  CHECK(missing.command.args == Args{"xy"});
  CHECK(missing.command.raw_args == "xy");
}

TEST_CASE("a quoted argument stays one argument through the expansion") {
  auto table = table_of({{"shout", "!say {args}"}, {"first", "!say {arg1}"}});
  CHECK(expanded(table, R"(!shout "a b" c)").command.args == Args{"a b", "c"});
  CHECK(expanded(table, R"(!shout "a b" c)").command.raw_args == R"("a b" c)");
  CHECK(expanded(table, R"(!first "a b" c)").command.args == Args{"a b"});
}

TEST_CASE("arguments are substituted, never expanded again") {
  auto table = table_of({{"echo", "!say {arg1} {args}"}, {"relay", "!echo {all_args}"}});
  auto result = expanded(table, "!echo {user} $(arg1) {arg2}", "mallory");
  CHECK(result.command.args == Args{"{user}", "{user}", "$(arg1)", "{arg2}"});
  CHECK(result.command.raw_args == "{user} {user} $(arg1) {arg2}");

  // Through a chain of two aliases the argument is still literal.
  auto chained = expanded(table, "!relay {user}", "mallory");
  CHECK(chained.chain == Args{"relay", "echo"});
  CHECK(chained.command.args == Args{"{user}", "{user}"});
}

TEST_CASE("the old bug: a literal word user is not a placeholder") {
  auto table = table_of({{"u", "!say user {user} username"}});
  CHECK(expanded(table, "!u", "bob").command.args == Args{"user", "bob", "username"});
}

TEST_CASE("unknown placeholders and stray braces stay as typed") {
  auto table = table_of({{"odd", "!say {foo} {1} {arg0} $(x) {arg1"}});
  CHECK(expanded(table, "!odd a").command.args == Args{"{foo}", "{1}", "{arg0}", "$(x)", "{arg1"});
}

TEST_CASE("chains expand up to five aliases") {
  auto table = table_of({
      {"a1", "!a2 {args}"},
      {"a2", "!a3 {args}"},
      {"a3", "!a4 {args}"},
      {"a4", "!a5 {args}"},
      {"a5", "!done {args} {user}"},
  });
  auto result = expanded(table, "!a1 x");
  CHECK(result.chain == Args{"a1", "a2", "a3", "a4", "a5"});
  CHECK(result.command.name == "done");
  CHECK(result.command.args == Args{"x", "alice"});
}

TEST_CASE("a sixth alias in the chain is refused") {
  auto table = table_of({
      {"a1", "!a2"},
      {"a2", "!a3"},
      {"a3", "!a4"},
      {"a4", "!a5"},
      {"a5", "!a6"},
      {"a6", "!done"},
  });
  auto error = refused(table, "!a1");
  CHECK(error.chain == Args{"a1", "a2", "a3", "a4", "a5", "a6"});
  CHECK(
      error.message ==
      "alias chain deeper than 5: a1 \xE2\x86\x92 a2 \xE2\x86\x92 a3 \xE2\x86\x92 a4 \xE2\x86\x92 "
      "a5 \xE2\x86\x92 a6");
  // Entering the chain one step later leaves five: allowed.
  CHECK(expanded(table, "!a2").command.name == "done");
}

TEST_CASE("loops are refused with the chain named") {
  auto table = table_of({{"hi", "!hello {args}"}, {"hello", "!hi {args}"}, {"self", "!SELF"}});
  auto error = refused(table, "!hi x");
  CHECK(error.message == "alias loop: hi \xE2\x86\x92 hello \xE2\x86\x92 hi");
  CHECK(error.chain == Args{"hi", "hello", "hi"});
  CHECK(refused(table, "!self").message == "alias loop: self \xE2\x86\x92 self");
}

TEST_CASE("aliases are case-insensitive, inactive ones ignored") {
  auto table = table_of({{"Hi", "!greet"}, {"off", "!greet", false}});
  CHECK(table.size() == 1);
  CHECK(table.find("HI") != nullptr);
  CHECK(table.find("off") == nullptr);
  CHECK(expanded(table, "!hI").command.name == "greet");
  CHECK(expanded(table, "#HI").command.name == "greet");  // the typed prefix does not matter
  CHECK(expanded(table, "!off").chain.empty());
}

TEST_CASE("an expansion that is not a command line is an error") {
  auto table = table_of({{"bad", "hello there"}, {"empty", "!"}});
  auto error = refused(table, "!bad");
  CHECK(error.message.find("alias 'bad' expands to 'hello there'") != std::string::npos);
  CHECK(error.chain == Args{"bad"});
  CHECK_FALSE(refused(table, "!empty").message.empty());
}

TEST_CASE("set replaces the whole table") {
  AliasTable table;
  table.set({{"a", "!x"}});
  table.set({{"b", "!y"}});
  CHECK(table.find("a") == nullptr);
  CHECK(table.find("b") != nullptr);
}

TEST_CASE("spliced arguments respect the argument limit") {
  auto table = table_of({{"many", "!say {args} {args}"}});
  std::string message = "!many";
  for (int i = 0; i < 50; ++i) message += " x";
  CHECK(expanded(table, message).command.args.size() == kMaxCommandArgs);
}
