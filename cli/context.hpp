#pragma once
// What every `waddle` subcommand shares: global options, the output format, the database
// connection (opened on first use) and audited write transactions.

#include <functional>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <string>

#include "output.hpp"

namespace waddle::cli {

struct GlobalOptions {
  std::string database_url;                                // --database-url
  std::string config_path = "/etc/waddlebot/waddle.yaml";  // -c/--config
  bool config_given = false;
  bool json = false;                       // --json
  bool quiet = false;                      // -q/--quiet
  std::string run_dir = "/run/waddlebot";  // --run-dir: where the admin sockets live
};

class Context {
 public:
  Context(std::ostream& out, std::ostream& err) : out_(out), err_(err) {}

  GlobalOptions options;
  Format format() const;
  std::ostream& out() { return out_; }
  std::ostream& err() { return err_; }

  // --database-url, else $WADDLE_DATABASE_URL, else database.url in the config file; none of
  // them: Error(invalid_argument) saying where to put it.
  std::string database_url();
  // The connection, opened on first use; Error(unavailable) when the server cannot be reached.
  pqxx::connection& db();

  // Runs `body` in one transaction, records the acting OS user, `action`, `target` and `details`
  // in admin_audit_log in the same transaction, and commits. Nothing is written when `body`
  // throws. Postgres errors come out as waddle::Error with a one-line message.
  nlohmann::json write(const std::string& action, const std::string& target,
                       const std::function<nlohmann::json(pqxx::work&)>& body,
                       nlohmann::json details = nlohmann::json::object());
  // Runs `body` in a read-only transaction.
  nlohmann::json read(const std::function<nlohmann::json(pqxx::work&)>& body);

  // The OS user running the command (login name, else "uid=N").
  static std::string actor();
  // The admin socket of daemon `name` under --run-dir.
  std::string socket_path(const std::string& name) const {
    return options.run_dir + "/" + name + ".sock";
  }

 private:
  std::ostream& out_;
  std::ostream& err_;
  std::unique_ptr<pqxx::connection> db_;
};

// Converts a libpqxx/Postgres exception into waddle::Error with a one-line message: duplicates →
// invalid_argument "… already exists", CHECK/trigger refusals → invalid_argument with the reason,
// a lost connection → unavailable. Other exceptions are rethrown unchanged.
[[noreturn]] void rethrow_as_error(const std::exception& e);

// Rows of a result as JSON objects (column name → value; NULL → null; booleans, integers and
// json/jsonb columns typed, everything else as text).
nlohmann::json rows_to_json(const pqxx::result& result);
nlohmann::json row_to_json(const pqxx::row& row);

// The community with this name (or numeric id): its row as JSON; Error(not_found) otherwise.
nlohmann::json find_community(pqxx::work& tx, const std::string& name_or_id);

}  // namespace waddle::cli
