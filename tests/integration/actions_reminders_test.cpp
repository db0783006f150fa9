// !remind (memories) and !timer (timers) from chat, signed as the router signs, against a real
// database: what they store in scheduled_messages and timers, and every kind of bad input.
// Delivery itself is tested through the router in actions_scheduler_test.cpp.
#include <ctime>

#include "actions_chat_harness.hpp"

using waddle::test::actions::ChatHarness;
using waddle::test::actions::ChatUser;
using waddle::test::actions::contains;
using waddle::test::actions::kAlice;
using waddle::test::actions::kBob;
using waddle::test::actions::kMod;

namespace {

std::int64_t id_in(const std::string& answer) {
  const auto hash = answer.rfind("(#");
  REQUIRE(hash != std::string::npos);
  return std::stoll(answer.substr(hash + 2));
}

std::string reminder_text(ChatHarness& h, std::int64_t id) {
  return h.query("select actions->0->>'text' from scheduled_messages where id = " +
                 std::to_string(id))[0][0];
}

// The next 15 January or 15 July (UTC) that is at least a day away, as "YYYY-MM-DD".
std::string next_date(int month) {
  const std::time_t now = std::time(nullptr) + 86400;
  std::tm utc{};
  gmtime_r(&now, &utc);
  int year = utc.tm_year + 1900;
  if (utc.tm_mon + 1 > month || (utc.tm_mon + 1 == month && utc.tm_mday >= 15)) ++year;
  return std::to_string(year) + (month == 1 ? "-01-15" : "-07-15");
}

}  // namespace

TEST_CASE("!remind stores a reminder to the caller in the channel") {
  ChatHarness h;
  const std::string answer = h.chat("memories", kAlice, "!remind in 2h30m stretch your legs");
  CHECK(answer.rfind("Okay alice, I will remind you in 2 h 30 min (#", 0) == 0);
  const auto id = id_in(answer);
  const auto row = h.query(
      "select entity_id, module_name, kind, created_by_id, created_by_name, state, "
      "(due_at between now() + interval '2 hours 29 minutes' and now() + interval '2 hours 31 "
      "minutes')::text from scheduled_messages where id = " +
      std::to_string(id))[0];
  CHECK(row == nlohmann::json::array({"console:local:demo", "memories", "reminder", "1", "alice",
                                      "pending", "true"}));
  CHECK(reminder_text(h, id) == "@alice, reminder: stretch your legs");
  CHECK(h.chat("memories", kAlice, "!remind list")
            .rfind("Your reminders: #" + std::to_string(id) + " ", 0) == 0);
  CHECK(contains(h.chat("memories", kAlice, "!remind list"), "stretch your legs (UTC)"));
  CHECK(h.chat("memories", kBob, "!remind list") == "You have no reminders waiting here.");
}

TEST_CASE("SQL metacharacters, emoji and RTL text are stored and listed intact") {
  ChatHarness h;
  const std::string text =
      "'); drop table scheduled_messages; -- %_\\ 🎉👍🏽 مرحبا ‏שלום";
  const auto id = id_in(h.chat("memories", kAlice, "!remind in 10m " + text));
  CHECK(reminder_text(h, id) == "@alice, reminder: " + text);
  CHECK(contains(h.chat("memories", kAlice, "!remind list"), text));

  CHECK(h.chat("timers", kMod, "!timer add promo 10 " + text).rfind("Added the timer promo", 0) ==
        0);
  CHECK(h.query("select text from timers where name = 'promo'")[0][0] == text);
}

TEST_CASE("at times are read in the community's time zone, across DST") {
  ChatHarness h;
  h.exec("update communities set config = '{\"timezone\": \"America/New_York\"}' where id = " +
         std::to_string(h.community()));
  // New York is UTC-5 in January and UTC-4 (daylight saving) in July.
  const std::string winter = next_date(1);
  const std::string summer = next_date(7);
  const auto w = id_in(h.chat("memories", kAlice, "!remind at " + winter + " 18:00 winter"));
  const auto s = id_in(h.chat("memories", kAlice, "!remind at " + summer + " 18:00 summer"));
  auto utc = [&](std::int64_t id) {
    return h
        .query(
            "select to_char(due_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI') from "
            "scheduled_messages where id = " +
            std::to_string(id))[0][0]
        .get<std::string>();
  };
  CHECK(utc(w) == winter + " 23:00");
  CHECK(utc(s) == summer + " 22:00");
  CHECK(contains(h.chat("memories", kAlice, "!remind list"), winter + " 18:00 winter"));
  CHECK(contains(h.chat("memories", kAlice, "!remind list"), "(America/New_York)"));

  // "at HH:MM" is within the next 24 hours.
  const auto today = id_in(h.chat("memories", kAlice, "!remind at 07:30 coffee"));
  CHECK(h.query("select (due_at > now() and due_at <= now() + interval '24 hours')::text from "
                "scheduled_messages where id = " +
                std::to_string(today))[0][0] == "true");
  CHECK(h.query("select to_char(due_at at time zone 'America/New_York', 'HH24:MI') from "
                "scheduled_messages where id = " +
                std::to_string(today))[0][0] == "07:30");

  // A zone PostgreSQL does not know counts as UTC.
  h.exec("update communities set config = '{\"timezone\": \"Mars/Olympus\"}' where id = " +
         std::to_string(h.community()));
  CHECK(contains(h.chat("memories", kAlice, "!remind at 2:00 x"), "(UTC)"));
}

