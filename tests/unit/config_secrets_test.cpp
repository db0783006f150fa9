#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "config/config.hpp"

using namespace waddle::config;
namespace fs = std::filesystem;

namespace {

// A private temporary directory, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "waddle-config-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string write(const std::string& name, const std::string& content) const {
    auto p = path_ / name;
    std::ofstream(p, std::ios::binary) << content;
    return p.string();
  }
  std::string path() const { return path_.string(); }

 private:
  fs::path path_;
};

Schema secret_schema() {
  Schema s;
  s.add({.section = "database",
         .name = "url",
         .type = Type::string,
         .required = true,
         .secret = true,
         .doc = "PostgreSQL URL"});
  s.add({.section = "database", .name = "pool_size", .type = Type::integer, .default_value = 4});
  s.add({.section = "twitch",
         .name = "client_secret",
         .type = Type::string,
         .secret = true,
         .doc = "Helix app secret"});
  s.add({.section = "twitch",
         .name = "pin",
         .type = Type::integer,
         .secret = true,
         .min = 0,
         .max = 9999});
  s.add({.section = "twitch", .name = "channel", .type = Type::string, .default_value = "waddle"});
  return s;
}

using Env = std::map<std::string, std::string, std::less<>>;

LoadResult load_text(std::string_view yaml, Env env) {
  return load_string(secret_schema(), yaml, "w.yaml", fixed_environment(std::move(env)));
}

}  // namespace

TEST_CASE("a secret can be read from K_file, with one trailing newline stripped") {
  TempDir dir;
  auto url = dir.write("url", "postgresql://u:p@h/db\n");
  auto secret = dir.write("secret", "s3cret\n\n");
  auto r = load_text(
      "database:\n  url_file: " + url + "\ntwitch:\n  client_secret_file: " + secret + "\n", {});
  REQUIRE(r.errors.empty());
  CHECK(r.config->get_string("database", "url") == "postgresql://u:p@h/db");
  CHECK(r.config->get_string("twitch", "client_secret") == "s3cret\n");
}

TEST_CASE("an unreadable K_file is an error naming the path and the key's line") {
  TempDir dir;
  auto missing = dir.path() + "/missing";
  auto r = load_text("database:\n  pool_size: 2\n  url_file: " + missing + "\n", {});
  REQUIRE_FALSE(r.config);
  REQUIRE(r.errors.size() == 1);  // no second "required" error for the same key
  const auto& e = r.errors[0];
  CHECK(e.key == "database.url_file");
  CHECK(e.file == "w.yaml");
  CHECK(e.line == 3);
  CHECK_THAT(e.message, Catch::Contains(missing));
  CHECK_THAT(e.message, Catch::Contains(std::strerror(ENOENT)));

  r = load_text("database:\n  url_file: " + dir.path() + "\n", {});
  REQUIRE(r.errors.size() == 1);
  CHECK_THAT(r.errors[0].message, Catch::Contains("directory"));

  r = load_text("database:\n  url_file: [a]\n", {});
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].key == "database.url_file");
}

TEST_CASE("setting both K and K_file is an error") {
  TempDir dir;
  auto url = dir.write("url", "x");
  auto r = load_text("database:\n  url: y\n  url_file: " + url + "\n", {});
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].key == "database.url");
  CHECK(r.errors[0].line == 3);
  CHECK_THAT(r.errors[0].message, Catch::Contains("line 2"));

  r = load_text("", {{"WADDLE_DATABASE_URL", "a"}, {"WADDLE_DATABASE_URL_FILE", url}});
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].key == "WADDLE_DATABASE_URL");
  CHECK_THAT(r.errors[0].message, Catch::Contains("WADDLE_DATABASE_URL_FILE"));
}

TEST_CASE("K_file is refused for keys that are not secret") {
  auto r = load_text("database:\n  url: x\n  pool_size_file: /etc/passwd\n", {});
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].key == "database.pool_size_file");
  CHECK(r.errors[0].line == 3);
  CHECK_THAT(r.errors[0].message, Catch::Contains("not secret"));
}

