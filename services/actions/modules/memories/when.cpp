#include "actions/modules/memories/when.hpp"

#include <cctype>
#include <cstdint>
#include <optional>
#include <vector>

#include "actions/text.hpp"

namespace waddle::actions {
namespace {

constexpr std::string_view kSayWhen =
    "Say when: in 10m, in 2h30m, in 1d, at 18:00 or at 2026-12-24 18:00.";
// Any part bigger than this is far beyond kMaxAhead; it is kept from overflowing.
constexpr std::int64_t kHugeSeconds = std::int64_t{400} * 24 * 3600 * 100;

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

struct Word {
  std::string_view text;
  std::size_t end = 0;  // offset just past the word in the whole text
};

// The word starting at or after `from`, if any.
std::optional<Word> word_at(std::string_view text, std::size_t from) {
  while (from < text.size() && is_space(text[from])) ++from;
  if (from >= text.size()) return std::nullopt;
  std::size_t end = from;
  while (end < text.size() && !is_space(text[end])) ++end;
  return Word{text.substr(from, end - from), end};
}

// Seconds per unit word, 0 when it is not one.
std::int64_t unit_seconds(std::string_view unit) {
  const std::string u = lower_ascii(unit);
  if (u == "m" || u == "min" || u == "mins" || u == "minute" || u == "minutes") return 60;
  if (u == "h" || u == "hr" || u == "hrs" || u == "hour" || u == "hours") return 3600;
  if (u == "d" || u == "day" || u == "days") return 86400;
  if (u == "w" || u == "wk" || u == "wks" || u == "week" || u == "weeks") return 7 * 86400;
  if (u == "y" || u == "yr" || u == "yrs" || u == "year" || u == "years") return 365 * 86400;
  return 0;
}

std::int64_t add_capped(std::int64_t a, std::int64_t b) {
  return a > kHugeSeconds - b ? kHugeSeconds : a + b;
}

// digits, at most 9 of them (more is "huge"), as a number; nullopt when not all digits.
std::optional<std::int64_t> number(std::string_view digits) {
  if (digits.empty()) return std::nullopt;
  std::int64_t value = 0;
  for (char c : digits) {
    if (!is_digit(c)) return std::nullopt;
    value = value >= kHugeSeconds ? kHugeSeconds : value * 10 + (c - '0');
  }
  return value;
}

// "2h30m", "1w2d", "10m": the seconds; nullopt when the word is not one such run.
std::optional<std::int64_t> compact_duration(std::string_view word) {
  std::int64_t total = 0;
  std::size_t i = 0;
  if (word.empty()) return std::nullopt;
  while (i < word.size()) {
    std::size_t j = i;
    while (j < word.size() && is_digit(word[j])) ++j;
    if (j == i) return std::nullopt;
    std::size_t k = j;
    while (k < word.size() && std::isalpha(static_cast<unsigned char>(word[k]))) ++k;
    const std::int64_t per = unit_seconds(word.substr(j, k - j));
    if (per == 0) return std::nullopt;
    const std::int64_t n = *number(word.substr(i, j - i));
    total = add_capped(total, n >= kHugeSeconds / per ? kHugeSeconds : n * per);
    i = k;
  }
  return total;
}

// One duration part starting at `from`: a compact word ("2h30m") or a number and a unit word
// ("10 minutes"). Returns the seconds and where it ended.
std::optional<std::pair<std::int64_t, std::size_t>> duration_part(std::string_view text,
                                                                  std::size_t from) {
  const auto first = word_at(text, from);
  if (!first) return std::nullopt;
  if (auto seconds = compact_duration(first->text)) return std::pair{*seconds, first->end};
  if (auto n = number(first->text)) {
    const auto unit = word_at(text, first->end);
    if (!unit) return std::nullopt;
    const std::int64_t per = unit_seconds(unit->text);
    if (per == 0) return std::nullopt;
    return std::pair{*n >= kHugeSeconds / per ? kHugeSeconds : *n * per, unit->end};
  }
  return std::nullopt;
}

// "18:00", "9:05": hour and minute.
std::optional<std::pair<int, int>> clock_time(std::string_view word) {
  const auto colon = word.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon > 2 || word.size() != colon + 3) {
    return std::nullopt;
  }
  const auto h = number(word.substr(0, colon));
  const auto m = number(word.substr(colon + 1));
  if (!h || !m || *h > 23 || *m > 59) return std::nullopt;
  return std::pair{static_cast<int>(*h), static_cast<int>(*m)};
}

bool leap(int year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

// "2026-12-24": a real calendar date.
std::optional<LocalWhen> calendar_date(std::string_view word) {
  if (word.size() != 10 || word[4] != '-' || word[7] != '-') return std::nullopt;
  const auto y = number(word.substr(0, 4));
  const auto mo = number(word.substr(5, 2));
  const auto d = number(word.substr(8, 2));
  if (!y || !mo || !d || *y < 1970 || *mo < 1 || *mo > 12 || *d < 1) return std::nullopt;
  constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const int month_days = kDays[*mo - 1] + (*mo == 2 && leap(static_cast<int>(*y)) ? 1 : 0);
  if (*d > month_days) return std::nullopt;
  LocalWhen when;
  when.date_given = true;
  when.year = static_cast<int>(*y);
  when.month = static_cast<int>(*mo);
  when.day = static_cast<int>(*d);
  return when;
}

std::string quoted(std::string_view word) {
  return "'" + trim_chat(word, 40) + "'";
}

}  // namespace

std::variant<ParsedWhen, std::string> parse_when(std::string_view text) {
  const auto keyword = word_at(text, 0);
  if (!keyword) return std::string(kSayWhen);
  const std::string kw = lower_ascii(keyword->text);
  if (kw == "in") {
    auto part = duration_part(text, keyword->end);
    if (!part) {
      const auto bad = word_at(text, keyword->end);
      return (bad ? quoted(bad->text) + " is not a duration. " : std::string()) +
             std::string(kSayWhen);
    }
    std::int64_t total = 0;
    std::size_t end = keyword->end;
    while (part) {  // "in 1h 30m": later parts only when they read as durations too
      total = add_capped(total, part->first);
      end = part->second;
      part = duration_part(text, end);
    }
    return ParsedWhen{RelativeWhen{std::chrono::seconds(total)}, trim(text.substr(end))};
  }
  if (kw == "at") {
    const auto first = word_at(text, keyword->end);
    if (!first) return std::string(kSayWhen);
    if (auto hm = clock_time(first->text)) {
      LocalWhen when;
      when.hour = hm->first;
      when.minute = hm->second;
      return ParsedWhen{when, trim(text.substr(first->end))};
    }
    if (auto date = calendar_date(first->text)) {
      const auto time_word = word_at(text, first->end);
      const auto hm = time_word ? clock_time(time_word->text) : std::nullopt;
      if (!hm) {
        return (time_word ? quoted(time_word->text) + " is not a time (HH:MM, 00:00 to 23:59). "
                          : std::string("A time is needed after the date (HH:MM). ")) +
               std::string(kSayWhen);
      }
      date->hour = hm->first;
      date->minute = hm->second;
      return ParsedWhen{*date, trim(text.substr(time_word->end))};
    }
    const bool looks_like_date = first->text.find('-') != std::string_view::npos;
    return quoted(first->text) +
           (looks_like_date ? " is not a date (YYYY-MM-DD). "
                            : " is not a time (HH:MM, 00:00 to 23:59). ") +
           std::string(kSayWhen);
  }
  return std::string(kSayWhen);
}

std::optional<std::string> check_when(std::chrono::system_clock::time_point at,
                                      std::chrono::system_clock::time_point now) {
  if (at <= now) return "That time has already passed.";
  if (at - now > kMaxAhead) return "That is too far ahead: reminders reach at most a year ahead.";
  return std::nullopt;
}

std::string describe_after(std::chrono::seconds after) {
  std::int64_t minutes = (after.count() + 59) / 60;
  if (minutes <= 0) return "in less than a minute";
  const std::int64_t days = minutes / 1440;
  const std::int64_t hours = (minutes % 1440) / 60;
  minutes %= 60;
  std::vector<std::string> parts;
  if (days) parts.push_back(std::to_string(days) + " d");
  if (hours) parts.push_back(std::to_string(hours) + " h");
  if (minutes) parts.push_back(std::to_string(minutes) + " min");
  if (parts.size() > 2) parts.resize(2);
  std::string out = "in";
  for (const auto& p : parts) out += " " + p;
  return out;
}

}  // namespace waddle::actions
