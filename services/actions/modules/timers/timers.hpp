#pragma once
// Timers (seeds' cron trigger modules): a message posted in a channel every N minutes, but only
// when at least min_chat_lines chat lines were said there since its last post, so a quiet channel
// is not flooded. Tables: timers (0013); each enabled timer has one pending scheduled_messages row
// (kind "timer", ref_id = timers.id) that the scheduler fires, after restarts too.
//   !timer add <name> <minutes> <text>   moderators; minutes 5..1440, text up to 400 characters
//   !timer remove <name>                 moderators; cancels its pending post
//   !timer on|off <name>                 moderators
//   !timer list                          everyone
// Module config (command_permissions.config): "min_chat_lines" (default 5, 0..100000), the lines
// a timer added from then on waits for.

#include <string_view>

#include "actions/module.hpp"

namespace waddle::actions {

inline constexpr std::string_view kTimersModule = "timers";
inline constexpr std::string_view kTimerKind = "timer";
inline constexpr int kMinTimerMinutes = 5;
inline constexpr int kMaxTimerMinutes = 1440;
inline constexpr std::size_t kMaxTimerCharacters = 400;
inline constexpr int kDefaultMinChatLines = 5;
inline constexpr std::size_t kMaxTimersPerCommunity = 20;

class Timers final : public Module {
 public:
  explicit Timers(ModuleEnv env) : env_(std::move(env)) {}
  std::string_view name() const override { return kTimersModule; }
  std::vector<CommandSpec> commands() const override;
  boost::asio::awaitable<std::vector<model::Action>> handle(const ModuleRequest& request) override;
  // Posts the timer's text when enough chat lines were said since its last post, else skips this
  // time; either way schedules the next occurrence (none once the timer is gone or off).
  boost::asio::awaitable<DueResult> on_due(const ScheduledItem& item) override;

 private:
  boost::asio::awaitable<std::vector<model::Action>> add(const ModuleRequest& request);
  boost::asio::awaitable<std::vector<model::Action>> remove(const ModuleRequest& request);
  boost::asio::awaitable<std::vector<model::Action>> toggle(const ModuleRequest& request, bool on);
  boost::asio::awaitable<std::vector<model::Action>> list(const ModuleRequest& request);

  ModuleEnv env_;
};

}  // namespace waddle::actions
