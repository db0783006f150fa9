#pragma once
// A chat line that starts with a command prefix, split into the command name and its arguments.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace waddle::router {

// Names longer than this cannot be commands or aliases (both are `[a-z0-9][a-z0-9_-]{0,63}`).
inline constexpr std::size_t kMaxCommandNameBytes = 64;
// Arguments past this many are dropped from `args` (they stay in `raw_args`).
inline constexpr std::size_t kMaxCommandArgs = 64;

struct CommandLine {
  char prefix = '!';
  std::string name;               // ASCII lower-cased, without the prefix
  std::vector<std::string> args;  // quotes removed, escapes resolved
  std::string raw_args;           // the text after the name, trimmed, exactly as typed

  bool operator==(const CommandLine&) const = default;
};

// nullopt when `message` does not start with one of `prefixes` (single ASCII bytes) directly
// followed by a name character (ASCII letter or digit, or any non-ASCII character that is not
// whitespace): "!", "! hi" and "!!!" are plain chat, and so is a name over kMaxCommandNameBytes.
//
// The name runs to the first whitespace. Arguments split on whitespace (ASCII and Unicode: U+00A0,
// U+2000–U+200A, U+3000, …); a double quote ("…" or the typographic “…” that phones insert) groups
// words, `\"` and `\\` are escapes inside quotes, an unclosed quote takes the rest of the line.
// Splits only ever fall between whole UTF-8 sequences. Never throws on any input bytes except
// std::bad_alloc.
std::optional<CommandLine> parse_command_line(std::string_view message,
                                              std::string_view prefixes = "!#");

// Byte length of the whitespace character at `pos` (ASCII or a Unicode space), 0 when none.
std::size_t whitespace_length(std::string_view text, std::size_t pos) noexcept;
// `text` without leading and trailing whitespace (as whitespace_length defines it).
std::string_view trim_whitespace(std::string_view text) noexcept;

}  // namespace waddle::router
