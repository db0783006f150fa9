#pragma once
// The admin socket's wire format (DESIGN.md §5, Kea's control-channel envelope): one JSON object
// per line. Request {"command": "status", "arguments": {...}}; reply {"result": 0, "text": "...",
// "arguments": {...}}.

#include <sys/types.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "error/error.hpp"

namespace waddle::ctl {

// The reply's "result" member.
enum class Result : int { success = 0, error = 1, unsupported = 2, empty = 3, conflict = 4 };

// Result for an error code, through waddle::ctl_result (the project's one mapping).
Result result_for(Errc code) noexcept;
// "success", "error", "unsupported", "empty", "conflict"; "unknown" for anything else.
std::string_view result_name(int result) noexcept;

// One request as a handler sees it.
struct Call {
  std::string command;
  nlohmann::json arguments = nlohmann::json::object();  // always an object
  uid_t uid = static_cast<uid_t>(-1);                   // the caller, from SO_PEERCRED
  pid_t pid = 0;
};

struct Reply {
  int result = 0;
  std::string text;
  nlohmann::json arguments;  // an object, or null for "no arguments"

  static Reply ok(std::string text, nlohmann::json arguments = {});
  static Reply error(Errc code, std::string text);
  // Result 3: the request was fine and there is nothing to show (Kea's "empty").
  static Reply empty(std::string text, nlohmann::json arguments = {});

  bool succeeded() const noexcept { return result == static_cast<int>(Result::success); }
};

// Deepest nesting of arrays and objects accepted on the wire. Deeper input is refused before it
// is parsed, so that a hostile line cannot exhaust the stack of whoever handles it.
inline constexpr int kMaxDepth = 64;

// A parsed value, or the reason the input was refused.
template <class T>
struct Parsed {
  std::optional<T> value;
  std::string error;
  explicit operator bool() const noexcept { return value.has_value(); }
};

struct Request {
  std::string command;
  nlohmann::json arguments = nlohmann::json::object();
};

// Parses one request line (without its newline). The error names what was wrong: not JSON, not an
// object, "command" missing or not a string, "arguments" not an object, an unknown member.
Parsed<Request> parse_request(std::string_view line);
// The request line for a command, without the newline. Throws Error(invalid_argument) when
// `arguments` is neither an object nor null.
std::string encode_request(std::string_view command, const nlohmann::json& arguments = {});

// The reply line, without the newline. Invalid UTF-8 in the text is replaced, never thrown.
std::string encode_reply(const Reply& reply);
// Parses one reply line; the error says what was wrong with it.
Parsed<Reply> parse_reply(std::string_view line);

// "1 MiB", "64 KiB", "100 bytes": how limits are shown to people.
std::string format_size(std::size_t bytes);

}  // namespace waddle::ctl