TEST_CASE("WADDLE_<SECTION>_<K>_FILE reads a secret from a file") {
  TempDir dir;
  auto url = dir.write("url", "postgresql://from-env-file\n");
  auto r = load_text("database:\n  url: from-yaml\n", {{"WADDLE_DATABASE_URL_FILE", url}});
  REQUIRE(r.errors.empty());
  CHECK(r.config->get_string("database", "url") == "postgresql://from-env-file");

  r = load_text("", {{"WADDLE_DATABASE_URL_FILE", dir.path() + "/nope"}});
  REQUIRE(r.errors.size() == 1);  // and no second "required key is missing"
  CHECK(r.errors[0].key == "WADDLE_DATABASE_URL_FILE");
  CHECK_THAT(r.errors[0].message, Catch::Contains(dir.path() + "/nope"));
}

TEST_CASE("$CREDENTIALS_DIRECTORY supplies secrets named <section>.<key>") {
  TempDir creds;
  creds.write("database.url", "postgresql://cred\n");
  creds.write("twitch.pin", "1234\n");
  creds.write("twitch.channel", "not-a-secret-so-ignored");
  auto r = load_text("", {{"CREDENTIALS_DIRECTORY", creds.path()}});
  REQUIRE(r.errors.empty());
  const auto& c = *r.config;
  CHECK(c.get_string("database", "url") == "postgresql://cred");
  CHECK(c.get_int("twitch", "pin") == 1234);
  CHECK(c.get_string("twitch", "channel") == "waddle");
  CHECK_FALSE(c.has("twitch", "client_secret"));

  fs::create_directory(creds.path() + "/twitch.client_secret");
  r = load_text("", {{"CREDENTIALS_DIRECTORY", creds.path()}});
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].key == "twitch.client_secret");
  CHECK(r.errors[0].file == creds.path() + "/twitch.client_secret");
}

TEST_CASE("precedence: environment > file > credentials > default") {
  TempDir creds;
  creds.write("database.url", "from-credentials");
  creds.write("twitch.pin", "1");
  creds.write("twitch.client_secret", "cred-secret");
  auto secret_file = creds.write("pin-file", "3\n");
  auto r =
      load_text("database:\n  url: from-file\ntwitch:\n  pin_file: " + secret_file + "\n",
                {{"CREDENTIALS_DIRECTORY", creds.path()}, {"WADDLE_DATABASE_URL", "from-env"}});
  REQUIRE(r.errors.empty());
  CHECK(r.config->get_string("database", "url") == "from-env");
  CHECK(r.config->get_int("twitch", "pin") == 3);  // the file's pin_file beats the credential
  CHECK(r.config->get_string("twitch", "client_secret") == "cred-secret");
  CHECK(r.config->get_int("database", "pool_size") == 4);
}

TEST_CASE("a bad secret value is reported without showing the value") {
  TempDir dir;
  auto pin = dir.write("pin", "hunter2\n");
  auto r = load_text("database:\n  url: x\ntwitch:\n  pin_file: " + pin + "\n", {});
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].key == "twitch.pin");
  CHECK(r.errors[0].line == 4);
  CHECK_THAT(r.errors[0].message, !Catch::Contains("hunter2"));

  r = load_text("database:\n  url: x\n", {{"WADDLE_TWITCH_PIN", "99999"}});
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].key == "WADDLE_TWITCH_PIN");
  CHECK_THAT(r.errors[0].message, !Catch::Contains("99999"));
  CHECK_THAT(r.errors[0].message, Catch::Contains("maximum"));
}

TEST_CASE("to_json and to_yaml redact secrets that are set") {
  auto r = load_text("database:\n  url: postgresql://u:hunter2@h/db\ntwitch:\n  pin: 4321\n", {});
  REQUIRE(r.config);
  const auto& c = *r.config;

  auto j = c.to_json();
  CHECK(j["database"]["url"] == "********");
  CHECK(j["twitch"]["pin"] == "********");
  CHECK(j["twitch"]["client_secret"].is_null());  // unset stays null, so it is visibly unset
  CHECK(j["database"]["pool_size"] == 4);
  CHECK(j["twitch"]["channel"] == "waddle");
  auto text = j.dump();
  CHECK_THAT(text, !Catch::Contains("hunter2"));
  CHECK_THAT(text, !Catch::Contains("4321"));

  auto yaml = c.to_yaml();
  CHECK_THAT(yaml, !Catch::Contains("hunter2"));
  CHECK_THAT(yaml, !Catch::Contains("4321"));
  CHECK_THAT(yaml, Catch::Contains("url: \"********\""));

  auto plain = c.to_json(false);
  CHECK(plain["database"]["url"] == "postgresql://u:hunter2@h/db");
  CHECK(plain["twitch"]["pin"] == 4321);
  CHECK_THAT(c.to_yaml(false), Catch::Contains("hunter2"));
}
