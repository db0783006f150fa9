#include "actions/modules/calendar/event_time.hpp"

#include <array>
#include <chrono>
#include <cstdio>

#include "actions/text.hpp"

namespace waddle::actions {
namespace {

namespace chr = std::chrono;

constexpr std::array<std::string_view, 7> kWeekdays = {"Sun", "Mon", "Tue", "Wed",
                                                       "Thu", "Fri", "Sat"};

// "18:00", "8:30" → hour and minute.
std::optional<std::pair<int, int>> parse_clock(std::string_view text) {
  const auto colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon > 2 || text.size() != colon + 3)
    return std::nullopt;
  int hour = 0;
  for (char c : text.substr(0, colon)) {
    if (c < '0' || c > '9') return std::nullopt;
    hour = hour * 10 + (c - '0');
  }
  const char m1 = text[colon + 1];
  const char m2 = text[colon + 2];
  if (m1 < '0' || m1 > '9' || m2 < '0' || m2 > '9') return std::nullopt;
  const int minute = (m1 - '0') * 10 + (m2 - '0');
  if (hour > 23 || minute > 59) return std::nullopt;
  return std::pair{hour, minute};
}

bool is_digits(std::string_view text) {
  return !text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos;
}

// "2026-12-24" → y, m, d when it has that shape (the date may still be invalid).
std::optional<std::array<int, 3>> date_shape(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  if (!is_digits(text.substr(0, 4)) || !is_digits(text.substr(5, 2)) ||
      !is_digits(text.substr(8, 2)))
    return std::nullopt;
  auto num = [&](std::size_t pos, std::size_t len) {
    int v = 0;
    for (char c : text.substr(pos, len)) v = v * 10 + (c - '0');
    return v;
  };
  return std::array<int, 3>{num(0, 4), num(5, 2), num(8, 2)};
}

std::optional<int> weekday_of(std::string_view word) {
  constexpr std::array<std::array<std::string_view, 3>, 7> kNames = {{
      {"sun", "sunday", "sun"},
      {"mon", "monday", "mon"},
      {"tue", "tuesday", "tues"},
      {"wed", "wednesday", "wed"},
      {"thu", "thursday", "thurs"},
      {"fri", "friday", "fri"},
      {"sat", "saturday", "sat"},
  }};
  const std::string lower = lower_ascii(word);
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    for (auto name : kNames[i]) {
      if (lower == name) return static_cast<int>(i);
    }
  }
  if (lower == "thur") return 4;
  return std::nullopt;
}

chr::sys_days day_of(const LocalDateTime& local) {
  return chr::sys_days{chr::year{local.year} / chr::month{static_cast<unsigned>(local.month)} /
                       chr::day{static_cast<unsigned>(local.day)}};
}

LocalDateTime with_day(LocalDateTime local, chr::sys_days day) {
  const chr::year_month_day ymd{day};
  local.year = static_cast<int>(ymd.year());
  local.month = static_cast<int>(static_cast<unsigned>(ymd.month()));
  local.day = static_cast<int>(static_cast<unsigned>(ymd.day()));
  local.weekday = static_cast<int>(chr::weekday{day}.c_encoding());
  return local;
}

std::string clock_error(std::string_view word) {
  return "'" + trim_chat(word, 20) + "' is not a time; write it as HH:MM (24-hour).";
}

LocalDateTime at_clock(LocalDateTime day, std::pair<int, int> clock) {
  day.hour = clock.first;
  day.minute = clock.second;
  day.second = 0;
  return day;
}

}  // namespace

std::string_view recurrence_name(Recurrence recurrence) noexcept {
  switch (recurrence) {
    case Recurrence::weekly: return "weekly";
    case Recurrence::monthly: return "monthly";
    case Recurrence::none: break;
  }
  return "none";
}

std::optional<Recurrence> parse_recurrence(std::string_view text) {
  const std::string lower = lower_ascii(text);
  if (lower == "none") return Recurrence::none;
  if (lower == "weekly") return Recurrence::weekly;
  if (lower == "monthly") return Recurrence::monthly;
  return std::nullopt;
}

