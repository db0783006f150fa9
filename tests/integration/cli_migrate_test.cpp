// `waddle migrate` end to end against a fresh database of the test cluster.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support/cli.hpp"
#include "support/cluster.hpp"

using waddle::test::FreshDatabase;
using waddle::test::run_waddle;
using waddle::test::TempDir;
namespace fs = std::filesystem;

namespace {

std::string copy_migrations(const TempDir& dir) {
  auto target = dir.file("migrations");
  fs::create_directory(target);
  for (const auto& e : fs::directory_iterator(waddle::test::source_dir() + "/migrations")) {
    if (e.path().extension() == ".sql") fs::copy_file(e.path(), target / e.path().filename());
  }
  return target;
}

}  // namespace

TEST_CASE("migrate applies everything, then nothing, then one new migration") {
  FreshDatabase db;
  TempDir dir;
  auto migrations = copy_migrations(dir);

  std::size_t shipped = 0;
  for (const auto& e : fs::directory_iterator(migrations))
    shipped += e.path().extension() == ".sql";
  auto first = run_waddle(db, {"migrate", "--dir", migrations});
  REQUIRE(first.status == 0);
  CHECK(first.out.find("applying 0001_core.sql") != std::string::npos);
  CHECK(first.out.find("applied " + std::to_string(shipped) + " migration(s)") !=
        std::string::npos);

  auto again = run_waddle(db, {"migrate", "--dir", migrations});
  CHECK(again.status == 0);
  CHECK(again.out.find("schema is up to date") != std::string::npos);

  std::ofstream(migrations + "/9999_extra.sql") << "create table extra_things (id int);\n";
  auto dry = run_waddle(db, {"migrate", "--dir", migrations, "--dry-run"});
  CHECK(dry.status == 0);
  CHECK(dry.out.find("would apply 9999_extra.sql") != std::string::npos);
  auto status = run_waddle(db, {"--json", "migrate", "status", "--dir", migrations});
  REQUIRE(status.status == 0);
  auto rows = nlohmann::json::parse(status.out);
  REQUIRE(rows.size() == shipped + 1);
  CHECK(rows[shipped]["name"] == "9999_extra.sql");
  CHECK(rows[shipped]["state"] == "pending");
  CHECK(rows[0]["state"] == "applied");

  auto third = run_waddle(db, {"-q", "migrate", "--dir", migrations});
  CHECK(third.status == 0);
  CHECK(third.out == "9999_extra.sql\n");
}

TEST_CASE("a tampered migration is refused with one line naming it, exit 2") {
  FreshDatabase db;
  TempDir dir;
  auto migrations = copy_migrations(dir);
  REQUIRE(run_waddle(db, {"migrate", "--dir", migrations}).status == 0);
  std::ofstream(migrations + "/0002_routing.sql", std::ios::app) << "\n-- sneaky\n";
  auto r = run_waddle(db, {"migrate", "--dir", migrations});
  CHECK(r.status == 2);
  CHECK(r.err.find("0002_routing.sql") != std::string::npos);
  CHECK(r.err.rfind("waddle: ", 0) == 0);
  auto status = run_waddle(db, {"migrate", "status", "--dir", migrations});
  CHECK(status.status == 2);
  CHECK(status.err.find("0002_routing.sql") != std::string::npos);
}

TEST_CASE("without a database the CLI says where to configure one, exit 2") {
  FreshDatabase db;
  auto r = waddle::test::run_process(
      {waddle::test::waddle_binary(), "--config", "/nonexistent/waddle.yaml", "migrate"},
      {{"WADDLE_DATABASE_URL", ""}});
  CHECK(r.status == 2);
  CHECK(r.err.find("nonexistent/waddle.yaml") != std::string::npos);
}

TEST_CASE("an unreachable database is a runtime failure, exit 1") {
  FreshDatabase db;
  auto r = waddle::test::run_process(
      {waddle::test::waddle_binary(), "--database-url",
       "postgresql://waddle:hunter2@127.0.0.1:1/waddle?connect_timeout=2", "migrate"});
  CHECK(r.status == 1);
  CHECK(r.err.find("cannot connect to the database") != std::string::npos);
  CHECK(r.err.find("hunter2") == std::string::npos);
}

TEST_CASE("usage errors exit 2 with one line") {
  FreshDatabase db;
  auto r = run_waddle(db, {"migrate", "--bogus"});
  CHECK(r.status == 2);
  CHECK(r.err.rfind("waddle: ", 0) == 0);
  auto help = run_waddle(db, {"--help"});
  CHECK(help.status == 0);
  CHECK(help.out.find("migrate") != std::string::npos);
}
