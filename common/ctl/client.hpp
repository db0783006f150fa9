#pragma once
// The blocking admin-socket client the `waddle` CLI uses: no io_context, no coroutines.

#include <chrono>
#include <string>
#include <string_view>

#include "ctl/protocol.hpp"

namespace waddle::ctl {

inline constexpr std::chrono::milliseconds kDefaultTimeout{5000};

// One connection for several calls. It connects on the first call (or connect()); after any
// failure it is closed and the next call connects again. Errors are waddle::Error:
//   unavailable  the socket cannot be reached, or the daemon closed the connection
//   timeout      no complete reply within the timeout
//   internal     the reply is not a valid reply line
//   invalid_argument  the path is too long, or the arguments are not an object
class Connection {
 public:
  explicit Connection(std::string socket_path, std::chrono::milliseconds timeout = kDefaultTimeout);
  ~Connection();
  Connection(Connection&& other) noexcept;
  Connection& operator=(Connection&& other) noexcept;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Sends one command and waits for its reply; the timeout covers connecting too.
  Reply call(std::string command, nlohmann::json arguments = {});
  // Sends one raw line (a newline is added) and returns the reply line without its newline.
  std::string exchange(std::string_view line);

  void connect();
  void close() noexcept;
  bool connected() const noexcept { return fd_ >= 0; }

  const std::string& socket_path() const noexcept { return path_; }
  std::chrono::milliseconds timeout() const noexcept { return timeout_; }
  void set_timeout(std::chrono::milliseconds timeout) noexcept { timeout_ = timeout; }

 private:
  using Deadline = std::chrono::steady_clock::time_point;

  void connect(Deadline deadline);
  std::string round_trip(std::string_view line, std::string_view what);
  void send_all(std::string_view data, Deadline deadline, std::string_view what);
  std::string read_line(Deadline deadline, std::string_view what);
  void wait_for(short events, Deadline deadline, std::string_view what);

  std::string path_;
  std::chrono::milliseconds timeout_;
  int fd_ = -1;
  std::string pending_;  // bytes received after the last reply line
};

// One command on a fresh connection, e.g. call("/run/waddlebot/router.sock", "status").
Reply call(const std::string& socket_path, std::string command, nlohmann::json arguments = {},
           std::chrono::milliseconds timeout = kDefaultTimeout);

// The daemon expected behind a socket path, for error hints: ".../router.sock" ->
// "waddle-routerd".
std::string daemon_for_socket(std::string_view socket_path);

}  // namespace waddle::ctl
