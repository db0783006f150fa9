#include "actions/text.hpp"

namespace waddle::actions {
namespace {

bool is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

bool is_continuation(unsigned char c) noexcept {
  return (c & 0xC0) == 0x80;
}

bool is_name_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

bool is_name(std::string_view name, std::size_t max) noexcept {
  if (name.empty() || name.size() > max || name[0] == '_' || name[0] == '-') return false;
  for (char c : name) {
    if (!is_name_char(c)) return false;
  }
  return true;
}

}  // namespace

std::size_t utf8_length(std::string_view text) noexcept {
  std::size_t count = 0;
  for (char c : text) {
    if (!is_continuation(static_cast<unsigned char>(c))) ++count;
  }
  return count;
}

std::string trim_chat(std::string_view text, std::size_t max_chars) {
  if (utf8_length(text) <= max_chars) return std::string(text);
  static constexpr std::string_view kEllipsis = "\xE2\x80\xA6";  // …
  const std::size_t keep = max_chars == 0 ? 0 : max_chars - 1;
  std::size_t chars = 0;
  std::size_t end = 0;
  while (end < text.size()) {
    std::size_t next = end + 1;
    while (next < text.size() && is_continuation(static_cast<unsigned char>(text[next]))) ++next;
    if (chars == keep) break;
    ++chars;
    end = next;
  }
  std::string out(trim(text.substr(0, end)));
  out += kEllipsis;
  return out;
}

std::string_view trim(std::string_view text) noexcept {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

std::string_view skip_words(std::string_view text, std::size_t n) noexcept {
  std::size_t i = 0;
  for (std::size_t word = 0; word < n; ++word) {
    while (i < text.size() && is_space(text[i])) ++i;
    if (i >= text.size()) return {};
    if (text[i] == '"') {
      ++i;
      while (i < text.size() && text[i] != '"') {
        if (text[i] == '\\' && i + 1 < text.size()) ++i;
        ++i;
      }
      if (i < text.size()) ++i;  // the closing quote
    }
    while (i < text.size() && !is_space(text[i])) ++i;
  }
  return trim(text.substr(i));
}

std::string lower_ascii(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool is_command_name(std::string_view name) noexcept {
  return is_name(name, 64);
}

bool is_short_name(std::string_view name) noexcept {
  return is_name(name, 32);
}

int parse_positive(std::string_view text) noexcept {
  if (!text.empty() && text.front() == '#') text.remove_prefix(1);
  if (text.empty() || text.size() > 9) return 0;
  int value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return 0;
    value = value * 10 + (c - '0');
  }
  return value;
}

bool is_http_url(std::string_view url) noexcept {
  if (url.size() > 2000) return false;
  std::string_view rest;
  if (url.substr(0, 7) == "http://") {
    rest = url.substr(7);
  } else if (url.substr(0, 8) == "https://") {
    rest = url.substr(8);
  } else {
    return false;
  }
  if (rest.empty() || rest.front() == '/' || rest.front() == '?' || rest.front() == '#') {
    return false;
  }
  for (char c : url) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7F) return false;
  }
  return true;
}

std::vector<model::Action> fit_for_chat(std::vector<model::Action> actions) {
  std::vector<model::Action> out;
  for (auto& action : actions) {
    if (auto* chat = std::get_if<model::ChatAction>(&action)) {
      chat->text = trim_chat(trim(chat->text));
      if (chat->text.empty()) continue;
    }
    out.push_back(std::move(action));
    if (out.size() == model::kMaxActions) break;
  }
  return out;
}

}  // namespace waddle::actions
