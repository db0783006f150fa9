#pragma once
// The baseline of the overlay benchmark: a bare Beast WebSocket server that accepts any upgrade
// and sends each broadcast message, as one shared buffer, to every connected client. No tokens,
// no state, no queue limit: the floor a broadcast over loopback costs on this machine.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include <sys/types.h>

namespace waddle::bench {

class BareBroadcastServer {
 public:
  // Listens on 127.0.0.1 (a free port) with `threads` event-loop threads.
  explicit BareBroadcastServer(int threads);
  ~BareBroadcastServer();
  BareBroadcastServer(const BareBroadcastServer&) = delete;
  BareBroadcastServer& operator=(const BareBroadcastServer&) = delete;

  std::uint16_t port() const;
  std::size_t sessions() const;  // connections past the WebSocket handshake
  // Thread-safe: queues `text` on every open session.
  void broadcast(std::shared_ptr<const std::string> text);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The bare server in a child process of its own, as waddle-overlayd is, so that neither server
// shares a process with the clients. The parent hands it each message over a pipe (one local
// hop, as the daemon's Redis subscription is). Construct it before this process starts any
// thread: it forks.
class BareBroadcastProcess {
 public:
  explicit BareBroadcastProcess(int threads);
  ~BareBroadcastProcess();
  BareBroadcastProcess(const BareBroadcastProcess&) = delete;
  BareBroadcastProcess& operator=(const BareBroadcastProcess&) = delete;

  std::uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  // Has the child broadcast `text`. Throws std::runtime_error when the child is gone.
  void broadcast(const std::string& text);
  // Ends the child (closing the pipe) and reaps it.
  void stop();

 private:
  pid_t pid_ = -1;
  int command_fd_ = -1;
  std::uint16_t port_ = 0;
};

}  // namespace waddle::bench
