#pragma once
// Cryptographically secure random bytes from OpenSSL's DRBG.

#include <cstddef>
#include <string>

namespace waddle::crypto {

// n random bytes; throws waddle::Error(Errc::internal) if the generator fails.
std::string random_bytes(std::size_t n);

// `bytes` random bytes as URL-safe base64 without padding (32 bytes -> 43 characters), the
// shape of Python's secrets.token_urlsafe that the seeds use for API keys and overlay tokens.
std::string random_token(std::size_t bytes = 32);

}  // namespace waddle::crypto
