#include "support/database.hpp"

#include <unistd.h>

#include <atomic>
#include <pqxx/pqxx>

#include "migrate/migrate.hpp"
#include "support/cluster.hpp"

namespace waddle::test {

std::string with_database(const std::string& url, const std::string& db) {
  auto scheme = url.find("://");
  auto slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  auto query = url.find('?');
  std::string tail = query == std::string::npos ? "" : url.substr(query);
  return url.substr(0, slash) + "/" + db + tail;
}

void run_admin(const std::string& sql) {
  pqxx::connection conn(database_url());
  pqxx::nontransaction tx(conn);
  tx.exec(sql);
}

FreshDatabase::FreshDatabase(bool migrated) {
  static std::atomic<int> counter{0};
  name_ = "waddle_test_" + std::to_string(::getpid()) + "_" + std::to_string(++counter);
  run_admin("drop database if exists " + name_ + " with (force)");
  run_admin("create database " + name_);
  url_ = with_database(database_url(), name_);
  if (migrated) {
    pqxx::connection conn(url_);
    migrate::apply(conn, migrate::discover(source_dir() + "/migrations"), false, "test", {});
  }
}

FreshDatabase::~FreshDatabase() {
  try {
    run_admin("drop database if exists " + name_ + " with (force)");
  } catch (...) {
  }
}

}  // namespace waddle::test
