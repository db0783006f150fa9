// The calendar's parsers: `<when>` words from chat, POSIX TZ rules and TZif files (the first
// byte picks one). Bad input is refused with nullopt or an error text, never a crash or a hang.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "actions/modules/calendar/event_time.hpp"
#include "actions/modules/calendar/time_zone.hpp"

using namespace waddle::actions;

namespace {

// Exercises a zone at times around now-ish instants, in both directions.
void use_zone(const TimeZone& zone) {
  constexpr std::int64_t kTimes[] = {0, 1'700'000'000, 1'792'000'000, 2'200'000'000};
  for (std::int64_t t : kTimes) {
    const SystemTime at{std::chrono::seconds{t}};
    const LocalDateTime local = zone.to_local(at);
    (void)zone.from_local(local);
    (void)occurrences_from(at, Recurrence::weekly, zone, at + std::chrono::hours(24 * 30), 3);
    (void)occurrences_from(at, Recurrence::monthly, zone, at + std::chrono::hours(24 * 400), 3);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 3) {
    case 0: {
      if (auto zone = TimeZone::from_posix("fuzz", input)) use_zone(*zone);
      break;
    }
    case 1: {
      if (auto zone = TimeZone::from_tzif("fuzz", input)) use_zone(*zone);
      break;
    }
    default: {
      std::vector<std::string> words;
      std::string word;
      for (char c : input) {
        if (c == ' ') {
          if (!word.empty()) words.push_back(word);
          word.clear();
        } else {
          word += c;
        }
      }
      if (!word.empty()) words.push_back(word);
      const LocalDateTime now{.year = 2026, .month = 12, .day = 31, .hour = 23, .weekday = 4};
      const WhenParse parsed = parse_when(words, now);
      if (parsed.when) (void)TimeZone::utc().from_local(*parsed.when);
      break;
    }
  }
  return 0;
}
