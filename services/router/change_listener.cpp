#include "router/change_listener.hpp"

#include <algorithm>
#include <exception>
#include <memory>
#include <pqxx/connection>
#include <pqxx/except>
#include <pqxx/nontransaction>
#include <pqxx/notification>
#include <utility>

#include "pg/conninfo.hpp"

namespace waddle::router {
namespace {

class Receiver final : public pqxx::notification_receiver {
 public:
  Receiver(pqxx::connection_base& conn, const std::string& channel,
           std::function<void(const std::string&)> deliver)
      : pqxx::notification_receiver(conn, channel), deliver_(std::move(deliver)) {}

  void operator()(const std::string& payload, int /*backend_pid*/) override { deliver_(payload); }

 private:
  std::function<void(const std::string&)> deliver_;
};

}  // namespace

ChangeListener::ChangeListener(ChangeListenerOptions options, Handlers handlers)
    : options_(std::move(options)), handlers_(std::move(handlers)) {
  auto info = pg::parse_conninfo(options_.url, "database.url", options_.connect_timeout,
                                 options_.application_name);
  conninfo_ = std::move(info.conninfo);
  description_ = std::move(info.description);
  password_ = std::move(info.password);
}

ChangeListener::~ChangeListener() {
  stop();
}

void ChangeListener::start() {
  std::lock_guard lock(mutex_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void ChangeListener::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool ChangeListener::wait_until_listening(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return cv_.wait_for(lock, timeout, [this] { return listening_ || stopping_; }) && listening_;
}

bool ChangeListener::listening() const {
  std::lock_guard lock(mutex_);
  return listening_;
}

int ChangeListener::backend_pid() const {
  std::lock_guard lock(mutex_);
  return backend_pid_;
}

ChangeListener::Stats ChangeListener::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

bool ChangeListener::sleep_unless_stopped(std::chrono::milliseconds delay) {
  std::unique_lock lock(mutex_);
  return !cv_.wait_for(lock, delay, [this] { return stopping_; });
}

void ChangeListener::run() {
  auto backoff = options_.initial_backoff;
  bool connected_before = false;
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
    }
    try {
      pqxx::connection conn(conninfo_);
      // Reconnecting is this loop's job: libpqxx's silent reactivation would drop the LISTEN.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
      conn.inhibit_reactivation(true);
#pragma GCC diagnostic pop
      Receiver receiver(conn, options_.channel, [this](const std::string& payload) {
        {
          std::lock_guard lock(mutex_);
          ++stats_.notifications;
        }
        if (handlers_.on_change) handlers_.on_change(payload);
      });
      // LISTEN is sent lazily by some libpqxx versions; a round trip makes sure it is in effect.
      pqxx::nontransaction(conn).exec("select 1");
      {
        std::lock_guard lock(mutex_);
        listening_ = true;
        backend_pid_ = conn.backendpid();
        ++stats_.connects;
      }
      cv_.notify_all();
      backoff = options_.initial_backoff;
      if (connected_before && handlers_.on_resync) handlers_.on_resync();
      connected_before = true;
      const auto secs = options_.poll_interval.count() / 1000;
      const auto usecs = (options_.poll_interval.count() % 1000) * 1000;
      for (;;) {
        {
          std::lock_guard lock(mutex_);
          if (stopping_) break;
        }
        conn.await_notification(secs, usecs);
        if (!conn.is_open()) throw pqxx::broken_connection("the listening connection closed");
      }
      std::lock_guard lock(mutex_);
      listening_ = false;
      backend_pid_ = 0;
      return;
    } catch (const std::exception& e) {
      std::lock_guard lock(mutex_);
      listening_ = false;
      backend_pid_ = 0;
      ++stats_.connection_lost;
      stats_.last_error = "LISTEN " + options_.channel + " on " + description_ + ": " +
                          pg::redact(e.what(), {}, password_);
    }
    // A handler that threw lands here too; reconnecting and resyncing is the safe answer.
    if (!sleep_unless_stopped(backoff)) return;
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

}  // namespace waddle::router
