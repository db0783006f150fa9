#include "twitch/irc.hpp"

#include <algorithm>

namespace waddle::twitch {
namespace {

bool is_alpha(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool valid_command(std::string_view command) {
  if (command.empty()) return false;
  if (std::all_of(command.begin(), command.end(), is_alpha)) return true;
  return command.size() == 3 && std::all_of(command.begin(), command.end(), is_digit);
}

// A plain loop: string_view::find_first_of calls memchr over the set for every byte of `s`.
bool has_line_break(std::string_view s) {
  for (char c : s) {
    if (c == '\r' || c == '\n' || c == '\0') return true;
  }
  return false;
}

// Tag keys: [+][vendor/]name with letters, digits, '-', '.', '/'.
bool valid_tag_key(std::string_view key) {
  if (!key.empty() && key.front() == '+') key.remove_prefix(1);
  if (key.empty()) return false;
  return std::all_of(key.begin(), key.end(), [](char c) {
    return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '/' || c == '_';
  });
}

std::string_view skip_spaces(std::string_view s) {
  std::size_t n = s.find_first_not_of(' ');
  return n == std::string_view::npos ? std::string_view() : s.substr(n);
}

// Takes the next space-delimited word off the front of s.
std::string_view take_word(std::string_view& s) {
  std::size_t end = s.find(' ');
  std::string_view word = s.substr(0, end);
  s = end == std::string_view::npos ? std::string_view() : s.substr(end);
  return word;
}

void parse_tags(std::string_view text, IrcMessage& message) {
  while (!text.empty()) {
    std::size_t end = text.find(';');
    std::string_view item = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    if (item.empty()) continue;  // ";;" or a trailing ';'
    std::size_t eq = item.find('=');
    std::string_view key = item.substr(0, eq);
    // A tag without a key carries nothing we could look up; Twitch never sends one.
    if (key.empty()) continue;
    std::string value =
        eq == std::string_view::npos ? std::string() : unescape_tag_value(item.substr(eq + 1));
    message.tags.insert_or_assign(std::string(key), std::move(value));
  }
}

}  // namespace

std::optional<std::string_view> IrcMessage::tag(std::string_view key) const {
  auto it = tags.find(key);
  if (it == tags.end()) return std::nullopt;
  return std::string_view(it->second);
}

std::string_view IrcMessage::tag_or_empty(std::string_view key) const {
  auto it = tags.find(key);
  return it == tags.end() ? std::string_view() : std::string_view(it->second);
}

std::string_view IrcMessage::param(std::size_t i) const {
  return i < params.size() ? std::string_view(params[i]) : std::string_view();
}

std::string_view IrcMessage::nick() const {
  std::string_view p = prefix;
  return p.substr(0, p.find('!'));
}

std::string unescape_tag_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (std::size_t i = 0; i < value.size(); ++i) {
    char c = value[i];
    if (c != '\\') {
      out += c;
      continue;
    }
    if (++i == value.size()) break;  // a trailing lone backslash is dropped
    switch (value[i]) {
      case ':': out += ';'; break;
      case 's': out += ' '; break;
      case '\\': out += '\\'; break;
      case 'r': out += '\r'; break;
      case 'n': out += '\n'; break;
      default: out += value[i]; break;
    }
  }
  return out;
}

std::string escape_tag_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case ';': out += "\\:"; break;
      case ' ': out += "\\s"; break;
      case '\\': out += "\\\\"; break;
      case '\r': out += "\\r"; break;
      case '\n': out += "\\n"; break;
      default: out += c; break;
    }
  }
  return out;
}

