#include "actions/request.hpp"

#include <algorithm>

#include "actions/text.hpp"
#include "model/field_reader.hpp"

namespace waddle::actions {
namespace {

using model::FieldError;
using model::FieldReader;
using model::StringRule;

constexpr StringRule kAnyId{256, true, true, false};
constexpr StringRule kText{16 * 1024, true, false, false};

std::vector<std::string> string_list(FieldReader& reader, std::string_view key,
                                     std::size_t max_items) {
  std::vector<std::string> out;
  const nlohmann::json* value = reader.get(key);
  if (!value) return out;
  const std::string path = reader.path_of(key);
  if (!value->is_array()) throw FieldError(path, "expected an array of strings");
  if (value->size() > max_items) {
    throw FieldError(path, "more than " + std::to_string(max_items) + " items");
  }
  for (std::size_t i = 0; i < value->size(); ++i) {
    const auto& item = (*value)[i];
    const std::string item_path = path + "[" + std::to_string(i) + "]";
    if (!item.is_string()) throw FieldError(item_path, "expected a string");
    model::check_string(item.get_ref<const std::string&>(), item_path, kText);
    out.push_back(item.get<std::string>());
  }
  return out;
}

}  // namespace

std::optional<Role> parse_role(std::string_view text) {
  const std::string word = lower_ascii(text);
  if (word == "owner" || word == "broadcaster" || word == "streamer") return Role::owner;
  if (word == "admin") return Role::admin;
  if (word == "moderator" || word == "mod" || word == "mods") return Role::moderator;
  if (word == "member" || word == "everyone" || word == "all" || word == "user") {
    return Role::member;
  }
  return std::nullopt;
}

std::string_view role_name(Role role) noexcept {
  switch (role) {
    case Role::owner: return "owner";
    case Role::admin: return "admin";
    case Role::moderator: return "moderator";
    case Role::member: break;
  }
  return "member";
}

Role ModuleRequest::role() const {
  Role best = Role::member;
  if (community_role == "owner" || community_role == "admin" || community_role == "moderator") {
    best = *parse_role(community_role);
  }
  for (const auto& platform_role : user_roles) {
    const std::string r = lower_ascii(platform_role);
    Role mapped = Role::member;
    if (r == "broadcaster" || r == "owner") {
      mapped = Role::owner;
    } else if (r == "moderator" || r == "mod") {
      mapped = Role::moderator;
    }
    best = std::max(best, mapped);
  }
  return best;
}

ModuleRequest parse_module_request(const nlohmann::json& body) {
  FieldReader root(body, "");
  ModuleRequest r;
  r.session_id = root.string_or("session_id", "", kAnyId);
  r.execution_id = root.string_or("execution_id", "", kAnyId);
  r.entity_id = root.string_or("entity_id", "", kAnyId);
  r.platform = root.string_or("platform", "", kAnyId);

  FieldReader community(root.require("community"), "community");
  const nlohmann::json& id = community.require("id");
  if (!id.is_number_integer() || id.get<std::int64_t>() <= 0) {
    throw FieldError("community.id", "expected a positive integer");
  }
  r.community_id = id.get<std::int64_t>();
  r.community_name = community.string_or("name", "", kAnyId);

  FieldReader user(root.require("user"), "user");
  r.user_id = user.required_string("id", model::kIdRule);
  r.user_name = user.string_or("name", r.user_id, model::kNameRule);
  r.user_display_name = user.string_or("display_name", "", kAnyId);
  if (r.user_display_name.empty()) r.user_display_name = r.user_name;
  r.user_roles = string_list(user, "roles", 64);
  r.community_role = user.string_or("community_role", "member", kAnyId);

  r.trigger = root.string_or("trigger", "command", kAnyId);
  r.prefix = root.string_or("prefix", "!", kAnyId);
  r.command = lower_ascii(root.required_string("command", {256, false, true, true}));
  r.args = string_list(root, "args", 256);
  r.raw_args = root.string_or("raw_args", "", kText);
  if (r.raw_args.empty() && !r.args.empty()) {
    for (const auto& arg : r.args) r.raw_args += (r.raw_args.empty() ? "" : " ") + arg;
  }
  r.message = root.string_or("message", "", kText);
  if (const nlohmann::json* config = root.get("config")) {
    if (!config->is_object()) throw FieldError("config", "expected an object");
    r.config = *config;
  }
  if (const nlohmann::json* event = root.get("event"); event && event->is_object()) {
    if (auto it = event->find("channel_id"); it != event->end() && it->is_string()) {
      r.channel_id = it->get<std::string>();
    }
  }
  if (r.channel_id.empty()) {
    const auto colon = r.entity_id.rfind(':');
    r.channel_id = colon == std::string::npos ? r.entity_id : r.entity_id.substr(colon + 1);
  }
  return r;
}

}  // namespace waddle::actions
