#pragma once
// What a built-in module is: a name (its URL is /modules/<name>), the `!` commands it answers,
// and a handler from a verified request to actions.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "actions/request.hpp"
#include "model/action.hpp"

namespace waddle::pg {
class Pool;
}

namespace waddle::actions {

struct CommandSpec {
  std::string name;  // without the prefix
  std::string description;
};

// What every module gets: the database and the URL its commands point the router at.
struct ModuleEnv {
  pg::Pool& pool;
  std::string location_url;  // <public base URL>/modules/<name>
};

class Module {
 public:
  virtual ~Module() = default;
  virtual std::string_view name() const = 0;
  // The `!` commands registered in `commands` for this module on start.
  virtual std::vector<CommandSpec> commands() const = 0;
  // After the fixed commands are registered, with the io_context not yet running: rows the module
  // keeps in `commands` itself (custom commands) are brought up to date here. Blocking.
  virtual void on_start() {}
  // Bad input from chat is answered in chat (a usage line), not thrown. Throws waddle::Error for
  // what the caller should see as an HTTP error (the database unreachable: unavailable).
  virtual boost::asio::awaitable<std::vector<model::Action>> handle(
      const ModuleRequest& request) = 0;
};

// One chat action with `text`.
std::vector<model::Action> say(std::string text);

// "Sorry Alice, only moderators and above can <what>."
std::string role_refusal(const ModuleRequest& request, Role needed, std::string_view what);

// "moderators and above", "admins and above", "the owner", "everyone".
std::string role_audience(Role role);

// The modules waddle-actiond knows, in the order they are documented.
std::vector<std::string> known_modules();
// nullptr when `name` is not one of known_modules().
std::unique_ptr<Module> make_module(std::string_view name, ModuleEnv env);

}  // namespace waddle::actions
