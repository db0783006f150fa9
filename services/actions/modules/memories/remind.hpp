#pragma once
// !remind, part of the memories module (seeds 004 "reminders"): anyone, to themself, in the
// channel they asked in. Reminders are scheduled_messages rows (module memories, kind reminder)
// that the scheduler delivers through the router, after restarts too.
//   !remind in 10m <text> | in 2h30m | in 1d | at 18:00 | at 2026-12-24 18:00   (when.hpp)
//   !remind list           your pending reminders in this community
//   !remind cancel <id>    yours; moderators any of the community's
// The reminder says "@alice, reminder: <text>". "at" times are in the community's time zone
// (communities.config->>'timezone', an IANA name; UTC when unset or unknown), converted by
// PostgreSQL's time zone database. Limits: text 1..400 characters, at most a year ahead, at
// most kMaxPendingReminders pending per user per community.

#include <cstddef>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "actions/module.hpp"

namespace waddle::actions {

inline constexpr std::string_view kReminderKind = "reminder";
inline constexpr std::size_t kMaxReminderCharacters = 400;
inline constexpr std::size_t kMaxPendingReminders = 10;

class Reminders {
 public:
  explicit Reminders(const ModuleEnv& env) : env_(env) {}
  static CommandSpec command();
  boost::asio::awaitable<std::vector<model::Action>> handle(const ModuleRequest& request);

 private:
  boost::asio::awaitable<std::vector<model::Action>> add(const ModuleRequest& request);
  boost::asio::awaitable<std::vector<model::Action>> list(const ModuleRequest& request);
  boost::asio::awaitable<std::vector<model::Action>> cancel(const ModuleRequest& request);

  const ModuleEnv& env_;
};

}  // namespace waddle::actions
