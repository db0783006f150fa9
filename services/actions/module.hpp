#pragma once
// What a built-in module is: a name (its URL is /modules/<name>), the `!` commands it answers,
// and a handler from a verified request to actions.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "actions/request.hpp"
#include "actions/schedule.hpp"
#include "model/action.hpp"

namespace waddle::pg {
class Pool;
}

namespace waddle::actions {

struct CommandSpec {
  std::string name;  // without the prefix
  std::string description;
};

// Messages outside any request (reminders, timers, calendar reminders, a whisper to another
// platform): handed to the router's POST /router/messages, which delivers chat, whisper and role
// actions to the collector serving the channel and publishes overlay actions.
class Outbox {
 public:
  virtual ~Outbox() = default;
  // Throws waddle::Error: unavailable when the router cannot be reached or could not deliver
  // (worth a retry later); invalid_argument, not_found or forbidden when a retry cannot help.
  virtual boost::asio::awaitable<void> send(std::string entity_id,
                                            std::vector<model::Action> actions,
                                            std::string module_name) = 0;
};

// What every module gets: the database, the URL its commands point the router at, and the outbox
// (null when actions.router_url is not configured: no messages outside requests).
struct ModuleEnv {
  pg::Pool& pool;
  std::string location_url;  // <public base URL>/modules/<name>
  Outbox* outbox = nullptr;
};

// What a module says when one of its scheduled items is due.
struct DueResult {
  std::vector<model::Action> actions;    // delivered now; empty: nothing this time
  std::optional<NewScheduledItem> next;  // the next occurrence, scheduled in the same
                                         // transaction that finishes this one
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
  // One of this module's scheduled items is due (claimed by this worker). The default delivers
  // item.actions as they are. Throws waddle::Error(unavailable) to be retried later.
  virtual boost::asio::awaitable<DueResult> on_due(const ScheduledItem& item);
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
