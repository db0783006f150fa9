// waddle::migrate against the test cluster's PostgreSQL: every test case gets its own freshly
// created database (dropped at the end), so the shared `waddle` database is never touched.
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <pqxx/pqxx>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "crypto/hash.hpp"
#include "error/error.hpp"
#include "migrate/migrate.hpp"
#include "support/cluster.hpp"
#include "support/database.hpp"
#include "support/process.hpp"

namespace fs = std::filesystem;
namespace migrate = waddle::migrate;

namespace {

using waddle::test::FreshDatabase;
using waddle::test::TempDir;

std::string shipped_dir() {
  return waddle::test::source_dir() + "/migrations";
}

// The shipped migrations copied into a scratch directory that a test may change.
void copy_shipped(const TempDir& dir) {
  for (const auto& entry : fs::directory_iterator(shipped_dir())) {
    if (entry.path().extension() == ".sql") {
      fs::copy_file(entry.path(), fs::path(dir.path()) / entry.path().filename());
    }
  }
}

std::vector<int> recorded_versions(pqxx::connection& conn) {
  pqxx::read_transaction tx(conn);
  std::vector<int> versions;
  for (const auto& row : tx.exec("select version from schema_migrations order by version")) {
    versions.push_back(row[0].as<int>());
  }
  return versions;
}

bool table_exists(pqxx::connection& conn, const std::string& table) {
  pqxx::read_transaction tx(conn);
  return tx.exec_params("select to_regclass($1) is not null", table)[0][0].as<bool>();
}

std::vector<int> versions_of(const std::vector<migrate::Migration>& ms) {
  std::vector<int> v;
  for (const auto& m : ms) v.push_back(m.version);
  return v;
}

std::vector<int> shipped_versions() {
  return versions_of(migrate::discover(shipped_dir()));
}

// Runs apply and returns the waddle::Error it throws (fails the test when it does not throw).
waddle::Error apply_error(pqxx::connection& conn, const std::vector<migrate::Migration>& ms) {
  try {
    migrate::apply(conn, ms, false, "test", {});
  } catch (const waddle::Error& e) {
    return e;
  }
  FAIL("apply did not throw");
  return waddle::Error(waddle::Errc::ok, "");
}

}  // namespace

TEST_CASE("shipped migrations apply to an empty database, then a second run is a no-op") {
  FreshDatabase db;
  pqxx::connection conn(db.url());
  auto ms = migrate::discover(shipped_dir());
  REQUIRE(ms.size() >= 5);

  std::vector<std::string> announced;
  auto first = migrate::apply(conn, ms, false, "alice",
                              [&](const migrate::Migration& m) { announced.push_back(m.name); });
  CHECK(versions_of(first.applied) == versions_of(ms));
  CHECK(announced.size() == ms.size());
  CHECK(recorded_versions(conn) == versions_of(ms));
  CHECK(table_exists(conn, "communities"));
  CHECK(table_exists(conn, "commands"));

  {
    pqxx::read_transaction tx(conn);
    auto row =
        tx.exec1("select name, checksum, applied_by from schema_migrations where version = 1");
    CHECK(row[0].as<std::string>() == ms[0].name);
    CHECK(row[1].as<std::string>() == ms[0].checksum);
    CHECK(row[2].as<std::string>() == "alice");
  }

  auto second = migrate::apply(conn, ms, false, "alice", {});
  CHECK(second.applied.empty());
  CHECK(recorded_versions(conn) == versions_of(ms));

  auto st = migrate::status(conn, ms);
  CHECK(st.pending.empty());
  CHECK(st.problems.empty());
  REQUIRE(st.applied.size() == ms.size());
  CHECK(st.applied[0].name == ms[0].name);
  CHECK(st.applied[0].applied_by == "alice");
  CHECK(st.applied[0].applied_at.size() == 20);  // 2026-01-01T12:00:00Z
  CHECK(st.applied[0].applied_at.back() == 'Z');
}

