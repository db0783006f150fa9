#pragma once
// Strict reading of JSON objects for every external input: unknown fields, wrong types,
// oversize or non-UTF-8 strings are errors that name the field by its path
// ("user.roles[3]", "actions[2].text").

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "error/error.hpp"

namespace waddle::model {

// A bad field. what() is "<field>: <reason>"; field() alone goes into HTTP error bodies.
class FieldError : public Error {
 public:
  FieldError(std::string field, std::string reason);
  const std::string& field() const noexcept { return field_; }
  const std::string& reason() const noexcept { return reason_; }

 private:
  std::string field_;
  std::string reason_;
};

// What a string field may hold. Every string must be valid UTF-8 without NUL bytes (Postgres
// text and jsonb cannot store NUL).
struct StringRule {
  std::size_t max_bytes = 256;
  bool allow_empty = false;
  // Single-line values (ids, names) reject every control character.
  bool single_line = true;
  // Identifiers additionally reject spaces.
  bool no_spaces = false;
};

inline constexpr StringRule kIdRule{256, false, true, true};
inline constexpr StringRule kNameRule{256, false, true, false};

bool is_valid_utf8(std::string_view s) noexcept;
// s made safe to quote in an error message: invalid bytes and controls become '?', and long
// values are cut at 64 bytes with "…".
std::string quote_for_error(std::string_view s);
// "<base>.<key>", or just key when base is empty.
std::string join_path(std::string_view base, std::string_view key);

// Throws FieldError(path, …) when value breaks rule.
void check_string(std::string_view value, const std::string& path, const StringRule& rule);
// http(s) URL with a host, at most 2048 bytes.
void check_http_url(std::string_view value, const std::string& path);
// value must be one of allowed: "unknown value 'x' (expected one of a, b, c)".
template <typename Range>
void check_one_of(std::string_view value, const std::string& path, const Range& allowed);
std::string describe_type(const nlohmann::json& value);

class FieldReader {
 public:
  // Throws FieldError(path or "(root)", "expected an object") when value is not an object.
  FieldReader(const nlohmann::json& value, std::string path);

  std::string path_of(std::string_view key) const { return join_path(path_, key); }
  // The raw member (null counts as absent), marked as read; nullptr when absent.
  const nlohmann::json* get(std::string_view key);
  const nlohmann::json& require(std::string_view key);

  std::string required_string(std::string_view key, const StringRule& rule = {});
  std::optional<std::string> optional_string(std::string_view key, const StringRule& rule = {});
  std::string string_or(std::string_view key, std::string fallback, const StringRule& rule = {});
  std::int64_t int_or(std::string_view key, std::int64_t fallback, std::int64_t min,
                      std::int64_t max);
  bool bool_or(std::string_view key, bool fallback);

  // Rejects the first member that no getter asked for: "<path>.<name>: unknown field".
  void finish() const;

 private:
  const nlohmann::json& object_;
  std::string path_;
  std::set<std::string, std::less<>> read_;
};

// The value of a JSON string, or FieldError "expected a string, got <type>".
std::string string_value(const nlohmann::json& value, const std::string& path,
                         const StringRule& rule);
// A JSON integer in [min, max]; floats, strings and booleans are errors.
std::int64_t int_value(const nlohmann::json& value, const std::string& path, std::int64_t min,
                       std::int64_t max);

template <typename Range>
void check_one_of(std::string_view value, const std::string& path, const Range& allowed) {
  std::string list;
  for (std::string_view a : allowed) {
    if (a == value) return;
    if (!list.empty()) list += ", ";
    list += a;
  }
  throw FieldError(path,
                   "unknown value '" + quote_for_error(value) + "' (expected one of " + list + ")");
}

}  // namespace waddle::model