IrcMessage parse_irc_message(std::string_view line) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.size() > kMaxIrcLineBytes) {
    throw IrcParseError("line longer than " + std::to_string(kMaxIrcLineBytes) + " bytes");
  }
  if (has_line_break(line)) throw IrcParseError("line holds a CR, LF or NUL byte");
  IrcMessage message;
  std::string_view rest = skip_spaces(line);
  if (rest.empty()) throw IrcParseError("empty line");

  if (rest.front() == '@') {
    rest.remove_prefix(1);
    parse_tags(take_word(rest), message);
    rest = skip_spaces(rest);
  }
  if (!rest.empty() && rest.front() == ':') {
    rest.remove_prefix(1);
    message.prefix = std::string(take_word(rest));
    rest = skip_spaces(rest);
  }
  std::string_view command = take_word(rest);
  if (command.empty()) throw IrcParseError("no command");
  if (!valid_command(command)) {
    throw IrcParseError("command is neither a word nor a three-digit numeric");
  }
  message.command = std::string(command);

  while (true) {
    rest = skip_spaces(rest);
    if (rest.empty()) break;
    if (message.params.size() == kMaxIrcParams) {
      throw IrcParseError("more than " + std::to_string(kMaxIrcParams) + " params");
    }
    if (rest.front() == ':') {
      message.params.emplace_back(rest.substr(1));
      message.has_trailing = true;
      break;
    }
    message.params.emplace_back(take_word(rest));
  }
  return message;
}

std::optional<IrcMessage> try_parse_irc_message(std::string_view line) noexcept {
  try {
    return parse_irc_message(line);
  } catch (...) {
    // IrcParseError, or bad_alloc on a line we could not hold: either way, no message.
    return std::nullopt;
  }
}

std::string serialize_irc_message(const IrcMessage& message) {
  if (!valid_command(message.command)) {
    throw IrcParseError("cannot send command '" + message.command +
                        "': not a word or three-digit numeric");
  }
  std::string out;
  if (!message.tags.empty()) {
    out += '@';
    bool first = true;
    for (const auto& [key, value] : message.tags) {
      if (!valid_tag_key(key)) throw IrcParseError("cannot send malformed tag key '" + key + "'");
      if (value.find('\0') != std::string::npos) {
        throw IrcParseError("cannot send tag '" + key + "': value holds a NUL byte");
      }
      if (!first) out += ';';
      first = false;
      out += key;
      if (!value.empty()) {
        out += '=';
        out += escape_tag_value(value);
      }
    }
    out += ' ';
  }
  if (!message.prefix.empty()) {
    if (has_line_break(message.prefix) || message.prefix.find(' ') != std::string::npos) {
      throw IrcParseError("cannot send a prefix with a space, CR, LF or NUL");
    }
    out += ':';
    out += message.prefix;
    out += ' ';
  }
  out += message.command;
  for (std::size_t i = 0; i < message.params.size(); ++i) {
    const std::string& param = message.params[i];
    if (has_line_break(param)) {
      throw IrcParseError("cannot send param " + std::to_string(i) + ": holds a CR, LF or NUL");
    }
    bool last = i + 1 == message.params.size();
    bool needs_colon = param.empty() || param.find(' ') != std::string::npos || param[0] == ':';
    if (!last && needs_colon) {
      throw IrcParseError("cannot send middle param " + std::to_string(i) +
                          ": empty, has a space or starts with ':'");
    }
    out += ' ';
    if (last && (needs_colon || message.has_trailing)) out += ':';
    out += param;
  }
  return out;
}

void IrcLineBuffer::append(std::string_view data) {
  while (!data.empty()) {
    std::size_t newline = data.find('\n');
    std::string_view chunk = data.substr(0, newline);
    bool complete = newline != std::string_view::npos;
    data = complete ? data.substr(newline + 1) : std::string_view();
    if (!discarding_) {
      if (partial_.size() + chunk.size() > max_line_bytes_ + 1) {  // +1: the '\r'
        discarding_ = true;
        ++overlong_lines_;
        partial_.clear();
      } else {
        partial_.append(chunk);
      }
    }
    if (!complete) break;
    if (!discarding_) {
      if (!partial_.empty() && partial_.back() == '\r') partial_.pop_back();
      lines_.push_back(std::move(partial_));
    }
    partial_.clear();
    discarding_ = false;
  }
}

std::optional<std::string> IrcLineBuffer::next_line() {
  if (lines_.empty()) return std::nullopt;
  std::string line = std::move(lines_.front());
  lines_.pop_front();
  return line;
}

}  // namespace waddle::twitch
