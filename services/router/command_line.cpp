#include "router/command_line.hpp"

namespace waddle::router {
namespace {

// UTF-8 of the typographic quotes that phone keyboards put in place of '"'.
constexpr std::string_view kLeftQuote = "\xE2\x80\x9C";   // U+201C
constexpr std::string_view kRightQuote = "\xE2\x80\x9D";  // U+201D

bool at(std::string_view text, std::size_t pos, std::string_view what) noexcept {
  return text.substr(pos, what.size()) == what;
}

bool is_ascii_alnum(unsigned char c) noexcept {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool is_name_start(std::string_view text, std::size_t pos) noexcept {
  auto c = static_cast<unsigned char>(text[pos]);
  if (c < 0x80) return is_ascii_alnum(c);
  return whitespace_length(text, pos) == 0;
}

char ascii_lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

}  // namespace

std::size_t whitespace_length(std::string_view text, std::size_t pos) noexcept {
  if (pos >= text.size()) return 0;
  auto b0 = static_cast<unsigned char>(text[pos]);
  if (b0 == ' ' || (b0 >= '\t' && b0 <= '\r')) return 1;
  if (b0 < 0xC2 || pos + 1 >= text.size()) return 0;
  auto b1 = static_cast<unsigned char>(text[pos + 1]);
  if (b0 == 0xC2) return (b1 == 0x85 || b1 == 0xA0) ? 2 : 0;  // NEL, NO-BREAK SPACE
  if (pos + 2 >= text.size()) return 0;
  auto b2 = static_cast<unsigned char>(text[pos + 2]);
  if (b0 == 0xE1 && b1 == 0x9A && b2 == 0x80) return 3;  // U+1680 OGHAM SPACE MARK
  if (b0 == 0xE2 && b1 == 0x80) {
    // U+2000–U+200A spaces, U+2028 LINE and U+2029 PARAGRAPH SEPARATOR, U+202F narrow NBSP.
    return ((b2 >= 0x80 && b2 <= 0x8A) || b2 == 0xA8 || b2 == 0xA9 || b2 == 0xAF) ? 3 : 0;
  }
  if (b0 == 0xE2 && b1 == 0x81 && b2 == 0x9F) return 3;  // U+205F MEDIUM MATHEMATICAL SPACE
  if (b0 == 0xE3 && b1 == 0x80 && b2 == 0x80) return 3;  // U+3000 IDEOGRAPHIC SPACE
  return 0;
}

std::string_view trim_whitespace(std::string_view text) noexcept {
  std::size_t begin = 0;
  while (std::size_t n = whitespace_length(text, begin)) begin += n;
  std::size_t end = text.size();
  for (bool trimmed = true; trimmed && end > begin;) {
    trimmed = false;
    for (std::size_t n = 1; n <= 3 && n <= end - begin; ++n) {
      if (whitespace_length(text, end - n) == n) {
        end -= n;
        trimmed = true;
        break;
      }
    }
  }
  return text.substr(begin, end - begin);
}

std::optional<CommandLine> parse_command_line(std::string_view message, std::string_view prefixes) {
  if (message.size() < 2 || prefixes.find(message[0]) == std::string_view::npos) {
    return std::nullopt;
  }
  if (!is_name_start(message, 1)) return std::nullopt;

  const std::size_t n = message.size();
  std::size_t pos = 1;
  while (pos < n && whitespace_length(message, pos) == 0) ++pos;
  if (pos - 1 > kMaxCommandNameBytes) return std::nullopt;

  CommandLine line;
  line.prefix = message[0];
  line.name.reserve(pos - 1);
  for (std::size_t i = 1; i < pos; ++i) line.name.push_back(ascii_lower(message[i]));
  line.raw_args = std::string(trim_whitespace(message.substr(pos)));

  while (pos < n && line.args.size() < kMaxCommandArgs) {
    while (std::size_t ws = whitespace_length(message, pos)) pos += ws;
    if (pos >= n) break;
    std::string arg;
    bool quoted = false;
    while (pos < n) {
      if (!quoted) {
        if (whitespace_length(message, pos) != 0) break;
        if (message[pos] == '"') {
          quoted = true;
          ++pos;
        } else if (at(message, pos, kLeftQuote)) {
          quoted = true;
          pos += kLeftQuote.size();
        } else {
          arg.push_back(message[pos++]);
        }
        continue;
      }
      if (message[pos] == '\\' && pos + 1 < n) {
        if (message[pos + 1] == '"' || message[pos + 1] == '\\') {
          arg.push_back(message[pos + 1]);
          pos += 2;
          continue;
        }
        if (at(message, pos + 1, kRightQuote) || at(message, pos + 1, kLeftQuote)) {
          arg.append(message.substr(pos + 1, 3));
          pos += 4;
          continue;
        }
      }
      if (message[pos] == '"') {
        quoted = false;
        ++pos;
      } else if (at(message, pos, kRightQuote)) {
        quoted = false;
        pos += kRightQuote.size();
      } else {
        arg.push_back(message[pos++]);
      }
    }
    line.args.push_back(std::move(arg));
  }
  return line;
}

}  // namespace waddle::router
