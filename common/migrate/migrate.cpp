#include "migrate/migrate.hpp"

#include "crypto/hash.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <pqxx/pqxx>
#include <regex>
#include <sstream>

#include "error/error.hpp"

namespace waddle::migrate {
namespace {

namespace fs = std::filesystem;

// Session advisory lock key shared by every `waddle migrate` ("WADDLE" + 1). Advisory locks are
// per database, so migrators of different databases never wait for each other.
constexpr long long kLockKey = 0x5741'4444'4c45'0001LL;
constexpr const char* kLockWait = "60s";

constexpr const char* kCreateTable = R"sql(
create table if not exists schema_migrations (
  version integer primary key,
  name text not null,
  checksum text not null,
  applied_at timestamptz not null default now(),
  applied_by text not null
))sql";

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(Errc::invalid_argument, "cannot read migration " + path.string());
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad()) throw Error(Errc::invalid_argument, "cannot read migration " + path.string());
  return out.str();
}

bool blank(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isspace(c); });
}

std::vector<AppliedMigration> read_applied(pqxx::transaction_base& tx) {
  std::vector<AppliedMigration> applied;
  auto exists = tx.exec("select to_regclass('schema_migrations') is not null");
  if (!exists[0][0].as<bool>()) return applied;
  auto rows = tx.exec(
      "select version, name, checksum, "
      "to_char(applied_at at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), applied_by "
      "from schema_migrations order by version");
  for (const auto& row : rows) {
    applied.push_back({row[0].as<int>(), row[1].as<std::string>(), row[2].as<std::string>(),
                       row[3].as<std::string>(), row[4].as<std::string>()});
  }
  return applied;
}

std::string short_sum(const std::string& checksum) {
  return checksum.substr(0, 12) + "…";
}

Status compare(std::vector<AppliedMigration> applied, const std::vector<Migration>& migrations) {
  Status st;
  std::map<int, const Migration*> by_version;
  for (const auto& m : migrations) by_version[m.version] = &m;
  std::map<int, const AppliedMigration*> done;
  for (const auto& a : applied) {
    done[a.version] = &a;
    auto it = by_version.find(a.version);
    if (it == by_version.end()) {
      st.problems.push_back("migration " + a.name + " was applied but its file is missing");
    } else if (it->second->name != a.name) {
      st.problems.push_back("migration " + a.name + " was applied but the file is now named " +
                            it->second->name);
    } else if (it->second->checksum != a.checksum) {
      st.problems.push_back("migration " + a.name + " was changed after it was applied (checksum " +
                            short_sum(a.checksum) + " applied, " + short_sum(it->second->checksum) +
                            " on disk)");
    }
  }
  for (const auto& m : migrations) {
    if (!done.count(m.version)) st.pending.push_back(m);
  }
  std::sort(st.pending.begin(), st.pending.end(),
            [](const Migration& a, const Migration& b) { return a.version < b.version; });
  st.applied = std::move(applied);
  return st;
}

void refuse_problems(const Status& st) {
  if (st.problems.empty()) return;
  std::string message;
  for (const auto& p : st.problems) message += (message.empty() ? "" : "; ") + p;
  throw Error(Errc::conflict, message + "; nothing was applied");
}

// Holds the migrators' advisory lock for its lifetime.
class MigrationLock {
 public:
  explicit MigrationLock(pqxx::connection& conn) : conn_(conn) {
    pqxx::nontransaction tx(conn_);
    auto previous = tx.exec("show lock_timeout")[0][0].as<std::string>();
    tx.exec(std::string("set lock_timeout = '") + kLockWait + "'");
    try {
      tx.exec_params("select pg_advisory_lock($1)", kLockKey);
    } catch (const pqxx::sql_error& e) {
      tx.exec_params("select set_config('lock_timeout', $1, false)", previous);
      if (e.sqlstate() == "55P03") {
        throw Error(Errc::timeout,
                    std::string("another migration has held the migration lock for ") + kLockWait +
                        "; try again when it has finished");
      }
      throw;
    }
    tx.exec_params("select set_config('lock_timeout', $1, false)", previous);
  }
  ~MigrationLock() {
    try {
      pqxx::nontransaction tx(conn_);
      tx.exec_params("select pg_advisory_unlock($1)", kLockKey);
    } catch (...) {
      // A broken connection has released the session lock already.
    }
  }
  MigrationLock(const MigrationLock&) = delete;
  MigrationLock& operator=(const MigrationLock&) = delete;

 private:
  pqxx::connection& conn_;
};

