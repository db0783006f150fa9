#include <catch2/catch.hpp>

#include <chrono>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "twitch/limits.hpp"
#include "twitch/text.hpp"

using namespace std::chrono_literals;
using waddle::twitch::Clock;
using waddle::twitch::DuplicateGuard;
using waddle::twitch::is_privileged;
using waddle::twitch::JoinLimiter;
using waddle::twitch::JoinLimits;
using waddle::twitch::OutgoingMessage;
using waddle::twitch::SendLimiter;
using waddle::twitch::SendLimits;
using waddle::twitch::SendQueue;
using waddle::twitch::SlidingWindowLimiter;
using waddle::twitch::split_message;
using waddle::twitch::utf16_length;

namespace {

const Clock::time_point kStart{};

SendLimits no_margin() {
  SendLimits limits;
  limits.margin = 0ms;
  return limits;
}

// How many of `times` fall in [t, t + window) for the worst t: the most Twitch could count.
std::size_t worst_window(const std::vector<Clock::time_point>& times, Clock::duration window) {
  std::size_t worst = 0;
  for (std::size_t i = 0; i < times.size(); ++i) {
    std::size_t n = 0;
    for (std::size_t j = i; j < times.size() && times[j] < times[i] + window; ++j) ++n;
    worst = std::max(worst, n);
  }
  return worst;
}

}  // namespace

TEST_CASE("a sliding window allows `limit` per window and says when the next one may go") {
  SlidingWindowLimiter window(3, 10s);
  CHECK(window.try_acquire(kStart));
  CHECK(window.try_acquire(kStart + 1s));
  CHECK(window.try_acquire(kStart + 2s));
  CHECK_FALSE(window.try_acquire(kStart + 3s));
  CHECK(window.next_allowed(kStart + 3s) == kStart + 10s);
  CHECK_FALSE(window.try_acquire(kStart + 10s - 1ms));
  CHECK(window.try_acquire(kStart + 10s));
  CHECK(window.next_allowed(kStart + 10s) == kStart + 11s);
  CHECK(window.in_window(kStart + 10s) == 3);
  CHECK(window.in_window(kStart + 60s) == 0);
  // A larger limit asked for on the same log (the 100 bucket on the 20 log).
  // Live at 11 s: the entries at 2 s and 10 s; three more fit under 5.
  CHECK(window.try_acquire(kStart + 11s, 5));
  CHECK(window.try_acquire(kStart + 11s, 5));
  CHECK(window.try_acquire(kStart + 11s, 5));
  CHECK_FALSE(window.try_acquire(kStart + 11s, 5));
  CHECK_FALSE(window.try_acquire(kStart + 11s, 3));
}

TEST_CASE("unprivileged sends: 20 per 30 s and one per second per channel") {
  SendLimiter limiter(no_margin());
  CHECK(limiter.try_acquire("a", false, kStart));
  CHECK_FALSE(limiter.try_acquire("a", false, kStart + 500ms));
  CHECK(limiter.next_allowed("a", false, kStart + 500ms) == kStart + 1s);
  CHECK(limiter.try_acquire("b", false, kStart + 500ms));  // another channel is not held back
  CHECK(limiter.try_acquire("a", false, kStart + 1s));
}

TEST_CASE("privileged channels get 100 per 30 s with no interval, and they count toward 20") {
  SendLimiter limiter(no_margin());
  for (int i = 0; i < 20; ++i) REQUIRE(limiter.try_acquire("mine", true, kStart));
  // Twenty went out as moderator: an unprivileged channel must now wait for the window.
  CHECK_FALSE(limiter.try_acquire("other", false, kStart + 1s));
  CHECK(limiter.next_allowed("other", false, kStart + 1s) == kStart + 30s);
  for (int i = 20; i < 100; ++i) REQUIRE(limiter.try_acquire("mine", true, kStart + 1s));
  CHECK_FALSE(limiter.try_acquire("mine", true, kStart + 2s));
  CHECK(limiter.next_allowed("mine", true, kStart + 2s) == kStart + 30s);
  CHECK(is_privileged({"vip"}));
  CHECK(is_privileged({"subscriber", "moderator"}));
  CHECK_FALSE(is_privileged({"subscriber"}));
}

TEST_CASE("a burst of 100 replies never exceeds 20 per 30 s nor 1/s per channel") {
  SendQueue queue(no_margin());
  std::map<std::string, std::vector<Clock::time_point>> per_channel;
  std::vector<Clock::time_point> all;
  for (int i = 0; i < 100; ++i) {
    std::string channel = i % 3 == 0 ? "busy" : "c" + std::to_string(i % 7);
    REQUIRE(queue.push({channel, "reply " + std::to_string(i), ""}));
  }
  Clock::time_point now = kStart;
  std::vector<std::string> order;
  while (queue.size() > 0) {
    auto next = queue.next_ready(now);
    REQUIRE(next.has_value());
    REQUIRE(*next >= now);
    // Nothing leaves before the time next_ready announced.
    if (*next > now) CHECK_FALSE(queue.pop_ready(*next - 1ms).has_value());
    now = *next;
    auto message = queue.pop_ready(now);
    REQUIRE(message.has_value());
    all.push_back(now);
    per_channel[message->channel].push_back(now);
    order.push_back(message->text);
  }
  CHECK(all.size() == 100);
  CHECK(worst_window(all, 30s) == 20);
  for (const auto& [channel, times] : per_channel) {
    for (std::size_t i = 1; i < times.size(); ++i) CHECK(times[i] - times[i - 1] >= 1s);
  }
  // FIFO within a channel.
  std::map<std::string, int> last_seen;
  for (const auto& text : order) {
    int n = std::stoi(text.substr(6));
    std::string channel = n % 3 == 0 ? "busy" : "c" + std::to_string(n % 7);
    if (last_seen.count(channel)) CHECK(n > last_seen[channel]);
    last_seen[channel] = n;
  }
}

