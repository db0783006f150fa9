// The time words of !remind (services/actions/modules/memories/when.hpp) and the scheduler's
// retry backoff: pure functions, no clock and no database.
#include <catch2/catch.hpp>

#include "actions/modules/memories/when.hpp"
#include "actions/scheduler.hpp"

using namespace waddle::actions;
using std::chrono::seconds;

namespace {

ParsedWhen ok(std::string_view text) {
  auto parsed = parse_when(text);
  INFO(text << " -> "
            << (std::holds_alternative<std::string>(parsed) ? std::get<std::string>(parsed)
                                                            : std::string("parsed")));
  REQUIRE(std::holds_alternative<ParsedWhen>(parsed));
  return std::get<ParsedWhen>(parsed);
}

std::string refused(std::string_view text) {
  auto parsed = parse_when(text);
  INFO(text);
  REQUIRE(std::holds_alternative<std::string>(parsed));
  return std::get<std::string>(parsed);
}

seconds after(std::string_view text) {
  const ParsedWhen p = ok(text);
  REQUIRE(std::holds_alternative<RelativeWhen>(p.when));
  return std::get<RelativeWhen>(p.when).after;
}

}  // namespace

TEST_CASE("relative times combine m h d w, compact or as words") {
  CHECK(after("in 10m tea") == seconds(600));
  CHECK(after("in 2h30m tea") == seconds(9000));
  CHECK(after("in 1d tea") == seconds(86400));
  CHECK(after("in 1w2d tea") == seconds(9 * 86400));
  CHECK(after("IN 2H 30M tea") == seconds(9000));
  CHECK(after("in 10 minutes tea") == seconds(600));
  CHECK(after("in 1 hour 15 min tea") == seconds(4500));
  CHECK(after("in 3 days tea") == seconds(3 * 86400));
  CHECK(ok("in 10m   stretch your legs  ").rest == "stretch your legs");
}

TEST_CASE("words after the duration that are not durations are the reminder's text") {
  CHECK(ok("in 10m 2nd coffee").rest == "2nd coffee");
  CHECK(ok("in 1h 2 coffees").rest == "2 coffees");
  CHECK(after("in 1h 2 coffees") == seconds(3600));
  CHECK(ok("in 5m").rest.empty());
}

TEST_CASE("bad relative times name the word") {
  CHECK(refused("in soon tea").find("'soon' is not a duration") == 0);
  CHECK(refused("in 5pm tea").find("'5pm' is not a duration") == 0);
  CHECK(refused("in 10s tea").find("'10s' is not a duration") == 0);  // no seconds
  CHECK(refused("in").find("Say when") == 0);
  CHECK(refused("").find("Say when") == 0);
  CHECK(refused("tomorrow tea").find("Say when") == 0);
  CHECK(refused("in m tea").find("is not a duration") != std::string::npos);
}

TEST_CASE("years are read so that they can be refused, and huge numbers do not overflow") {
  const auto now = std::chrono::system_clock::time_point(std::chrono::hours(24 * 365 * 56));
  const auto ten_years = now + after("in 10 years tea");
  CHECK(check_when(ten_years, now).value_or("").find("too far ahead") != std::string::npos);
  const auto huge = now + after("in 99999999999999999999999d tea");
  CHECK(check_when(huge, now).value_or("").find("too far ahead") != std::string::npos);
  CHECK_FALSE(check_when(now + after("in 52w tea"), now));
  CHECK(check_when(now + after("in 0m tea"), now).value_or("").find("already passed") !=
        std::string::npos);
  CHECK(check_when(now - seconds(1), now));
}

TEST_CASE("at HH:MM and at YYYY-MM-DD HH:MM are local wall-clock times") {
  const ParsedWhen clock = ok("at 18:00 dinner");
  REQUIRE(std::holds_alternative<LocalWhen>(clock.when));
  CHECK_FALSE(std::get<LocalWhen>(clock.when).date_given);
  CHECK(std::get<LocalWhen>(clock.when).hour == 18);
  CHECK(clock.rest == "dinner");
  CHECK(std::get<LocalWhen>(ok("at 9:05 x").when).minute == 5);

  const ParsedWhen dated = ok("at 2026-12-24 18:30 presents");
  const auto& w = std::get<LocalWhen>(dated.when);
  CHECK(w.date_given);
  CHECK(w.year == 2026);
  CHECK(w.month == 12);
  CHECK(w.day == 24);
  CHECK(w.hour == 18);
  CHECK(w.minute == 30);
  CHECK(dated.rest == "presents");
  CHECK(std::get<LocalWhen>(ok("at 2028-02-29 00:00 leap").when).day == 29);
}

TEST_CASE("bad dates and times are refused with the word") {
  CHECK(refused("at 25:00 x").find("'25:00' is not a time") == 0);
  CHECK(refused("at 18:60 x").find("'18:60' is not a time") == 0);
  CHECK(refused("at 1800 x").find("'1800' is not a time") == 0);
  CHECK(refused("at 2026-02-30 10:00 x").find("'2026-02-30' is not a date") == 0);
  CHECK(refused("at 2027-02-29 10:00 x").find("is not a date") != std::string::npos);
  CHECK(refused("at 2026-13-01 10:00 x").find("is not a date") != std::string::npos);
  CHECK(refused("at 2026-12-24 x").find("'x' is not a time") == 0);
  CHECK(refused("at 2026-12-24").find("A time is needed") == 0);
  CHECK(refused("at").find("Say when") == 0);
}

TEST_CASE("describe_after rounds up to minutes and keeps the two largest units") {
  CHECK(describe_after(seconds(600)) == "in 10 min");
  CHECK(describe_after(seconds(9000)) == "in 2 h 30 min");
  CHECK(describe_after(seconds(86400 + 3600 + 60)) == "in 1 d 1 h");
  CHECK(describe_after(seconds(1)) == "in 1 min");
  CHECK(describe_after(seconds(0)) == "in less than a minute");
}

TEST_CASE("retry_delay doubles from the base up to the cap") {
  CHECK(retry_delay(1, seconds(10), seconds(3600)) == seconds(10));
  CHECK(retry_delay(2, seconds(10), seconds(3600)) == seconds(20));
  CHECK(retry_delay(5, seconds(10), seconds(3600)) == seconds(160));
  CHECK(retry_delay(40, seconds(10), seconds(3600)) == seconds(3600));
  CHECK(retry_delay(0, seconds(10), seconds(3600)) == seconds(10));
}

TEST_CASE("worker ids are host:pid:random and differ per scheduler") {
  const std::string a = make_worker_id();
  const std::string b = make_worker_id();
  CHECK(a != b);
  CHECK(std::count(a.begin(), a.end(), ':') >= 2);
}