void run_one(pqxx::connection& conn, const Migration& m, const std::string& applied_by) {
  try {
    pqxx::work tx(conn);
    // A COMMIT or ROLLBACK inside the file would end our transaction early and break the
    // all-or-nothing promise; a changed transaction id gives it away.
    const auto xid = tx.exec("select txid_current()")[0][0].as<std::string>();
    tx.exec(m.sql);
    if (tx.exec("select txid_current()")[0][0].as<std::string>() != xid) {
      throw Error(Errc::invalid_argument,
                  "migration " + m.name +
                      " ends its transaction (COMMIT or ROLLBACK in the file); it was not "
                      "recorded and may be partly applied: remove the statement and check the "
                      "database");
    }
    tx.exec_params(
        "insert into schema_migrations (version, name, checksum, applied_by) "
        "values ($1, $2, $3, $4)",
        m.version, m.name, m.checksum, applied_by);
    tx.commit();
  } catch (const pqxx::broken_connection& e) {
    throw Error(
        Errc::unavailable,
        "migration " + m.name + " failed: lost the database connection: " + describe_pg_error(e));
  } catch (const pqxx::sql_error& e) {
    throw Error(Errc::internal, "migration " + m.name + " failed: " + describe_pg_error(e));
  }
}

}  // namespace

std::vector<Migration> discover(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    throw Error(Errc::not_found, "migrations directory " + dir + " does not exist");
  }
  static const std::regex kName(R"(^([0-9]{4})_([A-Za-z0-9][A-Za-z0-9_-]*)\.sql$)");
  std::vector<Migration> found;
  std::map<int, std::string> seen;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const auto file = entry.path().filename().string();
    if (entry.path().extension() != ".sql") continue;
    std::smatch match;
    if (!std::regex_match(file, match, kName)) {
      throw Error(Errc::invalid_argument,
                  "migration file " + entry.path().string() + " is not named NNNN_description.sql");
    }
    if (!entry.is_regular_file()) {
      throw Error(Errc::invalid_argument,
                  "migration " + entry.path().string() + " is not a regular file");
    }
    Migration m;
    m.version = std::stoi(match[1].str());
    if (m.version == 0) {
      throw Error(Errc::invalid_argument,
                  "migration file " + entry.path().string() + " has version 0000; start at 0001");
    }
    if (auto it = seen.find(m.version); it != seen.end()) {
      auto [first, second] = std::minmax(it->second, file);
      throw Error(Errc::invalid_argument, "migrations " + first + " and " + second + " in " + dir +
                                              " have the same version " + match[1].str());
    }
    seen[m.version] = file;
    m.name = file;
    m.path = entry.path().string();
    m.sql = read_file(entry.path());
    if (blank(m.sql)) throw Error(Errc::invalid_argument, "migration " + m.path + " is empty");
    m.checksum = crypto::sha256_hex(m.sql);
    found.push_back(std::move(m));
  }
  std::sort(found.begin(), found.end(),
            [](const Migration& a, const Migration& b) { return a.version < b.version; });
  return found;
}

Status status(pqxx::connection& conn, const std::vector<Migration>& migrations) {
  std::vector<AppliedMigration> applied;
  {
    pqxx::read_transaction tx(conn);
    applied = read_applied(tx);
  }
  return compare(std::move(applied), migrations);
}

ApplyResult apply(pqxx::connection& conn, const std::vector<Migration>& migrations, bool dry_run,
                  std::string applied_by, std::function<void(const Migration&)> on_apply) {
  ApplyResult result;
  if (dry_run) {
    auto st = status(conn, migrations);
    refuse_problems(st);
    for (const auto& m : st.pending) {
      if (on_apply) on_apply(m);
      result.applied.push_back(m);
    }
    return result;
  }

  MigrationLock lock(conn);
  {
    pqxx::nontransaction tx(conn);
    tx.exec(kCreateTable);
  }
  // Decided under the lock: a migrator that waited sees what the other one applied.
  auto st = status(conn, migrations);
  refuse_problems(st);
  for (const auto& m : st.pending) {
    if (on_apply) on_apply(m);
    run_one(conn, m, applied_by);
    result.applied.push_back(m);
  }
  return result;
}

std::string default_migrations_dir() {
  if (const char* env = std::getenv("WADDLE_MIGRATIONS_DIR"); env && *env) return env;
  std::error_code ec;
  if (fs::is_directory("/usr/share/waddlebot/migrations", ec)) {
    return "/usr/share/waddlebot/migrations";
  }
  return WADDLE_SOURCE_MIGRATIONS_DIR;
}

std::string describe_pg_error(const std::exception& e) {
  std::istringstream lines(e.what());
  std::string line, message, position;
  while (std::getline(lines, line)) {
    // libpq indents continuation lines with tabs.
    auto start = line.find_first_not_of(" \t");
    if (start == std::string::npos) continue;
    line = line.substr(start);
    if (message.empty()) {
      for (const char* severity : {"ERROR:", "FATAL:", "PANIC:"}) {
        if (line.rfind(severity, 0) == 0) {
          line = line.substr(std::string(severity).size());
          line = line.substr(std::min(line.size(), line.find_first_not_of(' ')));
          break;
        }
      }
      message = line;
    } else if (position.empty() && line.rfind("LINE ", 0) == 0) {
      position = line.substr(0, line.find(':'));
      for (auto& c : position) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  if (message.empty()) message = "unknown database error";
  std::string detail = position;
  if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e); sql && !sql->sqlstate().empty()) {
    detail += (detail.empty() ? "" : ", ") + std::string("SQLSTATE ") + sql->sqlstate();
  }
  if (!detail.empty()) message += " (" + detail + ")";
  return message;
}

}  // namespace waddle::migrate
