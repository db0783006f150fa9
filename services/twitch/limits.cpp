#include "twitch/limits.hpp"

#include <algorithm>

#include "twitch/text.hpp"

namespace waddle::twitch {
namespace {

constexpr std::string_view kInvisibleSuffix = "\xF3\xA0\x80\x80";  // U+E0000
constexpr std::size_t kMaxRemembered = 1000;

}  // namespace

SlidingWindowLimiter::SlidingWindowLimiter(std::size_t limit, Clock::duration window)
    : capacity_(limit), limit_(limit), window_(window) {}

std::size_t SlidingWindowLimiter::in_window(Clock::time_point now) const {
  // The log is in time order; entries still count while now < t + window.
  auto first_live = std::upper_bound(log_.begin(), log_.end(), now - window_);
  return static_cast<std::size_t>(log_.end() - first_live);
}

bool SlidingWindowLimiter::allows(Clock::time_point now, std::size_t limit) const {
  return in_window(now) < limit;
}

Clock::time_point SlidingWindowLimiter::next_allowed(Clock::time_point now,
                                                     std::size_t limit) const {
  std::size_t live = in_window(now);
  if (live < limit) return now;
  if (limit == 0) return Clock::time_point::max();
  // The limit-th most recent entry has to leave the window first.
  Clock::time_point blocking = log_[log_.size() - limit];
  return std::max(now, blocking + window_);
}

bool SlidingWindowLimiter::try_acquire(Clock::time_point now, std::size_t limit) {
  if (next_allowed(now, limit) > now) return false;
  capacity_ = std::max(capacity_, limit);
  // A clock that stepped back must not break the order the log relies on.
  if (!log_.empty() && now < log_.back()) now = log_.back();
  log_.push_back(now);
  while (log_.size() > capacity_) log_.pop_front();
  return true;
}

SendLimiter::SendLimiter(SendLimits limits)
    : limits_(limits),
      window_(std::max(limits.account_limit, limits.privileged_limit),
              limits.window + limits.margin) {}

Clock::time_point SendLimiter::next_allowed(std::string_view channel, bool privileged,
                                            Clock::time_point now) const {
  Clock::time_point at =
      window_.next_allowed(now, privileged ? limits_.privileged_limit : limits_.account_limit);
  if (!privileged) {
    auto it = last_sent_.find(channel);
    if (it != last_sent_.end()) {
      at = std::max(at, it->second + limits_.channel_interval + limits_.margin);
    }
  }
  return at;
}

bool SendLimiter::try_acquire(std::string_view channel, bool privileged, Clock::time_point now) {
  if (next_allowed(channel, privileged, now) > now) return false;
  window_.try_acquire(now, privileged ? limits_.privileged_limit : limits_.account_limit);
  // Recorded for privileged channels too: the bot can lose its badge between two messages.
  auto it = last_sent_.find(channel);
  if (it == last_sent_.end()) {
    last_sent_.emplace(std::string(channel), now);
  } else {
    it->second = now;
  }
  return true;
}

bool is_privileged(const std::vector<std::string>& roles) {
  return std::any_of(roles.begin(), roles.end(), [](const std::string& role) {
    return role == "broadcaster" || role == "moderator" || role == "vip";
  });
}

SendQueue::SendQueue(SendLimits limits, std::size_t max_per_channel, std::size_t max_total)
    : limiter_(limits), max_per_channel_(max_per_channel), max_total_(max_total) {}

void SendQueue::set_privileged(std::string_view channel, bool privileged) {
  privileged_.insert_or_assign(std::string(channel), privileged);
}

bool SendQueue::privileged(std::string_view channel) const {
  auto it = privileged_.find(channel);
  return it != privileged_.end() && it->second;
}

bool SendQueue::push(OutgoingMessage message) {
  if (total_ >= max_total_) return false;
  auto& queue = queues_[message.channel];
  if (queue.size() >= max_per_channel_) return false;
  queue.push_back(std::move(message));
  ++total_;
  return true;
}

std::optional<OutgoingMessage> SendQueue::pop_ready(Clock::time_point now) {
  if (total_ == 0) return std::nullopt;
  // Start after the channel served last, wrapping around.
  auto start = queues_.upper_bound(last_channel_);
  for (std::size_t i = 0; i < queues_.size(); ++i, ++start) {
    if (start == queues_.end()) start = queues_.begin();
    auto& [channel, queue] = *start;
    if (queue.empty()) continue;
    if (!limiter_.try_acquire(channel, privileged(channel), now)) continue;
    OutgoingMessage message = std::move(queue.front());
    queue.pop_front();
    --total_;
    last_channel_ = channel;
    if (queue.empty()) queues_.erase(start);
    return message;
  }
  return std::nullopt;
}

std::optional<Clock::time_point> SendQueue::next_ready(Clock::time_point now) const {
  std::optional<Clock::time_point> earliest;
  for (const auto& [channel, queue] : queues_) {
    if (queue.empty()) continue;
    Clock::time_point at = limiter_.next_allowed(channel, privileged(channel), now);
    if (!earliest || at < *earliest) earliest = at;
  }
  return earliest;
}

std::size_t SendQueue::clear(std::string_view channel) {
  auto it = queues_.find(channel);
  if (it == queues_.end()) return 0;
  std::size_t dropped = it->second.size();
  total_ -= dropped;
  queues_.erase(it);
  return dropped;
}

std::vector<std::string> split_message(std::string_view text, std::size_t max_length) {
  std::string clean = sanitize_utf8(text);
  for (char& c : clean) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) c = ' ';
  }
  std::vector<std::string> parts;
  if (max_length == 0) return parts;
  std::string_view rest = clean;
  auto trim = [](std::string_view s) {
    std::size_t first = s.find_first_not_of(' ');
    if (first == std::string_view::npos) return std::string_view();
    return s.substr(first, s.find_last_not_of(' ') - first + 1);
  };
  rest = trim(rest);
  while (!rest.empty()) {
    if (utf16_length(rest) <= max_length) {
      parts.emplace_back(rest);
      break;
    }
    // The byte offset of the first code point that does not fit.
    std::vector<std::size_t> offsets = code_point_offsets(rest);
    std::size_t units = 0, cut = 0;
    for (std::size_t i = 0; i + 1 < offsets.size(); ++i) {
      std::size_t width = offsets[i + 1] - offsets[i] == 4 ? 2 : 1;
      if (units + width > max_length) break;
      units += width;
      cut = offsets[i + 1];
    }
    std::size_t space = rest.substr(0, cut + 1).rfind(' ');
    std::string_view part;
    if (space != std::string_view::npos && space > 0) {
      part = rest.substr(0, space);
      rest = rest.substr(space + 1);
    } else if (cut == 0) {
      break;  // a single code point wider than max_length: nothing can carry it
    } else {
      part = rest.substr(0, cut);
      rest = rest.substr(cut);
    }
    part = trim(part);
    if (!part.empty()) parts.emplace_back(part);
    rest = trim(rest);
  }
  return parts;
}

