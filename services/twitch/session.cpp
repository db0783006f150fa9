#include "twitch/session.hpp"

#include <algorithm>
#include <cmath>

#include "error/error.hpp"
#include "twitch/normalize.hpp"

namespace waddle::twitch {
namespace {

constexpr std::string_view kCapabilities =
    "CAP REQ :twitch.tv/membership twitch.tv/tags twitch.tv/commands";

bool is_login_failure(std::string_view text) {
  return text == "Login authentication failed" || text == "Login unsuccessful" ||
         text == "Improperly formatted auth";
}

std::string checked_token(std::string token) {
  if (token.rfind("oauth:", 0) == 0) token.erase(0, 6);
  bool clean = !token.empty() && std::none_of(token.begin(), token.end(), [](unsigned char c) {
    return c <= 0x20 || c == 0x7F;
  });
  if (!clean) {
    throw Error(Errc::invalid_argument,
                "twitch token: expected a non-empty token without spaces or control characters");
  }
  return token;
}

}  // namespace

std::string_view irc_state_name(IrcState state) noexcept {
  switch (state) {
    case IrcState::disconnected: return "disconnected";
    case IrcState::registering: return "registering";
    case IrcState::ready: return "ready";
    case IrcState::auth_failed: return "auth_failed";
  }
  return "unknown";
}

std::string make_privmsg(std::string_view channel, std::string_view text,
                         std::string_view reply_to) {
  auto login = normalize_login(channel);
  if (!login) throw IrcParseError("cannot send to channel '" + std::string(channel) + "'");
  IrcMessage message;
  if (!reply_to.empty()) message.tags.emplace("reply-parent-msg-id", std::string(reply_to));
  message.command = "PRIVMSG";
  message.params = {"#" + *login, std::string(text)};
  message.has_trailing = true;
  return serialize_irc_message(message);
}

IrcSession::IrcSession(IrcSessionOptions options)
    : options_(std::move(options)), join_limiter_(options_.join_limits) {
  auto nick = normalize_login(options_.nick);
  if (!nick) {
    throw Error(
        Errc::invalid_argument,
        "twitch nick: expected the account's login ([a-z0-9_]), got '" + options_.nick + "'");
  }
  options_.nick = *nick;
  options_.token = checked_token(std::move(options_.token));
}

IrcSession::Output IrcSession::on_connected(Clock::time_point now) {
  state_ = IrcState::registering;
  joined_.clear();
  joining_.clear();
  join_queue_.clear();
  last_received_ = now;
  ping_sent_.reset();
  reconnect_requested_ = false;
  ++connections_;
  Output out;
  // Twitch wants PASS before NICK; CAP first so the welcome burst already carries tags.
  out.send = {std::string(kCapabilities), "PASS oauth:" + options_.token, "NICK " + options_.nick};
  return out;
}

IrcSession::Output IrcSession::on_line(std::string_view line, Clock::time_point now) {
  Output out;
  if (state_ == IrcState::disconnected || state_ == IrcState::auth_failed) return out;
  last_received_ = now;
  auto message = try_parse_irc_message(line);
  if (!message) return out;
  const std::string& command = message->command;
  if (command == "PING") {
    IrcMessage pong;
    pong.command = "PONG";
    // Echo the PING's text exactly, as the docs ask: "PONG :tmi.twitch.tv".
    if (!message->params.empty()) {
      pong.params = {message->params.back()};
      pong.has_trailing = true;
    }
    out.send.push_back(serialize_irc_message(pong));
    return out;
  }
  if (command == "PONG") {
    ping_sent_.reset();
    return out;
  }
  if (command == "376" && state_ == IrcState::registering) {
    state_ = IrcState::ready;
    failures_ = 0;
    queue_joins();
  } else if (command == "RECONNECT") {
    reconnect_requested_ = true;
    out.reconnect = true;
  } else if (command == "NOTICE" && is_login_failure(message->param(1))) {
    state_ = IrcState::auth_failed;
    out.auth_failed = true;
  } else if ((command == "JOIN" || command == "PART") && message->nick() == options_.nick) {
    if (auto channel = normalize_login(message->param(0))) {
      joining_.erase(*channel);
      if (command == "PART") {
        joined_.erase(*channel);
      } else if (wanted_.count(*channel) > 0) {
        joined_.insert(*channel);
      }
    }
  }
  out.messages.push_back(std::move(*message));
  return out;
}

IrcSession::Output IrcSession::on_tick(Clock::time_point now) {
  Output out;
  if (state_ != IrcState::registering && state_ != IrcState::ready) return out;
  if (ping_sent_ && now - *ping_sent_ >= options_.pong_timeout) {
    out.reconnect = true;  // a dead link: the kernel may accept writes to it for a long time
    return out;
  }
  if (!ping_sent_ && last_received_ && now - *last_received_ >= options_.ping_interval) {
    out.send.emplace_back("PING :tmi.twitch.tv");
    ping_sent_ = now;
  }
  while (state_ == IrcState::ready && !join_queue_.empty()) {
    const std::string& channel = join_queue_.front();
    if (wanted_.count(channel) > 0 && joined_.count(channel) == 0 && joining_.count(channel) == 0) {
      if (!join_limiter_.try_acquire(now)) break;
      out.send.push_back("JOIN #" + channel);
      joining_.insert(channel);
    }
    join_queue_.pop_front();
  }
  return out;
}

std::optional<Clock::time_point> IrcSession::next_tick(Clock::time_point now) const {
  if (state_ != IrcState::registering && state_ != IrcState::ready) return std::nullopt;
  std::optional<Clock::time_point> at;
  auto consider = [&](Clock::time_point t) {
    if (!at || t < *at) at = t;
  };
  if (ping_sent_) {
    consider(*ping_sent_ + options_.pong_timeout);
  } else if (last_received_) {
    consider(*last_received_ + options_.ping_interval);
  }
  if (state_ == IrcState::ready && !join_queue_.empty()) {
    consider(join_limiter_.next_allowed(now));
  }
  return at;
}

std::optional<Clock::duration> IrcSession::on_disconnected() {
  bool was_ready = state_ == IrcState::ready;
  joined_.clear();
  joining_.clear();
  join_queue_.clear();
  ping_sent_.reset();
  last_received_.reset();
  if (state_ == IrcState::auth_failed) return std::nullopt;
  state_ = IrcState::disconnected;
  if (reconnect_requested_) {
    reconnect_requested_ = false;
    return Clock::duration::zero();
  }
  if (was_ready) failures_ = 0;
  // 1 s, 1.5 s, 2.25 s, … up to the cap; reset by a login that reached 376.
  double factor = std::pow(1.5, static_cast<double>(std::min<std::size_t>(failures_, 64)));
  ++failures_;
  auto delay = std::chrono::duration_cast<Clock::duration>(options_.backoff_initial * factor);
  return std::min(delay, options_.backoff_max);
}

void IrcSession::join(std::string_view channel) {
  auto login = normalize_login(channel);
  if (!login) {
    throw Error(Errc::invalid_argument,
                "twitch channel: expected a login ([a-z0-9_]), got '" + std::string(channel) + "'");
  }
  if (!wanted_.insert(*login).second) return;
  if (state_ == IrcState::ready) join_queue_.push_back(*login);
}

IrcSession::Output IrcSession::part(std::string_view channel) {
  Output out;
  auto login = normalize_login(channel);
  if (!login || wanted_.erase(*login) == 0) return out;
  join_queue_.erase(std::remove(join_queue_.begin(), join_queue_.end(), *login), join_queue_.end());
  bool joined = joined_.erase(*login) > 0;
  if (joining_.erase(*login) > 0 || joined) out.send.push_back("PART #" + *login);
  return out;
}

void IrcSession::set_token(std::string token) {
  options_.token = checked_token(std::move(token));
  if (state_ == IrcState::auth_failed) state_ = IrcState::disconnected;
}

void IrcSession::queue_joins() {
  join_queue_.clear();
  for (const auto& channel : wanted_) join_queue_.push_back(channel);
}

}  // namespace waddle::twitch
