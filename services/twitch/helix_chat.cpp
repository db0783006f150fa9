#include "twitch/helix_chat.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "error/error.hpp"

namespace waddle::twitch {
namespace asio = boost::asio;

HelixChat::HelixChat(asio::any_io_executor strand, HelixClient& helix, std::string bot_login)
    : strand_(std::move(strand)), helix_(helix), bot_login_(std::move(bot_login)) {}

void HelixChat::send(std::string channel, std::string text, std::string reply_to, Done done) {
  ++in_flight_;
  asio::co_spawn(strand_, run(std::move(channel), std::move(text), std::move(reply_to), done),
                 asio::detached);
}

asio::awaitable<std::string> HelixChat::user_id(std::string login) {
  if (auto it = ids_.find(login); it != ids_.end()) co_return it->second;
  QueryParams query{{"login", login}};
  HelixResponse response = co_await helix_.call(TokenKind::app, "GET", "/users", query);
  for (const HelixUser& user : parse_users(response.body)) {
    if (user.login == login) {
      ids_[login] = user.id;
      co_return user.id;
    }
  }
  throw Error(Errc::not_found, "no Twitch user '" + login + "'");
}

asio::awaitable<void> HelixChat::run(std::string channel, std::string text, std::string reply_to,
                                     Done done) {
  ChatOutcome outcome;
  try {
    const std::string broadcaster = co_await user_id(channel);
    const std::string sender = co_await user_id(bot_login_);
    ChatMessageResult result =
        co_await helix_.send_chat_message(broadcaster, sender, text, reply_to);
    outcome.sent = result.is_sent;
    outcome.message_id = result.message_id;
    if (!result.is_sent) {
      outcome.reason = (result.drop_code.empty() ? std::string("not sent") : result.drop_code) +
                       (result.drop_message.empty() ? "" : ": " + result.drop_message);
    }
  } catch (const std::exception& e) {
    outcome.reason = e.what();
  }
  --in_flight_;
  if (done) done(outcome);
}

}  // namespace waddle::twitch
