#include "model/action.hpp"

#include <set>

namespace waddle::model {
namespace {

constexpr StringRule kChatRule{kMaxChatBytes, false, false, false};
constexpr StringRule kTickerRule{kMaxTickerBytes, false, false, false};
constexpr StringRule kContentRule{kMaxGeneralContentBytes, false, false, false};
constexpr StringRule kTitleRule{256, true, true, false};
constexpr StringRule kDescriptionRule{2000, true, false, false};
constexpr StringRule kShortRule{64, true, true, true};
constexpr int kMaxDurationSeconds = 24 * 60 * 60;

std::string optional_url(FieldReader& reader, std::string_view key) {
  std::string url = reader.string_or(key, "", StringRule{2048, true, true, true});
  if (!url.empty()) check_http_url(url, reader.path_of(key));
  return url;
}

std::string checked_choice(FieldReader& reader, std::string_view key, std::string fallback,
                           const auto& allowed) {
  std::string value = reader.string_or(key, std::move(fallback), kShortRule);
  check_one_of(value, reader.path_of(key), allowed);
  return value;
}

std::vector<std::string> string_list(FieldReader& reader, std::string_view key,
                                     std::size_t max_entries, const StringRule& rule) {
  std::vector<std::string> out;
  const nlohmann::json* list = reader.get(key);
  if (!list) return out;
  std::string path = reader.path_of(key);
  if (!list->is_array()) throw FieldError(path, "expected an array, got " + describe_type(*list));
  if (list->size() > max_entries) {
    throw FieldError(path, "more than " + std::to_string(max_entries) + " entries");
  }
  for (std::size_t i = 0; i < list->size(); ++i) {
    out.push_back(string_value((*list)[i], path + "[" + std::to_string(i) + "]", rule));
  }
  return out;
}

ChatAction parse_chat(FieldReader& r) {
  ChatAction a;
  a.text = r.required_string("text", kChatRule);
  a.reply_to = r.optional_string("reply_to", kIdRule);
  a.ephemeral = r.bool_or("ephemeral", false);
  return a;
}

MediaAction parse_media(FieldReader& r) {
  MediaAction a;
  a.media_type = r.required_string("media_type", kShortRule);
  check_one_of(a.media_type, r.path_of("media_type"), kMediaTypes);
  a.media_url = r.required_string("media_url", StringRule{2048, false, true, true});
  check_http_url(a.media_url, r.path_of("media_url"));
  a.title = r.string_or("title", "", kTitleRule);
  a.artist = r.string_or("artist", "", kTitleRule);
  a.album = r.string_or("album", "", kTitleRule);
  a.duration = static_cast<int>(r.int_or("duration", 0, 0, kMaxDurationSeconds));
  a.thumbnail_url = optional_url(r, "thumbnail_url");
  a.service = r.string_or("service", "", kShortRule);
  return a;
}

TickerAction parse_ticker(FieldReader& r) {
  TickerAction a;
  a.text = r.required_string("text", kTickerRule);
  a.duration = static_cast<int>(r.int_or("duration", 10, 1, kMaxDurationSeconds));
  a.priority = checked_choice(r, "priority", "normal", kTickerPriorities);
  a.style = r.string_or("style", "", kShortRule);
  return a;
}

GeneralAction parse_general(FieldReader& r) {
  GeneralAction a;
  a.content_type = checked_choice(r, "content_type", "html", kContentTypes);
  a.content = r.required_string("content", kContentRule);
  a.duration = static_cast<int>(r.int_or("duration", 10, 0, kMaxDurationSeconds));
  return a;
}

FormField parse_form_field(const nlohmann::json& json, const std::string& path) {
  FieldReader r(json, path);
  FormField f;
  f.name = r.required_string("name", StringRule{64, false, true, true});
  f.type = r.required_string("type", kShortRule);
  check_one_of(f.type, r.path_of("type"), kFormFieldTypes);
  f.label = r.string_or("label", f.name, kTitleRule);
  f.required = r.bool_or("required", false);
  f.options = string_list(r, "options", kMaxFieldOptions, kTitleRule);
  bool choice = f.type == "select" || f.type == "multiselect" || f.type == "radio";
  if (choice && f.options.empty()) {
    throw FieldError(r.path_of("options"), "required for a " + f.type + " field");
  }
  r.finish();
  return f;
}

BlockAction parse_block(FieldReader& r) {
  BlockAction a;
  a.message_id = r.string_or("message_id", "", kIdRule);
  a.user_id = r.string_or("user_id", "", kIdRule);
  a.user_name = r.string_or("user_name", "", kIdRule);
  a.reason = r.string_or("reason", "", kDescriptionRule);
  a.timeout = static_cast<int>(r.int_or("timeout", 0, 0, 14 * 24 * 60 * 60));
  return a;
}

WhisperAction parse_whisper(FieldReader& r) {
  WhisperAction a;
  a.user_id = r.string_or("user_id", "", kIdRule);
  a.user_name = r.string_or("user_name", "", kIdRule);
  a.text = r.required_string("text", StringRule{kMaxChatBytes, false, true, false});
  if (a.user_id.empty() && a.user_name.empty()) {
    throw FieldError(r.path_of("user_id"), "a whisper needs user_id or user_name");
  }
  return a;
}

RoleAction parse_role(FieldReader& r) {
  RoleAction a;
  a.user_id = r.required_string("user_id", kIdRule);
  a.user_name = r.string_or("user_name", "", kIdRule);
  a.role = r.required_string("role", StringRule{100, false, true, true});
  a.grant = r.bool_or("grant", true);
  a.reason = r.string_or("reason", "", kDescriptionRule);
  return a;
}

FormAction parse_form(FieldReader& r) {
  FormAction a;
  a.title = r.required_string("title", StringRule{256, false, true, false});
  a.description = r.string_or("description", "", kDescriptionRule);
  const nlohmann::json& fields = r.require("fields");
  std::string fields_path = r.path_of("fields");
  if (!fields.is_array()) {
    throw FieldError(fields_path, "expected an array, got " + describe_type(fields));
  }
  if (fields.empty()) throw FieldError(fields_path, "must not be empty");
  if (fields.size() > kMaxFormFields) {
    throw FieldError(fields_path, "more than " + std::to_string(kMaxFormFields) + " entries");
  }
  std::set<std::string, std::less<>> names;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    std::string path = fields_path + "[" + std::to_string(i) + "]";
    FormField field = parse_form_field(fields[i], path);
    if (!names.insert(field.name).second) {
      throw FieldError(path + ".name", "duplicate field name '" + field.name + "'");
    }
    a.fields.push_back(std::move(field));
  }
  a.submit_url = r.required_string("submit_url", StringRule{2048, false, true, true});
  check_http_url(a.submit_url, r.path_of("submit_url"));
  a.submit_method = checked_choice(r, "submit_method", "POST", kSubmitMethods);
  a.callback_url = optional_url(r, "callback_url");
  return a;
}

struct ToJson {
  nlohmann::json operator()(const ChatAction& a) const {
    nlohmann::json j{{"type", "chat"}, {"text", a.text}, {"ephemeral", a.ephemeral}};
    if (a.reply_to) j["reply_to"] = *a.reply_to;
    return j;
  }
  nlohmann::json operator()(const MediaAction& a) const {
    return {{"type", "media"},          {"media_type", a.media_type},
            {"media_url", a.media_url}, {"title", a.title},
            {"artist", a.artist},       {"album", a.album},
            {"duration", a.duration},   {"thumbnail_url", a.thumbnail_url},
            {"service", a.service}};
  }
  nlohmann::json operator()(const TickerAction& a) const {
    return {{"type", "ticker"},
            {"text", a.text},
            {"duration", a.duration},
            {"priority", a.priority},
            {"style", a.style}};
  }
  nlohmann::json operator()(const GeneralAction& a) const {
    return {{"type", "general"},
            {"content_type", a.content_type},
            {"content", a.content},
            {"duration", a.duration}};
  }
  nlohmann::json operator()(const FormAction& a) const {
    nlohmann::json fields = nlohmann::json::array();
    for (const FormField& f : a.fields) {
      fields.push_back({{"name", f.name},
                        {"type", f.type},
                        {"label", f.label},
                        {"required", f.required},
                        {"options", f.options}});
    }
    return {{"type", "form"},
            {"title", a.title},
            {"description", a.description},
            {"fields", std::move(fields)},
            {"submit_url", a.submit_url},
            {"submit_method", a.submit_method},
            {"callback_url", a.callback_url}};
  }
  nlohmann::json operator()(const BlockAction& a) const {
    return {{"type", "block"},          {"message_id", a.message_id}, {"user_id", a.user_id},
            {"user_name", a.user_name}, {"reason", a.reason},         {"timeout", a.timeout}};
  }
  nlohmann::json operator()(const WhisperAction& a) const {
    nlohmann::json j{{"type", "whisper"}, {"text", a.text}};
    if (!a.user_id.empty()) j["user_id"] = a.user_id;
    if (!a.user_name.empty()) j["user_name"] = a.user_name;
    return j;
  }
  nlohmann::json operator()(const RoleAction& a) const {
    nlohmann::json j{{"type", "role"},
                     {"user_id", a.user_id},
                     {"role", a.role},
                     {"grant", a.grant},
                     {"reason", a.reason}};
    if (!a.user_name.empty()) j["user_name"] = a.user_name;
    return j;
  }
};

}  // namespace

