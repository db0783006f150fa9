#include "actions/module.hpp"

#include <iterator>

#include "actions/modules/aliases/aliases.hpp"
#include "actions/modules/calendar/calendar.hpp"
#include "actions/modules/custom_commands/custom_commands.hpp"
#include "actions/modules/identity/identity.hpp"
#include "actions/modules/inventory/inventory.hpp"
#include "actions/modules/labels/labels.hpp"
#include "actions/modules/memories/memories.hpp"
#include "actions/modules/ping/ping.hpp"
#include "actions/modules/reputation/reputation.hpp"
#include "actions/modules/timers/timers.hpp"

namespace waddle::actions {

boost::asio::awaitable<DueResult> Module::on_due(const ScheduledItem& item) {
  co_return DueResult{.actions = item.actions, .next = std::nullopt};
}

std::vector<model::Action> say(std::string text) {
  return {model::ChatAction{.text = std::move(text)}};
}

std::string role_audience(Role role) {
  switch (role) {
    case Role::owner: return "the owner";
    case Role::admin: return "admins and above";
    case Role::moderator: return "moderators and above";
    case Role::member: break;
  }
  return "everyone";
}

std::string role_refusal(const ModuleRequest& request, Role needed, std::string_view what) {
  return "Sorry " + request.user_display_name + ", only " + role_audience(needed) + " can " +
         std::string(what) + ".";
}

std::vector<std::string> known_modules() {
  constexpr std::string_view kNames[] = {
      kCustomCommandsModule, kMemoriesModule, kPingModule,   kLabelsModule,   kReputationModule,
      kInventoryModule,      kAliasesModule,  kTimersModule, kIdentityModule, kCalendarModule,
  };
  return {std::begin(kNames), std::end(kNames)};
}

std::unique_ptr<Module> make_module(std::string_view name, ModuleEnv env) {
  if (name == kCustomCommandsModule) return std::make_unique<CustomCommands>(std::move(env));
  if (name == kMemoriesModule) return std::make_unique<Memories>(std::move(env));
  if (name == kPingModule) return std::make_unique<Ping>();
  if (name == kLabelsModule) return std::make_unique<Labels>(std::move(env));
  if (name == kReputationModule) return std::make_unique<Reputation>(std::move(env));
  if (name == kInventoryModule) return std::make_unique<Inventory>(std::move(env));
  if (name == kAliasesModule) return std::make_unique<Aliases>(std::move(env));
  if (name == kTimersModule) return std::make_unique<Timers>(std::move(env));
  if (name == kCalendarModule) return std::make_unique<Calendar>(std::move(env));
  if (name == kIdentityModule) return std::make_unique<Identity>(std::move(env));
  return nullptr;
}

}  // namespace waddle::actions
