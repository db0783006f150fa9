#pragma once
// Text helpers for chat answers and command arguments: UTF-8 aware trimming, word skipping over
// raw_args, names.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "model/action.hpp"

namespace waddle::actions {

// What one chat answer may hold, in characters (code points), "…" included.
inline constexpr std::size_t kMaxChatCharacters = 500;

// Code points in `text` (bytes that start a UTF-8 sequence; JSON input is valid UTF-8).
std::size_t utf8_length(std::string_view text) noexcept;

// `text` cut to at most `max_chars` code points, ending in "…" when it was cut; never splits a
// UTF-8 sequence.
std::string trim_chat(std::string_view text, std::size_t max_chars = kMaxChatCharacters);

// Actions as they leave the worker (answers and scheduled messages): chat texts trimmed and cut
// to one platform message, empty chat actions dropped, at most model::kMaxActions.
std::vector<model::Action> fit_for_chat(std::vector<model::Action> actions);

// `text` without leading and trailing ASCII whitespace.
std::string_view trim(std::string_view text) noexcept;

// What follows the first `n` words of `text` (words split on ASCII whitespace, a "double quoted"
// group counting as one word, as the router splits args), trimmed. Empty when there is less.
std::string_view skip_words(std::string_view text, std::size_t n) noexcept;

std::string lower_ascii(std::string_view text);

// A command, alias or custom command name: ^[a-z0-9][a-z0-9_-]{0,63}$.
bool is_command_name(std::string_view name) noexcept;

// A link name or category: ^[a-z0-9][a-z0-9_-]{0,31}$.
bool is_short_name(std::string_view name) noexcept;

// A decimal number 1..999999999, optionally written "#12"; 0 when `text` is not one.
int parse_positive(std::string_view text) noexcept;

// http:// or https:// with a host and no whitespace or control characters, at most 2000 bytes.
bool is_http_url(std::string_view url) noexcept;

}  // namespace waddle::actions
