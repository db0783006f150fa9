#pragma once
// Ed25519 (RFC 8032) over raw keys: 32-byte public keys, 32-byte private seeds, 64-byte
// signatures. Discord signs its interaction webhooks this way.

#include <string>
#include <string_view>

namespace waddle::crypto {

inline constexpr std::size_t kEd25519KeySize = 32;
inline constexpr std::size_t kEd25519SignatureSize = 64;

// True only for a valid signature. Wrong sizes, a malformed key or any other bad input give
// false; it never throws, because a failed check is an expected outcome.
bool ed25519_verify(std::string_view public_key_raw32, std::string_view message,
                    std::string_view signature_raw64) noexcept;

// The 64-byte signature of message. Throws waddle::Error(invalid_argument) if the seed is not
// 32 bytes.
std::string ed25519_sign(std::string_view private_key_seed32, std::string_view message);

// The 32-byte public key that belongs to a private seed.
std::string ed25519_public_key(std::string_view private_key_seed32);

}  // namespace waddle::crypto
