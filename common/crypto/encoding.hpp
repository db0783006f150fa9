#pragma once
// Hex and base64 (RFC 4648) codecs. Decoders are strict: any character outside the alphabet,
// a bad length, misplaced padding or non-zero leftover bits throw
// waddle::Error(Errc::invalid_argument) whose message says what and where.

#include <string>
#include <string_view>

namespace waddle::crypto {

// Lowercase hex.
std::string hex_encode(std::string_view data);
// Accepts upper- and lowercase digits; the length must be even.
std::string hex_decode(std::string_view hex);

// Standard alphabet (+/), padded with '='.
std::string base64_encode(std::string_view data);
// Standard alphabet; the '=' padding may be present (then it must be correct) or left off.
std::string base64_decode(std::string_view text);

// URL-safe alphabet (-_), no padding: fit for URLs, headers and file names.
std::string base64url_encode(std::string_view data);
// URL-safe alphabet; padding may be present (then it must be correct) or left off.
std::string base64url_decode(std::string_view text);

}  // namespace waddle::crypto
