#include "model/event.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <limits>

namespace waddle::model {
namespace {

constexpr StringRule kMessageRule{kMaxMessageBytes, true, false, false};

int digits(std::string_view s, std::size_t pos, std::size_t count) noexcept {
  if (pos + count > s.size()) return -1;
  int value = 0;
  for (std::size_t i = pos; i < pos + count; ++i) {
    if (s[i] < '0' || s[i] > '9') return -1;
    value = value * 10 + (s[i] - '0');
  }
  return value;
}

int days_in_month(int year, int month) noexcept {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

// Checks the shape and, when server_id / channel_id were given, that they agree with it.
void check_entity(Event& event, bool has_server, bool has_channel) {
  const std::string& id = event.entity_id;
  auto first = id.find(':');
  auto second = first == std::string::npos ? first : id.find(':', first + 1);
  bool shaped = second != std::string::npos && id.find(':', second + 1) == std::string::npos &&
                first > 0 && second > first + 1 && second + 1 < id.size();
  if (!shaped) {
    throw FieldError("entity_id",
                     "expected '<platform>:<server>:<channel>', got '" + quote_for_error(id) + "'");
  }
  std::string_view platform = std::string_view(id).substr(0, first);
  std::string server = id.substr(first + 1, second - first - 1);
  std::string channel = id.substr(second + 1);
  if (platform != event.platform) {
    throw FieldError("entity_id", "starts with '" + quote_for_error(platform) +
                                      "' but platform is '" + event.platform + "'");
  }
  if (!has_server) event.server_id = server;
  if (!has_channel) event.channel_id = channel;
  if (event.server_id != server || event.channel_id != channel) {
    throw FieldError(
        "entity_id",
        "expected '" +
            quote_for_error(make_entity_id(event.platform, event.server_id, event.channel_id)) +
            "' from platform, server_id and channel_id, got '" + quote_for_error(id) + "'");
  }
}

// Walks metadata once, bounded by depth, so that a deeply nested value cannot exhaust the stack
// of the serializer that measures it afterwards.
void check_metadata_value(const nlohmann::json& value, const std::string& path, std::size_t depth) {
  if (depth > kMaxMetadataDepth) {
    throw FieldError(path, "nested deeper than " + std::to_string(kMaxMetadataDepth) + " levels");
  }
  // Size is checked on the whole serialized value afterwards.
  constexpr StringRule kAnyText{std::numeric_limits<std::size_t>::max(), true, false, false};
  if (value.is_string()) {
    check_string(value.get_ref<const std::string&>(), path, kAnyText);
  } else if (value.is_object()) {
    for (const auto& item : value.items()) {
      std::string child = join_path(path, quote_for_error(item.key()));
      check_string(item.key(), child, kAnyText);
      check_metadata_value(item.value(), child, depth + 1);
    }
  } else if (value.is_array()) {
    std::size_t i = 0;
    for (const auto& element : value) {
      check_metadata_value(element, path + "[" + std::to_string(i++) + "]", depth + 1);
    }
  }
}

}  // namespace

bool is_platform(std::string_view platform) noexcept {
  return std::find(kPlatforms.begin(), kPlatforms.end(), platform) != kPlatforms.end();
}

bool is_message_type(std::string_view message_type) noexcept {
  return std::find(kMessageTypes.begin(), kMessageTypes.end(), message_type) != kMessageTypes.end();
}

std::string make_entity_id(std::string_view platform, std::string_view server,
                           std::string_view channel) {
  std::string out(platform);
  out += ':';
  out += server;
  out += ':';
  out += channel;
  return out;
}

bool is_rfc3339(std::string_view s) noexcept {
  // full-date "T" partial-time [ "." 1*DIGIT ] ( "Z" / ("+" / "-") HH ":" MM )
  if (s.size() < 20 || s.size() > 40) return false;
  int year = digits(s, 0, 4), month = digits(s, 5, 2), day = digits(s, 8, 2);
  int hour = digits(s, 11, 2), minute = digits(s, 14, 2), second = digits(s, 17, 2);
  if (s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' ||
      s[16] != ':') {
    return false;
  }
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) ||
      hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 60) {
    return false;
  }
  std::size_t pos = 19;
  if (s[pos] == '.') {
    std::size_t start = ++pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
    if (pos == start) return false;
  }
  if (pos >= s.size()) return false;
  if (s[pos] == 'Z' || s[pos] == 'z') return pos + 1 == s.size();
  if (s[pos] != '+' && s[pos] != '-') return false;
  if (pos + 6 != s.size() || s[pos + 3] != ':') return false;
  int off_hour = digits(s, pos + 1, 2), off_minute = digits(s, pos + 4, 2);
  return off_hour >= 0 && off_hour <= 23 && off_minute >= 0 && off_minute <= 59;
}

