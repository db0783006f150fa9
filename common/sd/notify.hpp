#pragma once
// systemd integration: sd_notify states and the watchdog ping. Every call is a no-op (returning
// false) when the process was not started by systemd with Type=notify (no NOTIFY_SOCKET).

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <optional>
#include <string_view>

namespace waddle::sd {

// Sends `state` ("READY=1", "STATUS=…", …); true when systemd received it.
bool notify(std::string_view state);
bool ready();
bool status(std::string_view text);
bool stopping();
// RELOADING=1 with MONOTONIC_USEC (systemd ≥ 253 wants it; older ones ignore it).
bool reloading();
bool watchdog();

// The watchdog interval systemd asked for (WATCHDOG_USEC, checked against WATCHDOG_PID), if any.
std::optional<std::chrono::microseconds> watchdog_interval();

// Sends WATCHDOG=1 every half interval from a timer on the daemon's io_context, so a wedged
// event loop stops the pings and systemd restarts the daemon.
class WatchdogTimer {
 public:
  explicit WatchdogTimer(boost::asio::io_context& io);
  // Starts pinging when systemd asked for a watchdog; returns whether it did.
  bool start();
  void stop();
  std::size_t pings() const { return pings_; }

 private:
  void schedule();
  boost::asio::steady_timer timer_;
  std::chrono::microseconds period_{0};
  bool running_ = false;
  std::size_t pings_ = 0;
};

}  // namespace waddle::sd
