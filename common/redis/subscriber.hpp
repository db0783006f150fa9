#pragma once
// waddle::redis::Subscriber: Redis pub/sub on its own connection, resubscribing after reconnects.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "redis/options.hpp"

namespace waddle::redis {

namespace detail {
class Multiplexer;
}

class Subscriber {
 public:
  using Handler = std::function<void(std::string channel, std::string message)>;

  // Throws waddle::Error(invalid_argument) for a bad URL or bad timeouts.
  Subscriber(boost::asio::any_io_executor executor, Options options);
  ~Subscriber();
  Subscriber(const Subscriber&) = delete;
  Subscriber& operator=(const Subscriber&) = delete;

  // As Client::connect(). After a dropped connection every channel and pattern is subscribed
  // again on the new one; messages published while disconnected are lost (that is pub/sub).
  boost::asio::awaitable<void> connect();

  // Each returns once Redis confirmed every name. The set of subscriptions is updated first, so
  // even when the call fails (unavailable/timeout) the names are (un)subscribed on the next
  // connection. An empty list is invalid_argument.
  boost::asio::awaitable<void> subscribe(std::vector<std::string> channels);
  boost::asio::awaitable<void> psubscribe(std::vector<std::string> patterns);
  boost::asio::awaitable<void> unsubscribe(std::vector<std::string> channels);
  boost::asio::awaitable<void> punsubscribe(std::vector<std::string> patterns);

  // Called on the subscriber's strand for each message (for a pattern match, with the channel
  // the message was published to). Exceptions it throws are swallowed so that one bad handler
  // call cannot drop the connection.
  void on_message(Handler handler);

  void close();
  bool connected() const noexcept;

  struct Subscriptions;  // internal, shared with the connection's hooks

 private:
  std::shared_ptr<Subscriptions> subscriptions_;
  std::shared_ptr<detail::Multiplexer> mux_;
};

}  // namespace waddle::redis
