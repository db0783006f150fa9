#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <string>

#include "sd/notify.hpp"

namespace {

// A datagram socket standing in for systemd's NOTIFY_SOCKET.
class FakeNotifySocket {
 public:
  FakeNotifySocket() {
    path_ = "/tmp/waddle-notify-" + std::to_string(getpid()) + ".sock";
    unlink(path_.c_str());
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path_.c_str());
    REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    timeval tv{2, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setenv("NOTIFY_SOCKET", path_.c_str(), 1);
  }
  ~FakeNotifySocket() {
    unsetenv("NOTIFY_SOCKET");
    close(fd_);
    unlink(path_.c_str());
  }
  std::string receive() {
    char buf[512];
    auto n = recv(fd_, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
  }

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace

TEST_CASE("without NOTIFY_SOCKET every notification is a no-op") {
  unsetenv("NOTIFY_SOCKET");
  unsetenv("WATCHDOG_USEC");
  CHECK_FALSE(waddle::sd::ready());
  CHECK_FALSE(waddle::sd::status("loading"));
  CHECK_FALSE(waddle::sd::watchdog_interval().has_value());
  boost::asio::io_context io;
  waddle::sd::WatchdogTimer timer(io);
  CHECK_FALSE(timer.start());
}

TEST_CASE("states reach the notify socket") {
  FakeNotifySocket sock;
  CHECK(waddle::sd::ready());
  CHECK(sock.receive() == "READY=1");
  CHECK(waddle::sd::status("serving 3 channels"));
  CHECK(sock.receive() == "STATUS=serving 3 channels");
  CHECK(waddle::sd::stopping());
  CHECK(sock.receive() == "STOPPING=1");
  CHECK(waddle::sd::reloading());
  CHECK(sock.receive().rfind("RELOADING=1\nMONOTONIC_USEC=", 0) == 0);
}

TEST_CASE("the watchdog pings at half of WATCHDOG_USEC") {
  FakeNotifySocket sock;
  setenv("WATCHDOG_USEC", "40000", 1);  // 40 ms → a ping every 20 ms
  setenv("WATCHDOG_PID", std::to_string(getpid()).c_str(), 1);
  REQUIRE(waddle::sd::watchdog_interval() == std::chrono::microseconds(40000));
  boost::asio::io_context io;
  waddle::sd::WatchdogTimer timer(io);
  REQUIRE(timer.start());
  // Run until three pings went out; the io_context is bounded by a hard stop.
  boost::asio::steady_timer guard(io, std::chrono::seconds(5));
  guard.async_wait([&](auto) { io.stop(); });
  while (timer.pings() < 3 && !io.stopped()) io.run_one();
  timer.stop();
  guard.cancel();
  CHECK(timer.pings() >= 3);
  CHECK(sock.receive() == "WATCHDOG=1");
  CHECK(sock.receive() == "WATCHDOG=1");
  unsetenv("WATCHDOG_USEC");
  unsetenv("WATCHDOG_PID");
}

TEST_CASE("a watchdog meant for another process is ignored") {
  setenv("WATCHDOG_USEC", "40000", 1);
  setenv("WATCHDOG_PID", "1", 1);
  CHECK_FALSE(waddle::sd::watchdog_interval().has_value());
  unsetenv("WATCHDOG_USEC");
  unsetenv("WATCHDOG_PID");
}
