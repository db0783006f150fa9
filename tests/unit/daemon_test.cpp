// The daemon skeleton end to end: waddle-testd runs as a child process with a fake NOTIFY_SOCKET
// and an admin socket in a temp dir; the test drives it with signals and the ctl client.
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "ctl/client.hpp"
#include "support/notify_socket.hpp"
#include "support/process.hpp"

namespace {

using waddle::test::NotifySocket;
using waddle::test::TempDir;

waddle::test::ProcessResult run_testd(std::vector<std::string> args) {
  args.insert(args.begin(), WADDLE_TESTD);
  return waddle::test::run_process(args, {}, {}, std::chrono::seconds(10));
}

class RunningDaemon {
 public:
  RunningDaemon(const std::string& config, const std::string& notify, const std::string& log) {
    pid_ = fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      freopen(log.c_str(), "w", stderr);
      setenv("NOTIFY_SOCKET", notify.c_str(), 1);
      alarm(30);
      execl(WADDLE_TESTD, WADDLE_TESTD, "--config", config.c_str(), nullptr);
      _exit(127);
    }
  }
  ~RunningDaemon() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  void signal(int signo) { kill(pid_, signo); }
  // Exit status, or -1 when it did not exit within 10 s.
  int wait_exit() {
    for (int i = 0; i < 500; ++i) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return -1;
  }
  bool alive() { return pid_ > 0 && waitpid(pid_, nullptr, WNOHANG) == 0; }

 private:
  pid_t pid_ = -1;
};

std::string config_text(const std::string& dir, const std::string& greeting) {
  return "database:\n  url: postgresql://waddle:s3cret@127.0.0.1:1/waddle\n"
         "log:\n  level: info\n"
         "testd:\n  greeting: " +
         greeting + "\n  admin_socket: " + dir + "/run/testd.sock\n  drain: 100ms\n" +
         "router:\n  anything: goes  # another daemon's section is not testd's business\n";
}

}  // namespace

TEST_CASE("version and the default config flags") {
  auto v = run_testd({"--version"});
  CHECK(v.status == 0);
  CHECK(v.out == "waddle-testd 0.0.1\n");

  TempDir dir;
  auto d = run_testd({"--print-default-config"});
  REQUIRE(d.status == 0);
  CHECK(d.out.find("greeting") != std::string::npos);
  auto check = run_testd({"--config", dir.write("default.yaml", d.out), "--check-config"});
  CHECK(check.status == 0);
  CHECK(check.out.find("is valid") != std::string::npos);
}

TEST_CASE("check-config prints every error with file and line and exits 2") {
  TempDir dir;
  auto bad = dir.write("bad.yaml", "log:\n  level: loud\ntestd:\n  greting: hi\n  threads: many\n");
  auto r = run_testd({"--config", bad, "--check-config"});
  CHECK(r.status == 2);
  CHECK(r.err.find("bad.yaml:2") != std::string::npos);     // log.level
  CHECK(r.err.find("testd.greting") != std::string::npos);  // unknown key, line 4
  CHECK(r.err.find("bad.yaml:4") != std::string::npos);
  CHECK(r.err.find("testd.threads") != std::string::npos);  // wrong type, line 5
  CHECK(r.err.find("bad.yaml:5") != std::string::npos);
}

TEST_CASE("a missing config file given with --config is an error naming it") {
  TempDir dir;
  auto r = run_testd({"--config", dir.file("nope.yaml")});
  CHECK(r.status == 2);
  CHECK(r.err.find("nope.yaml") != std::string::npos);
}

TEST_CASE("unknown flags exit 2") {
  auto r = run_testd({"--bogus"});
  CHECK(r.status == 2);
}

TEST_CASE("a running daemon: READY, admin commands, SIGHUP reload, SIGTERM drain") {
  TempDir dir;
  std::string cfg = dir.file("waddle.yaml");
  std::string sock = dir.path() + "/run/testd.sock";
  dir.write("waddle.yaml", config_text(dir.path(), "hello"));
  NotifySocket notify(dir.path() + "/notify.sock");
  RunningDaemon daemon(cfg, notify.path(), dir.path() + "/daemon.log");
  REQUIRE(notify.wait_for("READY=1"));

  struct stat st {};
  REQUIRE(stat((dir.path() + "/run").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0750);
  REQUIRE(stat(sock.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0660);

  auto status = waddle::ctl::call(sock, "status");
  CHECK(status.result == 0);
  CHECK(status.arguments["daemon"] == "waddle-testd");
  CHECK(status.arguments["state"] == "running");
  CHECK(status.arguments["greetings"] == 1);
  CHECK(waddle::ctl::call(sock, "greet").text == "hello");
  CHECK(waddle::ctl::call(sock, "version").text == "waddle-testd 0.0.1");

  SECTION("config-get redacts secrets") {
    auto got = waddle::ctl::call(sock, "config-get");
    CHECK(got.result == 0);
    CHECK(got.arguments.dump().find("s3cret") == std::string::npos);
    CHECK(got.arguments["testd"]["greeting"] == "hello");
  }

  SECTION("log-level shows and sets the level, and rejects unknown ones") {
    CHECK(waddle::ctl::call(sock, "log-level").arguments["level"] == "info");
    CHECK(waddle::ctl::call(sock, "log-level", {{"level", "debug"}}).result == 0);
    CHECK(waddle::ctl::call(sock, "log-level").arguments["level"] == "debug");
    auto bad = waddle::ctl::call(sock, "log-level", {{"level", "loud"}});
    CHECK(bad.result == 1);
    CHECK(bad.text.find("level") != std::string::npos);
  }

  SECTION("SIGHUP applies a valid config and keeps the old one when the new has errors") {
    dir.write("waddle.yaml", config_text(dir.path(), "bonjour"));
    daemon.signal(SIGHUP);
    REQUIRE(notify.wait_for("RELOADING=1"));
    REQUIRE(notify.wait_for("READY=1"));
    CHECK(waddle::ctl::call(sock, "greet").text == "bonjour");

    dir.write("waddle.yaml", config_text(dir.path(), "hola") + "testd_typo: 1\n");
    daemon.signal(SIGHUP);
    REQUIRE(notify.wait_for("RELOADING=1"));
    REQUIRE(notify.wait_for("READY=1"));
    CHECK(daemon.alive());
    CHECK(waddle::ctl::call(sock, "greet").text == "bonjour");
    auto test = waddle::ctl::call(sock, "config-test");
    CHECK(test.result == 1);
    CHECK(test.text.find("testd_typo") != std::string::npos);
    auto reload = waddle::ctl::call(sock, "reload");
    CHECK(reload.result == 1);
  }

  SECTION("the reload command works like SIGHUP") {
    dir.write("waddle.yaml", config_text(dir.path(), "salut"));
    auto reload = waddle::ctl::call(sock, "reload");
    CHECK(reload.result == 0);
    CHECK(waddle::ctl::call(sock, "greet").text == "salut");
  }

  daemon.signal(SIGTERM);
  CHECK(notify.wait_for("STOPPING=1"));
  CHECK(daemon.wait_exit() == 0);
  CHECK(access(sock.c_str(), F_OK) != 0);  // the socket is gone
}
