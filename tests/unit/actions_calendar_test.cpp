// The calendar's pure parts: time zones from tzfiles and POSIX rules, `<when>` parsing, and the
// expansion of weekly and monthly events across DST and short months.
#include <catch2/catch.hpp>

#include <fstream>
#include <iterator>

#include "actions/modules/calendar/calendar.hpp"
#include "actions/modules/calendar/event_time.hpp"
#include "actions/modules/calendar/time_zone.hpp"

using namespace waddle::actions;
namespace chr = std::chrono;

namespace {

// Unix seconds of a UTC wall time.
std::int64_t utc(int y, int mo, int d, int h = 0, int mi = 0) {
  return chr::sys_days{chr::year{y} / mo / d}.time_since_epoch().count() * 86400 + h * 3600 +
         mi * 60;
}

SystemTime at(std::int64_t unix_seconds) {
  return SystemTime{chr::seconds{unix_seconds}};
}

std::int64_t seconds_of(SystemTime t) {
  return chr::duration_cast<chr::seconds>(t.time_since_epoch()).count();
}

TimeZone zone(const char* name) {
  auto z = TimeZone::load(name);
  REQUIRE(z.has_value());
  return *z;
}

LocalDateTime local(int y, int mo, int d, int h = 0, int mi = 0) {
  return {.year = y, .month = mo, .day = d, .hour = h, .minute = mi};
}

std::string wall(const TimeZone& z, SystemTime t) {
  return format_local(z.to_local(t));
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("POSIX TZ rules are parsed, and malformed ones refused") {
  auto berlin = parse_posix_rule("CET-1CEST,M3.5.0,M10.5.0/3");
  REQUIRE(berlin);
  CHECK(berlin->std_offset == 3600);
  CHECK(berlin->dst_offset == 7200);
  CHECK(berlin->has_dst);
  CHECK(berlin->start.month == 3);
  CHECK(berlin->start.week == 5);
  CHECK(berlin->start.time == 7200);
  CHECK(berlin->end.month == 10);
  CHECK(berlin->end.time == 3 * 3600);

  auto india = parse_posix_rule("<+0530>-5:30");
  REQUIRE(india);
  CHECK(india->std_offset == 5 * 3600 + 1800);
  CHECK_FALSE(india->has_dst);

  auto new_york = parse_posix_rule("EST5EDT,M3.2.0,M11.1.0");
  REQUIRE(new_york);
  CHECK(new_york->std_offset == -5 * 3600);
  CHECK(new_york->dst_offset == -4 * 3600);

  for (const char* bad : {"", "X5", "CET", "CET-1CEST,M13.1.0,M10.5.0", "CET-1CEST,M3.5.0",
                          "CET-1CEST,M3.6.0,M10.5.0", "CET-1CEST,M3.5.7,M10.5.0", "<+05-5",
                          "CET-1CEST,M3.5.0,M10.5.0/x", "CET-200", "CET-1CEST,J0,J365"}) {
    INFO(bad);
    CHECK_FALSE(parse_posix_rule(bad).has_value());
  }
}

TEST_CASE("tzfiles give the offsets of Europe/Berlin and America/New_York around DST") {
  const TimeZone berlin = zone("Europe/Berlin");
  CHECK(berlin.name() == "Europe/Berlin");
  // 2026: summer time from 03-29 01:00 UTC to 10-25 01:00 UTC.
  CHECK(berlin.offset_at(utc(2026, 3, 29, 0, 59)) == 3600);
  CHECK(berlin.offset_at(utc(2026, 3, 29, 1, 0)) == 7200);
  CHECK(berlin.offset_at(utc(2026, 10, 25, 0, 59)) == 7200);
  CHECK(berlin.offset_at(utc(2026, 10, 25, 1, 0)) == 3600);
  // Beyond the file's transitions the footer rule answers.
  CHECK(berlin.offset_at(utc(2050, 1, 15)) == 3600);
  CHECK(berlin.offset_at(utc(2050, 7, 15)) == 7200);

  const TimeZone new_york = zone("America/New_York");
  CHECK(new_york.offset_at(utc(2026, 11, 1, 5, 59)) == -4 * 3600);
  CHECK(new_york.offset_at(utc(2026, 11, 1, 6, 0)) == -5 * 3600);
  CHECK(new_york.offset_at(utc(2026, 3, 8, 6, 59)) == -5 * 3600);
  CHECK(new_york.offset_at(utc(2026, 3, 8, 7, 0)) == -4 * 3600);

  CHECK(zone("UTC").offset_at(utc(2026, 7, 1)) == 0);
  CHECK(zone("Asia/Kolkata").offset_at(utc(2026, 7, 1)) == 5 * 3600 + 1800);
}

TEST_CASE("the tzfile and its POSIX footer agree on every hour of 2026 to 2028") {
  for (const auto& [name, rule] : {std::pair{"Europe/Berlin", "CET-1CEST,M3.5.0,M10.5.0/3"},
                                   std::pair{"America/New_York", "EST5EDT,M3.2.0,M11.1.0"},
                                   std::pair{"Australia/Sydney", "AEST-10AEDT,M10.1.0,M4.1.0/3"}}) {
    INFO(name);
    const TimeZone file = zone(name);
    const auto posix = TimeZone::from_posix(name, rule);
    REQUIRE(posix);
    int differences = 0;
    for (std::int64_t t = utc(2026, 1, 1); t < utc(2029, 1, 1); t += 3600) {
      if (file.offset_at(t) != posix->offset_at(t)) ++differences;
    }
    CHECK(differences == 0);
  }
}

TEST_CASE("bad zone names and malformed tzfiles are refused") {
  for (const char* bad : {"", "../../etc/passwd", "Europe/../Berlin", "/etc/localtime",
                          "Europe//Berlin", "Mars/Olympus_Mons", "Europe/Berlin ", "Europe/"}) {
    INFO(bad);
    CHECK_FALSE(TimeZone::load(bad).has_value());
  }
  CHECK(is_time_zone_name("America/Argentina/Buenos_Aires"));
  CHECK(is_time_zone_name("Etc/GMT+5"));
  CHECK_FALSE(is_time_zone_name(std::string(65, 'a')));

  const std::string bytes = read_file("/usr/share/zoneinfo/Europe/Berlin");
  REQUIRE(bytes.size() > 100);
  CHECK(TimeZone::from_tzif("x", bytes).has_value());
  CHECK_FALSE(TimeZone::from_tzif("x", "").has_value());
  CHECK_FALSE(TimeZone::from_tzif("x", "TZif2 garbage").has_value());
  for (std::size_t cut : {std::size_t{44}, std::size_t{60}, bytes.size() / 2}) {
    INFO(cut);
    CHECK_FALSE(TimeZone::from_tzif("x", bytes.substr(0, cut)).has_value());
  }
  std::string broken_footer = bytes.substr(0, bytes.rfind('\n', bytes.size() - 2)) + "\nnope\n";
  CHECK_FALSE(TimeZone::from_tzif("x", broken_footer).has_value());
}

TEST_CASE("wall-clock times become instants: gaps move forward, repeated times are the first") {
  const TimeZone berlin = zone("Europe/Berlin");
  CHECK(seconds_of(berlin.from_local(local(2026, 12, 24, 18, 0))) == utc(2026, 12, 24, 17, 0));
  CHECK(seconds_of(berlin.from_local(local(2026, 7, 1, 12, 0))) == utc(2026, 7, 1, 10, 0));
  // 02:30 does not exist on 2026-03-29: read with the winter offset, it is 03:30 summer time.
  CHECK(seconds_of(berlin.from_local(local(2026, 3, 29, 2, 30))) == utc(2026, 3, 29, 1, 30));
  CHECK(wall(berlin, berlin.from_local(local(2026, 3, 29, 2, 30))) == "Sun 2026-03-29 03:30");
  // 02:30 happens twice on 2026-10-25: the first, summer time one.
  CHECK(seconds_of(berlin.from_local(local(2026, 10, 25, 2, 30))) == utc(2026, 10, 25, 0, 30));

  const TimeZone new_york = zone("America/New_York");
  CHECK(seconds_of(new_york.from_local(local(2026, 11, 1, 1, 30))) == utc(2026, 11, 1, 5, 30));
  CHECK(seconds_of(new_york.from_local(local(2026, 3, 8, 2, 30))) == utc(2026, 3, 8, 7, 30));

  // to_local and from_local are inverse outside gaps, for every hour of a year.
  int mismatches = 0;
  for (std::int64_t t = utc(2026, 1, 1); t < utc(2027, 1, 1); t += 3600) {
    const LocalDateTime l = berlin.to_local(at(t));
    // The repeated hour maps back to its first instance only.
    if (seconds_of(berlin.from_local(l)) != t && t != utc(2026, 10, 25, 1, 0)) ++mismatches;
  }
  CHECK(mismatches == 0);
  CHECK(berlin.to_local(at(utc(2026, 12, 24, 17))).weekday == 4);
}

TEST_CASE("<when> forms are read in the community's wall-clock time") {
  // Wednesday 2026-12-23 10:00.
  const LocalDateTime now{.year = 2026, .month = 12, .day = 23, .hour = 10, .weekday = 3};
  auto parse = [&](std::vector<std::string> words) { return parse_when(words, now); };
  auto check = [&](std::vector<std::string> words, const char* expected, std::size_t used) {
    INFO(words[0]);
    const WhenParse p = parse(words);
    REQUIRE(p.when);
    CHECK(p.error.empty());
    CHECK(format_local(*p.when) == expected);
    CHECK(p.words == used);
  };
  check({"2026-12-24", "18:00", "Xmas"}, "Thu 2026-12-24 18:00", 2);
  check({"2026-12-24T18:00", "Xmas"}, "Thu 2026-12-24 18:00", 1);
  check({"2027-01-01", "0:05"}, "Fri 2027-01-01 00:05", 2);
  check({"tomorrow", "18:00"}, "Thu 2026-12-24 18:00", 2);
  check({"TODAY", "23:59"}, "Wed 2026-12-23 23:59", 2);
  check({"fri", "20:00"}, "Fri 2026-12-25 20:00", 2);
  check({"Friday", "20:00"}, "Fri 2026-12-25 20:00", 2);
  check({"wed", "11:00"}, "Wed 2026-12-23 11:00", 2);  // later today
  check({"wed", "09:00"}, "Wed 2026-12-30 09:00", 2);  // already passed today: next week
  check({"tue", "09:00"}, "Tue 2026-12-29 09:00", 2);
  check({"sun", "12:00"}, "Sun 2026-12-27 12:00", 2);

  // New Year: tomorrow crosses the year.
  const LocalDateTime eve{.year = 2026, .month = 12, .day = 31, .hour = 22, .weekday = 4};
  const auto next_year = parse_when({"tomorrow", "01:00"}, eve);
  REQUIRE(next_year.when);
  CHECK(format_local(*next_year.when) == "Fri 2027-01-01 01:00");

  for (std::vector<std::string> bad : std::vector<std::vector<std::string>>{{"2026-02-30", "10:00"},
                                                                            {"2026-13-01", "10:00"},
                                                                            {"2026-12-24", "25:00"},
                                                                            {"2026-12-24", "18:60"},
                                                                            {"2026-12-24", "18"},
                                                                            {"2026-12-24"},
                                                                            {"2026-12-24T"},
                                                                            {"tomorrow"},
                                                                            {"fri", "8pm"},
                                                                            {"fri", "-1:00"}}) {
    INFO(bad[0]);
    const WhenParse p = parse(bad);
    CHECK_FALSE(p.when);
    CHECK_FALSE(p.error.empty());
  }
  for (std::vector<std::string> none : std::vector<std::vector<std::string>>{
           {}, {"party", "18:00"}, {"24.12.2026", "18:00"}, {"🎄", "18:00"}}) {
    const WhenParse p = parse(none);
    CHECK_FALSE(p.when);
    CHECK(p.error.empty());
  }
}

TEST_CASE("weekly events keep their local time across DST changes") {
  const TimeZone berlin = zone("Europe/Berlin");
  const SystemTime first = berlin.from_local(local(2026, 10, 18, 18, 0));  // CEST
  CHECK(seconds_of(first) == utc(2026, 10, 18, 16, 0));
  const auto berlin_next = occurrences_from(first, Recurrence::weekly, berlin, first, 3);
  REQUIRE(berlin_next.size() == 3);
  CHECK(seconds_of(berlin_next[1]) == utc(2026, 10, 25, 17, 0));  // CET now: one hour later UTC
  CHECK(wall(berlin, berlin_next[1]) == "Sun 2026-10-25 18:00");
  CHECK(wall(berlin, berlin_next[2]) == "Sun 2026-11-01 18:00");

  const TimeZone new_york = zone("America/New_York");
  const SystemTime ny_first = new_york.from_local(local(2026, 10, 25, 18, 0));
  CHECK(seconds_of(ny_first) == utc(2026, 10, 25, 22, 0));
  const auto ny = occurrences_from(ny_first, Recurrence::weekly, new_york, ny_first, 2);
  REQUIRE(ny.size() == 2);
  CHECK(seconds_of(ny[1]) == utc(2026, 11, 1, 23, 0));
  CHECK(wall(new_york, ny[1]) == "Sun 2026-11-01 18:00");

  // And in spring, forward: 2027-03-14 is the US change.
  const SystemTime spring = new_york.from_local(local(2027, 3, 7, 9, 0));
  const auto after = next_occurrence(spring, Recurrence::weekly, new_york, spring + chr::hours(1));
  REQUIRE(after);
  CHECK(after->index == 1);
  CHECK(seconds_of(after->at) == utc(2027, 3, 14, 13, 0));
}

TEST_CASE("monthly events on the 31st go to the last day of shorter months without drifting") {
  const TimeZone berlin = zone("Europe/Berlin");
  const SystemTime first = berlin.from_local(local(2027, 1, 31, 20, 0));
  const auto months = occurrences_from(first, Recurrence::monthly, berlin, first, 6);
  std::vector<std::string> walls;
  for (auto t : months) walls.push_back(wall(berlin, t));
  CHECK(walls == std::vector<std::string>{"Sun 2027-01-31 20:00", "Sun 2027-02-28 20:00",
                                          "Wed 2027-03-31 20:00", "Fri 2027-04-30 20:00",
                                          "Mon 2027-05-31 20:00", "Wed 2027-06-30 20:00"});
  // Leap year February.
  CHECK(format_local(occurrence_local(berlin.to_local(first), Recurrence::monthly, 13)) ==
        "Tue 2028-02-29 20:00");
  // Across the year end, from an index far ahead.
  CHECK(format_local(occurrence_local(berlin.to_local(first), Recurrence::monthly, 23)) ==
        "Sun 2028-12-31 20:00");
  // next_occurrence from a later point picks the right month.
  const auto later = next_occurrence(first, Recurrence::monthly, berlin,
                                     berlin.from_local(local(2027, 4, 1, 0, 0)));
  REQUIRE(later);
  CHECK(later->index == 3);
  CHECK(wall(berlin, later->at) == "Fri 2027-04-30 20:00");

  // One-off events: once, and none after their time.
  CHECK(occurrences_from(first, Recurrence::none, berlin, first, 5).size() == 1);
  CHECK_FALSE(next_occurrence(first, Recurrence::none, berlin, first + chr::seconds(1)));
  CHECK(occurrences_from(first, Recurrence::weekly, berlin, first, 0).empty());
}

TEST_CASE("community calendar settings fall back to UTC and 15 minutes") {
  const CalendarSettings defaults = calendar_settings(std::nullopt, std::nullopt);
  CHECK(defaults.zone.name() == "UTC");
  CHECK(defaults.remind_minutes == 15);
  const CalendarSettings berlin = calendar_settings("Europe/Berlin", "30");
  CHECK(berlin.zone.name() == "Europe/Berlin");
  CHECK(berlin.remind_minutes == 30);
  const CalendarSettings unknown = calendar_settings("Mars/Base", "lots");
  CHECK(unknown.zone.name() == "UTC");
  CHECK(unknown.configured_zone == "Mars/Base");
  CHECK(unknown.remind_minutes == 15);
  CHECK(calendar_settings(std::nullopt, "0").remind_minutes == 0);
  CHECK(calendar_settings(std::nullopt, "1441").remind_minutes == 15);
  CHECK(calendar_settings(std::nullopt, "-5").remind_minutes == 15);
  CHECK(calendar_settings(std::nullopt, "99999999999").remind_minutes == 15);
}

TEST_CASE("reminders say how long until the start and how many are going") {
  auto text_of = [](const std::vector<waddle::model::Action>& actions, std::size_t i) {
    REQUIRE(actions.size() == 2);
    if (i == 0) return std::get<waddle::model::ChatAction>(actions[0]).text;
    return std::get<waddle::model::TickerAction>(actions[1]).text;
  };
  const auto fifteen = event_reminder("Movie night 🎬", 15, 3);
  CHECK(text_of(fifteen, 0) == "Starting in 15 minutes: Movie night 🎬 (3 going)");
  CHECK(text_of(fifteen, 1) == "Starting in 15 minutes: Movie night 🎬");
  CHECK(text_of(event_reminder("x", 1, 0), 0) == "Starting in 1 minute: x (0 going)");
  CHECK(text_of(event_reminder("x", 60, 1), 0) == "Starting in 1 hour: x (1 going)");
  CHECK(text_of(event_reminder("x", 120, 1), 0) == "Starting in 2 hours: x (1 going)");
  CHECK(text_of(event_reminder("x", 0, 2), 0) == "Starting now: x (2 going)");
}
