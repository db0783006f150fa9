// The reputation module against the real PostgreSQL: it reads the totals the ledger's trigger
// keeps, and its corrections are ledger rows like the router's.
#include "actions_chat_harness.hpp"

using namespace waddle::test::actions;

namespace {

void credit(ChatHarness& h, std::int64_t community, std::int64_t user, int points) {
  h.exec("insert into reputation_events (community_id, user_id, event_type, points) values (" +
         std::to_string(community) + ", " + std::to_string(user) + ", 'chatMessage', " +
         std::to_string(points) + ")");
}

}  // namespace

TEST_CASE("reputation: !rep, !top and !rep give, with roles, ranks and bad input") {
  ChatHarness h;
  const std::string m = "reputation";
  CHECK(h.chat(m, kAlice, "!top") == "Nobody has reputation here yet.");
  CHECK(h.chat(m, kAlice, "!rep") == "alice has 0 reputation (not ranked yet).");
  CHECK(h.chat(m, kAlice, "!rep @bob") ==
        "I have not seen bob on console yet; they need to chat first.");

  const auto alice = h.add_user(kAlice);
  const auto bob = h.add_user(kBob);
  const auto mod = h.add_user(kMod);
  const auto c = h.community();
  credit(h, c, alice, 120);
  credit(h, c, bob, 80);
  credit(h, c, bob, 40);
  credit(h, c, mod, 15);
  // Points elsewhere do not count here.
  const auto other = h.add_community("other");
  credit(h, other, mod, 1000);

  CHECK(h.chat(m, kAlice, "!rep") == "alice has 120 reputation (rank 1 of 3).");
  CHECK(h.chat(m, kAlice, "!rep @BOB") == "BOB has 120 reputation (rank 1 of 3).");
  CHECK(h.chat(m, kAlice, "!rep modbob") == "modbob has 15 reputation (rank 3 of 3).");
  CHECK(h.chat(m, kAlice, "!top") == "Top 3: 1. alice 120, 1. bob 120, 3. modbob 15");
  CHECK(h.chat(m, kAlice, "!top 1") == "Top 1: 1. alice 120");
  CHECK(h.chat(m, kAlice, "!top 99") == "Top 3: 1. alice 120, 1. bob 120, 3. modbob 15");
  CHECK(h.chat(m, kAlice, "!top 2", other) == "Top 1: 1. modbob 1000");
  CHECK(h.chat(m, kAlice, "!top zero") == "Usage: !top [n] (n from 1 to 10)");
  CHECK(h.chat(m, kAlice, "!top 0") == "Usage: !top [n] (n from 1 to 10)");
  CHECK(h.chat(m, kAlice, "!top -3") == "Usage: !top [n] (n from 1 to 10)");
  CHECK(h.chat(m, kAlice, "!rep a b") == "Usage: !rep [@user] | !rep give @user <points> [reason]");

  // Giving is for moderators; a correction is a ledger row with who made it and why.
  CHECK(h.chat(m, kAlice, "!rep give @bob 10") ==
        "Sorry alice, only moderators and above can give reputation.");
  const std::string give_usage =
      "Usage: !rep give @user <points> [reason] (points from -100000 to 100000, not 0)";
  CHECK(h.chat(m, kMod, "!rep give") == give_usage);
  CHECK(h.chat(m, kMod, "!rep give @bob") == give_usage);
  CHECK(h.chat(m, kMod, "!rep give @bob lots") == give_usage);
  CHECK(h.chat(m, kMod, "!rep give @bob 0") == give_usage);
  CHECK(h.chat(m, kMod, "!rep give @bob 100001") == give_usage);
  CHECK(h.chat(m, kMod, "!rep give @bob 1e3") == give_usage);
  CHECK(contains(h.chat(m, kMod, "!rep give @bob 5 " + std::string(201, 'r')),
                 "too long (201 characters; at most 200)"));
  CHECK(h.chat(m, kMod, "!rep give @ghost 5") ==
        "I have not seen ghost on console yet; they need to chat first.");
  CHECK(h.chat(m, kMod, "!rep give @modbob 500") == "You cannot give reputation to yourself.");

  CHECK(h.chat(m, kMod, "!rep give @bob 30 great raid 🐧 '; --") ==
        "Gave bob 30 reputation (now 150, rank 1).");
  CHECK(h.chat(m, kOwner, "!rep give alice -200 spam") ==
        "Took 200 reputation from alice (now -80, rank 3).");
  CHECK(h.query("select event_type, points, reason from reputation_events where event_type = "
                "'manual' order by id") ==
        json::array({json::array({"manual", "30", "by modbob: great raid 🐧 '; --"}),
                     json::array({"manual", "-200", "by carol: spam"})}));
  CHECK(h.chat(m, kAlice, "!top") == "Top 3: 1. bob 150, 2. modbob 15, 3. alice -80");
  CHECK(h.chat(m, kAlice, "!rep") == "alice has -80 reputation (rank 3 of 3).");
}
