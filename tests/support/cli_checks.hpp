#pragma once
// Checks shared by the CLI tests: direct SQL on a test database, a fingerprint of tables to prove
// that a refused command wrote nothing, and the shape of a refusal (exit code, one stderr line).

#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "support/cli.hpp"

namespace waddle::test {

inline pqxx::result sql(const FreshDatabase& db, const std::string& query) {
  pqxx::connection conn(db.url());
  pqxx::work tx(conn);
  auto r = tx.exec(query);
  tx.commit();
  return r;
}

inline long long scalar(const FreshDatabase& db, const std::string& query) {
  return sql(db, query)[0][0].as<long long>();
}

// Every row of `tables` plus admin_audit_log, as one string.
inline std::string fingerprint(const FreshDatabase& db, const std::vector<std::string>& tables) {
  std::string out;
  std::vector<std::string> all = tables;
  all.push_back("admin_audit_log");
  for (const auto& t : all) {
    auto r =
        sql(db, "select coalesce(string_agg(x::text, '|' order by x::text), '') from " + t + " x");
    out += t + ":" + r[0][0].as<std::string>() + "\n";
  }
  return out;
}

inline long long add_community(const FreshDatabase& db, const std::string& name) {
  return scalar(db, "insert into communities (name) values ('" + name + "') returning id");
}

// Runs waddle and checks a refusal: exit `status`, one line on stderr starting "waddle: " and
// containing `needle`, and no change to `tables` or the audit log.
inline void refused(const FreshDatabase& db, const std::vector<std::string>& args, int status,
                    const std::string& needle, const std::vector<std::string>& tables) {
  auto before = fingerprint(db, tables);
  auto r = run_waddle(db, args);
  INFO("args: " << [&] {
    std::string s;
    for (const auto& a : args) s += a + " ";
    return s;
  }());
  INFO("stderr: " << r.err);
  CHECK(r.status == status);
  CHECK(r.err.rfind("waddle: ", 0) == 0);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  CHECK(r.err.find(needle) != std::string::npos);
  CHECK(fingerprint(db, tables) == before);
}

// A refused command: exit `status`, one line on stderr starting "waddle: " and containing `what`,
// nothing on stdout.
inline void check_refused(const ProcessResult& r, int status, const std::string& what) {
  CHECK(r.status == status);
  CHECK(r.err.rfind("waddle: ", 0) == 0);
  CHECK(r.err.find(what) != std::string::npos);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  CHECK(r.out.empty());
}

inline nlohmann::json json_of(const ProcessResult& r) {
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE(r.status == 0);
  return nlohmann::json::parse(r.out);
}

}  // namespace waddle::test
