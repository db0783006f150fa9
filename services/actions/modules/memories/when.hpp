#pragma once
// The time words of !remind, parsed without a clock or a time zone (pure, unit-tested):
//   in 10m | in 2h30m | in 1d | in 1w2d | in 2h 30m | in 10 minutes | in 3 days
//   at 18:00           today, or tomorrow when that time has passed, in the community's zone
//   at 2026-12-24 18:00
// Units: m (min, minute[s]), h (hr, hour[s]), d (day[s]), w (wk, week[s]); y (year[s]) is read
// only so that "in 10 years" is refused as too far ahead rather than as gibberish. Relative times
// are resolved here (now + duration); local wall-clock times are resolved by PostgreSQL's time
// zone database (Remind), which is right across DST changes.

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace waddle::actions {

// "in …": seconds from now (a year at most is checked by check_when()).
struct RelativeWhen {
  std::chrono::seconds after{0};
};

// "at HH:MM" (date_given false) or "at YYYY-MM-DD HH:MM", a wall-clock time in some zone.
struct LocalWhen {
  bool date_given = false;
  int year = 0, month = 0, day = 0;
  int hour = 0, minute = 0;
};

struct ParsedWhen {
  std::variant<RelativeWhen, LocalWhen> when;
  std::string_view rest;  // the text after the time words, trimmed
};

// The time words at the start of `text` and what follows them. On failure, the message a chat
// user sees ("'25:00' is not a time (HH:MM, 00:00 to 23:59)."), naming the bad word.
std::variant<ParsedWhen, std::string> parse_when(std::string_view text);

// The longest a reminder may wait.
inline constexpr std::chrono::hours kMaxAhead{24 * 366};

// nullopt when `at` is in the future and at most kMaxAhead after `now`, else why not.
std::optional<std::string> check_when(std::chrono::system_clock::time_point at,
                                      std::chrono::system_clock::time_point now);

// "in 2 h 30 min", "in 3 d 4 h" (rounded to minutes, two largest units), for confirmations.
std::string describe_after(std::chrono::seconds after);

}  // namespace waddle::actions
