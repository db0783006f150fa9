#include "actions/registration.hpp"

#include <algorithm>

#include <pqxx/pqxx>

#include "crypto/encoding.hpp"
#include "crypto/random.hpp"
#include "pg/pool.hpp"

namespace waddle::actions {

std::string ensure_module_secret(pg::Pool& pool, std::string_view module_name) {
  const std::string candidate = crypto::hex_encode(crypto::random_bytes(32));
  const std::string name(module_name);
  return pool.transaction_sync([&](pqxx::work& tx) {
    tx.exec_params(
        "insert into module_secrets (module_name, secret, created_by) values ($1, $2, "
        "'waddle-actiond') on conflict (module_name) do nothing",
        name, candidate);
    return tx.exec_params1("select secret from module_secrets where module_name = $1", name)[0]
        .as<std::string>();
  });
}

boost::asio::awaitable<std::optional<std::string>> load_module_secret(pg::Pool& pool,
                                                                      std::string module_name) {
  // Named: g++ 12 destroys a capturing lambda temporary in a co_await expression twice.
  auto read = [name =
                   std::move(module_name)](pqxx::connection& conn) -> std::optional<std::string> {
    pqxx::nontransaction tx(conn);
    auto rows = tx.exec_params("select secret from module_secrets where module_name = $1", name);
    if (rows.empty()) return std::nullopt;
    return rows[0][0].as<std::string>();
  };
  co_return co_await pool.run(std::move(read));
}

void register_commands(pg::Pool& pool, std::string_view module_name, std::string_view location_url,
                       const std::vector<CommandSpec>& commands) {
  pool.transaction_sync(
      [&](pqxx::work& tx) { register_commands(tx, module_name, location_url, commands); });
}

std::optional<std::vector<CommandSpec>> builtin_commands(std::string_view name) {
  const auto names = known_modules();
  if (std::find(names.begin(), names.end(), name) == names.end()) return std::nullopt;
  // The modules only keep the pool's reference until a request comes: it never connects here.
  pg::Pool unused(
      pg::PoolOptions{.primary_url = "postgresql:///unused", .size = 1, .worker_threads = 1});
  return make_module(name, ModuleEnv{unused, "", nullptr})->commands();
}

void register_commands(pqxx::transaction_base& tx, std::string_view module_name,
                       std::string_view location_url, const std::vector<CommandSpec>& commands) {
  const std::string name(module_name);
  const std::string url(location_url);
  for (const auto& command : commands) {
    tx.exec_params(
        "insert into commands (command, prefix, description, location_url, location, type, "
        "module_name, module_type) values ($1, '!', $2, $3, 'internal', 'container', $4, "
        "'action') on conflict (prefix, command) do update set description = "
        "excluded.description, location_url = excluded.location_url, location = "
        "excluded.location, type = excluded.type, module_name = excluded.module_name, "
        "is_active = true",
        command.name, command.description, url, name);
  }
}

}  // namespace waddle::actions
