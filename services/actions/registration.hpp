#pragma once
// What waddle-actiond keeps in the shared tables: each module's signing secret
// (module_secrets, migrations/0006) and its `!` commands (commands, migrations/0002).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "actions/module.hpp"

namespace pqxx {
class transaction_base;
}
namespace waddle::pg {
class Pool;
}

namespace waddle::actions {

// The module's secret, created first (32 random bytes as 64 hex digits) when it has none. Racing
// creators agree: the insert does nothing on conflict and everybody reads the stored row back.
// Blocking; throws waddle::Error(unavailable) when the database cannot be reached.
std::string ensure_module_secret(pg::Pool& pool, std::string_view module_name);

// The stored secret, nullopt when the row is gone (rotation deletes nothing, but an operator may).
boost::asio::awaitable<std::optional<std::string>> load_module_secret(pg::Pool& pool,
                                                                      std::string module_name);

// Upserts one `commands` row per spec: prefix '!', location 'internal', type 'container', the
// module's URL and name. Idempotent; an existing row of the same (prefix, command) is taken over.
// Blocking.
void register_commands(pg::Pool& pool, std::string_view module_name, std::string_view location_url,
                       const std::vector<CommandSpec>& commands);
// The same inside the caller's transaction (`waddle module install`).
void register_commands(pqxx::transaction_base& tx, std::string_view module_name,
                       std::string_view location_url, const std::vector<CommandSpec>& commands);

// The `!` commands of built-in module `name` (one of known_modules()), without a database;
// nullopt for any other name.
std::optional<std::vector<CommandSpec>> builtin_commands(std::string_view name);

}  // namespace waddle::actions