void DuplicateGuard::expire(Clock::time_point now) {
  while (!sent_.empty() &&
         (now - sent_.front().first >= window_ || sent_.size() > kMaxRemembered)) {
    sent_.pop_front();
  }
}

bool DuplicateGuard::recent(std::string_view channel, std::string_view text) const {
  std::string key = std::string(channel) + '\n' + std::string(text);
  return std::any_of(sent_.begin(), sent_.end(),
                     [&](const auto& entry) { return entry.second == key; });
}

std::optional<std::string> DuplicateGuard::prepare(std::string_view channel, std::string_view text,
                                                   Clock::time_point now) {
  expire(now);
  std::string candidate(text);
  if (!recent(channel, candidate)) return candidate;
  candidate += ' ';
  while (true) {
    candidate += kInvisibleSuffix;
    if (utf16_length(candidate) > max_length_) return std::nullopt;
    if (!recent(channel, candidate)) return candidate;
  }
}

void DuplicateGuard::sent(std::string_view channel, std::string_view text, Clock::time_point now) {
  expire(now);
  sent_.emplace_back(now, std::string(channel) + '\n' + std::string(text));
}

JoinLimiter::JoinLimiter(JoinLimits limits)
    : window_(limits.limit, limits.window + limits.margin) {}

}  // namespace waddle::twitch
