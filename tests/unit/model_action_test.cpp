#include <catch2/catch.hpp>

#include <string>

#include "model/action.hpp"

using nlohmann::json;
using namespace waddle::model;

namespace {

json chat() {
  return {{"type", "chat"}, {"text", "hello @bob"}};
}
json media() {
  return {{"type", "media"},
          {"media_type", "music"},
          {"media_url", "https://youtube.com/watch?v=abc"},
          {"title", "Song Title"},
          {"artist", "Artist Name"},
          {"album", "Album Name"},
          {"duration", 225},
          {"thumbnail_url", "https://i.ytimg.com/vi/abc/hq.jpg"},
          {"service", "youtube"}};
}
json ticker() {
  return {{"type", "ticker"},
          {"text", "Scrolling message text"},
          {"duration", 10},
          {"priority", "high"},
          {"style", "info"}};
}
json general() {
  return {{"type", "general"},
          {"content_type", "html"},
          {"content", "<div>Custom HTML content</div>"},
          {"duration", 15}};
}
json form() {
  return {{"type", "form"},
          {"title", "Sign up"},
          {"description", "Join the giveaway"},
          {"fields",
           {{{"name", "email"}, {"type", "email"}, {"label", "E-mail"}, {"required", true}},
            {{"name", "team"}, {"type", "select"}, {"options", {"red", "blue"}}}}},
          {"submit_url", "https://example.org/submit"},
          {"submit_method", "POST"},
          {"callback_url", "http://127.0.0.1:8080/done"}};
}

std::string field_of(const json& j, std::string_view path = "") {
  try {
    parse_action(j, path);
  } catch (const FieldError& e) {
    return e.field();
  }
  return "<parsed>";
}

std::string message_of(const json& j, std::string_view path = "") {
  try {
    parse_action(j, path);
  } catch (const FieldError& e) {
    return e.what();
  }
  return "<parsed>";
}

json with(json j, const std::string& key, const json& value) {
  j[key] = value;
  return j;
}

}  // namespace

TEST_CASE("every action type round trips through to_json") {
  for (const json& j : {chat(), with(with(chat(), "reply_to", "msg-1"), "ephemeral", true), media(),
                        ticker(), general(), form()}) {
    INFO(j.dump());
    Action first = parse_action(j);
    CHECK(action_type(first) == j["type"].get<std::string>());
    json out = to_json(first);
    CHECK(out["type"] == j["type"]);
    Action second = parse_action(out);
    CHECK(second == first);
    CHECK(to_json(second) == out);
  }
}

TEST_CASE("actions carry the values and defaults the overlay and collectors rely on") {
  auto c = std::get<ChatAction>(parse_action(chat()));
  CHECK(c.text == "hello @bob");
  CHECK_FALSE(c.reply_to.has_value());
  CHECK_FALSE(c.ephemeral);
  CHECK_FALSE(to_json(Action{c}).contains("reply_to"));

  auto m = std::get<MediaAction>(parse_action(media()));
  CHECK(m.duration == 225);
  CHECK(m.service == "youtube");

  auto t = std::get<TickerAction>(parse_action(json{{"type", "ticker"}, {"text", "hi"}}));
  CHECK(t.duration == 10);
  CHECK(t.priority == "normal");

  auto g = std::get<GeneralAction>(parse_action(json{{"type", "general"}, {"content", "x"}}));
  CHECK(g.content_type == "html");
  CHECK(g.duration == 10);

  auto f = std::get<FormAction>(parse_action(form()));
  REQUIRE(f.fields.size() == 2);
  CHECK(f.fields[0].required);
  CHECK(f.fields[1].label == "team");  // defaults to the name
  CHECK(f.fields[1].options == std::vector<std::string>{"red", "blue"});
}

TEST_CASE("parse_actions names elements by index") {
  json list = {chat(), media(), with(ticker(), "text", 5)};
  try {
    parse_actions(list);
    FAIL("parsed");
  } catch (const FieldError& e) {
    CHECK(e.field() == "actions[2].text");
    CHECK(std::string(e.what()) == "actions[2].text: expected a string, got an integer");
  }
  CHECK(parse_actions(json{chat(), media(), ticker(), general(), form()}).size() == 5);
  CHECK(parse_actions(json::array()).empty());
  CHECK_THROWS_WITH(parse_actions(chat()), "actions: expected an array, got an object");
  CHECK_THROWS_WITH(parse_actions(json(std::vector<json>(33, chat()))),
                    "actions: more than 32 entries");
  CHECK_THROWS_WITH(
      parse_actions(json{chat(), {{"type", "video"}}}, "response.actions"),
      Catch::StartsWith(
          "response.actions[1].type: unknown value 'video' "
          "(expected one of chat, media, ticker, general, form, block, whisper, role)"));
  CHECK_THROWS_WITH(parse_actions(json{chat(), 7}),
                    "actions[1]: expected an object, got an integer");
  // Round trip of the whole list.
  auto actions = parse_actions(json{chat(), form()});
  CHECK(parse_actions(to_json(actions)) == actions);
}

TEST_CASE("the type field is required and must be known") {
  CHECK(message_of(json{{"text", "x"}}) == "type: is required");
  CHECK(field_of(json{{"type", "popup"}, {"text", "x"}}) == "type");
  CHECK(field_of(json{{"type", 1}}) == "type");
  CHECK(message_of(json::array()) == "(root): expected an object, got an array");
}

