// `waddle module secret NAME [--rotate]` against a fresh migrated database.
#include <regex>

#include "support/cli_checks.hpp"

using namespace waddle::test;

namespace {

const std::regex kSecretShape("^[0-9a-f]{64}$");

std::string audit_text(const FreshDatabase& db) {
  return sql(db, "select coalesce(string_agg(x::text, '|'), '') from admin_audit_log x")[0][0]
      .as<std::string>();
}

void install_trivia(const FreshDatabase& db) {
  auto r = run_waddle(db, {"module", "install", "trivia", "--url", "https://trivia.example/run",
                           "--version", "1.0.0"});
  INFO(r.err);
  REQUIRE(r.status == 0);
}

}  // namespace

TEST_CASE("module secret creates the secret once and shows the same one afterwards") {
  FreshDatabase db(true);
  install_trivia(db);
  auto first = json_of(run_waddle(db, {"--json", "module", "secret", "trivia"}));
  CHECK(first["module"] == "trivia");
  std::string secret = first["secret"];
  CHECK(std::regex_match(secret, kSecretShape));
  CHECK(first["created_at"].is_string());
  CHECK(first["rotated_at"].is_null());
  CHECK(first.size() == 4);
  auto stored =
      sql(db, "select secret, created_by from module_secrets where module_name = 'trivia'");
  REQUIRE(stored.size() == 1);
  CHECK(stored[0][0].as<std::string>() == secret);
  CHECK_FALSE(stored[0][1].is_null());

  auto again = json_of(run_waddle(db, {"--json", "module", "secret", "trivia"}));
  CHECK(again == first);
  auto quiet = run_waddle(db, {"-q", "module", "secret", "trivia"});
  CHECK(quiet.status == 0);
  CHECK(quiet.out == secret + "\n");
  auto table = run_waddle(db, {"module", "secret", "trivia"});
  CHECK(table.status == 0);
  CHECK(std::regex_search(table.out, std::regex("(^|\n)secret: +" + secret + "\n")));
  CHECK(std::regex_search(table.out, std::regex("(^|\n)module: +trivia\n")));
  CHECK(scalar(db, "select count(*) from module_secrets") == 1);

  // Every showing is audited (it hands out a key), and no audit row holds the key.
  CHECK(scalar(db,
               "select count(*) from admin_audit_log where action = 'module.secret' and "
               "target = 'trivia'") == 4);
  CHECK(audit_text(db).find(secret) == std::string::npos);
}

TEST_CASE("module secret --rotate replaces the secret and sets rotated_at") {
  FreshDatabase db(true);
  install_trivia(db);
  auto first = json_of(run_waddle(db, {"--json", "module", "secret", "trivia"}));
  auto rotated = json_of(run_waddle(db, {"--json", "module", "secret", "trivia", "--rotate"}));
  std::string old_secret = first["secret"];
  std::string new_secret = rotated["secret"];
  CHECK(std::regex_match(new_secret, kSecretShape));
  CHECK(new_secret != old_secret);
  CHECK(rotated["created_at"] == first["created_at"]);
  CHECK(rotated["rotated_at"].is_string());
  CHECK(sql(db, "select secret from module_secrets where module_name = 'trivia'")[0][0]
            .as<std::string>() == new_secret);
  CHECK(json_of(run_waddle(db, {"--json", "module", "secret", "trivia"}))["secret"] == new_secret);
  CHECK(scalar(db, "select count(*) from admin_audit_log where action = 'module.secret.rotate'") ==
        1);
  auto audit = audit_text(db);
  CHECK(audit.find(old_secret) == std::string::npos);
  CHECK(audit.find(new_secret) == std::string::npos);

  // A module whose commands are gone keeps its secret (a third party may still hold it).
  REQUIRE(run_waddle(db, {"module", "uninstall", "trivia"}).status == 0);
  CHECK(json_of(run_waddle(db, {"--json", "module", "secret", "trivia"}))["secret"] == new_secret);
}

TEST_CASE("module secret --rotate on a module without a secret creates one") {
  FreshDatabase db(true);
  install_trivia(db);
  auto created = json_of(run_waddle(db, {"--json", "module", "secret", "trivia", "--rotate"}));
  CHECK(std::regex_match(created["secret"].get<std::string>(), kSecretShape));
  CHECK(created["rotated_at"].is_null());
  CHECK(scalar(db, "select count(*) from module_secrets") == 1);
}

TEST_CASE("module secret refuses unknown modules and writes nothing") {
  FreshDatabase db(true);
  install_trivia(db);
  const std::vector<std::string> t = {"module_secrets"};
  refused(db, {"module", "secret", "nothing"}, 3, "module 'nothing' not found", t);
  refused(db, {"module", "secret", "nothing", "--rotate"}, 3, "module 'nothing' not found", t);
  refused(db, {"module", "secret", ""}, 2, "NAME", t);
  refused(db, {"module", "secret"}, 2, "name", t);
  CHECK(scalar(db, "select count(*) from module_secrets") == 0);
}
