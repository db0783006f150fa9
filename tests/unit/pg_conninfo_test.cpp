#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include "error/error.hpp"
#include "pg/conninfo.hpp"

using waddle::Errc;
using waddle::pg::parse_conninfo;
using namespace std::chrono_literals;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

Errc code_of_parse(const std::string& url, std::string* message) {
  try {
    parse_conninfo(url, "primary_url", 5s, "waddlebot");
  } catch (const waddle::Error& e) {
    *message = e.what();
    return e.code();
  }
  return Errc::ok;
}

}  // namespace

TEST_CASE(
    "a URL becomes a conninfo with timeout and application name, described without password") {
  auto info =
      parse_conninfo("postgresql://bot:s3cr3t-pw@db.example:6432/waddle", "primary_url", 7s, "wb");
  CHECK(contains(info.conninfo, "host='db.example'"));
  CHECK(contains(info.conninfo, "port='6432'"));
  CHECK(contains(info.conninfo, "dbname='waddle'"));
  CHECK(contains(info.conninfo, "connect_timeout='7'"));
  CHECK(contains(info.conninfo, "application_name='wb'"));
  CHECK(info.password == "s3cr3t-pw");
  CHECK(info.description == "db.example:6432, database \"waddle\", user \"bot\"");
  CHECK_FALSE(contains(info.description, "s3cr3t"));
}

TEST_CASE("settings in the URL win over the pool's defaults") {
  auto info =
      parse_conninfo("postgresql://bot@127.0.0.1/waddle?application_name=replica&connect_timeout=2",
                     "replica_url", 5s, "waddlebot");
  CHECK(contains(info.conninfo, "application_name='replica'"));
  CHECK(contains(info.conninfo, "connect_timeout='2'"));
  CHECK_FALSE(contains(info.conninfo, "waddlebot"));
  CHECK(info.description == "127.0.0.1:5432, database \"waddle\", user \"bot\"");
}

TEST_CASE("key=value strings work and values with quotes are escaped") {
  auto info = parse_conninfo("host=/run/postgresql dbname=waddle password='it\\'s'", "primary_url",
                             5s, "it's bot");
  CHECK(contains(info.conninfo, "application_name='it\\'s bot'"));
  CHECK(contains(info.conninfo, "host='/run/postgresql'"));
  CHECK(info.password == "it's");
  CHECK(contains(info.conninfo, "password='it\\'s'"));
  CHECK(info.description == "/run/postgresql:5432, database \"waddle\", user \"the login user\"");
}

TEST_CASE("malformed URLs are invalid_argument naming the setting, never the password") {
  std::string message;
  CHECK(code_of_parse("", &message) == Errc::invalid_argument);
  CHECK(message == "database primary_url is empty");

  CHECK(code_of_parse("postgresql://bot:s3cr3t-pw@127.0.0.1/waddle?no_such_option=1", &message) ==
        Errc::invalid_argument);
  CHECK(contains(message, "primary_url"));
  CHECK(contains(message, "no_such_option"));
  CHECK_FALSE(contains(message, "s3cr3t"));

  // libpq quotes the bad token back, and here the bad token is the password itself.
  CHECK(code_of_parse("postgresql://bot:s3cr3t%zz@127.0.0.1/waddle", &message) ==
        Errc::invalid_argument);
  CHECK(contains(message, "primary_url"));
  CHECK_FALSE(contains(message, "s3cr3t"));

  CHECK(code_of_parse("host=127.0.0.1 password='s3cr3t-pw' bogus", &message) ==
        Errc::invalid_argument);
  CHECK_FALSE(contains(message, "s3cr3t"));
}

TEST_CASE("redact removes the written and the parsed password and folds libpq's line breaks") {
  using waddle::pg::redact;
  CHECK(redact("FATAL: bad s3cr3t%21 and s3cr3t!\n\tIs the server running?\n",
               "postgresql://u:s3cr3t%21@h/d",
               "s3cr3t!") == "FATAL: bad *** and *** Is the server running?");
  CHECK(redact("nothing to hide", "postgresql://u@h/d") == "nothing to hide");
}
