#pragma once
// Chat out through Helix Send Chat Message (twitch.chat_transport: eventsub): the daemon's send
// loop still paces every message through SendQueue, then hands it here instead of writing a
// PRIVMSG. Twitch may answer 200 and still not post the message (is_sent false with a
// drop_reason: AutoMod, a duplicate, followers-only…): that is a drop, logged with the reason.
// Broadcaster and sender ids come from Get Users with the app token, cached.
#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "twitch/helix.hpp"

namespace waddle::twitch {

struct ChatOutcome {
  bool sent = false;
  std::string message_id;  // when sent
  std::string reason;      // why not: "drop_code: message" or the Helix error
};

class HelixChat {
 public:
  using Done = std::function<void(const ChatOutcome&)>;

  // `helix` must outlive this; everything runs on `strand`.
  HelixChat(boost::asio::any_io_executor strand, HelixClient& helix, std::string bot_login);

  // On the strand: sends `text` to `channel`'s chat (as a reply when reply_to is set) in the
  // background and calls `done` on the strand with the outcome. Never throws.
  void send(std::string channel, std::string text, std::string reply_to, Done done);

  std::uint64_t in_flight() const { return in_flight_; }

 private:
  boost::asio::awaitable<void> run(std::string channel, std::string text, std::string reply_to,
                                   Done done);
  boost::asio::awaitable<std::string> user_id(std::string login);

  boost::asio::any_io_executor strand_;
  HelixClient& helix_;
  std::string bot_login_;
  std::map<std::string, std::string> ids_;  // login → user id
  std::uint64_t in_flight_ = 0;
};

}  // namespace waddle::twitch