TEST_CASE("bad !remind input gets a usage line or a clear refusal") {
  ChatHarness h;
  const std::string usage = "Usage: !remind in 10m <text>";
  CHECK(h.chat("memories", kAlice, "!remind").rfind(usage, 0) == 0);
  CHECK(h.chat("memories", kAlice, "!remind tomorrow tea").rfind(usage, 0) == 0);
  CHECK(h.chat("memories", kAlice, "!remind in 10m").rfind(usage, 0) == 0);
  CHECK(h.chat("memories", kAlice, "!remind in").rfind("Say when", 0) == 0);
  CHECK(h.chat("memories", kAlice, "!remind in soon tea") ==
        "'soon' is not a duration. Say when: in 10m, in 2h30m, in 1d, at 18:00 or at "
        "2026-12-24 18:00.");
  CHECK(h.chat("memories", kAlice, "!remind at 25:00 tea").rfind("'25:00' is not a time", 0) == 0);
  CHECK(h.chat("memories", kAlice, "!remind at 2026-02-30 10:00 tea")
            .rfind("'2026-02-30' is not a date", 0) == 0);
  CHECK(h.chat("memories", kAlice, "!remind in 10 years tea") ==
        "That is too far ahead: reminders reach at most a year ahead.");
  CHECK(h.chat("memories", kAlice, "!remind in 400d tea") ==
        "That is too far ahead: reminders reach at most a year ahead.");
  CHECK(h.chat("memories", kAlice, "!remind at 2020-01-01 10:00 tea") ==
        "That time has already passed.");
  CHECK(h.chat("memories", kAlice, "!remind in 0m tea") == "That time has already passed.");
  const std::string big(10 * 1024, 'x');
  CHECK(h.chat("memories", kAlice, "!remind in 10m " + big) ==
        "That reminder is too long (10240 characters; at most 400).");
  CHECK(h.chat("memories", kAlice, "!remind in 10m " + std::string(400, 'y'))
            .rfind("Okay alice", 0) == 0);
  CHECK(h.chat("memories", kAlice, "!remind cancel").rfind("Usage: !remind cancel <id>", 0) == 0);
  CHECK(h.chat("memories", kAlice, "!remind cancel abc").rfind("Usage: !remind cancel", 0) == 0);
  CHECK(h.chat("memories", kAlice, "!remind cancel 999999") ==
        "There is no waiting reminder #999999 here.");
  CHECK(h.query("select count(*) from scheduled_messages")[0][0] == "1");
}

TEST_CASE("!remind cancel: your own, or anyone's for moderators, and the pending limit") {
  ChatHarness h;
  const auto mine = id_in(h.chat("memories", kAlice, "!remind in 1h mine"));
  CHECK(h.chat("memories", kBob, "!remind cancel " + std::to_string(mine)) ==
        "Sorry bob, reminder #" + std::to_string(mine) +
            " is not yours (moderators may cancel anyone's).");
  CHECK(h.chat("memories", kAlice, "!remind cancel #" + std::to_string(mine)) ==
        "Cancelled reminder #" + std::to_string(mine) + ".");
  CHECK(h.chat("memories", kAlice, "!remind cancel " + std::to_string(mine)) ==
        "There is no waiting reminder #" + std::to_string(mine) + " here.");
  CHECK(h.query("select state from scheduled_messages where id = " + std::to_string(mine))[0][0] ==
        "cancelled");

  const auto other = id_in(h.chat("memories", kAlice, "!remind in 1h again"));
  CHECK(h.chat("memories", kMod, "!remind cancel " + std::to_string(other)) ==
        "Cancelled reminder #" + std::to_string(other) + ".");

  // Another community's reminder is not found from here.
  const auto elsewhere = h.add_community("elsewhere");
  const auto far = id_in(h.chat("memories", kAlice, "!remind in 1h far away", elsewhere));
  CHECK(h.chat("memories", kMod, "!remind cancel " + std::to_string(far)) ==
        "There is no waiting reminder #" + std::to_string(far) + " here.");

  for (int i = 0; i < 10; ++i) {
    CHECK(h.chat("memories", kAlice,
                 "!remind in " + std::to_string(i + 1) + "h n" + std::to_string(i))
              .rfind("Okay", 0) == 0);
  }
  CHECK(h.chat("memories", kAlice, "!remind in 1d one too many") ==
        "Sorry alice, you already have 10 reminders waiting here. See !remind list, or !remind "
        "cancel <id>.");
  // The limit is per user and per community.
  CHECK(h.chat("memories", kBob, "!remind in 1d mine").rfind("Okay", 0) == 0);
  CHECK(h.chat("memories", kAlice, "!remind in 1d there", elsewhere).rfind("Okay", 0) == 0);
}

