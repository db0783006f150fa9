#pragma once
// Reputation: reads the router's ledger totals (reputation_totals, migrations/0003_community.sql)
// and lets moderators correct them.
//   !rep [@user]                          points and rank in this community
//   !top [n]                              the leaderboard, n from 1 to 10 (default 5)
//   !rep give @user <points> [reason]     moderators; a reputation_events row (event_type
//                                         'manual'), negative points take away
// Ranks are competition ranks: users with equal points share one.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "actions/module.hpp"

namespace waddle::actions {

inline constexpr std::string_view kReputationModule = "reputation";
inline constexpr int kMaxTopCount = 10;
inline constexpr int kDefaultTopCount = 5;
inline constexpr int kMaxGivePoints = 100000;
inline constexpr std::size_t kMaxReasonCharacters = 200;

// A whole number of points for !rep give: optional sign, digits, 1 to 100000 either way; nullopt
// for 0, anything else or out of range.
std::optional<int> parse_points(std::string_view text);

class Reputation final : public Module {
 public:
  explicit Reputation(ModuleEnv env) : env_(std::move(env)) {}
  std::string_view name() const override { return kReputationModule; }
  std::vector<CommandSpec> commands() const override;
  boost::asio::awaitable<std::vector<model::Action>> handle(const ModuleRequest& request) override;

 private:
  boost::asio::awaitable<std::vector<model::Action>> show(const ModuleRequest& request);
  boost::asio::awaitable<std::vector<model::Action>> give(const ModuleRequest& request);
  boost::asio::awaitable<std::vector<model::Action>> top(const ModuleRequest& request);

  ModuleEnv env_;
};

}  // namespace waddle::actions
