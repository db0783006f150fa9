// Every WaddleBot daemon speaks systemd's notify protocol (Type=notify units): READY=1 once it
// serves, WATCHDOG=1 while WATCHDOG_USEC is set, STOPPING=1 on SIGTERM, then a clean exit.
#include <signal.h>

#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "support/child.hpp"
#include "support/cluster.hpp"
#include "support/database.hpp"
#include "support/notify_socket.hpp"
#include "support/ports.hpp"
#include "support/process.hpp"

using namespace waddle::test;

namespace {

struct DaemonUnderTest {
  const char* binary;
  const char* section;
};

const std::vector<DaemonUnderTest> kDaemons = {
    {WADDLE_ROUTERD, "router"}, {WADDLE_ACTIOND, "actions"}, {WADDLE_OVERLAYD, "overlay"}};

}  // namespace

TEST_CASE("each daemon sends READY=1, WATCHDOG=1 and STOPPING=1", "[daemon]") {
  FreshDatabase db(true);
  for (const auto& daemon : kDaemons) {
    INFO(daemon.binary);
    TempDir dir;
    const std::string section = daemon.section;
    const std::string config = "database:\n  url: " + db.url() + "\n" + section +
                               ":\n  port: " + std::to_string(free_port()) +
                               "\n  admin_socket: " + dir.file(section + ".sock") + "\n";
    const std::string path = dir.write("waddle.yaml", config);
    NotifySocket notify(dir.file("notify.sock"));
    ChildProcess child({daemon.binary, "--config", path},
                       {{"NOTIFY_SOCKET", notify.path()}, {"WATCHDOG_USEC", "300000"}},
                       dir.file("daemon.log"));
    INFO(child.log());
    REQUIRE(notify.wait_for("READY=1"));
    // At half the interval; two in a row show it keeps coming.
    CHECK(notify.wait_for("WATCHDOG=1"));
    CHECK(notify.wait_for("WATCHDOG=1"));
    child.signal(SIGTERM);
    CHECK(notify.wait_for("STOPPING=1"));
    CHECK(child.stop() == 0);
  }
}
