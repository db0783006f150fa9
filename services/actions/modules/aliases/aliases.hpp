#pragma once
// Aliases from chat (the seeds' Linux-style aliases): rows of the router's `aliases` table
// (migrations/0002_routing.sql), which the router reloads on its own through NOTIFY
// waddle_changes and expands before it looks a command up.
//   !alias add <alias> <command…>   moderators; `!alias add so !shoutout {arg1}`
//   !alias remove <alias>           moderators
//   !alias list                     anyone
// An alias may not take the name of a registered `!` command (it would hide it, !alias included)
// and must point at one: a `commands` row or another alias of the community.

#include <optional>
#include <string>
#include <string_view>

#include "actions/module.hpp"

namespace waddle::actions {

inline constexpr std::string_view kAliasesModule = "aliases";
inline constexpr std::size_t kMaxExpansionCharacters = 500;
inline constexpr int kMaxAliasesPerCommunity = 100;

// "!So" or "so" -> "so"; empty when it is not ^[a-z0-9][a-z0-9_-]{0,63}$ once lower-cased.
std::string alias_name_arg(std::string_view word);

// What an expansion runs: its prefix ('!' or '#') and lower-cased command name, or an error to
// show when the expansion does not start with a command.
struct ExpansionTarget {
  char prefix = 0;
  std::string command;
  std::string error;
};
ExpansionTarget parse_expansion(std::string_view expansion);

class Aliases final : public Module {
 public:
  explicit Aliases(ModuleEnv env) : env_(std::move(env)) {}
  std::string_view name() const override { return kAliasesModule; }
  std::vector<CommandSpec> commands() const override;
  boost::asio::awaitable<std::vector<model::Action>> handle(const ModuleRequest& request) override;

 private:
  boost::asio::awaitable<std::vector<model::Action>> add(const ModuleRequest& request);
  boost::asio::awaitable<std::vector<model::Action>> remove(const ModuleRequest& request);
  boost::asio::awaitable<std::vector<model::Action>> list(const ModuleRequest& request);

  ModuleEnv env_;
};

}  // namespace waddle::actions
