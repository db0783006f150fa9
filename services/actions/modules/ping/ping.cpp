#include "actions/modules/ping/ping.hpp"

namespace waddle::actions {

std::vector<CommandSpec> Ping::commands() const {
  return {{"ping", "answers pong: WaddleBot, the router and waddle-actiond are up"}};
}

boost::asio::awaitable<std::vector<model::Action>> Ping::handle(const ModuleRequest& request) {
  if (request.trigger != "command" || request.command != "ping")
    co_return std::vector<model::Action>{};
  co_return say("pong");
}

}  // namespace waddle::actions
