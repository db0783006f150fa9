#pragma once
// `!ping` → "pong": the health command the quickstart demo uses to show the whole path works.

#include "actions/module.hpp"

namespace waddle::actions {

inline constexpr std::string_view kPingModule = "ping";

class Ping final : public Module {
 public:
  std::string_view name() const override { return kPingModule; }
  std::vector<CommandSpec> commands() const override;
  boost::asio::awaitable<std::vector<model::Action>> handle(const ModuleRequest& request) override;
};

}  // namespace waddle::actions
