#pragma once
// The router → action module signature (DESIGN.md §2.3): the router sends
//   X-Waddle-Timestamp: <unix seconds>
//   X-Waddle-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>
// and a module refuses a request that is unsigned, mis-signed or too old (or too far ahead).

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace waddle::crypto {

inline constexpr std::string_view kModuleTimestampHeader = "X-Waddle-Timestamp";
inline constexpr std::string_view kModuleSignatureHeader = "X-Waddle-Signature";
inline constexpr std::chrono::seconds kModuleSignatureTolerance{300};

// "sha256=<64 lowercase hex digits>".
std::string module_signature(std::string_view secret, std::string_view timestamp,
                             std::string_view body);

enum class SignatureCheck {
  ok,
  missing,    // a header is absent or empty
  malformed,  // the timestamp is not decimal seconds, or the signature is not sha256=<64 hex>
  stale,      // the timestamp is more than `tolerance` before or after now
  mismatch,   // well formed and fresh, but not made with this secret over these bytes
};

// Checks the two header values against the exact received body. The comparison is constant-time;
// hex digits may be in either case. Throws waddle::Error(invalid_argument) only for a negative
// tolerance (a caller's bug), never for anything the request holds.
SignatureCheck verify_module_signature(std::string_view secret, std::string_view timestamp_header,
                                       std::string_view signature_header, std::string_view body,
                                       std::int64_t now_unix_seconds,
                                       std::chrono::seconds tolerance = kModuleSignatureTolerance);

// "ok", "missing", "malformed", "stale", "mismatch": for logs and error bodies.
std::string_view signature_check_name(SignatureCheck check) noexcept;

}  // namespace waddle::crypto