TEST_CASE("a new migration is the only one applied on the next run") {
  FreshDatabase db;
  pqxx::connection conn(db.url());
  TempDir dir;
  copy_shipped(dir);
  migrate::apply(conn, migrate::discover(dir.path()), false, "test", {});

  dir.write("9999_extra.sql", "create table extra_thing (id bigint primary key);\n");
  auto ms = migrate::discover(dir.path());
  auto st = migrate::status(conn, ms);
  REQUIRE(st.pending.size() == 1);
  CHECK(st.pending[0].name == "9999_extra.sql");

  auto result = migrate::apply(conn, ms, false, "test", {});
  REQUIRE(result.applied.size() == 1);
  CHECK(result.applied[0].version == 9999);
  CHECK(table_exists(conn, "extra_thing"));
  CHECK(recorded_versions(conn).back() == 9999);
  CHECK(migrate::apply(conn, ms, false, "test", {}).applied.empty());
}

TEST_CASE("an applied migration that was edited is refused, naming the file") {
  FreshDatabase db;
  pqxx::connection conn(db.url());
  TempDir dir;
  copy_shipped(dir);
  migrate::apply(conn, migrate::discover(dir.path()), false, "test", {});
  auto before = recorded_versions(conn);

  std::ofstream(dir.file("0002_routing.sql"), std::ios::app) << "\n-- an innocent comment\n";
  dir.write("9999_extra.sql", "create table extra_thing (id bigint primary key);\n");
  auto ms = migrate::discover(dir.path());

  auto error = apply_error(conn, ms);
  CHECK(error.code() == waddle::Errc::conflict);
  CHECK_THAT(error.what(), Catch::Contains("0002_routing.sql") &&
                               Catch::Contains("changed after it was applied"));
  CHECK(recorded_versions(conn) == before);
  CHECK_FALSE(table_exists(conn, "extra_thing"));

  SECTION("dry-run refuses it too") {
    try {
      migrate::apply(conn, ms, true, "test", {});
      FAIL("dry-run did not refuse");
    } catch (const waddle::Error& e) {
      CHECK(e.code() == waddle::Errc::conflict);
      CHECK_THAT(e.what(), Catch::Contains("0002_routing.sql"));
    }
  }
  SECTION("status lists it as a problem") {
    auto st = migrate::status(conn, ms);
    REQUIRE(st.problems.size() == 1);
    CHECK_THAT(st.problems[0], Catch::Contains("0002_routing.sql"));
    REQUIRE(st.pending.size() == 1);
    CHECK(st.pending[0].version == 9999);
  }
}

TEST_CASE("an applied migration whose file is gone or renamed is refused") {
  FreshDatabase db;
  pqxx::connection conn(db.url());
  TempDir dir;
  copy_shipped(dir);
  migrate::apply(conn, migrate::discover(dir.path()), false, "test", {});

  SECTION("missing") {
    fs::remove(fs::path(dir.path()) / "0003_community.sql");
    auto error = apply_error(conn, migrate::discover(dir.path()));
    CHECK(error.code() == waddle::Errc::conflict);
    CHECK_THAT(error.what(), Catch::Contains("0003_community.sql") && Catch::Contains("missing"));
  }
  SECTION("renamed") {
    fs::rename(fs::path(dir.path()) / "0003_community.sql",
               fs::path(dir.path()) / "0003_people.sql");
    auto error = apply_error(conn, migrate::discover(dir.path()));
    CHECK(error.code() == waddle::Errc::conflict);
    CHECK_THAT(error.what(),
               Catch::Contains("0003_community.sql") && Catch::Contains("0003_people.sql"));
  }
}

