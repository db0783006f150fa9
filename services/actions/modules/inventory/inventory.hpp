#pragma once
// Inventory (seeds 002/004, the "Quartermaster"): a community's items, who has one checked out,
// and a log in which every change is an inventory_activity row (migrations/0010_actions_more.sql).
//   !inv list                    every item with how many are in / how many there are
//   !inv search <words>          items whose name holds every word, with who has them
//   !inv add <item> [qty]        moderators; adds units (an item is created on first add)
//   !inv remove <item> [qty]     moderators; without qty the whole item; checked-out units stay
//   !inv checkout <item> [@user] one unit to the caller (checkout_role) or to @user (moderators)
//   !inv return <item> [@user]   the caller's unit back, or @user's (moderators)
//   !inv log [item]              the last 5 changes
// Item names are 1 to 64 characters; a name ending in a number or holding spaces at the end can
// be "double quoted". Module config: "checkout_role" (default "member"), the lowest role that may
// check items out to themselves.

#include <optional>
#include <string>
#include <string_view>

#include "actions/module.hpp"

namespace waddle::actions {

inline constexpr std::string_view kInventoryModule = "inventory";
inline constexpr std::size_t kMaxItemCharacters = 64;
inline constexpr int kMaxItemQuantity = 1000000;

// What follows `!inv <sub>`: an item name, then a quantity (`with_quantity`) or an @user
// (`with_user`) as the last word.
struct ItemArgs {
  std::string item;
  std::optional<int> quantity;
  std::string mention;  // without '@'; empty when none was given
  std::string error;    // non-empty: what is wrong with the input
};
ItemArgs parse_item_args(std::string_view rest, bool with_quantity, bool with_user);

class Inventory final : public Module {
 public:
  explicit Inventory(ModuleEnv env) : env_(std::move(env)) {}
  std::string_view name() const override { return kInventoryModule; }
  std::vector<CommandSpec> commands() const override;
  boost::asio::awaitable<std::vector<model::Action>> handle(const ModuleRequest& request) override;

 private:
  boost::asio::awaitable<std::vector<model::Action>> list(const ModuleRequest& request);
  boost::asio::awaitable<std::vector<model::Action>> search(const ModuleRequest& request);
  boost::asio::awaitable<std::vector<model::Action>> add(const ModuleRequest& request);
  boost::asio::awaitable<std::vector<model::Action>> remove(const ModuleRequest& request);
  boost::asio::awaitable<std::vector<model::Action>> checkout(const ModuleRequest& request);
  boost::asio::awaitable<std::vector<model::Action>> give_back(const ModuleRequest& request);
  boost::asio::awaitable<std::vector<model::Action>> log(const ModuleRequest& request);

  ModuleEnv env_;
};

}  // namespace waddle::actions
