#pragma once
// Custom commands: moderators add `!name` with a text, and anyone's `!name` answers with that
// text, its variables expanded (actions/variables.hpp).
//   !command add !name [-cd=SECONDS] [-ul=ROLE] <text>
//   !command edit !name [-cd=SECONDS] [-ul=ROLE] [<text>]
//   !command remove !name
//   !command list
// -cd is the per-command cooldown (0..86400 s; a use during it is ignored silently), -ul the
// lowest role that may use it (member, moderator, admin, owner). Adding `!name` also puts a row
// in `commands` (module custom_commands) so the router sends `!name` here; the row is shared by
// every community with a command of that name and goes when the last one is removed. A name
// that another module owns (`!quote`) cannot be taken.

#include <optional>
#include <string>
#include <string_view>

#include "actions/module.hpp"

namespace waddle::actions {

inline constexpr std::string_view kCustomCommandsModule = "custom_commands";
inline constexpr std::size_t kMaxCustomTextCharacters = 500;
inline constexpr int kMaxCooldownSeconds = 86400;

// The options and text after `!command add|edit !name`.
struct CustomCommandInput {
  std::optional<int> cooldown_seconds;
  std::optional<Role> min_role;
  std::string text;
  std::string error;  // non-empty: what to tell the user (a bad flag value)
};

// Leading -cd=N / --cooldown=N and -ul=ROLE / --role=ROLE words, then the text as typed.
CustomCommandInput parse_custom_command_input(std::string_view rest);

class CustomCommands final : public Module {
 public:
  explicit CustomCommands(ModuleEnv env) : env_(std::move(env)) {}
  std::string_view name() const override { return kCustomCommandsModule; }
  std::vector<CommandSpec> commands() const override;
  // Re-creates the `commands` rows of every stored custom command (pointing at this URL).
  void on_start() override;
  boost::asio::awaitable<std::vector<model::Action>> handle(const ModuleRequest& request) override;

 private:
  boost::asio::awaitable<std::vector<model::Action>> manage(const ModuleRequest& request);
  boost::asio::awaitable<std::vector<model::Action>> add(const ModuleRequest& request,
                                                         const std::string& name,
                                                         CustomCommandInput input);
  boost::asio::awaitable<std::vector<model::Action>> edit(const ModuleRequest& request,
                                                          const std::string& name,
                                                          CustomCommandInput input);
  boost::asio::awaitable<std::vector<model::Action>> remove(const ModuleRequest& request,
                                                            const std::string& name);
  boost::asio::awaitable<std::vector<model::Action>> list(const ModuleRequest& request);
  boost::asio::awaitable<std::vector<model::Action>> run(const ModuleRequest& request);

  ModuleEnv env_;
};

}  // namespace waddle::actions
