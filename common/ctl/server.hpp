#pragma once
// The admin socket server (DESIGN.md §5): a Unix stream socket, mode 0660, one coroutine per
// connection, one JSON request per line answered through a Registry.

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "ctl/protocol.hpp"
#include "ctl/registry.hpp"

namespace waddle::ctl {

struct ServerOptions {
  std::string path;                                // e.g. /run/waddlebot/router.sock
  std::size_t max_line = 1024 * 1024;              // longest request line; longer ones get result 1
  std::chrono::milliseconds idle_timeout{300000};  // a silent connection is closed after this
  std::size_t max_connections = 64;                // more are answered with result 1 and closed
  // Audit hook: called after every parsed request (known or not) with its reply, on the
  // connection's strand, before the reply is written. Exceptions from it are ignored.
  std::function<void(const Call&, const Reply&)> on_call;
};

class Server {
 public:
  // The registry (and whatever its handlers use) must outlive the io_context's run: handlers may
  // still be running when the server is stopped.
  Server(boost::asio::io_context& io, Registry& registry, ServerOptions options);
  ~Server();  // stops
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Creates the parent directory (0750) when missing, removes a stale socket file, binds, chmods
  // the socket 0660 and starts accepting. Throws Error(conflict) when another process answers on
  // the path or the path is not a socket, Error(invalid_argument) for a bad path, and
  // Error(unavailable) when the directory or socket cannot be made.
  void start();
  // Closes the acceptor and every connection and unlinks the socket (if it is still ours). Safe
  // from any thread, and more than once; the closes run on the io_context.
  void stop();

  const std::string& path() const noexcept;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace waddle::ctl
