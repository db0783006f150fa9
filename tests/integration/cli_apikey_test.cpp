// `waddle apikey …` and `waddle overlay …` against a fresh migrated database.
#include <regex>

#include "crypto/hash.hpp"
#include "support/cli_checks.hpp"

using namespace waddle::test;

namespace {

// Every table's rows as text, to prove a secret was stored nowhere.
std::string whole_database(const FreshDatabase& db) {
  std::string out;
  auto tables = sql(db, "select tablename from pg_tables where schemaname = 'public'");
  for (const auto& t : tables) out += fingerprint(db, {t[0].as<std::string>()});
  return out;
}

}  // namespace

TEST_CASE("apikey create prints the key once and stores only its hash and prefix") {
  FreshDatabase db(true);
  add_community(db, "demo");
  auto created = json_of(
      run_waddle(db, {"--json", "apikey", "create", "collector-1", "--role", "collector", "--role",
                      "readonly,collector", "--community", "demo", "--expires", "2099-01-31"}));
  std::string key = created["key"];
  CHECK(std::regex_match(key, std::regex("^wdl_[A-Za-z0-9_-]{8}_[A-Za-z0-9_-]{43}$")));
  CHECK(created["prefix"] == key.substr(0, 12));
  CHECK(created["roles"] == nlohmann::json::array({"collector", "readonly"}));
  CHECK(created["community"] == "demo");
  CHECK(created["expires_at"].get<std::string>().rfind("2099-01-31", 0) == 0);
  auto stored = sql(db, "select key_hash, key_prefix from api_keys where name = 'collector-1'");
  REQUIRE(stored.size() == 1);
  CHECK(stored[0][0].as<std::string>() == waddle::crypto::sha256_hex(key));
  CHECK(stored[0][1].as<std::string>() == key.substr(0, 12));
  CHECK(whole_database(db).find(key) == std::string::npos);
  CHECK(whole_database(db).find(key.substr(13)) == std::string::npos);

  auto table = run_waddle(db, {"apikey", "create", "tool", "--role", "admin"});
  REQUIRE(table.status == 0);
  CHECK(table.out.find("key: wdl_") != std::string::npos);
  CHECK(table.out.find("cannot be shown again") != std::string::npos);
  // A list option takes one value per use, so a positional may follow it.
  auto quiet = run_waddle(db, {"-q", "apikey", "create", "--role", "module", "bot"});
  REQUIRE(quiet.status == 0);
  CHECK(std::regex_match(quiet.out, std::regex("^wdl_[A-Za-z0-9_-]{8}_[A-Za-z0-9_-]{43}\n$")));

  auto list = run_waddle(db, {"apikey", "list"});
  auto list_json = run_waddle(db, {"--json", "apikey", "list"});
  for (const auto* out : {&list.out, &list_json.out}) {
    CHECK(out->find(key) == std::string::npos);
    CHECK(out->find(stored[0][0].as<std::string>()) == std::string::npos);
  }
  auto rows = json_of(list_json);
  REQUIRE(rows.size() == 3);
  CHECK(rows[1]["name"] == "collector-1");
  CHECK(rows[1]["prefix"] == key.substr(0, 12));
  CHECK(rows[1]["state"] == "active");
  CHECK_FALSE(rows[1].contains("key_hash"));
  CHECK(scalar(db,
               "select count(*) from admin_audit_log where action = 'apikey.create' and "
               "details::text like '%" +
                   key.substr(13, 20) + "%'") == 0);
}