TEST_CASE("!timer manages timers and their scheduled posts") {
  ChatHarness h;
  CHECK(h.chat("timers", kAlice, "!timer list") ==
        "No timers yet. Moderators add them with !timer add <name> <minutes 5-1440> <text>.");
  CHECK(h.chat("timers", kMod, "!timer add Follow 15 Follow the channel!") ==
        "Added the timer follow: every 15 minutes here, when at least 5 chat lines were said "
        "since its last post.");
  CHECK(h.query("select entity_id, interval_minutes, text, min_chat_lines, enabled from timers") ==
        nlohmann::json::array({{"console:local:demo", "15", "Follow the channel!", "5", "t"}}));
  const std::string pending =
      "select count(*) from scheduled_messages where module_name = 'timers' and kind = 'timer' "
      "and state = 'pending' and ref_id = (select id from timers where name = 'follow') and "
      "due_at > now() + interval '14 minutes'";
  CHECK(h.query(pending)[0][0] == "1");
  CHECK(h.chat("timers", kAlice, "!timer list") == "Timers: follow every 15 min (on, 5 lines)");

  CHECK(h.chat("timers", kMod, "!timer off follow") == "The timer follow is off.");
  CHECK(h.chat("timers", kMod, "!timer off follow") == "The timer follow is already off.");
  CHECK(h.query("select count(*) from scheduled_messages where module_name = 'timers' and state = "
                "'pending'")[0][0] == "0");
  CHECK(h.chat("timers", kMod, "!timer on follow") == "The timer follow is on.");
  CHECK(h.query(pending)[0][0] == "1");

  h.set_config({{"min_chat_lines", 0}});
  CHECK(contains(h.chat("timers", kMod, "!timer add always 5 Hi"), "at least 0 chat lines"));
  CHECK(h.chat("timers", kMod, "!timer add follow 5 again") ==
        "The timer follow already exists; remove it first.");
  CHECK(h.chat("timers", kMod, "!timer remove follow") == "Removed the timer follow.");
  CHECK(h.query("select count(*) from scheduled_messages where module_name = 'timers' and state = "
                "'cancelled'")[0][0] == "2");
  CHECK(h.chat("timers", kMod, "!timer remove follow") == "There is no timer follow.");
}

TEST_CASE("bad !timer input gets a usage line or a clear refusal") {
  ChatHarness h;
  CHECK(h.chat("timers", kMod, "!timer").rfind("Usage: !timer add", 0) == 0);
  CHECK(h.chat("timers", kMod, "!timer frobnicate").rfind("Usage: !timer add", 0) == 0);
  CHECK(h.chat("timers", kAlice, "!timer add x 10 hi") ==
        "Sorry alice, only moderators and above can manage timers.");
  CHECK(h.chat("timers", kAlice, "!timer remove x") ==
        "Sorry alice, only moderators and above can manage timers.");
  CHECK(h.chat("timers", kAlice, "!timer off x") ==
        "Sorry alice, only moderators and above can manage timers.");
  CHECK(h.chat("timers", kMod, "!timer add") == "Usage: !timer add <name> <minutes 5-1440> <text>");
  CHECK(h.chat("timers", kMod, "!timer add x 10") ==
        "Usage: !timer add <name> <minutes 5-1440> <text>");
  CHECK(h.chat("timers", kMod, "!timer add b@d! 10 hi") ==
        "'b@d!' is not a timer name (letters, digits, - and _, up to 32).");
  CHECK(h.chat("timers", kMod, "!timer add x 4 hi")
            .rfind("'4' is not a number of minutes from 5 "
                   "to 1440.",
                   0) == 0);
  CHECK(h.chat("timers", kMod, "!timer add x 1441 hi").rfind("'1441' is not", 0) == 0);
  CHECK(h.chat("timers", kMod, "!timer add x ten hi").rfind("'ten' is not", 0) == 0);
  CHECK(h.chat("timers", kMod, "!timer add x 10 " + std::string(10 * 1024, 'z')) ==
        "That timer text is too long (10240 characters; at most 400).");
  CHECK(h.chat("timers", kMod, "!timer remove") == "Usage: !timer remove <name>");
  CHECK(h.chat("timers", kMod, "!timer on") == "Usage: !timer on <name>");
  CHECK(h.chat("timers", kMod, "!timer on nope") == "There is no timer nope.");
  CHECK(h.chat("timers", kMod, "!timer remove 'x;--") ==
        "''x;--' is not a timer name (letters, digits, - and _, up to 32).");
  CHECK(h.query("select count(*) from timers")[0][0] == "0");

  for (int i = 0; i < 20; ++i) {
    CHECK(h.chat("timers", kMod, "!timer add t" + std::to_string(i) + " 60 hi").rfind("Added", 0) ==
          0);
  }
  CHECK(h.chat("timers", kMod, "!timer add t20 60 hi") ==
        "This community has 20 timers already; remove one first.");
}
