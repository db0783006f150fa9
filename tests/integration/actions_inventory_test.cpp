// The inventory module against the real PostgreSQL: items, checkouts and the activity log.
#include "actions_chat_harness.hpp"

using namespace waddle::test::actions;

TEST_CASE("inventory: add, remove, list, search with roles, limits and bad input") {
  ChatHarness h;
  const std::string m = "inventory";
  CHECK(h.chat(m, kAlice, "!inv list") ==
        "The inventory is empty. Moderators add items with !inv add <item> [qty].");
  CHECK(contains(h.chat(m, kAlice, "!inv"), "Usage: !inv list"));
  CHECK(contains(h.chat(m, kAlice, "!inv juggle"), "Usage: !inv list"));
  CHECK(h.chat(m, kAlice, "!inv add mic") ==
        "Sorry alice, only moderators and above can change the inventory.");
  CHECK(h.chat(m, kAlice, "!inv remove mic") ==
        "Sorry alice, only moderators and above can change the inventory.");
  CHECK(h.chat(m, kMod, "!inv add") == "Usage: !inv add <item> [qty]");
  CHECK(contains(h.chat(m, kMod, "!inv add mic 0"), "The quantity must be a whole number"));
  CHECK(contains(h.chat(m, kMod, "!inv add mic 99999999"), "The quantity must be a whole number"));
  CHECK(contains(h.chat(m, kMod, "!inv add " + std::string(65, 'x')), "An item name is 1 to 64"));
  CHECK(contains(h.chat(m, kMod, "!inv add @mic"), "An item name is 1 to 64"));
  CHECK(h.query("select 1 from inventory_items").empty());

  CHECK(h.chat(m, kMod, "!inv add HDMI cable 3") == "Added 3 × HDMI cable (now 3).");
  CHECK(h.chat(m, kMod, "!inv add hdmi CABLE 2") == "Added 2 × HDMI cable (now 5).");
  CHECK(h.chat(m, kMod, "!inv add Mic") == "Added 1 × Mic (now 1).");
  CHECK(h.chat(m, kMod, "!inv add \"Team 2\"") == "Added 1 × Team 2 (now 1).");
  CHECK(h.chat(m, kMod, "!inv add Robert'); DROP TABLE inventory_items;-- 🐧 2") ==
        "Added 2 × Robert'); DROP TABLE inventory_items;-- 🐧 (now 2).");
  CHECK(h.chat(m, kMod, "!inv add mic 1000000") == "That would make more than 1000000 of mic.");
  CHECK(h.chat(m, kAlice, "!inv list") ==
        "Inventory (in/total): HDMI cable 5/5, Mic 1/1, Robert'); DROP TABLE inventory_items;-- "
        "🐧 2/2, Team 2 1/1");

  CHECK(h.chat(m, kAlice, "!inv search cable") == "HDMI cable 5/5");
  CHECK(h.chat(m, kAlice, "!inv search e") ==
        "HDMI cable 5/5; Robert'); DROP TABLE inventory_items;-- 🐧 2/2; Team 2 1/1");
  CHECK(h.chat(m, kAlice, "!inv search 100%") == "No item matches that.");
  CHECK(h.chat(m, kAlice, "!inv search") == "Usage: !inv search <words>");

  CHECK(h.chat(m, kMod, "!inv remove hdmi cable 2") == "Removed 2 × HDMI cable (3 left).");
  CHECK(h.chat(m, kMod, "!inv remove team 2") == "There is no team in the inventory.");
  CHECK(h.chat(m, kMod, "!inv remove \"team 2\"") == "Removed Team 2 (all of it).");
  CHECK(h.chat(m, kMod, "!inv remove \"team 2\"") == "There is no team 2 in the inventory.");
  CHECK(h.chat(m, kMod, "!inv remove") == "Usage: !inv remove <item> [qty]");

  // Other communities have their own inventory.
  const auto other = h.add_community("other");
  CHECK(contains(h.chat(m, kAlice, "!inv list", other), "The inventory is empty"));
}

