// `waddle status` and `waddle ctl` against a real daemon: waddle-testd posing as the router, its
// admin socket in a temporary --run-dir. systemd is not reachable here, which status must say.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "support/cli.hpp"

using waddle::test::run_process;
using waddle::test::TempDir;

namespace {

// waddle-testd with its admin socket at DIR/router.sock; killed on destruction.
class FakeRouter {
 public:
  explicit FakeRouter(const TempDir& dir) : socket_(dir.file("router.sock")) {
    auto config = dir.write("waddle.yaml", "testd:\n  admin_socket: " + socket_ + "\n");
    pid_ = fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      freopen("/dev/null", "w", stderr);
      alarm(30);
      execl(WADDLE_TESTD, WADDLE_TESTD, "--config", config.c_str(), nullptr);
      _exit(127);
    }
    for (int i = 0; i < 500 && access(socket_.c_str(), F_OK) != 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    REQUIRE(access(socket_.c_str(), F_OK) == 0);
  }
  ~FakeRouter() {
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
  }

 private:
  std::string socket_;
  pid_t pid_ = -1;
};

waddle::test::ProcessResult waddle_cmd(const TempDir& dir, std::vector<std::string> args) {
  args.insert(args.begin(), {waddle::test::waddle_binary(), "--run-dir", dir.path()});
  return run_process(args, {{"DBUS_SYSTEM_BUS_ADDRESS", "unix:path=" + dir.file("no-bus")}});
}

}  // namespace

TEST_CASE("status shows a running daemon, the ones not running, and that systemd is absent") {
  TempDir dir;
  FakeRouter router(dir);
  auto r = waddle_cmd(dir, {"--json", "status"});
  REQUIRE(r.status == 0);
  auto rows = nlohmann::json::parse(r.out);
  REQUIRE(rows.size() == 6);
  CHECK(rows[0]["daemon"] == "router");
  CHECK(rows[0]["state"] == "running");
  CHECK(rows[0]["version"] == "0.0.1");
  CHECK(rows[0]["details"]["daemon"] == "waddle-testd");
  CHECK(rows[0]["systemd"] == "no systemd");
  CHECK(rows[1]["daemon"] == "actions");
  CHECK(rows[1]["state"] == "not running");

  auto table = waddle_cmd(dir, {"status", "router", "overlay"});
  REQUIRE(table.status == 0);
  CHECK(table.out.find("router") != std::string::npos);
  CHECK(table.out.find("not running") != std::string::npos);
  CHECK(table.out.find("systemd is not reachable") != std::string::npos);
}

TEST_CASE("ctl sends one admin command and maps the reply to an exit code") {
  TempDir dir;
  FakeRouter router(dir);
  auto greet = waddle_cmd(dir, {"ctl", "router", "greet"});
  CHECK(greet.status == 0);
  CHECK(greet.out == "hello\n");

  auto level =
      waddle_cmd(dir, {"--json", "ctl", "router", "log-level", "--args", R"({"level": "debug"})"});
  REQUIRE(level.status == 0);
  CHECK(nlohmann::json::parse(level.out)["arguments"]["level"] == "debug");

  auto unknown = waddle_cmd(dir, {"ctl", "router", "frobnicate"});
  CHECK(unknown.status == 2);
  CHECK(unknown.err.find("frobnicate") != std::string::npos);

  auto bad_args = waddle_cmd(dir, {"ctl", "router", "status", "--args", "[1]"});
  CHECK(bad_args.status == 2);
  CHECK(bad_args.err.find("--args") != std::string::npos);

  auto absent = waddle_cmd(dir, {"ctl", "overlay", "status"});
  CHECK(absent.status == 1);
  CHECK(absent.err.find("overlay.sock") != std::string::npos);
}