TEST_CASE("apikey revoke and rotate") {
  FreshDatabase db(true);
  auto first = json_of(run_waddle(db, {"--json", "apikey", "create", "c1", "--role", "collector"}));
  std::string old_key = first["key"];

  auto rotated = json_of(run_waddle(db, {"--json", "apikey", "rotate", "c1"}));
  std::string new_key = rotated["key"];
  CHECK(new_key != old_key);
  CHECK(rotated["name"] == "c1");
  CHECK(rotated["roles"] == nlohmann::json::array({"collector"}));
  // The old row is revoked and renamed so that the name stays unique.
  auto old = sql(db, "select name, revoked_at is not null from api_keys where key_hash = '" +
                         waddle::crypto::sha256_hex(old_key) + "'");
  REQUIRE(old.size() == 1);
  CHECK(old[0][0].as<std::string>().rfind("c1~revoked-", 0) == 0);
  CHECK(old[0][1].as<bool>());
  CHECK(scalar(db,
               "select count(*) from api_keys where name = 'c1' and revoked_at is null and "
               "key_hash = '" +
                   waddle::crypto::sha256_hex(new_key) + "'") == 1);
  auto list = run_waddle(db, {"apikey", "list"});
  CHECK(list.out.find(new_key) == std::string::npos);

  auto revoked = run_waddle(db, {"apikey", "revoke", "c1"});
  CHECK(revoked.status == 0);
  CHECK(revoked.out.find("revoked api key c1") != std::string::npos);
  const std::vector<std::string> t = {"api_keys"};
  refused(db, {"apikey", "revoke", "c1"}, 2, "already revoked", t);
  refused(db, {"apikey", "rotate", "c1"}, 2, "is revoked", t);
  // A revoked key's name can be used again.
  CHECK(run_waddle(db, {"apikey", "create", "c1", "--role", "admin"}).status == 0);
  CHECK(scalar(db, "select count(*) from api_keys") == 3);
  CHECK(scalar(db, "select count(*) from admin_audit_log where action like 'apikey.%'") == 4);
}

TEST_CASE("apikey refuses bad input and writes nothing") {
  FreshDatabase db(true);
  REQUIRE(run_waddle(db, {"apikey", "create", "taken", "--role", "admin"}).status == 0);
  const std::vector<std::string> t = {"api_keys"};
  refused(db, {"apikey", "create", "x", "--role", "root"}, 2, "--role: unknown value 'root'", t);
  refused(db, {"apikey", "create", "x"}, 2, "--role", t);
  refused(db, {"apikey", "create", "bad name", "--role", "admin"}, 2, "not a valid key name", t);
  refused(db, {"apikey", "create", "x~1", "--role", "admin"}, 2, "not a valid key name", t);
  refused(db, {"apikey", "create", "taken", "--role", "admin"}, 2, "api key 'taken' already exists",
          t);
  refused(db, {"apikey", "create", "x", "--role", "admin", "--community", "nowhere"}, 3,
          "community 'nowhere' not found", t);
  refused(db, {"apikey", "create", "x", "--role", "admin", "--expires", "tomorrow"}, 2,
          "--expires: 'tomorrow' is not an ISO 8601 date-time", t);
  refused(db, {"apikey", "create", "x", "--role", "admin", "--expires", "2030-13-45"}, 2,
          "--expires: '2030-13-45' is not a valid date-time", t);
  refused(db, {"apikey", "create", "x", "--role", "admin", "--expires", "2001-01-01T00:00:00Z"}, 2,
          "is not in the future", t);
  refused(db, {"apikey", "revoke", "nothing"}, 3, "api key 'nothing' not found", t);
  refused(db, {"apikey", "rotate", "nothing"}, 3, "not found", t);
}