std::string now_rfc3339() {
  std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  gmtime_r(&now, &utc);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buf;
}

Event parse_event(const nlohmann::json& json) {
  FieldReader reader(json, "");
  Event event;
  event.event_id = reader.required_string("event_id", kIdRule);
  event.platform = reader.required_string("platform", kIdRule);
  check_one_of(event.platform, "platform", kPlatforms);
  event.message_type = reader.required_string("message_type", kIdRule);
  check_one_of(event.message_type, "message_type", kMessageTypes);
  event.entity_id = reader.required_string("entity_id", kIdRule);

  auto server = reader.optional_string("server_id", kIdRule);
  auto channel = reader.optional_string("channel_id", kIdRule);
  if (server) event.server_id = *server;
  if (channel) event.channel_id = *channel;

  FieldReader user(reader.require("user"), "user");
  event.user.id = user.required_string("id", kIdRule);
  event.user.name = user.required_string("name", kNameRule);
  event.user.display_name = user.string_or("display_name", event.user.name, kNameRule);
  if (const nlohmann::json* roles = user.get("roles")) {
    if (!roles->is_array()) {
      throw FieldError("user.roles", "expected an array, got " + describe_type(*roles));
    }
    if (roles->size() > kMaxRoles) {
      throw FieldError("user.roles", "more than " + std::to_string(kMaxRoles) + " entries");
    }
    for (std::size_t i = 0; i < roles->size(); ++i) {
      event.user.roles.push_back(
          string_value((*roles)[i], "user.roles[" + std::to_string(i) + "]", kIdRule));
    }
  }
  user.finish();

  event.message = reader.string_or("message", "", kMessageRule);
  event.amount = reader.int_or("amount", 0, 0, std::numeric_limits<std::int64_t>::max());

  if (const nlohmann::json* metadata = reader.get("metadata")) {
    if (!metadata->is_object()) {
      throw FieldError("metadata", "expected an object, got " + describe_type(*metadata));
    }
    check_metadata_value(*metadata, "metadata", 1);
    if (metadata->dump().size() > kMaxMetadataBytes) {
      throw FieldError("metadata", "longer than " + std::to_string(kMaxMetadataBytes) +
                                       " bytes when serialized");
    }
    event.metadata = *metadata;
  }

  if (auto timestamp = reader.optional_string("timestamp", StringRule{64, false, true, true})) {
    if (!is_rfc3339(*timestamp)) {
      throw FieldError("timestamp",
                       "expected an RFC 3339 date-time like 2026-01-01T12:00:00Z, "
                       "got '" +
                           quote_for_error(*timestamp) + "'");
    }
    event.timestamp = std::move(*timestamp);
  } else {
    event.timestamp = now_rfc3339();
  }
  reader.finish();

  check_entity(event, server.has_value(), channel.has_value());
  return event;
}

nlohmann::json to_json(const Event& event) {
  return nlohmann::json{
      {"event_id", event.event_id},
      {"platform", event.platform},
      {"message_type", event.message_type},
      {"entity_id", event.entity_id},
      {"server_id", event.server_id},
      {"channel_id", event.channel_id},
      {"user",
       {{"id", event.user.id},
        {"name", event.user.name},
        {"display_name", event.user.display_name},
        {"roles", event.user.roles}}},
      {"message", event.message},
      {"amount", event.amount},
      {"metadata", event.metadata},
      {"timestamp", event.timestamp},
  };
}

}  // namespace waddle::model
