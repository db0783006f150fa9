#pragma once
// The Twitch chat connection: TCP (+TLS) to irc.chat.twitch.tv:6697 driven by IrcSession. One
// coroutine owns the connection loop, so there is exactly one live socket at any time: a new
// one is opened only after the old one is closed and its reader has ended, and lines of an old
// socket are never delivered. Run it on a single-threaded io_context (or a strand): handlers and
// the public methods share state without locks.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>

#include "twitch/irc.hpp"
#include "twitch/session.hpp"

namespace waddle::twitch {

struct IrcClientOptions {
  std::string host = "irc.chat.twitch.tv";
  std::uint16_t port = 6697;
  bool tls = true;
  // Extra trusted CA certificates (PEM), e.g. a test server's self-signed one. Empty: the
  // system's default trust store.
  std::string ca_pem;
  std::chrono::milliseconds connect_timeout{10000};  // resolve + connect + TLS handshake
  IrcSessionOptions session;
};

class IrcClient {
 public:
  using MessageHandler = std::function<void(const IrcMessage&)>;
  using StateHandler = std::function<void(IrcState)>;

  // Throws Error(invalid_argument) for bad session settings (see IrcSession).
  IrcClient(boost::asio::any_io_executor executor, IrcClientOptions options,
            MessageHandler on_message, StateHandler on_state = {});
  ~IrcClient();
  IrcClient(const IrcClient&) = delete;
  IrcClient& operator=(const IrcClient&) = delete;

  // Starts connecting; reconnects after drops with the session's backoff until stop() or a
  // refused token.
  void start();
  // Closes the connection and ends the loop; no handler runs afterwards.
  void stop();

  void join(std::string_view channel);
  void part(std::string_view channel);
  // Queues a raw line (e.g. make_privmsg(…)) for the current connection; dropped with a false
  // return when not logged in. Pace chat through SendQueue before calling this.
  bool send_line(std::string line);
  // After a refused login: log in with a refreshed token on the next attempt.
  void set_token(std::string token);

  IrcState state() const;
  std::size_t connections() const;
  const IrcSession& session() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace waddle::twitch
