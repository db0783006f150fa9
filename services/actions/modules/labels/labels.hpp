#pragma once
// Labels (seeds 003): up to 5 labels per community, up to 5 per user there, kept in `labels` and
// `label_assignments` (migrations/0003_community.sql, whose triggers enforce the limits).
//   !labels [@user]             a user's labels (the caller's without one)
//   !label who <label>          who carries a label
//   !label list                 the community's labels and how many carry each
//   !label add @user <label>    moderators; creates the label when the community has none of
//                               that name
//   !label remove @user <label> moderators
//   !label delete <label>       moderators; the label and every assignment of it
//   !label role <label> <platform> <role|none>
//                               admins; the label grants that platform role (label_roles,
//                               migrations/0015): giving the label emits a `role` action (in the
//                               reply for the caller's platform, through the Outbox to one of the
//                               community's channels for the others), taking it a revoking one
// Users are WaddleBot users: @name is looked up on the request's platform (platform_identities).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "actions/module.hpp"

namespace waddle::actions {

inline constexpr std::string_view kLabelsModule = "labels";
inline constexpr std::size_t kMaxLabelCharacters = 63;
inline constexpr int kLabelLimit = 5;

// One platform role to grant or revoke for one of the user's accounts.
struct RoleGrant {
  std::string platform;
  std::string role;
  std::string platform_user_id;
  std::string username;
  std::string entity_id;  // one of the community's channels on `platform`; empty: none
};

// A label name as typed (trimmed, one pair of surrounding double quotes dropped); nullopt when it
// is empty, longer than 63 characters or holds control characters.
std::optional<std::string> parse_label_name(std::string_view text);

class Labels final : public Module {
 public:
  explicit Labels(ModuleEnv env) : env_(std::move(env)) {}
  std::string_view name() const override { return kLabelsModule; }
  std::vector<CommandSpec> commands() const override;
  boost::asio::awaitable<std::vector<model::Action>> handle(const ModuleRequest& request) override;

 private:
  boost::asio::awaitable<std::vector<model::Action>> show(const ModuleRequest& request);
  boost::asio::awaitable<std::vector<model::Action>> who(const ModuleRequest& request);
  boost::asio::awaitable<std::vector<model::Action>> list(const ModuleRequest& request);
  boost::asio::awaitable<std::vector<model::Action>> assign(const ModuleRequest& request);
  boost::asio::awaitable<std::vector<model::Action>> unassign(const ModuleRequest& request);
  boost::asio::awaitable<std::vector<model::Action>> remove_label(const ModuleRequest& request);
  boost::asio::awaitable<std::vector<model::Action>> map_role(const ModuleRequest& request);
  // `text` as the chat answer, the caller's platform's role actions after it, the other
  // platforms' sent through the Outbox (a failure is noted in the text).
  boost::asio::awaitable<std::vector<model::Action>> with_roles(
      const ModuleRequest& request, std::string text, const std::vector<RoleGrant>& grants,
      const std::string& label, bool grant);

  ModuleEnv env_;
};

}  // namespace waddle::actions
