#pragma once
// AES-256-GCM for secrets at rest (platform tokens in Postgres). The sealed form is
// nonce (12 bytes) || ciphertext || tag (16 bytes), with a fresh random nonce per seal.

#include <optional>
#include <string>
#include <string_view>

namespace waddle::crypto {

inline constexpr std::size_t kAes256KeySize = 32;
inline constexpr std::size_t kGcmNonceSize = 12;
inline constexpr std::size_t kGcmTagSize = 16;

// Throws waddle::Error(invalid_argument) if the key is not 32 bytes.
std::string aes256gcm_seal(std::string_view key32, std::string_view plaintext,
                           std::string_view aad = {});

// The plaintext, or nullopt when the input is too short, was tampered with, or was sealed with
// another key or AAD. Throws waddle::Error(invalid_argument) only if the key is not 32 bytes.
std::optional<std::string> aes256gcm_open(std::string_view key32, std::string_view sealed,
                                          std::string_view aad = {});

// The building blocks with a caller-chosen nonce (test vectors; never reuse a nonce with the
// same key). seal returns ciphertext || tag; open takes the same.
std::string aes256gcm_seal_with_nonce(std::string_view key32, std::string_view nonce12,
                                      std::string_view plaintext, std::string_view aad = {});
std::optional<std::string> aes256gcm_open_with_nonce(std::string_view key32,
                                                     std::string_view nonce12,
                                                     std::string_view ciphertext_and_tag,
                                                     std::string_view aad = {});

}  // namespace waddle::crypto
