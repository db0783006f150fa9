#pragma once
// Internal to waddle::redis: many callers' commands pipelined over one reconnecting connection.
// Client and Subscriber are thin fronts over this.
//
// All state lives on one strand. Requests wait in `pending_` until a writer coroutine sends them
// (batched into one write), then in the session's `inflight` FIFO until the reader loop has
// matched their replies; RESP answers in order, so the FIFO front owns the next reply.

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "error/error.hpp"
#include "redis/options.hpp"
#include "redis/reply.hpp"

namespace waddle::redis::detail {

using Strand = boost::asio::strand<boost::asio::any_io_executor>;

// Appends the RESP encoding of one command (hiredis's redisFormatCommandArgv).
void append_command(std::string& out, const std::vector<std::string>& args);

// One caller's unit of work: one or more commands whose replies are handed back together.
struct Request {
  explicit Request(const Strand& strand) : wake(strand) {}

  std::string payload;
  std::size_t expected = 0;  // replies that complete the request
  std::string what;          // "GET", "pipeline of 3 commands": for messages, never arguments
  bool error_ends = false;   // an error reply answers the whole request (pub/sub commands)
  std::vector<Reply> replies;
  bool written = false;
  bool done = false;
  std::optional<Error> error;
  boost::asio::steady_timer wake;  // the caller waits on it; cancelled on completion
};

class Session;

class Multiplexer : public std::enable_shared_from_this<Multiplexer> {
 public:
  struct Hooks {
    // Sees every reply first; returns true when it was a push (a pub/sub message) that answers
    // no request.
    std::function<bool(const Reply&)> on_push;
    // A request sent ahead of everything else on each new connection, or null.
    std::function<std::shared_ptr<Request>(const Strand&)> first_request;
  };

  Multiplexer(boost::asio::any_io_executor executor, Options options, Hooks hooks);
  ~Multiplexer();

  const Strand& strand() const noexcept { return strand_; }
  const Endpoint& endpoint() const noexcept { return endpoint_; }
  const Options& options() const noexcept { return options_; }
  bool connected() const noexcept { return connected_.load(); }

  // Must run on strand(). Connects and authenticates once, then keeps the connection up in the
  // background. No-op when connected or already reconnecting.
  static boost::asio::awaitable<void> connect(std::shared_ptr<Multiplexer> self);
  // Must run on strand(). Queues `request` and waits for its replies, at most command_timeout.
  static boost::asio::awaitable<std::vector<Reply>> execute(std::shared_ptr<Multiplexer> self,
                                                            std::shared_ptr<Request> request);
  // Thread-safe: drops the connection, stops reconnecting, fails every waiting request.
  void close();

 private:
  enum class Phase { idle, connecting, connected, reconnecting, closed };

  boost::asio::awaitable<std::shared_ptr<Session>> open_session();
  static boost::asio::awaitable<void> supervise(std::shared_ptr<Multiplexer> self,
                                                std::shared_ptr<Session> session,
                                                std::uint64_t generation);
  static boost::asio::awaitable<void> write_loop(std::shared_ptr<Multiplexer> self,
                                                 std::shared_ptr<Session> session);
  boost::asio::awaitable<std::string> read_loop(std::shared_ptr<Session> session);
  void install(std::shared_ptr<Session> session);
  void fail(Request& request, Error error);
  void fail_pending(const std::string& reason);
  void close_on_strand();

  Strand strand_;
  Options options_;
  Endpoint endpoint_;
  Hooks hooks_;
  Phase phase_ = Phase::idle;
  std::uint64_t generation_ = 0;  // bumped by close(): stale background loops notice and stop
  std::shared_ptr<Session> session_;
  std::deque<std::shared_ptr<Request>> pending_;
  std::string last_error_;
  boost::asio::steady_timer backoff_;
  std::atomic<bool> connected_{false};
};

}  // namespace waddle::redis::detail
