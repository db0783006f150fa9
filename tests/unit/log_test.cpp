#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "error/error.hpp"
#include "log/log.hpp"

using waddle::log::AuditEntry;
using waddle::log::Category;

namespace {

// Runs `body` with stderr redirected into a temp file and returns what was written.
template <class F>
std::string capture_stderr(F body) {
  std::fflush(stderr);
  char path[] = "/tmp/waddle-log-test.XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  int saved = dup(2);
  dup2(fd, 2);
  body();
  spdlog::default_logger()->flush();
  std::fflush(stderr);
  dup2(saved, 2);
  close(saved);
  std::string out;
  lseek(fd, 0, SEEK_SET);
  char buf[4096];
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  close(fd);
  unlink(path);
  return out;
}

}  // namespace

TEST_CASE("audit lines follow the seeds' AAA format") {
  AuditEntry e{Category::auth, "waddlebot-global", "alice", "POST /router/events", "DENIED"};
  CHECK(waddle::log::format_audit(e) ==
        "AUTH community=waddlebot-global user=alice action=\"POST /router/events\" result=DENIED");
}

TEST_CASE("audit values that are empty or unsafe are dashed or quoted") {
  AuditEntry e{Category::authz, "", "a=b", "say \"hi\"\nnext", "OK"};
  CHECK(waddle::log::format_audit(e) ==
        "AUTHZ community=- user=\"a=b\" action=\"say \\\"hi\\\"\\nnext\" result=OK");
  CHECK(waddle::log::category_name(Category::system) == "SYSTEM");
  CHECK(waddle::log::category_name(Category::error) == "ERROR");
  CHECK(waddle::log::category_name(Category::audit) == "AUDIT");
}

TEST_CASE("levels parse by name and unknown ones are rejected") {
  CHECK(waddle::log::parse_level("warn") == spdlog::level::warn);
  CHECK(waddle::log::parse_level("WARNING") == spdlog::level::warn);
  CHECK(waddle::log::parse_level("debug") == spdlog::level::debug);
  CHECK_FALSE(waddle::log::parse_level("loud").has_value());
  CHECK_THROWS_AS(waddle::log::init("router", "0.1.0", "loud"), waddle::Error);
  waddle::log::init("router", "0.1.0", "info");
  CHECK_FALSE(waddle::log::set_level("loud"));
  CHECK(waddle::log::set_level("error"));
  CHECK(waddle::log::level_name() == "error");
}

TEST_CASE("a terminal line carries a timestamp, level and program:version") {
  unsetenv("JOURNAL_STREAM");
  auto out = capture_stderr([] {
    waddle::log::init("router", "0.1.0", "debug");
    waddle::log::audit({Category::audit, "c1", "u1", "reload", "SUCCESS"});
    spdlog::debug("details");
    spdlog::trace("hidden");
  });
  CHECK(out.find("INFO router:0.1.0 AUDIT community=c1 user=u1 action=reload result=SUCCESS\n") !=
        std::string::npos);
  CHECK(out.find("DEBUG router:0.1.0 details") != std::string::npos);
  CHECK(out.find("hidden") == std::string::npos);
  CHECK(out[4] == '-');  // starts with an ISO date
}

TEST_CASE("under journald the line has a priority prefix and no timestamp") {
  auto out = capture_stderr([] {
    struct stat st {};
    REQUIRE(fstat(2, &st) == 0);
    auto stream = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
    setenv("JOURNAL_STREAM", stream.c_str(), 1);
    CHECK(waddle::log::stderr_is_journal());
    waddle::log::init("overlay", "0.1.0", "info");
    spdlog::warn("slow client dropped");
    unsetenv("JOURNAL_STREAM");
  });
  CHECK(out == "<4>WARNING overlay:0.1.0 slow client dropped\n");
}

TEST_CASE("a JOURNAL_STREAM naming another file is not the journal") {
  setenv("JOURNAL_STREAM", "1:1", 1);
  CHECK_FALSE(waddle::log::stderr_is_journal());
  setenv("JOURNAL_STREAM", "garbage", 1);
  CHECK_FALSE(waddle::log::stderr_is_journal());
  unsetenv("JOURNAL_STREAM");
}
