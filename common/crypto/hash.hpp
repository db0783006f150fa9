#pragma once
// SHA-256, HMAC-SHA256 and constant-time comparison. Digests are raw bytes in a std::string;
// the *_hex variants give lowercase hex.

#include <string>
#include <string_view>

namespace waddle::crypto {

inline constexpr std::size_t kSha256Size = 32;

std::string sha256(std::string_view data);
std::string sha256_hex(std::string_view data);

// Any key length works, including an empty key (RFC 2104).
std::string hmac_sha256(std::string_view key, std::string_view data);
std::string hmac_sha256_hex(std::string_view key, std::string_view data);

// True when a and b hold the same bytes. The time taken depends only on the lengths, never on
// where the first difference is, so it is safe for comparing MACs and tokens.
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

}  // namespace waddle::crypto
