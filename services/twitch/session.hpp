#pragma once
// The Twitch IRC protocol of one account's connection, without any I/O: the Asio client feeds it
// lines, ticks and connection changes, and sends what it returns. Keeping the state machine here
// makes login, JOIN pacing, PING/PONG, RECONNECT and backoff testable with a fake clock, and
// keeps the socket code to reading and writing.

#include <chrono>
#include <cstddef>
#include <deque>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "twitch/irc.hpp"
#include "twitch/limits.hpp"

namespace waddle::twitch {

struct IrcSessionOptions {
  std::string nick;   // the token's account login, lower case
  std::string token;  // user access token with chat:read (and chat:edit), without "oauth:"
  Clock::duration ping_interval = std::chrono::seconds(60);  // idle time before our own PING
  Clock::duration pong_timeout = std::chrono::seconds(10);   // then the link is dead
  Clock::duration backoff_initial = std::chrono::seconds(1);
  Clock::duration backoff_max = std::chrono::seconds(30);
  JoinLimits join_limits{};
};

enum class IrcState {
  disconnected,  // no socket
  registering,   // socket up, login sent, waiting for 376
  ready,         // logged in: JOINs flow, messages can be sent
  auth_failed,   // Twitch refused the token: stop until set_token()
};

std::string_view irc_state_name(IrcState state) noexcept;

// "PRIVMSG #channel :text", or "@reply-parent-msg-id=<id> PRIVMSG …" for a reply. Throws
// IrcParseError when the channel is not a login or the text holds CR, LF or NUL (split_message
// already turned those into spaces).
std::string make_privmsg(std::string_view channel, std::string_view text,
                         std::string_view reply_to = {});

class IrcSession {
 public:
  // Throws Error(invalid_argument) for a nick that is not a login or a token with spaces or
  // control characters.
  explicit IrcSession(IrcSessionOptions options);

  struct Output {
    std::vector<std::string> send;     // lines to write, in order, without CRLF
    std::vector<IrcMessage> messages;  // parsed lines for the caller (PRIVMSG, USERNOTICE…)
    bool reconnect = false;            // close this socket and connect again
    bool auth_failed = false;          // close and stop; see set_token()
  };

  // A new socket is up: the login lines. Any earlier connection's state is gone.
  Output on_connected(Clock::time_point now);
  // One line from the server (without CRLF).
  Output on_line(std::string_view line, Clock::time_point now);
  // Timers: JOINs the join limiter allows, our PING, and the PONG deadline.
  Output on_tick(Clock::time_point now);
  // When on_tick next has work, or nullopt when nothing is scheduled.
  std::optional<Clock::time_point> next_tick(Clock::time_point now) const;
  // The socket is gone: how long to wait before connecting again (0 after RECONNECT, growing
  // backoff after failures, reset by a successful login); nullopt when the token was refused.
  std::optional<Clock::duration> on_disconnected();

  // Channels to be in (logins). JOIN/PART lines go out through on_tick / at once.
  void join(std::string_view channel);
  Output part(std::string_view channel);
  // A refreshed token: the next connection logs in with it, even after auth_failed.
  void set_token(std::string token);

  IrcState state() const { return state_; }
  const std::set<std::string>& wanted() const { return wanted_; }
  const std::set<std::string>& joined() const { return joined_; }
  const std::set<std::string>& joining() const { return joining_; }
  std::size_t connections() const { return connections_; }
  std::optional<Clock::time_point> last_received() const { return last_received_; }

 private:
  void queue_joins();

  IrcSessionOptions options_;
  IrcState state_ = IrcState::disconnected;
  JoinLimiter join_limiter_;
  std::set<std::string> wanted_;
  std::set<std::string> joined_;
  std::set<std::string> joining_;  // JOIN sent, not yet echoed
  std::deque<std::string> join_queue_;
  std::optional<Clock::time_point> last_received_;
  std::optional<Clock::time_point> ping_sent_;
  bool reconnect_requested_ = false;
  std::size_t failures_ = 0;  // consecutive connections that ended before a login
  std::size_t connections_ = 0;
};

}  // namespace waddle::twitch
