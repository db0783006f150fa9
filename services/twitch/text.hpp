#pragma once
// UTF-8 helpers shared by the parser, the normaliser and the send path. Chat text arrives from
// the network and from modules, so nothing here assumes valid input.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace waddle::twitch {

// `text` with every invalid UTF-8 sequence and every NUL byte replaced by U+FFFD, so that the
// result is always valid UTF-8 fit for JSON and Postgres.
std::string sanitize_utf8(std::string_view text);
// True when sanitize_utf8(text) would return `text` unchanged.
bool is_clean_utf8(std::string_view text) noexcept;

// Byte offset where each code point of valid UTF-8 `text` starts, plus text.size() at the end:
// code point i is text.substr(offsets[i], offsets[i + 1] - offsets[i]).
std::vector<std::size_t> code_point_offsets(std::string_view text);

// Length in UTF-16 code units (a code point above U+FFFF counts twice). Twitch's 500-character
// cap is counted no more strictly than this by any client we know of.
std::size_t utf16_length(std::string_view text);

// `text` cut to at most `max_bytes` bytes without splitting a UTF-8 sequence.
std::string_view truncate_utf8(std::string_view text, std::size_t max_bytes);

}  // namespace waddle::twitch
