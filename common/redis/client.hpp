#pragma once
// waddle::redis::Client: an async, pipelining, reconnecting Redis client for C++20 coroutines.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <concepts>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "redis/options.hpp"
#include "redis/reply.hpp"
#include "redis/script.hpp"

namespace waddle::redis {

namespace detail {
class Multiplexer;
}

// Any number of coroutines may await commands at once: they share one connection, their commands
// are pipelined and each gets its own reply. Safe to use from several threads (state lives on a
// strand). Errors are waddle::Error: unavailable (no connection within command_timeout, or the
// connection dropped while the command was in flight — it may or may not have executed), timeout
// (sent, but no reply within command_timeout; the connection is then replaced), invalid_argument
// (bad URL or options, at construction).
class Client {
 public:
  // Parses options.url; throws waddle::Error(invalid_argument) for a bad URL or bad timeouts.
  Client(boost::asio::any_io_executor executor, Options options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Connects, sends AUTH and SELECT, then keeps the connection up in the background (exponential
  // backoff between reconnect_min and reconnect_max; AUTH/SELECT again on every reconnect).
  // Throws unavailable (refused, unreachable, connect_timeout), unauthenticated (AUTH refused),
  // invalid_argument (SELECT refused). No-op when already connected.
  boost::asio::awaitable<void> connect();

  // Sends one command. A Redis error reply (WRONGTYPE, …) is a Reply with is_error(), not an
  // exception.
  boost::asio::awaitable<Reply> command(std::vector<std::string> args);
  // command("SET", key, 42): GCC 12 cannot compile a braced list inside a co_await expression
  // (`co_await c.command({"GET", k})` fails with "array used as initializer"), so this form
  // builds the vector outside the coroutine.
  template <typename... Args>
  requires(sizeof...(Args) > 0 && ((std::convertible_to<Args, std::string_view> ||
                                    std::integral<std::decay_t<Args>>)&&...))
      boost::asio::awaitable<Reply> command(Args&&... args) {
    return command(std::vector<std::string>{to_arg(std::forward<Args>(args))...});
  }
  // Like command(), but an error reply throws waddle::Error (see errc_for_error_reply).
  boost::asio::awaitable<Reply> command_or_throw(std::vector<std::string> args);
  // Sends the commands back to back in one write; returns their replies in order.
  boost::asio::awaitable<std::vector<Reply>> pipeline(
      std::vector<std::vector<std::string>> commands);
  // EVALSHA, falling back to EVAL (which caches the script) on NOSCRIPT.
  boost::asio::awaitable<Reply> eval(const Script& script, std::vector<std::string> keys,
                                     std::vector<std::string> args);

  // Drops the connection and stops reconnecting; waiting commands fail with unavailable.
  // connect() may be called again afterwards.
  void close();
  bool connected() const noexcept;
  // The server's address for messages ("127.0.0.1:6379"); never includes the password.
  const Endpoint& endpoint() const noexcept;

 private:
  template <typename T>
  static std::string to_arg(T&& value) {
    if constexpr (std::integral<std::decay_t<T>>) {
      return std::to_string(value);
    } else {
      return std::string(std::string_view(value));
    }
  }

  std::shared_ptr<detail::Multiplexer> mux_;
};

}  // namespace waddle::redis
