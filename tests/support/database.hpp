#pragma once
// A PostgreSQL database of its own for one test: created on the test cluster's server, dropped
// (WITH FORCE) on destruction, so the shared `waddle` database is never touched. With
// `migrated`, the shipped migrations are applied, as `waddle migrate` would.

#include <string>

namespace waddle::test {

class FreshDatabase {
 public:
  explicit FreshDatabase(bool migrated = false);
  ~FreshDatabase();
  FreshDatabase(const FreshDatabase&) = delete;
  FreshDatabase& operator=(const FreshDatabase&) = delete;
  const std::string& url() const { return url_; }
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  std::string url_;
};

// `url` with its database name replaced by `db`.
std::string with_database(const std::string& url, const std::string& db);

// Runs one statement outside a transaction on the cluster's `waddle` database.
void run_admin(const std::string& sql);

}  // namespace waddle::test