TEST_CASE("unknown fields are rejected by name, including the seeds' old flat names") {
  CHECK(message_of(with(chat(), "chat_message", "x")) == "chat_message: unknown field");
  CHECK(message_of(with(ticker(), "ticker_text", "x")) == "ticker_text: unknown field");
  json f = form();
  f["fields"][1]["placeholder"] = "pick";
  CHECK(message_of(f) == "fields[1].placeholder: unknown field");
  CHECK(message_of(with(chat(), "extra", 1), "actions[0]") == "actions[0].extra: unknown field");
}

TEST_CASE("field errors follow the same rules as events") {
  CHECK(message_of(with(chat(), "text", std::string(2001, 'x'))) == "text: longer than 2000 bytes");
  CHECK(field_of(with(chat(), "text", std::string(2000, 'x'))) == "<parsed>");
  CHECK(message_of(with(chat(), "text", "")) == "text: must not be empty");
  CHECK(message_of(with(chat(), "text", "bad \xff")) == "text: not valid UTF-8");
  CHECK(message_of(with(chat(), "ephemeral", "yes")) ==
        "ephemeral: expected a boolean, got a string");
  CHECK(field_of(with(chat(), "reply_to", 5)) == "reply_to");
  CHECK(message_of(with(media(), "duration", "3:45")) ==
        "duration: expected an integer, got a string");
  CHECK(field_of(with(media(), "duration", 3.5)) == "duration");
  CHECK(message_of(with(media(), "duration", -1)) == "duration: must be at least 0, got -1");
  CHECK(field_of(with(media(), "media_type", "gif")) == "media_type");
  CHECK(field_of(with(ticker(), "priority", "urgent")) == "priority");
  CHECK(field_of(with(ticker(), "duration", 0)) == "duration");
  CHECK(field_of(with(general(), "content_type", "markdown")) == "content_type");
  CHECK(field_of(with(general(), "content", std::string(64 * 1024 + 1, 'x'))) == "content");
  CHECK(field_of(with(form(), "submit_method", "DELETE")) == "submit_method");
  CHECK(message_of(with(form(), "fields", json::array())) == "fields: must not be empty");
  json f = form();
  f.erase("fields");
  CHECK(message_of(f) == "fields: is required");
  f = form();
  f["fields"][1].erase("options");
  CHECK(message_of(f) == "fields[1].options: required for a select field");
  f = form();
  f["fields"][1]["name"] = "email";
  CHECK(message_of(f) == "fields[1].name: duplicate field name 'email'");
  f = form();
  f["fields"][0]["type"] = "file";
  CHECK(field_of(f) == "fields[0].type");
}

TEST_CASE("URLs must be http or https with a host") {
  for (const char* bad : {"javascript:alert(1)", "ftp://example.org/x", "//example.org/x",
                          "https://", "not a url", "file:///etc/passwd", "https://exa mple.org/"}) {
    INFO(bad);
    CHECK(field_of(with(media(), "media_url", bad)) == "media_url");
    CHECK(field_of(with(form(), "submit_url", bad)) == "submit_url");
    CHECK(field_of(with(form(), "callback_url", bad)) == "callback_url");
    CHECK(field_of(with(media(), "thumbnail_url", bad)) == "thumbnail_url");
  }
  CHECK(message_of(with(media(), "media_url", "ftp://example.org/x")) ==
        "media_url: expected an http:// or https:// URL, got 'ftp://example.org/x'");
  CHECK(field_of(with(media(), "media_url", "HTTPS://Example.org:8443/a?b=c#d")) == "<parsed>");
  CHECK(field_of(with(media(), "thumbnail_url", "")) == "<parsed>");
  json m = media();
  m.erase("media_url");
  CHECK(message_of(m) == "media_url: is required");
}

TEST_CASE("whisper and role actions are for the collector, not the overlay") {
  json whisper = {{"type", "whisper"}, {"user_name", "alice"}, {"text", "Your code is K7P2QX"}};
  json role = {{"type", "role"}, {"user_id", "123"}, {"user_name", "alice"},
               {"role", "vip"},  {"grant", false},   {"reason", "label 'helper' removed"}};
  for (const json& j : {whisper, role}) {
    INFO(j.dump());
    Action first = parse_action(j);
    CHECK(action_type(first) == j["type"].get<std::string>());
    CHECK_FALSE(is_overlay_action(first));
    CHECK(parse_action(to_json(first)) == first);
  }
  CHECK(std::get<RoleAction>(parse_action(role)).grant == false);
  CHECK(is_overlay_action(parse_action(media())));
  CHECK_FALSE(is_overlay_action(parse_action(chat())));

  json nobody = whisper;
  nobody.erase("user_name");
  CHECK(message_of(nobody) == "user_id: a whisper needs user_id or user_name");
  CHECK(field_of(with(whisper, "text", "")) == "text");
  json no_role = role;
  no_role.erase("role");
  CHECK(message_of(no_role) == "role: is required");
  json no_user = role;
  no_user.erase("user_id");
  CHECK(field_of(no_user) == "user_id");
  CHECK(field_of(with(role, "grant", "yes")) == "grant");
}