std::string_view action_type(const Action& action) noexcept {
  return kActionTypes[action.index()];
}

bool is_overlay_action(const Action& action) noexcept {
  return std::holds_alternative<MediaAction>(action) ||
         std::holds_alternative<TickerAction>(action) ||
         std::holds_alternative<GeneralAction>(action) ||
         std::holds_alternative<FormAction>(action);
}

Action parse_action(const nlohmann::json& json, std::string_view path) {
  FieldReader r(json, std::string(path));
  std::string type = r.required_string("type", kShortRule);
  check_one_of(type, r.path_of("type"), kActionTypes);
  Action action;
  if (type == "chat") {
    action = parse_chat(r);
  } else if (type == "media") {
    action = parse_media(r);
  } else if (type == "ticker") {
    action = parse_ticker(r);
  } else if (type == "general") {
    action = parse_general(r);
  } else if (type == "form") {
    action = parse_form(r);
  } else if (type == "block") {
    action = parse_block(r);
  } else if (type == "whisper") {
    action = parse_whisper(r);
  } else {
    action = parse_role(r);
  }
  r.finish();
  return action;
}

std::vector<Action> parse_actions(const nlohmann::json& array, std::string_view path) {
  std::string base(path.empty() ? "actions" : path);
  if (!array.is_array()) throw FieldError(base, "expected an array, got " + describe_type(array));
  if (array.size() > kMaxActions) {
    throw FieldError(base, "more than " + std::to_string(kMaxActions) + " entries");
  }
  std::vector<Action> out;
  out.reserve(array.size());
  for (std::size_t i = 0; i < array.size(); ++i) {
    out.push_back(parse_action(array[i], base + "[" + std::to_string(i) + "]"));
  }
  return out;
}

nlohmann::json to_json(const Action& action) {
  return std::visit(ToJson{}, action);
}

nlohmann::json to_json(const std::vector<Action>& actions) {
  nlohmann::json out = nlohmann::json::array();
  for (const Action& a : actions) out.push_back(to_json(a));
  return out;
}

}  // namespace waddle::model
