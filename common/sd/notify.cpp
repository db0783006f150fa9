#include "sd/notify.hpp"

#include <systemd/sd-daemon.h>
#include <time.h>

#include <string>

namespace waddle::sd {

bool notify(std::string_view state) {
  std::string s(state);
  return sd_notify(0, s.c_str()) > 0;
}

bool ready() {
  return notify("READY=1");
}
bool status(std::string_view text) {
  return notify("STATUS=" + std::string(text));
}
bool stopping() {
  return notify("STOPPING=1");
}
bool watchdog() {
  return notify("WATCHDOG=1");
}

bool reloading() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  auto usec = static_cast<unsigned long long>(ts.tv_sec) * 1000000ULL +
              static_cast<unsigned long long>(ts.tv_nsec) / 1000ULL;
  return notify("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec));
}

std::optional<std::chrono::microseconds> watchdog_interval() {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) return std::chrono::microseconds(usec);
  return std::nullopt;
}

WatchdogTimer::WatchdogTimer(boost::asio::io_context& io) : timer_(io) {}

bool WatchdogTimer::start() {
  auto interval = watchdog_interval();
  if (!interval) return false;
  period_ = *interval / 2;
  running_ = true;
  watchdog();
  ++pings_;
  schedule();
  return true;
}

void WatchdogTimer::stop() {
  running_ = false;
  timer_.cancel();
}

void WatchdogTimer::schedule() {
  timer_.expires_after(period_);
  timer_.async_wait([this](boost::system::error_code ec) {
    if (ec || !running_) return;
    watchdog();
    ++pings_;
    schedule();
  });
}

}  // namespace waddle::sd