TEST_CASE("a failing migration is rolled back whole, named, and stops the run") {
  FreshDatabase db;
  pqxx::connection conn(db.url());
  TempDir dir;
  copy_shipped(dir);
  dir.write("9997_fine.sql", "create table fine_thing (id bigint primary key);\n");
  dir.write("9998_broken.sql",
            "create table half_done (id bigint primary key);\n"
            "insert into half_done values (1);\n"
            "select * from no_such_table;\n");
  dir.write("9999_after.sql", "create table after_thing (id bigint primary key);\n");
  auto ms = migrate::discover(dir.path());

  std::vector<int> announced;
  waddle::Error error(waddle::Errc::ok, "");
  try {
    migrate::apply(conn, ms, false, "test",
                   [&](const migrate::Migration& m) { announced.push_back(m.version); });
    FAIL("apply did not throw");
  } catch (const waddle::Error& e) {
    error = e;
  }
  CHECK_THAT(error.what(), Catch::Contains("9998_broken.sql") && Catch::Contains("no_such_table"));
  CHECK_THAT(error.what(), Catch::Contains("line 3"));
  CHECK(announced.back() == 9998);

  auto versions = recorded_versions(conn);
  CHECK(versions.back() == 9997);
  CHECK(std::count(versions.begin(), versions.end(), 9998) == 0);
  CHECK(table_exists(conn, "fine_thing"));
  CHECK(table_exists(conn, "communities"));
  CHECK_FALSE(table_exists(conn, "half_done"));
  CHECK_FALSE(table_exists(conn, "after_thing"));

  // The connection stays usable and the lock was released: a fixed file then applies.
  dir.write("9998_broken.sql", "create table half_done (id bigint primary key);\n");
  auto result = migrate::apply(conn, migrate::discover(dir.path()), false, "test", {});
  CHECK(versions_of(result.applied) == std::vector<int>{9998, 9999});
}

TEST_CASE("a migration that commits by itself is refused and not recorded") {
  FreshDatabase db;
  pqxx::connection conn(db.url());
  TempDir dir;
  dir.write("0001_sneaky.sql",
            "create table first_half (id int);\ncommit;\nbegin;\n"
            "create table second_half (id int);\n");
  auto error = apply_error(conn, migrate::discover(dir.path()));
  CHECK(error.code() == waddle::Errc::invalid_argument);
  CHECK_THAT(error.what(), Catch::Contains("0001_sneaky.sql") && Catch::Contains("COMMIT"));
  CHECK(recorded_versions(conn).empty());
  CHECK_FALSE(table_exists(conn, "second_half"));
}

TEST_CASE("dry-run announces what would run and changes nothing") {
  FreshDatabase db;
  pqxx::connection conn(db.url());
  TempDir dir;
  copy_shipped(dir);
  auto ms = migrate::discover(dir.path());

  std::vector<int> announced;
  auto result = migrate::apply(
      conn, ms, true, "test", [&](const migrate::Migration& m) { announced.push_back(m.version); });
  CHECK(versions_of(result.applied) == versions_of(ms));
  CHECK(announced == versions_of(ms));
  CHECK_FALSE(table_exists(conn, "schema_migrations"));
  CHECK_FALSE(table_exists(conn, "communities"));

  migrate::apply(conn, ms, false, "test", {});
  dir.write("9999_extra.sql", "create table extra_thing (id bigint primary key);\n");
  result = migrate::apply(conn, migrate::discover(dir.path()), true, "test", {});
  CHECK(versions_of(result.applied) == std::vector<int>{9999});
  CHECK_FALSE(table_exists(conn, "extra_thing"));
  CHECK(recorded_versions(conn) == versions_of(ms));
}

TEST_CASE("two migrators on one fresh database serialise and apply every version once") {
  FreshDatabase db;
  auto ms = migrate::discover(shipped_dir());
  struct Outcome {
    std::string error;
    std::vector<int> applied;
  };
  Outcome outcomes[2];
  std::vector<std::thread> threads;
  for (auto& outcome : outcomes) {
    threads.emplace_back([&db, &ms, &outcome] {
      try {
        pqxx::connection conn(db.url());
        outcome.applied = versions_of(migrate::apply(conn, ms, false, "test", {}).applied);
      } catch (const std::exception& e) {
        outcome.error = e.what();
      }
    });
  }
  for (auto& t : threads) t.join();

  CHECK(outcomes[0].error == "");
  CHECK(outcomes[1].error == "");
  std::vector<int> all = outcomes[0].applied;
  all.insert(all.end(), outcomes[1].applied.begin(), outcomes[1].applied.end());
  std::sort(all.begin(), all.end());
  CHECK(all == versions_of(ms));

  pqxx::connection conn(db.url());
  CHECK(recorded_versions(conn) == versions_of(ms));
}

