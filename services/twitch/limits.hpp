#pragma once
// The send side's guards against Twitch's penalties (an hour of ignored messages): sliding-window
// limiters for messages and JOINs, a send queue that releases a message only when every limit
// allows it, the 500-character split and the duplicate-text alteration. Time is always passed in,
// so the daemon drives them from its io_context clock and tests from a fake one.

#include <chrono>
#include <cstddef>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace waddle::twitch {

using Clock = std::chrono::steady_clock;

// At most `limit` acquisitions in any `window` (a log of the last `limit` times: exact, and
// small because limits are).
class SlidingWindowLimiter {
 public:
  SlidingWindowLimiter(std::size_t limit, Clock::duration window);

  // Whether `count` acquisitions (the log's entries after `now - window`) is below `limit`.
  bool allows(Clock::time_point now, std::size_t limit) const;
  bool allows(Clock::time_point now) const { return allows(now, limit_); }
  // The earliest time >= now at which allows(t, limit) holds.
  Clock::time_point next_allowed(Clock::time_point now, std::size_t limit) const;
  Clock::time_point next_allowed(Clock::time_point now) const { return next_allowed(now, limit_); }
  // Records an acquisition at `now` when allowed; returns whether it did.
  bool try_acquire(Clock::time_point now) { return try_acquire(now, limit_); }
  bool try_acquire(Clock::time_point now, std::size_t limit);
  std::size_t in_window(Clock::time_point now) const;
  std::size_t limit() const { return limit_; }

 private:
  std::size_t capacity_;  // the largest limit ever asked for: how much history to keep
  std::size_t limit_;
  Clock::duration window_;
  std::deque<Clock::time_point> log_;
};

struct SendLimits {
  std::size_t account_limit = 20;      // per window, in channels where the bot is not privileged
  std::size_t privileged_limit = 100;  // per window, in channels where it is mod/VIP/broadcaster
  Clock::duration window = std::chrono::seconds(30);
  Clock::duration channel_interval = std::chrono::seconds(1);  // where it is not privileged
  // Added to the window and the interval: Twitch counts on arrival, and the network can bunch
  // messages sent just far enough apart.
  Clock::duration margin = std::chrono::milliseconds(500);
};

// Twitch's chat send limits for one account. Every message counts in one log: a message to an
// unprivileged channel needs fewer than account_limit in the window, one to a privileged channel
// fewer than privileged_limit (Twitch: "they still count toward the 20 bucket, but keep flowing
// until the 100 bucket is full"); an unprivileged channel also gets one message per interval.
class SendLimiter {
 public:
  explicit SendLimiter(SendLimits limits = {});

  Clock::time_point next_allowed(std::string_view channel, bool privileged,
                                 Clock::time_point now) const;
  bool try_acquire(std::string_view channel, bool privileged, Clock::time_point now);
  const SendLimits& limits() const { return limits_; }

 private:
  SendLimits limits_;
  SlidingWindowLimiter window_;
  std::map<std::string, Clock::time_point, std::less<>> last_sent_;  // unprivileged channels
};

// Broadcaster, moderator and VIP are exempt from the per-channel interval and get the 100 bucket.
bool is_privileged(const std::vector<std::string>& roles);

struct OutgoingMessage {
  std::string channel;   // login, without '#'
  std::string text;      // one part, already split and altered
  std::string reply_to;  // reply-parent-msg-id, or empty
};

// Messages waiting for the limiter, FIFO per channel; channels take turns so that one busy
// channel waiting for its interval does not hold the others back. Bounded: push() refuses when
// the channel (or the whole queue) is full.
class SendQueue {
 public:
  SendQueue(SendLimits limits = {}, std::size_t max_per_channel = 100,
            std::size_t max_total = 2000);

  // Whether the bot is mod/VIP/broadcaster in `channel` (from USERSTATE badges).
  void set_privileged(std::string_view channel, bool privileged);
  bool privileged(std::string_view channel) const;

  bool push(OutgoingMessage message);
  // The next message the limiter lets go at `now` (its send is recorded), or nullopt.
  std::optional<OutgoingMessage> pop_ready(Clock::time_point now);
  // When pop_ready can next return a message; nullopt when the queue is empty.
  std::optional<Clock::time_point> next_ready(Clock::time_point now) const;
  std::size_t size() const { return total_; }
  // Drops what is queued for `channel` (after a PART); returns how many.
  std::size_t clear(std::string_view channel);

 private:
  SendLimiter limiter_;
  std::size_t max_per_channel_;
  std::size_t max_total_;
  std::size_t total_ = 0;
  std::map<std::string, std::deque<OutgoingMessage>, std::less<>> queues_;
  std::map<std::string, bool, std::less<>> privileged_;
  std::string last_channel_;  // round-robin position
};

inline constexpr std::size_t kMaxChatLength = 500;

// Splits chat text into parts of at most `max_length` characters (UTF-16 units, the stricter
// count), each cut at the last space that fits when there is one, else at a code point boundary.
// CR, LF and other control characters become spaces, invalid UTF-8 becomes U+FFFD, and parts
// are trimmed; empty text gives no parts.
std::vector<std::string> split_message(std::string_view text,
                                       std::size_t max_length = kMaxChatLength);

// Twitch drops a message identical to one the account sent in the channel within 30 s
// (NOTICE msg_duplicate). This remembers what went out and, for a repeat, appends " " plus one
// or more U+E0000 (an invisible tag character that chat clients such as Chatterino use for the
// same purpose) until the text differs from everything recent.
class DuplicateGuard {
 public:
  explicit DuplicateGuard(Clock::duration window = std::chrono::seconds(31),
                          std::size_t max_length = kMaxChatLength)
      : window_(window), max_length_(max_length) {}

  // The text to send: `text` itself, or an altered copy; nullopt when no alteration fits in
  // max_length (the caller skips it and says so). Does not record it.
  std::optional<std::string> prepare(std::string_view channel, std::string_view text,
                                     Clock::time_point now);
  // Records that `text` went out to `channel` at `now`.
  void sent(std::string_view channel, std::string_view text, Clock::time_point now);

 private:
  void expire(Clock::time_point now);
  bool recent(std::string_view channel, std::string_view text) const;

  Clock::duration window_;
  std::size_t max_length_;
  std::deque<std::pair<Clock::time_point, std::string>> sent_;  // key: channel + '\n' + text
};

// JOIN attempts: 20 per 10 s per account by default (2000 for verified bots); the same shape
// serves authentication attempts.
struct JoinLimits {
  std::size_t limit = 20;
  Clock::duration window = std::chrono::seconds(10);
  Clock::duration margin = std::chrono::milliseconds(500);
};

class JoinLimiter {
 public:
  explicit JoinLimiter(JoinLimits limits = {});
  bool try_acquire(Clock::time_point now) { return window_.try_acquire(now); }
  Clock::time_point next_allowed(Clock::time_point now) const { return window_.next_allowed(now); }

 private:
  SlidingWindowLimiter window_;
};

}  // namespace waddle::twitch
