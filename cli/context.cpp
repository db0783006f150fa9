#include "context.hpp"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>

#include "daemon/daemon.hpp"
#include "error/error.hpp"

namespace waddle::cli {
namespace {

// The first line of a Postgres message without its "ERROR:  " prefix.
std::string first_line(const std::string& what) {
  std::string line = what.substr(0, what.find('\n'));
  for (const char* prefix : {"ERROR:  ", "FATAL:  "}) {
    if (line.rfind(prefix, 0) == 0) line = line.substr(std::string(prefix).size());
  }
  return line;
}

// "DETAIL:  Key (name)=(demo) already exists." → "name 'demo'".
std::string duplicate_key(const std::string& what) {
  auto k = what.find("Key (");
  if (k == std::string::npos) return {};
  auto close = what.find(")=(", k);
  auto end = what.find(") already exists", close);
  if (close == std::string::npos || end == std::string::npos) return {};
  return what.substr(k + 5, close - k - 5) + " '" + what.substr(close + 3, end - close - 3) + "'";
}

std::string redact_url(const std::string& url) {
  // postgresql://user:secret@host → postgresql://user@host
  auto scheme = url.find("://");
  auto at = url.rfind('@');
  if (scheme == std::string::npos || at == std::string::npos || at < scheme) return url;
  auto colon = url.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon) + url.substr(at);
}

}  // namespace

Format Context::format() const {
  if (options.json) return Format::json;
  if (options.quiet) return Format::quiet;
  return Format::table;
}

std::string Context::database_url() {
  if (!options.database_url.empty()) return options.database_url;
  if (const char* env = std::getenv("WADDLE_DATABASE_URL"); env && *env) return env;
  if (options.config_given || access(options.config_path.c_str(), R_OK) == 0) {
    auto loaded = config::load(daemon::shared_schema(), options.config_path);
    if (!loaded.errors.empty()) {
      throw Error(Errc::invalid_argument, loaded.errors.front().to_string());
    }
    if (loaded.config->has("database", "url")) {
      auto url = loaded.config->get_string("database", "url");
      if (!url.empty()) return url;
    }
  }
  throw Error(Errc::invalid_argument,
              "no database: pass --database-url, set WADDLE_DATABASE_URL, or set database.url in " +
                  options.config_path);
}

pqxx::connection& Context::db() {
  if (!db_) {
    auto url = database_url();
    try {
      db_ = std::make_unique<pqxx::connection>(url);
    } catch (const std::exception& e) {
      throw Error(Errc::unavailable, "cannot connect to the database " + redact_url(url) + ": " +
                                         first_line(e.what()));
    }
  }
  return *db_;
}

nlohmann::json Context::write(const std::string& action, const std::string& target,
                              const std::function<nlohmann::json(pqxx::work&)>& body,
                              nlohmann::json details) {
  auto& conn = db();
  try {
    pqxx::work tx(conn);
    auto result = body(tx);
    tx.exec_params(
        "insert into admin_audit_log (actor, action, target, details) values ($1, $2, $3, $4)",
        actor(), action, target, details.dump());
    tx.commit();
    return result;
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    rethrow_as_error(e);
  }
}

nlohmann::json Context::read(const std::function<nlohmann::json(pqxx::work&)>& body) {
  auto& conn = db();
  try {
    pqxx::work tx(conn);
    tx.exec("set transaction read only");
    auto result = body(tx);
    tx.commit();
    return result;
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    rethrow_as_error(e);
  }
}

std::string Context::actor() {
  if (const passwd* pw = getpwuid(getuid()); pw && pw->pw_name) return pw->pw_name;
  return "uid=" + std::to_string(getuid());
}

void rethrow_as_error(const std::exception& e) {
  if (dynamic_cast<const pqxx::broken_connection*>(&e)) {
    throw Error(Errc::unavailable, "lost the database connection: " + first_line(e.what()));
  }
  if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e)) {
    const std::string& state = sql->sqlstate();
    std::string what = e.what();
    if (state == "23505") {
      auto key = duplicate_key(what);
      throw Error(Errc::invalid_argument, key.empty() ? first_line(what) : key + " already exists");
    }
    if (state == "23503") {
      throw Error(Errc::invalid_argument,
                  "refers to something that does not exist, or is still "
                  "referred to: " +
                      first_line(what));
    }
    if (state == "23514" || state == "23502" || state == "22P02" || state == "22023" ||
        state.rfind("WD", 0) == 0 || state == "P0001") {
      throw Error(Errc::invalid_argument, first_line(what));
    }
    if (state.rfind("08", 0) == 0 || state == "57P01") {
      throw Error(Errc::unavailable, "database unavailable: " + first_line(what));
    }
    throw Error(Errc::internal, "database error " + state + ": " + first_line(what));
  }
  throw;
}

nlohmann::json row_to_json(const pqxx::row& row) {
  nlohmann::json obj = nlohmann::json::object();
  for (const auto& field : row) {
    std::string name = field.name();
    if (field.is_null()) {
      obj[name] = nullptr;
      continue;
    }
    switch (field.type()) {
      case 16:  // bool
        obj[name] = std::string(field.c_str()) == "t";
        break;
      case 20:  // int8
      case 21:  // int2
      case 23:  // int4
        obj[name] = field.as<long long>();
        break;
      case 114:   // json
      case 3802:  // jsonb
        obj[name] = nlohmann::json::parse(field.c_str());
        break;
      case 1009: {  // text[]: {a,b,"c d"}
        nlohmann::json arr = nlohmann::json::array();
        auto parser = field.as_array();
        for (auto item = parser.get_next(); item.first != pqxx::array_parser::done;
             item = parser.get_next()) {
          if (item.first == pqxx::array_parser::string_value) arr.push_back(item.second);
        }
        obj[name] = arr;
        break;
      }
      default: obj[name] = field.c_str();
    }
  }
  return obj;
}

nlohmann::json rows_to_json(const pqxx::result& result) {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& row : result) rows.push_back(row_to_json(row));
  return rows;
}

nlohmann::json find_community(pqxx::work& tx, const std::string& name_or_id) {
  auto r = tx.exec_params(
      "select id, name, display_name, is_global, is_active from communities "
      "where name = $1 or ($1 ~ '^[0-9]{1,18}$' and id = $1::bigint)",
      name_or_id);
  if (r.empty()) throw Error(Errc::not_found, "community '" + name_or_id + "' not found");
  return row_to_json(r[0]);
}

}  // namespace waddle::cli
