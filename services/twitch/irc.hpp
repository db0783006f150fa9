#pragma once
// IRCv3 messages as Twitch sends them: `@tags :prefix COMMAND params :trailing`. The parser takes
// one line (without or with its CRLF) and never crashes on garbage: a line it cannot make sense
// of is an IrcParseError (parse_irc_message) or nullopt (try_parse_irc_message). The serializer
// refuses values that would let text smuggle a second line onto the wire.

#include <cstddef>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "error/error.hpp"

namespace waddle::twitch {

// Twitch allows 8191 bytes of tags plus 512 for the rest; anything longer is not Twitch.
inline constexpr std::size_t kMaxIrcLineBytes = 16 * 1024;
inline constexpr std::size_t kMaxIrcParams = 64;

// A line that is not an IRC message. code() is Errc::invalid_argument; what() says why.
class IrcParseError : public Error {
 public:
  explicit IrcParseError(const std::string& reason) : Error(Errc::invalid_argument, reason) {}
};

struct IrcMessage {
  // Tag values unescaped (\: \s \\ \r \n; any other \x is x; a trailing lone \ is dropped).
  // A key given twice keeps its last value; a key without '=' has an empty value.
  std::map<std::string, std::string, std::less<>> tags;
  std::string prefix;               // without the leading ':'; empty when absent
  std::string command;              // as sent: a word ("PRIVMSG") or a three-digit numeric ("001")
  std::vector<std::string> params;  // middle params, then the trailing one (without its ':')
  bool has_trailing = false;        // whether the last param was sent after ':'

  // The tag's value, or nullopt when the tag is absent (an empty value is still present).
  std::optional<std::string_view> tag(std::string_view key) const;
  // The tag's value, or "" when absent.
  std::string_view tag_or_empty(std::string_view key) const;
  // params[i], or "" when there are fewer params.
  std::string_view param(std::size_t i) const;
  // The nick of "nick!user@host" (or the whole prefix when it has no '!').
  std::string_view nick() const;

  bool operator==(const IrcMessage&) const = default;
};

// Parses one line; a trailing "\r\n" or "\n" is ignored. Throws IrcParseError for an empty line,
// a line longer than kMaxIrcLineBytes, a raw CR, LF or NUL inside it, a missing or non-alphanumeric
// command, or more than kMaxIrcParams params.
IrcMessage parse_irc_message(std::string_view line);
// The same without the exception.
std::optional<IrcMessage> try_parse_irc_message(std::string_view line) noexcept;

// Escapes a tag value (; space \ CR LF).
std::string escape_tag_value(std::string_view value);
std::string unescape_tag_value(std::string_view value);

// The wire form without CRLF. The last param goes after ':' when has_trailing is set or when it
// needs it (empty, has a space, starts with ':'). Throws IrcParseError when the command is not a
// word or numeric, a tag key is malformed, any value holds CR, LF or NUL, or a middle param is
// empty, holds a space or starts with ':'.
std::string serialize_irc_message(const IrcMessage& message);

// Splits a byte stream into lines on "\n" (a preceding "\r" is removed). A line longer than
// max_line_bytes is discarded up to its end and counted in overlong_lines(), so a peer cannot
// grow the buffer without bound.
class IrcLineBuffer {
 public:
  explicit IrcLineBuffer(std::size_t max_line_bytes = kMaxIrcLineBytes)
      : max_line_bytes_(max_line_bytes) {}

  void append(std::string_view data);
  // The next complete line (without its line ending; may be empty), or nullopt.
  std::optional<std::string> next_line();
  std::size_t pending_bytes() const { return partial_.size(); }
  std::size_t overlong_lines() const { return overlong_lines_; }

 private:
  std::size_t max_line_bytes_;
  std::deque<std::string> lines_;
  std::string partial_;
  bool discarding_ = false;
  std::size_t overlong_lines_ = 0;
};

}  // namespace waddle::twitch
