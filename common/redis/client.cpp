#include "redis/client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cctype>

#include "redis/multiplexer.hpp"

namespace waddle::redis {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;

namespace {

// The command's name for messages; its arguments stay out (they may hold secrets or user data).
std::string command_name(const std::vector<std::string>& args) {
  if (args.empty()) return "(empty command)";
  std::string name;
  for (char c : args.front().substr(0, 32)) {
    auto u = static_cast<unsigned char>(c);
    name += std::isalnum(u) || c == '_' || c == '-' ? static_cast<char>(std::toupper(u)) : '?';
  }
  return name;
}

}  // namespace

Client::Client(asio::any_io_executor executor, Options options)
    : mux_(std::make_shared<detail::Multiplexer>(std::move(executor), std::move(options),
                                                 detail::Multiplexer::Hooks{})) {}

Client::~Client() {
  mux_->close();
}

awaitable<void> Client::connect() {
  co_await asio::co_spawn(mux_->strand(), detail::Multiplexer::connect(mux_), use_awaitable);
}

awaitable<Reply> Client::command(std::vector<std::string> args) {
  auto request = std::make_shared<detail::Request>(mux_->strand());
  request->what = command_name(args);
  detail::append_command(request->payload, args);
  request->expected = 1;
  auto replies = co_await asio::co_spawn(
      mux_->strand(), detail::Multiplexer::execute(mux_, request), use_awaitable);
  co_return std::move(replies.front());
}

awaitable<Reply> Client::command_or_throw(std::vector<std::string> args) {
  auto name = command_name(args);
  Reply reply = co_await command(std::move(args));
  reply.throw_if_error(name);
  co_return reply;
}

awaitable<std::vector<Reply>> Client::pipeline(std::vector<std::vector<std::string>> commands) {
  if (commands.empty()) co_return std::vector<Reply>{};
  auto request = std::make_shared<detail::Request>(mux_->strand());
  request->what = "pipeline of " + std::to_string(commands.size()) + " commands";
  for (const auto& args : commands) detail::append_command(request->payload, args);
  request->expected = commands.size();
  co_return co_await asio::co_spawn(mux_->strand(), detail::Multiplexer::execute(mux_, request),
                                    use_awaitable);
}

awaitable<Reply> Client::eval(const Script& script, std::vector<std::string> keys,
                              std::vector<std::string> args) {
  std::vector<std::string> command{"EVALSHA", script.sha1(), std::to_string(keys.size())};
  command.insert(command.end(), std::make_move_iterator(keys.begin()),
                 std::make_move_iterator(keys.end()));
  command.insert(command.end(), std::make_move_iterator(args.begin()),
                 std::make_move_iterator(args.end()));
  Reply reply = co_await this->command(command);
  if (reply.is_error() && reply.str.starts_with("NOSCRIPT")) {
    command[0] = "EVAL";
    command[1] = script.source();
    reply = co_await this->command(std::move(command));
  }
  co_return reply;
}

void Client::close() {
  mux_->close();
}

bool Client::connected() const noexcept {
  return mux_->connected();
}

const Endpoint& Client::endpoint() const noexcept {
  return mux_->endpoint();
}

}  // namespace waddle::redis