WhenParse parse_when(const std::vector<std::string>& words, const LocalDateTime& now) {
  WhenParse out;
  if (words.empty()) return out;
  const std::string_view first = words[0];
  const std::string_view second = words.size() > 1 ? std::string_view(words[1]) : "";

  // 2026-12-24T18:00 or 2026-12-24 18:00.
  const auto t = first.find_first_of("Tt");
  const std::string_view date_part = t == std::string_view::npos ? first : first.substr(0, t);
  if (auto ymd = date_shape(date_part)) {
    const auto [year, month, day] = *ymd;
    if (!is_valid_date(year, month, day)) {
      out.error = "'" + std::string(date_part) + "' is not a date; write it as YYYY-MM-DD.";
      return out;
    }
    const bool joined = t != std::string_view::npos;
    const std::string_view clock_text = joined ? first.substr(t + 1) : second;
    if (clock_text.empty()) {
      out.error = "Give a time after the date: " + std::string(date_part) + " 18:00.";
      return out;
    }
    auto clock = parse_clock(clock_text);
    if (!clock) {
      out.error = clock_error(clock_text);
      return out;
    }
    out.when = at_clock(
        with_day(now, chr::sys_days{chr::year{year} / chr::month{static_cast<unsigned>(month)} /
                                    chr::day{static_cast<unsigned>(day)}}),
        *clock);
    out.words = joined ? 1 : 2;
    return out;
  }

  const std::string lower = lower_ascii(first);
  std::optional<chr::sys_days> day;
  const auto weekday = weekday_of(first);
  if (lower == "today") day = day_of(now);
  if (lower == "tomorrow") day = day_of(now) + chr::days{1};
  if (!day && !weekday) return out;
  auto clock = parse_clock(second);
  if (!clock) {
    out.error = second.empty() ? "Give a time after '" + trim_chat(first, 20) +
                                     "': " + trim_chat(first, 20) + " 18:00."
                               : clock_error(second);
    return out;
  }
  if (weekday) {
    int ahead = (*weekday - now.weekday + 7) % 7;
    const bool passed_today = clock->first * 60 + clock->second <= now.hour * 60 + now.minute;
    if (ahead == 0 && passed_today) ahead = 7;
    day = day_of(now) + chr::days{ahead};
  }
  out.when = at_clock(with_day(now, *day), *clock);
  out.words = 2;
  return out;
}

LocalDateTime occurrence_local(const LocalDateTime& first, Recurrence recurrence,
                               std::int64_t index) {
  switch (recurrence) {
    case Recurrence::none: return first;
    case Recurrence::weekly: return with_day(first, day_of(first) + chr::days{7 * index});
    case Recurrence::monthly: break;
  }
  const std::int64_t months = first.year * 12LL + (first.month - 1) + index;
  LocalDateTime out = first;
  out.year = static_cast<int>(months / 12);
  out.month = static_cast<int>(months % 12) + 1;
  out.day = std::min(first.day, days_in_month(out.year, out.month));
  return with_day(out, day_of(out));
}

std::optional<Occurrence> next_occurrence(SystemTime first, Recurrence recurrence,
                                          const TimeZone& zone, SystemTime from) {
  if (first >= from) return Occurrence{0, first};
  if (recurrence == Recurrence::none) return std::nullopt;
  const LocalDateTime first_local = zone.to_local(first);
  // Start a step or two before the answer and walk forward: offsets and short months make the
  // estimate at most one step off.
  std::int64_t index = 0;
  if (recurrence == Recurrence::weekly) {
    index = chr::duration_cast<chr::hours>(from - first).count() / (24 * 7) - 1;
  } else {
    const LocalDateTime from_local = zone.to_local(from);
    index = (from_local.year * 12LL + from_local.month) -
            (first_local.year * 12LL + first_local.month) - 1;
  }
  if (index < 0) index = 0;
  for (;; ++index) {
    const SystemTime at = zone.from_local(occurrence_local(first_local, recurrence, index));
    if (at >= from) return Occurrence{index, at};
  }
}

std::vector<SystemTime> occurrences_from(SystemTime first, Recurrence recurrence,
                                         const TimeZone& zone, SystemTime from, std::size_t n) {
  std::vector<SystemTime> out;
  auto next = next_occurrence(first, recurrence, zone, from);
  if (!next || n == 0) return out;
  out.push_back(next->at);
  if (recurrence == Recurrence::none) return out;
  const LocalDateTime first_local = zone.to_local(first);
  for (std::int64_t index = next->index + 1; out.size() < n; ++index) {
    out.push_back(zone.from_local(occurrence_local(first_local, recurrence, index)));
  }
  return out;
}

std::string format_local(const LocalDateTime& local) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02d %02d:%02d", local.year, local.month,
                local.day, local.hour, local.minute);
  return std::string(kWeekdays[static_cast<std::size_t>(local.weekday % 7)]) + " " + buffer;
}

}  // namespace waddle::actions
