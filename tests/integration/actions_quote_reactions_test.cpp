// Quote reactions (!quote react) of the memories module against the real PostgreSQL.
#include "actions_chat_harness.hpp"

using namespace waddle::test::actions;

TEST_CASE("quote reactions toggle per user and show on the quote") {
  ChatHarness h;
  const std::string m = "memories";
  REQUIRE(h.chat(m, kAlice, "!quote add the penguin waddles") == "Added quote #1.");
  const std::string date = h.query("select to_char(now() at time zone 'UTC', 'YYYY-MM-DD')")[0][0];
  const std::string plain = "#1: \"the penguin waddles\" (alice, " + date + ")";
  CHECK(h.chat(m, kBob, "!quote 1") == plain);

  CHECK(h.chat(m, kBob, "!quote react 1 😂") == "Reacted 😂 to quote #1 [😂×1].");
  CHECK(h.chat(m, kAlice, "!quote react #1 😂") == "Reacted 😂 to quote #1 [😂×2].");
  CHECK(h.chat(m, kMod, "!quote react 1 👍") == "Reacted 👍 to quote #1 [😂×2 👍×1].");
  CHECK(h.chat(m, kMod, "!quote react 1 lol") == "Reacted lol to quote #1 [😂×2 👍×1 lol×1].");
  // At most three shown, the most given first.
  CHECK(h.chat(m, kOwner, "!quote react 1 lol") == "Reacted lol to quote #1 [😂×2 lol×2 👍×1].");
  CHECK(h.chat(m, kOwner, "!quote react 1 🐧") == "Reacted 🐧 to quote #1 [😂×2 lol×2 👍×1].");
  CHECK(h.chat(m, kBob, "!quote 1") == plain + " [😂×2 lol×2 👍×1]");
  CHECK(h.chat(m, kBob, "!quote search penguin") == plain + " [😂×2 lol×2 👍×1]");
  // Saying it again takes it back.
  CHECK(h.chat(m, kBob, "!quote react 1 😂") == "Took back your 😂 on quote #1 [lol×2 😂×1 👍×1].");
  CHECK(h.query("select count(*) from memory_reactions") == json::array({json::array({"5"})}));
  // The same emoji by the same user id on another platform is another user.
  ChatUser twitch_bob = kBob;
  twitch_bob.platform = "twitch";
  CHECK(h.chat(m, twitch_bob, "!quote react 1 👍") == "Reacted 👍 to quote #1 [👍×2 lol×2 😂×1].");

  // RTL and SQL metacharacters are stored as typed.
  CHECK(h.chat(m, kBob, "!quote react 1 שלום") == "Reacted שלום to quote #1 [👍×2 lol×2 😂×1].");
  CHECK(h.chat(m, kBob, "!quote react 1 ');--") == "Reacted ');-- to quote #1 [👍×2 lol×2 😂×1].");
  CHECK(h.query("select count(*) from memory_reactions where reaction in ('שלום', ''');--')") ==
        json::array({json::array({"2"})}));

  // Bad input.
  const std::string usage = "Usage: !quote react <n> <emoji or word>";
  CHECK(h.chat(m, kBob, "!quote react") == usage);
  CHECK(h.chat(m, kBob, "!quote react 1") == usage);
  CHECK(h.chat(m, kBob, "!quote react x 😂") == usage);
  CHECK(h.chat(m, kBob, "!quote react 0 😂") == usage);
  CHECK(h.chat(m, kBob, "!quote react 1 two words") == usage);
  CHECK(h.chat(m, kBob, "!quote react 1 " + std::string(17, 'a')) ==
        "A reaction is one emoji or word of at most 16 characters. " + usage);
  CHECK(h.chat(m, kBob, "!quote react 1 " + std::string(10 * 1024, 'a')) ==
        "A reaction is one emoji or word of at most 16 characters. " + usage);
  CHECK(h.chat(m, kBob, "!quote react 99 😂") == "There is no quote #99.");
  CHECK(contains(h.chat(m, kBob, "!quote frob"), "!quote react <n> <emoji or word>"));
  CHECK(h.query("select count(*) from memory_reactions") == json::array({json::array({"8"})}));

  // Another community's quote #1 is not this one; a removed quote takes its reactions along.
  const auto other = h.add_community("other");
  CHECK(h.chat(m, kBob, "!quote react 1 😂", other) == "There is no quote #1.");
  CHECK(h.chat(m, kMod, "!quote remove 1") == "Removed quote #1.");
  CHECK(h.query("select count(*) from memory_reactions") == json::array({json::array({"0"})}));
}
