#pragma once
// LISTEN waddle_changes on a connection of its own (not from the pool: a pooled connection would
// be handed to other work), on a thread of its own. Each notification's payload goes to
// Handlers::on_change; after a lost connection it reconnects with backoff and calls
// Handlers::on_resync, because notifications sent while it was away are lost.
//
//   ChangeListener listener({.url = db_url}, catalog.change_handlers());
//   listener.start();
//   listener.wait_until_listening(5s);
//   ...
//   listener.stop();   // joins within about poll_interval (plus a connect in progress)

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace waddle::router {

struct ChangeListenerOptions {
  std::string url;  // postgresql:// URL (or key=value conninfo)
  std::string channel = "waddle_changes";
  // How long one await_notification may block: bounds how late stop() is noticed.
  std::chrono::milliseconds poll_interval{200};
  std::chrono::milliseconds initial_backoff{100};
  std::chrono::milliseconds max_backoff{5000};
  std::chrono::seconds connect_timeout{5};
  std::string application_name = "waddlebot-listener";
};

class ChangeListener {
 public:
  struct Handlers {
    // One notification's payload, on the listener's thread: must not block for long.
    std::function<void(const std::string& payload)> on_change;
    // Listening again after a lost connection: whatever was cached must be reloaded.
    std::function<void()> on_resync;
  };

  struct Stats {
    std::uint64_t notifications = 0;
    std::uint64_t connects = 0;         // successful LISTENs, the first one included
    std::uint64_t connection_lost = 0;  // broken connections and failed connect attempts
    std::string last_error;
  };

  // Checks the URL at once (Error(Errc::invalid_argument) when malformed); connects in start().
  ChangeListener(ChangeListenerOptions options, Handlers handlers);
  ~ChangeListener();  // stop()
  ChangeListener(const ChangeListener&) = delete;
  ChangeListener& operator=(const ChangeListener&) = delete;

  void start();
  void stop();
  // True once LISTEN is in effect (false when `timeout` passed first).
  bool wait_until_listening(std::chrono::milliseconds timeout);
  bool listening() const;
  // The backend pid of the listening connection, 0 when not connected.
  int backend_pid() const;
  Stats stats() const;

 private:
  void run();
  bool sleep_unless_stopped(std::chrono::milliseconds delay);

  const ChangeListenerOptions options_;
  const Handlers handlers_;
  std::string conninfo_;
  std::string description_;
  std::string password_;

  mutable std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool listening_ = false;
  int backend_pid_ = 0;
  Stats stats_;
  std::thread thread_;
};

}  // namespace waddle::router
