// The labels module against the real PostgreSQL: the limits come from the database's triggers.
#include "actions_chat_harness.hpp"

using namespace waddle::test::actions;

TEST_CASE("labels: add, show, who, remove, delete, with roles, limits and bad input") {
  ChatHarness h;
  const std::string m = "labels";
  h.add_user(kBob);

  // Members may look but not manage.
  CHECK(h.chat(m, kAlice, "!labels") == "alice has no labels here.");
  CHECK(h.chat(m, kAlice, "!label list") ==
        "No labels yet. Moderators add them with !label add @user <label>.");
  CHECK(h.chat(m, kAlice, "!label add @bob vip") ==
        "Sorry alice, only moderators and above can manage labels.");
  CHECK(h.query("select 1 from labels").empty());
  // Looking does not store the caller.
  CHECK(h.query("select 1 from platform_identities where platform_user_id = '1'").empty());

  // Bad input answers with usage lines.
  CHECK(contains(h.chat(m, kMod, "!label"), "Usage: !labels [@user]"));
  CHECK(contains(h.chat(m, kMod, "!label frobnicate"), "Usage: !labels [@user]"));
  CHECK(h.chat(m, kMod, "!label add") == "Usage: !label add @user <label>");
  CHECK(h.chat(m, kMod, "!label add @bob") == "Usage: !label add @user <label>");
  CHECK(h.chat(m, kMod, "!label add @ vip") == "Usage: !label add @user <label>");
  CHECK(contains(h.chat(m, kMod, "!label add @bob " + std::string(64, 'x')), "1 to 63"));
  CHECK(h.chat(m, kMod, "!label remove @bob") == "Usage: !label remove @user <label>");
  CHECK(h.chat(m, kMod, "!label who") == "Usage: !label who <label>");
  CHECK(h.chat(m, kMod, "!label delete") == "Usage: !label delete <label>");
  CHECK(h.chat(m, kAlice, "!labels a b") == "Usage: !labels [@user]");

  // Someone the router never stored cannot be labelled (there is no user to attach it to).
  CHECK(h.chat(m, kMod, "!label add @ghost vip") ==
        "I have not seen ghost on console yet; they need to chat first.");
  CHECK(h.chat(m, kAlice, "!labels @ghost") ==
        "I have not seen ghost on console yet; they need to chat first.");

  CHECK(h.chat(m, kMod, "!label add @Bob VIP") == "Created the label VIP and gave it to Bob.");
  CHECK(h.chat(m, kMod, "!label add @bob vip") == "bob already has the label VIP.");
  CHECK(h.chat(m, kMod, "!label add bob Robert'); DROP TABLE labels;-- 🐧") ==
        "Created the label Robert'); DROP TABLE labels;-- 🐧 and gave it to bob.");
  // A moderator labelling themself is stored as a user on the way (id and name from the request).
  CHECK(h.chat(m, kMod, "!label add @modbob vip") == "Gave modbob the label VIP.");
  CHECK(h.query("select u.display_name from platform_identities p join users u on u.id = "
                "p.user_id where p.platform = 'console' and p.platform_user_id = '2'") ==
        json::array({json::array({"modbob"})}));

  CHECK(h.chat(m, kAlice, "!labels @bob") == "bob's labels: Robert'); DROP TABLE labels;-- 🐧, VIP");
  CHECK(h.chat(m, kAlice, "!label who vip") == "VIP (2): bob, modbob");
  CHECK(h.chat(m, kAlice, "!label who \"vip\"") == "VIP (2): bob, modbob");
  CHECK(h.chat(m, kAlice, "!label who nothing") == "There is no label nothing here.");
  CHECK(h.chat(m, kAlice, "!label list") ==
        "Labels: Robert'); DROP TABLE labels;-- 🐧 (1), VIP (2)");

  // Another community sees none of it.
  const auto other = h.add_community("other");
  CHECK(h.chat(m, kAlice, "!labels @bob", other) == "bob has no labels here.");
  CHECK(h.chat(m, kAlice, "!label who vip", other) == "There is no label vip here.");

  // Five labels per community: the sixth is refused by the database, and said so.
  for (const std::string name : {"artist", "helper", "שלום"}) {
    CHECK(contains(h.chat(m, kMod, "!label add @bob " + name), "Created the label " + name));
  }
  CHECK(h.chat(m, kMod, "!label add @bob sixth") ==
        "This community already has 5 labels, the limit. Delete one first with !label delete "
        "<label>.");
  CHECK(h.query("select count(*) from labels where community_id = " +
                std::to_string(h.community()))[0][0] == "5");

  // Removing one assignment, and deleting a label with every assignment of it.
  CHECK(h.chat(m, kMod, "!label remove @bob artist") == "Took the label artist from bob.");
  CHECK(h.chat(m, kMod, "!label remove @bob artist") == "bob does not have the label artist.");
  CHECK(h.chat(m, kMod, "!label remove @bob nolabel") == "There is no label nolabel here.");
  CHECK(h.chat(m, kMod, "!label remove @ghost vip") ==
        "I have not seen ghost on console yet; they need to chat first.");
  CHECK(h.chat(m, kMod, "!label delete vip") == "Deleted the label VIP (2 users had it).");
  CHECK(h.chat(m, kMod, "!label delete vip") == "There is no label vip here.");
  CHECK(h.query("select count(*) from label_assignments")[0][0] == "3");
  CHECK(h.chat(m, kOwner, "!label add @bob crew") == "Created the label crew and gave it to bob.");
  CHECK(h.chat(m, kAlice, "!labels bob") ==
        "bob's labels: crew, helper, Robert'); DROP TABLE labels;-- 🐧, שלום");
}

TEST_CASE("labels: a platform the database cannot store users for is answered, not crashed") {
  ChatHarness h;
  ChatUser stranger = kMod;
  stranger.platform = "irc";
  CHECK(h.chat("labels", stranger, "!label add @bob vip") ==
        "I cannot keep track of users on this platform.");
  CHECK(h.chat("labels", stranger, "!labels @bob") ==
        "I cannot keep track of users on this platform.");
  CHECK(h.chat("labels", stranger, "!labels") == "modbob has no labels here.");
}
