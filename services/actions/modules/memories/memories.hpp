#pragma once
// Memories (seeds 004): a community's quotes and links.
//   !quote                 a random quote (also !quote random)
//   !quote <n>             quote number n
//   !quote add [-c=category] <text>    who added it and when are kept; numbers are never reused
//   !quote search <words>  quotes holding every word (case-insensitive)
//   !quote remove <n>      moderators
//   !quote react <n> <emoji or word>   anyone; once per user per quote per reaction, saying it
//                          again takes it back; a quote shows its top 3 reactions
//   !link <name>           the link
//   !link list
//   !link add <name> <url> moderators;  !link remove <name> moderators
//   !remind …              reminders to oneself (remind.hpp)
// Module config (the community's command_permissions.config): "quote_add_role" (default
// "member"), the lowest role that may add quotes.

#include <string>
#include <string_view>

#include "actions/module.hpp"
#include "actions/modules/memories/remind.hpp"

namespace waddle::actions {

inline constexpr std::string_view kMemoriesModule = "memories";
inline constexpr std::size_t kMaxQuoteCharacters = 500;

class Memories final : public Module {
 public:
  explicit Memories(ModuleEnv env) : env_(std::move(env)), reminders_(env_) {}
  std::string_view name() const override { return kMemoriesModule; }
  std::vector<CommandSpec> commands() const override;
  boost::asio::awaitable<std::vector<model::Action>> handle(const ModuleRequest& request) override;

 private:
  boost::asio::awaitable<std::vector<model::Action>> quote(const ModuleRequest& request);
  boost::asio::awaitable<std::vector<model::Action>> quote_add(const ModuleRequest& request);
  boost::asio::awaitable<std::vector<model::Action>> quote_show(const ModuleRequest& request,
                                                                int number);
  boost::asio::awaitable<std::vector<model::Action>> quote_search(const ModuleRequest& request);
  boost::asio::awaitable<std::vector<model::Action>> quote_remove(const ModuleRequest& request);
  boost::asio::awaitable<std::vector<model::Action>> quote_react(const ModuleRequest& request);
  boost::asio::awaitable<std::vector<model::Action>> link(const ModuleRequest& request);

  ModuleEnv env_;
  Reminders reminders_;  // refers to env_
};

}  // namespace waddle::actions
