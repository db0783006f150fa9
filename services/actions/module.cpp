#include "actions/module.hpp"

#include "actions/modules/custom_commands/custom_commands.hpp"
#include "actions/modules/memories/memories.hpp"
#include "actions/modules/ping/ping.hpp"

namespace waddle::actions {

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
  return {std::string(kCustomCommandsModule), std::string(kMemoriesModule),
          std::string(kPingModule)};
}

std::unique_ptr<Module> make_module(std::string_view name, ModuleEnv env) {
  if (name == kCustomCommandsModule) return std::make_unique<CustomCommands>(std::move(env));
  if (name == kMemoriesModule) return std::make_unique<Memories>(std::move(env));
  if (name == kPingModule) return std::make_unique<Ping>();
  return nullptr;
}

}  // namespace waddle::actions
