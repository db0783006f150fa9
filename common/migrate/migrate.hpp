#pragma once
// The schema migration runner behind `waddle migrate`: finds migrations/NNNN_name.sql, applies the
// pending ones in order, each in its own transaction together with its schema_migrations row, and
// refuses to run when an applied migration was edited or removed. Blocking libpqxx, because it runs
// from the CLI and from tests, never on a daemon's event loop.

#include <exception>
#include <functional>
#include <pqxx/connection>
#include <string>
#include <vector>

namespace waddle::migrate {

struct Migration {
  int version = 0;       // NNNN
  std::string name;      // the file name, e.g. "0002_routing.sql"
  std::string path;      // full path of the file
  std::string sql;       // the file's bytes
  std::string checksum;  // lower-case hex SHA-256 of the file's bytes
};

// The migrations in dir, ordered by version. Only *.sql files are considered (README.md and the
// like are ignored); a .sql file not named NNNN_name.sql, an empty one, a version 0000 or a
// duplicate version is a waddle::Error(invalid_argument) naming the file. A missing directory is
// Errc::not_found.
std::vector<Migration> discover(const std::string& dir);

struct AppliedMigration {
  int version = 0;
  std::string name;
  std::string checksum;
  std::string applied_at;  // UTC, ISO 8601 ("2026-01-01T12:00:00Z")
  std::string applied_by;
};

struct Status {
  std::vector<AppliedMigration> applied;  // by version
  std::vector<Migration> pending;         // by version
  // One line per applied migration whose file changed, was renamed or is missing.
  std::vector<std::string> problems;
};

// What is applied and what is pending; reads only (never creates schema_migrations).
Status status(pqxx::connection& conn, const std::vector<Migration>& migrations);

struct ApplyResult {
  std::vector<Migration> applied;  // with dry_run: what would have been applied
};

// Applies the pending migrations in version order. Holds a session advisory lock so that two
// migrators on one database run one after the other (waiting at most a minute, then
// Errc::timeout), and decides what is pending only once it holds the lock. Throws
// Errc::conflict naming the file when an applied migration's file changed or is missing, before
// applying anything. A failing migration is rolled back, nothing after it runs, and the
// waddle::Error names the file and carries Postgres' message; the ones before it stay applied.
// A file that ends the transaction itself (COMMIT/ROLLBACK) is refused (invalid_argument).
// on_apply (may be empty) is called just before each migration runs, or, with dry_run, for each
// one that would run; dry_run changes nothing in the database.
ApplyResult apply(pqxx::connection& conn, const std::vector<Migration>& migrations, bool dry_run,
                  std::string applied_by, std::function<void(const Migration&)> on_apply);

// $WADDLE_MIGRATIONS_DIR, else /usr/share/waddlebot/migrations when it exists, else the source
// tree's migrations/.
std::string default_migrations_dir();

// One clean line for a libpqxx/Postgres error: the message without "ERROR:" and the query echo,
// plus the line within the query and the SQLSTATE when known, e.g.
// "relation \"x\" does not exist (line 3, SQLSTATE 42P01)".
std::string describe_pg_error(const std::exception& e);

}  // namespace waddle::migrate
