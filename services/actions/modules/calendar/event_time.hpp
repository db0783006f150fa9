#pragma once
// Calendar time, pure: the `<when>` of `!event add` read as a wall-clock time, and the
// occurrences of weekly and monthly events. Occurrences keep the first one's local wall-clock
// time in the event's zone (a weekly 18:00 stays 18:00 across DST), and monthly events keep their
// day of month, clamped to shorter months (Jan 31 → Feb 28 → Mar 31, no drift).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "actions/modules/calendar/time_zone.hpp"

namespace waddle::actions {

enum class Recurrence { none, weekly, monthly };
std::string_view recurrence_name(Recurrence recurrence) noexcept;
// none|weekly|monthly, case-insensitive.
std::optional<Recurrence> parse_recurrence(std::string_view text);

struct WhenParse {
  std::optional<LocalDateTime> when;  // the wall-clock time asked for
  std::size_t words = 0;              // how many of the words it took
  std::string error;                  // set when the words look like a time but are not one
};

// Reads a `<when>` from the start of `words`:
//   2026-12-24 18:00 | 2026-12-24T18:00 | today 18:00 | tomorrow 18:00 | fri 20:00
// A weekday means the next time that weekday shows that time: today when it is that day and the
// time is still ahead, else within the next 7 days. `now` is the current wall-clock time of the
// zone the answer is meant in. Neither `when` nor `error`: the words are no `<when>` at all.
WhenParse parse_when(const std::vector<std::string>& words, const LocalDateTime& now);

// The wall-clock time of occurrence `index` (0 = the first) of an event first at `first`.
LocalDateTime occurrence_local(const LocalDateTime& first, Recurrence recurrence,
                               std::int64_t index);

struct Occurrence {
  std::int64_t index = 0;
  SystemTime at;
};

// The first occurrence at or after `from`; nullopt for a one-off event before `from`.
std::optional<Occurrence> next_occurrence(SystemTime first, Recurrence recurrence,
                                          const TimeZone& zone, SystemTime from);

// Up to `n` occurrences at or after `from`, in order.
std::vector<SystemTime> occurrences_from(SystemTime first, Recurrence recurrence,
                                         const TimeZone& zone, SystemTime from, std::size_t n);

// "Thu 2026-12-24 18:00".
std::string format_local(const LocalDateTime& local);

}  // namespace waddle::actions
