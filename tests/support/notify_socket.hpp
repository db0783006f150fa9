#pragma once
// A stand-in for systemd's NOTIFY_SOCKET (header-only): a datagram socket a test binds in a temp
// dir and hands to a daemon, then reads READY=1, STOPPING=1, WATCHDOG=1… from.
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <string>

namespace waddle::test {

class NotifySocket {
 public:
  explicit NotifySocket(std::string path) : path_(std::move(path)) {
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path_.c_str());
    REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    timeval tv{10, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~NotifySocket() { close(fd_); }
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  // Waits (at most 10 s per datagram, 20 datagrams) for one that starts with `prefix`.
  bool wait_for(const std::string& prefix) {
    for (int i = 0; i < 20; ++i) {
      char buf[512];
      auto n = recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return false;
      if (std::string(buf, static_cast<size_t>(n)).rfind(prefix, 0) == 0) return true;
    }
    return false;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_;
};

}  // namespace waddle::test
