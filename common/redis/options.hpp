#pragma once
// Connection settings for a Redis client and the parsed form of its URL.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace waddle::redis {

struct Options {
  // redis://[[user]:password@]host[:port][/db]  or  unix://[[user]:password@]/path/to.sock[?db=N]
  std::string url = "redis://127.0.0.1:6379";
  std::chrono::milliseconds connect_timeout{2000};  // TCP/Unix connect plus AUTH/SELECT
  std::chrono::milliseconds command_timeout{5000};  // a command's whole life, reconnect included
  std::chrono::milliseconds reconnect_min{50};      // first backoff after a dropped connection
  std::chrono::milliseconds reconnect_max{2000};    // backoff doubles up to this
};

// Where and as whom to connect. Holds the password, so it is never printed: describe() is the
// form that goes into messages.
struct Endpoint {
  enum class Kind { tcp, unix_socket };
  Kind kind = Kind::tcp;
  std::string host;  // tcp: a name or an IP address (IPv6 without brackets)
  std::uint16_t port = 6379;
  std::string path;  // unix_socket: the socket's path
  std::string user;  // empty: AUTH with the password alone (Redis's default user)
  std::optional<std::string> password;
  int db = 0;

  // "127.0.0.1:6379", "[::1]:6379/2" or "unix:/run/redis.sock": safe to log.
  std::string describe() const;
};

// Parses Options::url. Throws waddle::Error(Errc::invalid_argument) naming the bad part (never
// quoting the password).
Endpoint parse_url(std::string_view url);

// Throws waddle::Error(Errc::invalid_argument) for non-positive timeouts or a backoff range with
// reconnect_min > reconnect_max.
void validate(const Options& options);

}  // namespace waddle::redis
