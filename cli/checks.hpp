#pragma once
// Input checks shared by the command, module, alias, rule, apikey, overlay and coordination
// nouns. Each throws Error(invalid_argument) naming the option or argument (`what`) and the
// value, so that a refused command says exactly what to fix before anything touches the database.

#include <initializer_list>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <string>
#include <string_view>
#include <vector>

namespace waddle::cli::checks {

// The shape the schema's http_url domain accepts: http:// or https://, a host, no whitespace.
bool is_http_url(std::string_view url);
void require_http_url(const std::string& what, const std::string& url);

// `<platform>:<server>:<channel>` with a known platform (the entities/coordination CHECK).
bool is_entity_id(std::string_view entity_id);
void require_entity_id(const std::string& what, const std::string& entity_id);

// A command or alias name as the schema stores it: `^[a-z0-9][a-z0-9_-]{0,63}$`.
bool is_command_word(std::string_view word);

// `!name` / `#name` split into prefix and word; Error naming `what` when malformed.
struct CommandName {
  std::string prefix;  // "!" or "#"
  std::string word;    // without the prefix
  std::string full() const { return prefix + word; }
};
CommandName parse_command_name(const std::string& what, const std::string& text);

// Values given repeatedly and/or as comma lists ("a,b" "c") → {"a","b","c"}, trimmed, empty
// items dropped, duplicates removed (first occurrence kept).
std::vector<std::string> split_list(const std::vector<std::string>& values);

// Every item is one of `allowed`.
void require_each_in(const std::string& what, const std::vector<std::string>& items,
                     std::initializer_list<std::string_view> allowed);

// A positive database id.
long long parse_id(const std::string& what, const std::string& text);

// "90", "90s", "5m", "2h", "1d" → seconds (0 allowed, at most 365 days).
long long parse_duration(const std::string& what, const std::string& text);

// An ISO 8601 date or date-time ("2026-01-31", "2026-01-31T12:00:00Z", "…+02:00"); without an
// offset it is taken as UTC. Returns it as the database prints timestamptz; Error naming `what`
// when malformed or, with `future`, not in the future.
std::string parse_timestamp(pqxx::work& tx, const std::string& what, const std::string& text,
                            bool future);

nlohmann::json to_json_array(const std::vector<std::string>& items);

// A text[] literal for exec_params ("{a,b}"); items must not need quoting (checked by callers'
// whitelists).
std::string to_pg_array(const std::vector<std::string>& items);

// Throws Error(invalid_argument, message).
[[noreturn]] void refuse(const std::string& message);

}  // namespace waddle::cli::checks