TEST_CASE("the margin keeps a safety gap on both limits") {
  SendQueue queue;  // default: 500 ms margin
  for (int i = 0; i < 25; ++i) REQUIRE(queue.push({"c" + std::to_string(i), "x", ""}));
  std::vector<Clock::time_point> sent;
  Clock::time_point now = kStart;
  while (auto next = queue.next_ready(now)) {
    now = *next;
    REQUIRE(queue.pop_ready(now).has_value());
    sent.push_back(now);
  }
  REQUIRE(sent.size() == 25);
  CHECK(worst_window(sent, 30s + 500ms) == 20);
}

TEST_CASE("the send queue is bounded and can be cleared per channel") {
  SendQueue queue(no_margin(), 2, 3);
  CHECK(queue.push({"a", "1", ""}));
  CHECK(queue.push({"a", "2", ""}));
  CHECK_FALSE(queue.push({"a", "3", ""}));  // channel full
  CHECK(queue.push({"b", "1", ""}));
  CHECK_FALSE(queue.push({"c", "1", ""}));  // queue full
  CHECK(queue.clear("a") == 2);
  CHECK(queue.size() == 1);
  CHECK(queue.clear("nope") == 0);
  queue.set_privileged("b", true);
  CHECK(queue.privileged("b"));
  CHECK_FALSE(queue.privileged("a"));
  CHECK_FALSE(SendQueue().next_ready(kStart).has_value());
}

TEST_CASE("messages split at 500 characters, at spaces when possible") {
  CHECK(split_message("").empty());
  CHECK(split_message("   ").empty());
  CHECK(split_message("hello") == std::vector<std::string>{"hello"});

  std::string words;
  for (int i = 0; i < 200; ++i) words += "word" + std::to_string(i % 10) + " ";
  auto parts = split_message(words);
  REQUIRE(parts.size() == 3);
  std::string joined;
  for (const auto& part : parts) {
    CHECK(utf16_length(part) <= 500);
    CHECK(part.front() != ' ');
    CHECK(part.back() != ' ');
    CHECK(part.substr(part.size() - 5, 4) == "word");  // never cut inside a word
    joined += part + " ";
  }
  CHECK(joined == words);

  std::string no_spaces(1200, 'x');
  auto hard = split_message(no_spaces);
  REQUIRE(hard.size() == 3);
  CHECK(hard[0].size() == 500);
  CHECK(hard[2].size() == 200);

  // Multi-byte text: cut on a code point; an emoji above U+FFFF counts as two.
  std::string emoji;
  for (int i = 0; i < 300; ++i) emoji += "😀";
  auto emoji_parts = split_message(emoji);
  REQUIRE(emoji_parts.size() == 2);
  CHECK(emoji_parts[0].size() == 250 * 4);
  CHECK(emoji_parts[1].size() == 50 * 4);
  std::string cyrillic;
  for (int i = 0; i < 600; ++i) cyrillic += "Я";
  auto cyrillic_parts = split_message(cyrillic);
  REQUIRE(cyrillic_parts.size() == 2);
  CHECK(cyrillic_parts[0].size() == 1000);

  CHECK(split_message("line one\r\nPRIVMSG #x :two\x01") ==
        std::vector<std::string>{"line one  PRIVMSG #x :two"});
  CHECK(split_message("bad \xff utf") == std::vector<std::string>{"bad \xEF\xBF\xBD utf"});
  CHECK(split_message("ab cd", 3) == std::vector<std::string>{"ab", "cd"});
  CHECK(split_message("😀", 1).empty());  // cannot be carried at all
}

TEST_CASE("identical text within 30 s is altered, never silently dropped") {
  DuplicateGuard guard;
  auto first = guard.prepare("c", "Thanks for the follow!", kStart);
  REQUIRE(first == "Thanks for the follow!");
  guard.sent("c", *first, kStart);
  auto second = guard.prepare("c", "Thanks for the follow!", kStart + 5s);
  REQUIRE(second.has_value());
  CHECK(*second == "Thanks for the follow! \xF3\xA0\x80\x80");
  guard.sent("c", *second, kStart + 5s);
  auto third = guard.prepare("c", "Thanks for the follow!", kStart + 10s);
  REQUIRE(third.has_value());
  CHECK(*third != *first);
  CHECK(*third != *second);
  // Another channel, or after the window, the text goes as it is.
  CHECK(guard.prepare("d", "Thanks for the follow!", kStart + 10s) == "Thanks for the follow!");
  CHECK(guard.prepare("c", "Thanks for the follow!", kStart + 40s) == "Thanks for the follow!");

  std::string full(500, 'x');
  DuplicateGuard tight;
  tight.sent("c", full, kStart);
  CHECK_FALSE(tight.prepare("c", full, kStart + 1s).has_value());
}

TEST_CASE("JOINs are limited to 20 per 10 s by default and can be configured") {
  JoinLimiter joins(JoinLimits{20, 10s, 0ms});
  for (int i = 0; i < 20; ++i) REQUIRE(joins.try_acquire(kStart));
  CHECK_FALSE(joins.try_acquire(kStart + 9s));
  CHECK(joins.next_allowed(kStart + 9s) == kStart + 10s);
  CHECK(joins.try_acquire(kStart + 10s));

  JoinLimiter verified(JoinLimits{2000, 10s, 0ms});
  for (int i = 0; i < 2000; ++i) REQUIRE(verified.try_acquire(kStart));
  CHECK_FALSE(verified.try_acquire(kStart));
}
