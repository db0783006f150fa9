// The module request as the built-in modules read it, the roles that decide who may manage what,
// and the option words of `!command add|edit`.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "actions/modules/custom_commands/custom_commands.hpp"
#include "actions/request.hpp"
#include "error/error.hpp"
#include "model/field_reader.hpp"

using namespace waddle::actions;
using nlohmann::json;

namespace {

json request_body() {
  return json::parse(R"({
    "session_id": "sess_01", "execution_id": "exec_01", "entity_id": "twitch:channel:waddlebot",
    "community": {"id": 42, "name": "waddlers"}, "platform": "twitch",
    "user": {"id": "123", "name": "alice", "display_name": "Alice", "roles": ["vip"],
             "community_role": "member", "reputation": 650},
    "trigger": "command", "prefix": "!", "command": "Quote", "args": ["add", "hi"],
    "raw_args": "add  hi", "message": "!Quote add  hi", "message_type": "chatMessage",
    "event": {"channel_id": "waddlebot"}, "config": {"quote_add_role": "moderator"},
    "something_new": [1, 2, 3]})");
}

std::string field_of(const json& body) {
  try {
    parse_module_request(body);
  } catch (const waddle::model::FieldError& e) {
    CHECK(e.code() == waddle::Errc::invalid_argument);
    return e.field();
  }
  return "(parsed)";
}

}  // namespace

TEST_CASE("a router request parses, unknown fields ignored") {
  const ModuleRequest r = parse_module_request(request_body());
  CHECK(r.community_id == 42);
  CHECK(r.community_name == "waddlers");
  CHECK(r.user_id == "123");
  CHECK(r.user_display_name == "Alice");
  CHECK(r.command == "quote");
  CHECK(r.args == std::vector<std::string>{"add", "hi"});
  CHECK(r.raw_args == "add  hi");
  CHECK(r.channel_id == "waddlebot");
  CHECK(r.config["quote_add_role"] == "moderator");
  CHECK(r.role() == Role::member);
}

TEST_CASE("a request without the fields the modules need names the field") {
  auto body = request_body();
  body.erase("community");
  CHECK(field_of(body) == "community");
  body = request_body();
  body["community"]["id"] = "42";
  CHECK(field_of(body) == "community.id");
  body["community"]["id"] = 0;
  CHECK(field_of(body) == "community.id");
  body = request_body();
  body["user"].erase("id");
  CHECK(field_of(body) == "user.id");
  body = request_body();
  body["args"] = "add hi";
  CHECK(field_of(body) == "args");
  body = request_body();
  body["args"] = json::array({"ok", 5});
  CHECK(field_of(body) == "args[1]");
  body = request_body();
  body["command"] = "";
  CHECK(field_of(body) == "command");
  body = request_body();
  body["config"] = json::array();
  CHECK(field_of(body) == "config");
  CHECK(field_of(json::array()) == "(root)");
}

TEST_CASE("raw_args falls back to the joined args and display_name to name") {
  auto body = request_body();
  body.erase("raw_args");
  body["user"].erase("display_name");
  body.erase("event");
  const ModuleRequest r = parse_module_request(body);
  CHECK(r.raw_args == "add hi");
  CHECK(r.user_display_name == "alice");
  CHECK(r.channel_id == "waddlebot");  // the last part of entity_id
}

TEST_CASE("the effective role is the higher of the community role and the platform roles") {
  ModuleRequest r;
  CHECK(r.role() == Role::member);
  r.user_roles = {"subscriber", "moderator"};
  CHECK(r.role() == Role::moderator);
  r.user_roles = {"broadcaster"};
  CHECK(r.role() == Role::owner);
  r.user_roles = {"vip"};
  r.community_role = "admin";
  CHECK(r.role() == Role::admin);
  r.community_role = "nonsense";
  CHECK(r.role() == Role::member);
}

TEST_CASE("roles parse from what chat users type") {
  CHECK(parse_role("Moderator") == Role::moderator);
  CHECK(parse_role("mod") == Role::moderator);
  CHECK(parse_role("broadcaster") == Role::owner);
  CHECK(parse_role("everyone") == Role::member);
  CHECK_FALSE(parse_role("vip").has_value());
  CHECK(role_name(Role::admin) == "admin");
}

TEST_CASE("!command add options: cooldown and role words before the text") {
  auto in = parse_custom_command_input("-cd=30 -ul=mod Hello $(user)");
  CHECK(in.error.empty());
  CHECK(in.cooldown_seconds == 30);
  CHECK(in.min_role == Role::moderator);
  CHECK(in.text == "Hello $(user)");

  in = parse_custom_command_input("--role=owner --cooldown=0 x");
  CHECK(in.cooldown_seconds == 0);
  CHECK(in.min_role == Role::owner);
  CHECK(in.text == "x");

  in = parse_custom_command_input("-5 is a number, -cd=3 is not parsed after text");
  CHECK_FALSE(in.cooldown_seconds.has_value());
  CHECK(in.text == "-5 is a number, -cd=3 is not parsed after text");

  in = parse_custom_command_input("-cd= hi");
  CHECK_FALSE(in.error.empty());

  in = parse_custom_command_input("-cd=soon hi");
  CHECK_FALSE(in.error.empty());
  in = parse_custom_command_input("-cd=86401 hi");
  CHECK_FALSE(in.error.empty());
  in = parse_custom_command_input("-cd=#5 hi");
  CHECK_FALSE(in.error.empty());
  in = parse_custom_command_input("-ul=vip hi");
  CHECK(in.error == "Unknown role 'vip' (member, moderator, admin or owner).");

  in = parse_custom_command_input("-cd=10");
  CHECK(in.cooldown_seconds == 10);
  CHECK(in.text.empty());
}