TEST_CASE("overlay token create, url, rotate with grace, list, revoke") {
  FreshDatabase db(true);
  add_community(db, "demo");
  auto created = json_of(run_waddle(db, {"--json", "overlay", "token", "create", "demo",
                                         "--base-url", "https://obs.example:8443/"}));
  std::string token = created["token"];
  CHECK(token.size() == 43);
  CHECK(created["name"] == "default");
  CHECK(created["prefix"] == token.substr(0, 8));
  CHECK(created["sources"] == nlohmann::json::array({"chat", "media", "ticker", "general"}));
  CHECK(created["urls"]["ticker"] == "https://obs.example:8443/overlay/" + token + "/ticker");
  CHECK(created["urls"]["all"] == "https://obs.example:8443/overlay/" + token + "/all");
  CHECK(scalar(db, "select count(*) from overlay_tokens where token_hash = '" +
                       waddle::crypto::sha256_hex(token) + "'") == 1);
  CHECK(whole_database(db).find(token) == std::string::npos);

  auto table = run_waddle(db, {"overlay", "token", "create", "demo", "--name", "stream2",
                               "--sources", "ticker,alerts"});
  REQUIRE(table.status == 0);
  CHECK(table.out.find("media:   http://127.0.0.1:8080/overlay/") != std::string::npos);

  auto url = run_waddle(db, {"overlay", "url", "--token", token});
  REQUIRE(url.status == 0);
  CHECK(url.out.find("general: http://127.0.0.1:8080/overlay/" + token + "/general") !=
        std::string::npos);

  auto rotated =
      json_of(run_waddle(db, {"--json", "overlay", "token", "rotate", "demo", "--grace", "10m"}));
  std::string fresh = rotated["token"];
  CHECK(fresh != token);
  CHECK(rotated["name"] == "default");
  CHECK(rotated["previous"]["prefix"] == token.substr(0, 8));
  auto old = sql(db,
                 "select name, expires_at > now() + interval '9 minutes', "
                 "expires_at < now() + interval '11 minutes', revoked_at is null "
                 "from overlay_tokens where token_hash = '" +
                     waddle::crypto::sha256_hex(token) + "'");
  REQUIRE(old.size() == 1);
  CHECK(old[0][0].as<std::string>().rfind("default~rotated-", 0) == 0);
  CHECK(old[0][1].as<bool>());
  CHECK(old[0][2].as<bool>());
  CHECK(old[0][3].as<bool>());
  // The old token still resolves during its grace period.
  CHECK(run_waddle(db, {"overlay", "url", "--token", token}).status == 0);

  auto list = json_of(run_waddle(db, {"--json", "overlay", "token", "list", "demo"}));
  REQUIRE(list.size() == 3);
  auto list_text = run_waddle(db, {"overlay", "token", "list", "demo"}).out;
  CHECK(list_text.find(fresh) == std::string::npos);
  CHECK(list_text.find(token) == std::string::npos);

  auto revoked = run_waddle(db, {"--json", "overlay", "token", "revoke", "demo"});
  auto revoked_rows = json_of(revoked);
  CHECK(revoked_rows.size() == 2);  // the current token and its predecessor in grace
  CHECK(scalar(db, "select count(*) from overlay_tokens where revoked_at is null") == 1);

  const std::vector<std::string> t = {"overlay_tokens"};
  refused(db, {"overlay", "url", "--token", fresh}, 2, "is revoked", t);
  refused(db, {"overlay", "url", "--token", "AAAAAAAAAAAAAAAAAAAAAAAA"}, 3,
          "no overlay token matches", t);
  refused(db, {"overlay", "url", "--token", "not/a token"}, 2, "--token", t);
  refused(db, {"overlay", "token", "create", "demo", "--name", "stream2"}, 2, "already exists", t);
  refused(db, {"overlay", "token", "create", "demo", "--sources", "chat,popups"}, 2,
          "--sources: unknown value 'popups'", t);
  refused(db, {"overlay", "token", "create", "demo", "--base-url", "obs.local"}, 2,
          "--base-url: must be an http(s) URL", t);
  refused(db, {"overlay", "token", "create", "nowhere"}, 3, "community 'nowhere' not found", t);
  refused(db, {"overlay", "token", "rotate", "demo", "--grace", "soon"}, 2,
          "--grace: 'soon' is not a duration", t);
  refused(db, {"overlay", "token", "rotate", "demo", "--name", "missing"}, 3,
          "no overlay token 'missing'", t);
  refused(db, {"overlay", "token", "revoke", "demo"}, 3, "no overlay token 'default'", t);
  // After a revoke, the name can be used again.
  CHECK(run_waddle(db, {"overlay", "token", "create", "demo"}).status == 0);
  CHECK(scalar(db, "select count(*) from admin_audit_log where action like 'overlay.%'") == 5);
}