TEST_CASE("discover reads NNNN_name.sql files in version order with their checksums") {
  TempDir dir;
  dir.write("0002_second.sql", "select 2;\n");
  dir.write("0001_first.sql", "select 1;\n");
  dir.write("README.md", "not a migration\n");
  dir.write("0003_notes.txt", "ignored too\n");
  auto ms = migrate::discover(dir.path());
  REQUIRE(ms.size() == 2);
  CHECK(ms[0].version == 1);
  CHECK(ms[0].name == "0001_first.sql");
  CHECK(ms[0].sql == "select 1;\n");
  CHECK(ms[0].path == dir.path() + "/0001_first.sql");
  CHECK(ms[0].checksum == waddle::crypto::sha256_hex("select 1;\n"));
  CHECK(ms[1].name == "0002_second.sql");
  CHECK(waddle::crypto::sha256_hex("abc") ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("discover refuses bad file names, duplicates and empty files, naming the file") {
  TempDir dir;
  dir.write("0001_first.sql", "select 1;\n");
  std::string bad;
  SECTION("too few digits") {
    bad = "1_first.sql";
  }
  SECTION("no description") {
    bad = "0002.sql";
  }
  SECTION("dash instead of underscore") {
    bad = "0002-second.sql";
  }
  SECTION("letters for digits") {
    bad = "abcd_second.sql";
  }
  SECTION("five digits") {
    bad = "00002_second.sql";
  }
  SECTION("space in the name") {
    bad = "0002_second thing.sql";
  }
  SECTION("version zero") {
    bad = "0000_zero.sql";
  }
  SECTION("duplicate version") {
    bad = "0001_again.sql";
  }
  SECTION("empty file") {
    bad = "0002_empty.sql";
  }
  dir.write(bad, bad == "0002_empty.sql" ? " \n\n" : "select 2;\n");
  try {
    migrate::discover(dir.path());
    FAIL("discover accepted " << bad);
  } catch (const waddle::Error& e) {
    CHECK(e.code() == waddle::Errc::invalid_argument);
    CHECK_THAT(e.what(), Catch::Contains(bad));
  }
}

TEST_CASE("discover of a missing directory is not_found") {
  try {
    migrate::discover("/nonexistent/waddle/migrations");
    FAIL("discover accepted a missing directory");
  } catch (const waddle::Error& e) {
    CHECK(e.code() == waddle::Errc::not_found);
    CHECK_THAT(e.what(), Catch::Contains("/nonexistent/waddle/migrations"));
  }
}

TEST_CASE("status of an empty database lists every migration as pending") {
  FreshDatabase db;
  pqxx::connection conn(db.url());
  auto st = migrate::status(conn, migrate::discover(shipped_dir()));
  CHECK(st.applied.empty());
  CHECK(st.problems.empty());
  CHECK(versions_of(st.pending) == shipped_versions());
  CHECK_FALSE(table_exists(conn, "schema_migrations"));
}

TEST_CASE("describe_pg_error gives one line with the SQLSTATE") {
  FreshDatabase db;
  pqxx::connection conn(db.url());
  try {
    pqxx::work tx(conn);
    tx.exec("select 1;\nselect * from missing_table");
    FAIL("query did not fail");
  } catch (const std::exception& e) {
    auto line = migrate::describe_pg_error(e);
    CHECK(line.find('\n') == std::string::npos);
    CHECK_THAT(line, Catch::StartsWith("relation \"missing_table\" does not exist"));
    CHECK_THAT(line, Catch::Contains("line 2") && Catch::Contains("SQLSTATE 42P01"));
  }
  CHECK(migrate::describe_pg_error(std::runtime_error("ERROR:  plain\nmore")) == "plain");
}

TEST_CASE("default_migrations_dir honours WADDLE_MIGRATIONS_DIR") {
  ::setenv("WADDLE_MIGRATIONS_DIR", "/srv/custom/migrations", 1);
  CHECK(migrate::default_migrations_dir() == "/srv/custom/migrations");
  ::unsetenv("WADDLE_MIGRATIONS_DIR");
  auto dir = migrate::default_migrations_dir();
  CHECK(fs::is_directory(dir));
  CHECK_FALSE(migrate::discover(dir).empty());
}
