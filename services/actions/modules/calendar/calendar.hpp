#pragma once
// Calendar (issue 5): community events with approval, attendance, recurrence and reminders
// (migrations/0014_calendar.sql).
//   !event add <when> <title> [weekly|monthly]   anyone; members' events wait for a moderator
//   !events [n]                                  the next n (1-10, default 3) approved occurrences
//   !event <id>                                  one event, with how many are going
//   !event approve|reject <id>                   moderators
//   !event join|leave <id>                       anyone
//   !event cancel <id>                           moderators, or whoever added it
// Times are read and shown in the community's time zone (communities.config->>'timezone', an
// IANA name, default UTC). An approved event gets a reminder in scheduled_messages (kind "event",
// ref_id = the event) `calendar.remind_minutes` (default 15) before each occurrence; on_due
// rebuilds it from the event's row and schedules the next occurrence of a recurring event.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "actions/module.hpp"
#include "actions/modules/calendar/event_time.hpp"
#include "actions/modules/calendar/time_zone.hpp"

namespace waddle::actions {

inline constexpr std::string_view kCalendarModule = "calendar";
inline constexpr std::string_view kCalendarReminderKind = "event";
inline constexpr std::size_t kMaxEventTitleCharacters = 200;
inline constexpr int kDefaultRemindMinutes = 15;
inline constexpr int kMaxRemindMinutes = 1440;
inline constexpr std::chrono::days kMaxEventAhead{731};  // two years
inline constexpr int kMaxPendingPerUser = 5;

// A community's calendar settings from communities.config: `timezone` and
// `calendar.remind_minutes` as stored (null when absent). An unknown zone is UTC; reminder minutes
// that are not a whole number from 0 to 1440 are the default.
struct CalendarSettings {
  TimeZone zone = TimeZone::utc();
  std::string configured_zone;  // as configured, even when unknown
  int remind_minutes = kDefaultRemindMinutes;
};
CalendarSettings calendar_settings(const std::optional<std::string>& timezone,
                                   const std::optional<std::string>& remind_minutes);

// The reminder said `minutes` before an event starts (0 or less: "Starting now"): a chat line and
// a ticker for the overlay.
std::vector<model::Action> event_reminder(std::string_view title, int minutes, int going);

class Calendar final : public Module {
 public:
  explicit Calendar(ModuleEnv env) : env_(std::move(env)) {}
  std::string_view name() const override { return kCalendarModule; }
  std::vector<CommandSpec> commands() const override;
  boost::asio::awaitable<std::vector<model::Action>> handle(const ModuleRequest& request) override;
  boost::asio::awaitable<DueResult> on_due(const ScheduledItem& item) override;

 private:
  boost::asio::awaitable<std::vector<model::Action>> add(const ModuleRequest& request);
  boost::asio::awaitable<std::vector<model::Action>> list(const ModuleRequest& request);
  boost::asio::awaitable<std::vector<model::Action>> show(const ModuleRequest& request, int id);
  boost::asio::awaitable<std::vector<model::Action>> change(const ModuleRequest& request,
                                                            std::string_view sub);

  ModuleEnv env_;
};

}  // namespace waddle::actions