TEST_CASE("inventory: checkout and return, for yourself and for others, with the log") {
  ChatHarness h;
  const std::string m = "inventory";
  h.add_user(kBob);
  CHECK(h.chat(m, kMod, "!inv add HDMI cable 2") == "Added 2 × HDMI cable (now 2).");

  CHECK(h.chat(m, kAlice, "!inv checkout") == "Usage: !inv checkout <item> [@user]");
  CHECK(h.chat(m, kAlice, "!inv checkout lamp") == "There is no lamp in the inventory.");
  CHECK(h.chat(m, kAlice, "!inv checkout hdmi cable @bob") ==
        "Sorry alice, only moderators and above can check items out to others.");
  // The caller is stored as a user on the way, from the request's platform, id and name.
  CHECK(h.chat(m, kAlice, "!inv checkout hdmi cable") ==
        "alice checked out HDMI cable (1 of 2 left).");
  CHECK(h.query("select count(*) from platform_identities where platform_user_id = '1'")[0][0] ==
        "1");
  CHECK(h.chat(m, kAlice, "!inv checkout hdmi cable") ==
        "alice already has HDMI cable checked out; return it first.");
  CHECK(h.chat(m, kMod, "!inv checkout hdmi cable @ghost") ==
        "I have not seen ghost on console yet; they need to chat first.");
  CHECK(h.chat(m, kMod, "!inv checkout hdmi cable @bob") ==
        "bob checked out HDMI cable (0 of 2 left).");
  CHECK(h.chat(m, kMod, "!inv checkout hdmi cable") == "All 2 × HDMI cable are checked out.");
  CHECK(h.chat(m, kAlice, "!inv search hdmi") == "HDMI cable 0/2 (out: alice, bob)");

  // Checked-out units cannot be removed.
  CHECK(h.chat(m, kMod, "!inv remove hdmi cable") ==
        "Only 0 of 2 × HDMI cable are in; 2 must be returned before 2 can be removed.");

  CHECK(h.chat(m, kAlice, "!inv return hdmi cable @bob") ==
        "Sorry alice, only moderators and above can return items for others.");
  CHECK(h.chat(m, kBob, "!inv return hdmi cable") == "bob returned HDMI cable (1 of 2 in).");
  CHECK(h.chat(m, kBob, "!inv return hdmi cable") == "bob does not have HDMI cable checked out.");
  CHECK(h.chat(m, kMod, "!inv return hdmi cable @alice") ==
        "alice returned HDMI cable (2 of 2 in).");
  CHECK(h.chat(m, kOwner, "!inv return hdmi cable") ==
        "carol does not have HDMI cable checked out.");
  CHECK(h.chat(m, kAlice, "!inv return lamp") == "There is no lamp in the inventory.");
  CHECK(h.chat(m, kAlice, "!inv return") == "Usage: !inv return <item> [@user]");

  // Module config can keep checkouts for moderators.
  h.set_config({{"checkout_role", "moderator"}});
  CHECK(h.chat(m, kAlice, "!inv checkout hdmi cable") ==
        "Sorry alice, only moderators and above can check items out.");
  h.set_config(json::object());

  CHECK(h.chat(m, kMod, "!inv remove hdmi cable 1") == "Removed 1 × HDMI cable (1 left).");
  const std::string item_log = h.chat(m, kAlice, "!inv log HDMI CABLE");
  const std::string stamp = h.query(
      "select to_char(max(created_at) at time zone 'UTC', 'MM-DD HH24:MI') from "
      "inventory_activity")[0][0];
  CHECK(item_log.substr(0, stamp.size() + 1) == stamp + " ");
  CHECK(contains(item_log, "modbob removed 1 × HDMI cable; "));
  auto log = h.chat(m, kAlice, "!inv log");
  CHECK(contains(log, "modbob removed 1 × HDMI cable; "));
  CHECK(contains(log, "alice returned HDMI cable (by modbob); "));
  CHECK(contains(log, "bob returned HDMI cable; "));
  CHECK(contains(log, "bob checked out HDMI cable (by modbob); "));
  CHECK(contains(log, "alice checked out HDMI cable"));
  CHECK_FALSE(contains(log, "added"));  // only the last 5
  CHECK(h.chat(m, kAlice, "!inv log lamp") == "Nothing logged for lamp.");
  CHECK(h.query("select action, quantity, quantity_after, holder_name, actor_name, platform from "
                "inventory_activity order by id") ==
        json::array({json::array({"add", "2", "2", "", "modbob", "console"}),
                     json::array({"checkout", "1", "2", "alice", "alice", "console"}),
                     json::array({"checkout", "1", "2", "bob", "modbob", "console"}),
                     json::array({"return", "1", "2", "bob", "bob", "console"}),
                     json::array({"return", "1", "2", "alice", "modbob", "console"}),
                     json::array({"remove", "1", "1", "", "modbob", "console"})}));
  // The log is append-only.
  CHECK_THROWS(h.exec("update inventory_activity set quantity = 9"));
  CHECK(h.chat(m, kAlice, "!inv log", h.add_community("other")) == "Nothing logged yet.");
}
