#pragma once
// The table of admin commands a daemon answers (Knot's knotc cmd_table): each command has a name,
// a one-line summary, read or write access and a handler. list-commands and help come built in.

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "ctl/protocol.hpp"

namespace waddle::ctl {

// Read commands only look; write commands change the daemon's state (shown by list-commands
// and in the audit line; access to the socket itself is by file permission).
enum class Access { read, write };
std::string_view access_name(Access access) noexcept;

using Handler = std::function<boost::asio::awaitable<Reply>(const Call&)>;
using SyncHandler = std::function<Reply(const Call&)>;

struct CommandInfo {
  std::string name;
  std::string summary;
  Access access = Access::read;
};

class Registry {
 public:
  Registry();  // registers list-commands and help
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Names are lowercase letters, digits and '-', starting with a letter or digit. Throws
  // Error(conflict) for a name already registered, Error(invalid_argument) for a bad name or an
  // empty handler. Add every command before the server starts; dispatch does not lock.
  void add(std::string name, std::string summary, Access access, Handler handler);
  // A handler that answers without waiting for anything.
  void add(std::string name, std::string summary, Access access, SyncHandler handler);

  bool contains(std::string_view name) const;
  // Every command, sorted by name.
  std::vector<CommandInfo> commands() const;

  // Runs the command's handler and never throws: an unknown command gives result 2, a handler
  // that throws waddle::Error gives ctl_result(code) with its message, any other exception gives
  // result 1 "internal error" (reported to the internal-error hook), and arguments that are
  // neither an object nor null are refused as an internal error.
  boost::asio::awaitable<Reply> dispatch(const Call& call) const;

  // Told about every exception that is not a waddle::Error, so the daemon can log the details
  // that the caller does not see.
  void set_internal_error_hook(std::function<void(const Call&, std::string_view what)> hook);

 private:
  struct Entry {
    CommandInfo info;
    Handler handler;
  };

  Reply internal_error(const Call& call, std::string_view what) const;
  Reply list_commands() const;
  Reply help(const Call& call) const;

  std::map<std::string, Entry, std::less<>> commands_;
  std::function<void(const Call&, std::string_view)> internal_error_hook_;
};

}  // namespace waddle::ctl
