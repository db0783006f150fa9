#include "checks.hpp"

#include <algorithm>
#include <regex>

#include "error/error.hpp"

namespace waddle::cli::checks {

void refuse(const std::string& message) {
  throw Error(Errc::invalid_argument, message);
}

bool is_http_url(std::string_view url) {
  // Mirrors the http_url domain: '^https?://[^\s/?#]+[^\s]*$'.
  static const std::regex shape(R"(^https?://[^\s/?#]+[^\s]*$)");
  return std::regex_match(url.begin(), url.end(), shape);
}

void require_http_url(const std::string& what, const std::string& url) {
  if (!is_http_url(url)) refuse(what + ": must be an http(s) URL, got '" + url + "'");
}

bool is_entity_id(std::string_view entity_id) {
  static const std::regex shape("^(twitch|discord|slack|console):[^:]+:[^:]+$");
  return std::regex_match(entity_id.begin(), entity_id.end(), shape);
}

void require_entity_id(const std::string& what, const std::string& entity_id) {
  if (!is_entity_id(entity_id)) {
    refuse(what + ": '" + entity_id +
           "' is not an entity id (<platform>:<server>:<channel>, platform one of twitch, "
           "discord, slack, console)");
  }
}

bool is_command_word(std::string_view word) {
  static const std::regex shape("^[a-z0-9][a-z0-9_-]{0,63}$");
  return std::regex_match(word.begin(), word.end(), shape);
}

CommandName parse_command_name(const std::string& what, const std::string& text) {
  if (text.empty() || (text[0] != '!' && text[0] != '#')) {
    refuse(what + ": '" + text + "' must start with ! (local module) or # (community module)");
  }
  CommandName name{text.substr(0, 1), text.substr(1)};
  if (!is_command_word(name.word)) {
    refuse(what + ": '" + text +
           "' is not a valid command name (after the prefix: lower-case letters, digits, '_' "
           "and '-', starting with a letter or digit, at most 64 characters)");
  }
  return name;
}

std::vector<std::string> split_list(const std::vector<std::string>& values) {
  std::vector<std::string> items;
  for (const auto& value : values) {
    std::size_t start = 0;
    while (start <= value.size()) {
      auto comma = value.find(',', start);
      if (comma == std::string::npos) comma = value.size();
      std::string item = value.substr(start, comma - start);
      auto first = item.find_first_not_of(" \t");
      auto last = item.find_last_not_of(" \t");
      item = first == std::string::npos ? "" : item.substr(first, last - first + 1);
      if (!item.empty() && std::find(items.begin(), items.end(), item) == items.end()) {
        items.push_back(item);
      }
      start = comma + 1;
    }
  }
  return items;
}

void require_each_in(const std::string& what, const std::vector<std::string>& items,
                     std::initializer_list<std::string_view> allowed) {
  for (const auto& item : items) {
    if (std::find(allowed.begin(), allowed.end(), item) == allowed.end()) {
      std::string choices;
      for (auto a : allowed) choices += (choices.empty() ? "" : ", ") + std::string(a);
      refuse(what + ": unknown value '" + item + "' (allowed: " + choices + ")");
    }
  }
}

long long parse_id(const std::string& what, const std::string& text) {
  static const std::regex shape("^[1-9][0-9]{0,17}$");
  if (!std::regex_match(text, shape)) refuse(what + ": '" + text + "' is not a numeric id");
  return std::stoll(text);
}

long long parse_duration(const std::string& what, const std::string& text) {
  static const std::regex shape("^([0-9]{1,9})([smhd]?)$");
  std::smatch m;
  if (!std::regex_match(text, m, shape)) {
    refuse(what + ": '" + text + "' is not a duration (e.g. 90s, 5m, 2h, 1d)");
  }
  long long n = std::stoll(m[1].str());
  const std::string unit = m[2].str();
  long long scale = unit == "m" ? 60 : unit == "h" ? 3600 : unit == "d" ? 86400 : 1;
  if (n > 365LL * 86400 / scale) refuse(what + ": '" + text + "' is longer than 365 days");
  return n * scale;
}

std::string parse_timestamp(pqxx::work& tx, const std::string& what, const std::string& text,
                            bool future) {
  static const std::regex shape(
      R"(^(\d{4}-\d{2}-\d{2})([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?(Z|[+-]\d{2}(:?\d{2})?)?$)");
  std::smatch m;
  if (!std::regex_match(text, m, shape)) {
    refuse(what + ": '" + text +
           "' is not an ISO 8601 date-time (e.g. 2026-01-31 or 2026-01-31T12:00:00Z)");
  }
  const bool has_zone = m[5].matched;
  pqxx::result r;
  try {
    // A subtransaction, so that a value Postgres rejects (month 13) leaves `tx` usable.
    pqxx::subtransaction sub(tx, "timestamp_check");
    r = sub.exec_params(has_zone ? "select $1::timestamptz::text, $1::timestamptz > now()"
                                 : "select ($1::timestamp at time zone 'UTC')::text, "
                                   "($1::timestamp at time zone 'UTC') > now()",
                        text);
    sub.commit();
  } catch (const pqxx::data_exception&) {
    refuse(what + ": '" + text + "' is not a valid date-time");
  }
  if (future && !r[0][1].as<bool>()) refuse(what + ": '" + text + "' is not in the future");
  return r[0][0].as<std::string>();
}

nlohmann::json to_json_array(const std::vector<std::string>& items) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& i : items) arr.push_back(i);
  return arr;
}

std::string to_pg_array(const std::vector<std::string>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? "," : "") + items[i];
  return out + "}";
}

}  // namespace waddle::cli::checks
