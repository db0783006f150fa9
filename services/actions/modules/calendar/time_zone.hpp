#pragma once
// IANA time zones read from the system's tzfiles (TZif, /usr/share/zoneinfo or $TZDIR), because
// libstdc++ 12 has no std::chrono time zone database and setenv("TZ")+tzset would race every
// other thread's getenv/localtime. Pure and thread-safe once loaded:
//
//   auto berlin = TimeZone::load("Europe/Berlin");             // nullopt: no such zone
//   LocalDateTime wall = berlin->to_local(now);                 // 2026-10-25 02:30 (CET or CEST)
//   SystemTime t = berlin->from_local({2026, 3, 29, 2, 30});    // in the spring gap: 03:30 CEST
//
// Instants after the file's last transition follow its POSIX TZ footer ("CET-1CEST,M3.5.0,…").

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace waddle::actions {

using SystemTime = std::chrono::system_clock::time_point;

// A wall-clock date and time in some zone; weekday 0 = Sunday (filled by to_local).
struct LocalDateTime {
  int year = 1970;
  int month = 1;  // 1..12
  int day = 1;    // 1..31
  int hour = 0;
  int minute = 0;
  int second = 0;
  int weekday = 4;

  bool same_wall_time(const LocalDateTime& other) const {
    return year == other.year && month == other.month && day == other.day && hour == other.hour &&
           minute == other.minute && second == other.second;
  }
};

// Days in `month` of `year` (Gregorian).
int days_in_month(int year, int month);
// True when year/month/day is a real date.
bool is_valid_date(int year, int month, int day);

// A POSIX TZ rule ("EST5EDT,M3.2.0,M11.1.0", "<+0530>-5:30"), as in a TZif footer.
struct PosixRule {
  std::int32_t std_offset = 0;  // seconds east of UTC
  std::int32_t dst_offset = 0;
  bool has_dst = false;
  struct Change {
    enum class Kind { julian_no_leap, julian_zero, month_week_day } kind = Kind::month_week_day;
    int day = 0;  // Jn: 1..365, n: 0..365, M: weekday 0..6
    int month = 0;
    int week = 0;              // 1..5 (5 = last)
    std::int32_t time = 7200;  // seconds after local midnight, may be negative or > 24 h
  } start, end;
};
// nullopt when `text` is not a rule.
std::optional<PosixRule> parse_posix_rule(std::string_view text);

class TimeZone {
 public:
  static TimeZone utc();
  // A zone by IANA name ("Europe/Berlin", "UTC"); nullopt for a malformed name or a missing or
  // unreadable file. Loaded once per name and cached.
  static std::optional<TimeZone> load(std::string_view name);
  // A zone from the bytes of a TZif file (`name` is what it is called); nullopt when malformed.
  static std::optional<TimeZone> from_tzif(std::string name, std::string_view bytes);
  // A zone with no history, only a POSIX rule.
  static std::optional<TimeZone> from_posix(std::string name, std::string_view rule);

  const std::string& name() const { return data_->name; }
  // Seconds east of UTC at `unix_seconds`.
  std::int32_t offset_at(std::int64_t unix_seconds) const;
  LocalDateTime to_local(SystemTime t) const;
  // The instant the wall clock shows `local`. A time skipped by a spring-forward gap is read with
  // the offset before the gap (02:30 → 03:30 summer time); a time that happens twice (fall back)
  // is the first of the two. Seconds and weekday of `local` are used/ignored respectively.
  SystemTime from_local(const LocalDateTime& local) const;

 private:
  struct Data {
    std::string name;
    std::vector<std::int64_t> transitions;  // ascending unix seconds
    std::vector<std::int32_t> offsets;      // offsets[i]: from transitions[i] on
    std::int32_t initial_offset = 0;        // before the first transition
    std::optional<PosixRule> rule;          // after the last transition
  };
  explicit TimeZone(std::shared_ptr<const Data> data) : data_(std::move(data)) {}
  std::shared_ptr<const Data> data_;
};

// "Europe/Berlin"-shaped: letters, digits, _ + - in parts separated by '/', no "..", ≤ 64 bytes.
bool is_time_zone_name(std::string_view name) noexcept;

}  // namespace waddle::actions
